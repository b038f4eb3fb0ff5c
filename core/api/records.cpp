#include "core/api/records.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include <nlohmann/json.hpp>
#include <simdjson.h>

namespace pipeline::core {

namespace {

// Parses on the calling thread's parser (the network thread checks every answer at memory speed).
bool parse_object(std::string_view body, simdjson::dom::object& root) {
    static thread_local simdjson::dom::parser parser;
    return parser.parse(body.data(), body.size(), true).get(root) == simdjson::SUCCESS;
}

std::string json_string(std::string_view text) {
    return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// `"key":"value",` for each of the item's fields.
void append_fields(std::string& record, const ItemFields& item) {
    for (const auto& [key, value] : item) {
        record += json_string(key);
        record += ':';
        record += json_string(value);
        record += ',';
    }
}

// Appends an answer object's text verbatim (the fetcher checked that it is one JSON object): `whole` keeps
// its braces, otherwise only its members are appended. JSON Lines: raw line breaks can only be whitespace
// between tokens here, so they become spaces.
void append_answer(std::string& record, std::string_view body, bool whole) {
    while (!body.empty() && std::isspace(static_cast<unsigned char>(body.back()))) {
        body.remove_suffix(1);
    }
    while (!body.empty() && std::isspace(static_cast<unsigned char>(body.front()))) {
        body.remove_prefix(1);
    }
    if (!whole && body.size() >= 2) {
        body = body.substr(1, body.size() - 2);
    }
    const std::size_t start = record.size();
    record += body;
    std::replace_if(record.begin() + static_cast<std::ptrdiff_t>(start), record.end(),
                    [](char c) { return c == '\n' || c == '\r'; }, ' ');
}

bool has_members(std::string_view object_text) {
    const std::size_t open = object_text.find('{');
    const std::size_t next = object_text.find_first_not_of(" \t\r\n", open + 1);
    return next != std::string_view::npos && object_text[next] != '}';
}

bool row_records(const PhaseDef& def, std::string_view body, const EmitRecord& emit) {
    // ordered_json keeps each element's keys in the API's order.
    const nlohmann::ordered_json page = nlohmann::ordered_json::parse(body, nullptr, false);
    const auto rows = page.is_object() ? page.find(def.rows) : page.end();
    if (rows == page.end() || !rows->is_array()) {
        return false;
    }
    for (const auto& row : *rows) {
        emit(row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    return true;
}

} // namespace

bool answer_ok(const PhaseDef& def, std::string_view body) {
    if (def.rows.empty() && def.expect.empty()) {
        return true;
    }
    simdjson::dom::object root;
    if (!parse_object(body, root)) {
        return false;
    }
    simdjson::dom::array rows;
    if (!def.rows.empty() && root[def.rows].get(rows) != simdjson::SUCCESS) {
        return false;
    }
    std::string_view expected;
    return def.expect.empty() || (root[def.expect].get(expected) == simdjson::SUCCESS && !expected.empty());
}

std::optional<std::size_t> answer_rows(const PhaseDef& def, std::string_view body) {
    simdjson::dom::object root;
    simdjson::dom::array rows;
    if (def.rows.empty() || !parse_object(body, root) || root[def.rows].get(rows) != simdjson::SUCCESS) {
        return std::nullopt;
    }
    return rows.size();
}

bool make_records(const PhaseDef& def, const ItemFields& item, std::string_view date, std::string_view body,
                  const EmitRecord& emit) {
    if (!def.rows.empty()) {
        return row_records(def, body, emit);
    }
    std::string record;
    record.reserve(body.size() + 64 * (item.size() + 1));
    record += '{';
    append_fields(record, item);
    if (def.record == RecordShape::Merge) {
        if (has_members(body)) {
            append_answer(record, body, false);
        } else {
            record.pop_back(); // the comma after the last field (or the brace stays alone: "{")
            if (record.empty()) {
                record += '{';
            }
        }
    } else {
        record += R"("date":)";
        record += json_string(date);
        record += R"(,"data":)";
        append_answer(record, body, true);
    }
    record += '}';
    emit(record);
    return true;
}

} // namespace pipeline::core
