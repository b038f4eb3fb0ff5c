#pragma once

#include <string>
#include <string_view>

namespace fake_api {

/// Appends compact JSON to a string without building a document tree (the hot item-equipment path).
/// Members with an empty key are written as bare values (array elements).
class JsonWriter {
public:
    /// Writes into out, appending.
    explicit JsonWriter(std::string& out) : m_out(out) {}

    /// Opens an object (as the value of key, or as an array element when key is empty).
    JsonWriter& begin_object(std::string_view key = {});

    /// Closes the innermost object.
    JsonWriter& end_object();

    /// Opens an array (as the value of key, or as an array element when key is empty).
    JsonWriter& begin_array(std::string_view key = {});

    /// Closes the innermost array.
    JsonWriter& end_array();

    /// Writes a string member.
    JsonWriter& string(std::string_view key, std::string_view value);

    /// Writes an integer member.
    JsonWriter& number(std::string_view key, long long value);

    /// Writes a null member.
    JsonWriter& null(std::string_view key);

private:
    void member(std::string_view key);
    void quoted(std::string_view text);

    std::string& m_out;
    bool m_first = true;  // the next member needs no comma
};

}  // namespace fake_api
