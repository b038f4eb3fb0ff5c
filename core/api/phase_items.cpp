#include "core/api/phase_items.hpp"

#include <algorithm>
#include <unordered_set>

#include <nlohmann/json.hpp>
#include <simdjson.h>

#include "core/util/error.hpp"
#include "core/util/text.hpp"

namespace pipeline::core {

using nlohmann::json;

std::vector<std::string> list_items(Phase phase, int ranking_pages, Sink& sink, const Manifest* upstream) {
    std::vector<std::string> items;
    if (phase == Phase::RankingFetch) {
        for (int page = 1; page <= ranking_pages; ++page) {
            items.push_back(std::to_string(page));
        }
        return items;
    }
    const char* field = phase == Phase::OcidLookup ? "character_name" : "ocid";
    std::unordered_set<std::string> seen;
    for_each_record(sink, *upstream, [&](std::string_view line) {
        const json record = json::parse(line, nullptr, false);
        const auto value = record.is_object() ? record.find(field) : record.end();
        if (value == record.end() || !value->is_string() || value->get_ref<const std::string&>().empty()) {
            throw Error(ExitCode::Failed, "upstream " + std::string(phase_name(upstream->phase)) + " run " +
                                              upstream->run_id + " has a record without '" + field + "'");
        }
        if (seen.insert(value->get<std::string>()).second) {
            items.push_back(value->get<std::string>());
        }
    });
    return items;
}

std::string item_url(Phase phase, const std::string& base_url, const std::string& item, const std::string& date) {
    switch (phase) {
    case Phase::RankingFetch:
        return base_url + "/maplestory/v1/ranking/overall?date=" + date + "&page=" + item;
    case Phase::OcidLookup:
        return base_url + "/maplestory/v1/id?character_name=" + percent_encode(item);
    case Phase::CharacterBasic:
        return base_url + "/maplestory/v1/character/basic?ocid=" + percent_encode(item) + "&date=" + date;
    case Phase::ItemEquipment:
        return base_url + "/maplestory/v1/character/item-equipment?ocid=" + percent_encode(item) + "&date=" + date;
    }
    return {};
}

bool has_expected_shape(Phase phase, std::string_view body) {
    if (phase == Phase::CharacterBasic || phase == Phase::ItemEquipment) {
        return true;
    }
    static thread_local simdjson::dom::parser parser;
    simdjson::dom::object root;
    if (parser.parse(body.data(), body.size(), true).get(root) != simdjson::SUCCESS) {
        return false;
    }
    if (phase == Phase::RankingFetch) {
        simdjson::dom::array ranking;
        return root["ranking"].get(ranking) == simdjson::SUCCESS;
    }
    std::string_view ocid;
    return root["ocid"].get(ocid) == simdjson::SUCCESS && !ocid.empty();
}

bool make_records(Phase phase, const std::string& item, const std::string& date, std::string_view body,
                  const std::function<void(std::string_view)>& emit) {
    switch (phase) {
    case Phase::RankingFetch: {
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
    case Phase::OcidLookup: {
        const json answer = json::parse(body, nullptr, false);
        const auto ocid = answer.is_object() ? answer.find("ocid") : answer.end();
        if (ocid == answer.end() || !ocid->is_string()) {
            return false;
        }
        emit(json{{"character_name", item}, {"ocid", *ocid}}.dump());
        return true;
    }
    case Phase::CharacterBasic:
    case Phase::ItemEquipment: {
        // The body was validated as a JSON object by the fetcher: splice it in verbatim instead of re-encoding.
        std::string_view data = body;
        while (!data.empty() && std::isspace(static_cast<unsigned char>(data.back()))) {
            data.remove_suffix(1);
        }
        std::string record;
        record.reserve(data.size() + item.size() + date.size() + 40);
        record += R"({"ocid":)";
        record += json(item).dump();
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
    }
    return false;
}

} // namespace pipeline::core
