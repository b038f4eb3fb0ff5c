#include "core/api/records.hpp"

#include <algorithm>
#include <cctype>
#include <string>

#include <nlohmann/json.hpp>
#include <simdjson.h>

namespace pipeline::core {

using nlohmann::json;

namespace {

// Parses on the calling thread's parser (the network thread checks every answer at memory speed).
bool parse_object(std::string_view body, simdjson::dom::object& root) {
    static thread_local simdjson::dom::parser parser;
    return parser.parse(body.data(), body.size(), true).get(root) == simdjson::SUCCESS;
}

} // namespace

bool ranking_answer_ok(std::string_view body) {
    simdjson::dom::object root;
    simdjson::dom::array ranking;
    return parse_object(body, root) && root["ranking"].get(ranking) == simdjson::SUCCESS;
}

bool ocid_answer_ok(std::string_view body) {
    simdjson::dom::object root;
    std::string_view ocid;
    return parse_object(body, root) && root["ocid"].get(ocid) == simdjson::SUCCESS && !ocid.empty();
}

bool detail_answer_ok(std::string_view /*body*/) { return true; }

bool ranking_records(std::string_view /*key*/, std::string_view /*date*/, std::string_view body,
                     const RecordSink& emit) {
    // ordered_json keeps each entry's keys in the API's order.
    const nlohmann::ordered_json page = nlohmann::ordered_json::parse(body, nullptr, false);
    const auto ranking = page.is_object() ? page.find("ranking") : page.end();
    if (ranking == page.end() || !ranking->is_array()) {
        return false;
    }
    for (const auto& entry : *ranking) {
        emit(entry.dump());
    }
    return true;
}

bool ocid_record(std::string_view key, std::string_view /*date*/, std::string_view body, const RecordSink& emit) {
    // The same parser as ocid_answer_ok, so that both read the same "ocid" when a key repeats (found by
    // fuzz_classify: nlohmann takes the last duplicate, simdjson the first).
    simdjson::dom::object root;
    std::string_view ocid;
    if (!parse_object(body, root) || root["ocid"].get(ocid) != simdjson::SUCCESS) {
        return false;
    }
    emit(json{{"character_name", key}, {"ocid", std::string(ocid)}}.dump());
    return true;
}

bool detail_record(std::string_view key, std::string_view date, std::string_view body, const RecordSink& emit) {
    // The body was validated as a JSON object by the fetcher: splice it in verbatim instead of re-encoding.
    std::string_view data = body;
    while (!data.empty() && std::isspace(static_cast<unsigned char>(data.back()))) {
        data.remove_suffix(1);
    }
    std::string record;
    record.reserve(data.size() + key.size() + date.size() + 40);
    record += R"({"ocid":)";
    record += json(key).dump();
    record += R"(,"date":")";
    record += date;
    record += R"(","data":)";
    const std::size_t start = record.size();
    record += data;
    // JSON Lines: raw line breaks can only be whitespace between tokens here, so fold them to spaces.
    std::replace_if(record.begin() + static_cast<std::ptrdiff_t>(start), record.end(),
                    [](char c) { return c == '\n' || c == '\r'; }, ' ');
    record += '}';
    emit(record);
    return true;
}

bool has_expected_shape(Phase phase, std::string_view body) { return phase_spec(phase).answer_check(body); }

bool make_records(Phase phase, std::string_view key, std::string_view date, std::string_view body,
                  const RecordSink& emit) {
    return phase_spec(phase).make_records(key, date, body, emit);
}

} // namespace pipeline::core
