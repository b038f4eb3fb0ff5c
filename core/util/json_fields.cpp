#include "core/util/json_fields.hpp"

#include "core/util/error.hpp"
#include "core/util/run_id.hpp"
#include "core/util/text.hpp"

namespace pipeline::core {

using nlohmann::json;

namespace {
constexpr std::size_t k_excerpt_size = 60;

std::string type_word(const json& value) {
    if (value.is_number_float()) {
        return "a number " + json_excerpt(value);
    }
    if (value.is_number_integer()) {
        return "the integer " + json_excerpt(value);
    }
    if (value.is_string()) {
        return "the string " + json_excerpt(value);
    }
    return std::string(value.type_name()) + " " + json_excerpt(value);
}
} // namespace

std::string json_excerpt(const json& value) {
    std::string text = value.dump(-1, ' ', false, json::error_handler_t::replace);
    if (text.size() > k_excerpt_size) {
        text = text.substr(0, k_excerpt_size) + "...";
    }
    return escape_controls(text);
}

JsonFields::JsonFields(const json& object, std::string file, std::string path)
    : m_object(&object), m_file(std::move(file)), m_path(std::move(path)) {
    if (!object.is_object()) {
        throw Error(ExitCode::Failed, m_file + ": " +
                                          (m_path.empty() ? "the file" : "field '" + m_path + "'") +
                                          ": expected a JSON object, got " + type_word(object));
    }
}

std::string JsonFields::field_path(std::string_view key) const {
    return m_path.empty() ? std::string(key) : m_path + "." + std::string(key);
}

void JsonFields::fail(std::string_view key, const std::string& problem, ExitCode code) const {
    throw Error(code, m_file + ": field '" + field_path(key) + "': " + problem);
}

std::string JsonFields::run_id(std::string_view key, bool required) const {
    const std::string id = required ? string(key, 64) : string_or(key, "", 64);
    if ((required || !id.empty()) && !is_run_id(id)) {
        fail(key,
             "'" + escape_controls(id) + "' is not a run id pipeline generates (" +
                 std::string(k_run_id_form) + "): refused, since run ids name files and S3 keys",
             ExitCode::Usage);
    }
    return id;
}

const json* JsonFields::find(std::string_view key) const {
    const auto it = m_object->find(key);
    return it == m_object->end() || it->is_null() ? nullptr : &*it;
}

std::optional<std::string> JsonFields::optional_string(std::string_view key, std::size_t max_size) const {
    const json* value = find(key);
    if (value == nullptr) {
        return std::nullopt;
    }
    if (!value->is_string()) {
        fail(key, "expected a string, got " + type_word(*value));
    }
    const std::string& text = value->get_ref<const std::string&>();
    if (text.size() > max_size) {
        fail(key, "string of " + std::to_string(text.size()) + " bytes is longer than " +
                      std::to_string(max_size));
    }
    return text;
}

std::string JsonFields::string(std::string_view key, std::size_t max_size) const {
    std::optional<std::string> text = optional_string(key, max_size);
    if (!text) {
        fail(key, "missing (a string is required)");
    }
    return *text;
}

std::string JsonFields::string_or(std::string_view key, std::string fallback, std::size_t max_size) const {
    return optional_string(key, max_size).value_or(std::move(fallback));
}

std::uint64_t JsonFields::uint_or(std::string_view key, std::uint64_t fallback, std::uint64_t max) const {
    const json* value = find(key);
    if (value == nullptr) {
        return fallback;
    }
    // is_number_unsigned also excludes negative integers; floats (1e30, 2.5) are refused, not truncated.
    if (!value->is_number_unsigned() && !(value->is_number_integer() && value->get<std::int64_t>() >= 0)) {
        fail(key, "expected an integer from 0 to " + std::to_string(max) + ", got " + type_word(*value));
    }
    const std::uint64_t number = value->get<std::uint64_t>();
    if (number > max) {
        fail(key, "expected an integer from 0 to " + std::to_string(max) + ", got " + std::to_string(number));
    }
    return number;
}

std::uint64_t JsonFields::uint(std::string_view key, std::uint64_t max) const {
    if (find(key) == nullptr) {
        fail(key, "missing (an integer is required)");
    }
    return uint_or(key, 0, max);
}

bool JsonFields::boolean_or(std::string_view key, bool fallback) const {
    const json* value = find(key);
    if (value == nullptr) {
        return fallback;
    }
    if (!value->is_boolean()) {
        fail(key, "expected true or false, got " + type_word(*value));
    }
    return value->get<bool>();
}

const json& JsonFields::array(std::string_view key) const {
    const json* value = find(key);
    if (value == nullptr || !value->is_array()) {
        fail(key, value == nullptr ? "missing (an array is required)"
                                   : "expected an array, got " + type_word(*value));
    }
    return *value;
}

std::optional<JsonFields> JsonFields::optional_object(std::string_view key) const {
    const json* value = find(key);
    if (value == nullptr) {
        return std::nullopt;
    }
    return JsonFields(*value, m_file, field_path(key));
}

JsonFields JsonFields::element(std::string_view key, const json& value, std::size_t index) const {
    return JsonFields(value, m_file, field_path(key) + "[" + std::to_string(index) + "]");
}

} // namespace pipeline::core
