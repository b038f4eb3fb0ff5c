#include "core/api/records.hpp"

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

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

// The parsers below are simdjson's, like answer_ok's: a key the answer repeats is read as its first occurrence
// everywhere, so the builder never refuses an answer the check accepted, nor writes another value than the one
// checked (found by tests/fuzz/fuzz_classify.cpp). Values are written minified, numbers exactly.
bool row_records(const PhaseDef& def, std::string_view body, const EmitRecord& emit) {
    simdjson::dom::object root;
    simdjson::dom::array rows;
    if (!parse_object(body, root) || root[def.rows].get(rows) != simdjson::SUCCESS) {
        return false;
    }
    for (simdjson::dom::element row : rows) {
        emit(simdjson::to_string(row));
    }
    return true;
}

// The item's fields, then each field of the answer object that is not among them nor repeats an earlier one.
bool merged_record(const ItemFields& item, std::string_view body, const EmitRecord& emit) {
    simdjson::dom::object answer;
    if (!parse_object(body, answer)) {
        return false;
    }
    std::string record = "{";
    append_fields(record, item);
    std::vector<std::string_view> seen;
    for (const auto& [key, value] : item) {
        seen.emplace_back(key);
    }
    for (const simdjson::dom::key_value_pair field : answer) {
        if (std::ranges::find(seen, field.key) != seen.end()) {
            continue;
        }
        seen.push_back(field.key);
        record += json_string(field.key);
        record += ':';
        record += simdjson::to_string(field.value);
        record += ',';
    }
    record.back() = '}'; // the last comma, or the opening brace of an empty record becomes "{}" below
    if (record == "}") {
        record = "{}";
    }
    emit(record);
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
        return merged_record(item, body, emit);
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
