#include "json_writer.hpp"

#include <cstdio>

namespace fake_api {

void JsonWriter::member(std::string_view key) {
    if (!m_first) m_out.push_back(',');
    m_first = false;
    if (!key.empty()) {
        quoted(key);
        m_out.push_back(':');
    }
}

void JsonWriter::quoted(std::string_view text) {
    m_out.push_back('"');
    for (char c : text) {
        if (c == '"' || c == '\\') {
            m_out.push_back('\\');
            m_out.push_back(c);
        } else if (static_cast<unsigned char>(c) < 0x20) {
            char escaped[8];
            std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
            m_out += escaped;
        } else {
            m_out.push_back(c);
        }
    }
    m_out.push_back('"');
}

JsonWriter& JsonWriter::begin_object(std::string_view key) {
    member(key);
    m_out.push_back('{');
    m_first = true;
    return *this;
}

JsonWriter& JsonWriter::end_object() {
    m_out.push_back('}');
    m_first = false;
    return *this;
}

JsonWriter& JsonWriter::begin_array(std::string_view key) {
    member(key);
    m_out.push_back('[');
    m_first = true;
    return *this;
}

JsonWriter& JsonWriter::end_array() {
    m_out.push_back(']');
    m_first = false;
    return *this;
}

JsonWriter& JsonWriter::string(std::string_view key, std::string_view value) {
    member(key);
    quoted(value);
    return *this;
}

JsonWriter& JsonWriter::number(std::string_view key, long long value) {
    member(key);
    m_out += std::to_string(value);
    return *this;
}

JsonWriter& JsonWriter::null(std::string_view key) {
    member(key);
    m_out += "null";
    return *this;
}

}  // namespace fake_api
