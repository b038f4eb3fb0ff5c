#include "core/api/empty_answer.hpp"

#include <simdjson.h>

namespace pipeline::core {

namespace {

bool is_empty_value(simdjson::dom::element value) {
    switch (value.type()) {
    case simdjson::dom::element_type::NULL_VALUE:
        return true;
    case simdjson::dom::element_type::STRING:
        return std::string_view(value).empty();
    case simdjson::dom::element_type::ARRAY:
        return simdjson::dom::array(value).size() == 0;
    case simdjson::dom::element_type::OBJECT:
        return simdjson::dom::object(value).size() == 0;
    default:
        return false;
    }
}

} // namespace

bool is_empty_answer(std::string_view body) {
    static thread_local simdjson::dom::parser parser;
    simdjson::dom::object root;
    if (parser.parse(body.data(), body.size(), true).get(root) != simdjson::SUCCESS) {
        return false;
    }
    for (const simdjson::dom::key_value_pair field : root) {
        if (field.key != "date" && !is_empty_value(field.value)) {
            return false;
        }
    }
    return true;
}

} // namespace pipeline::core
