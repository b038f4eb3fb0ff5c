// Request URLs and record shapes of the phase table (docs/contract.md, "Phases" and "Records").

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/api/records.hpp"
#include "fakes/snapshot_builder.hpp"

using pipeline::core::item_url;
using pipeline::core::make_records;
using pipeline::core::Phase;
using pipeline::tests::ranking_record;

namespace {

const std::string k_base = "https://open.api.nexon.com";
const std::string k_date = "2026-11-22";

// The records make_records emits, or nullopt when it refuses the answer.
std::optional<std::vector<std::string>> records_of(Phase phase, const std::string& item, std::string_view body) {
    std::vector<std::string> records;
    if (!make_records(phase, item, k_date, body, [&](std::string_view r) { records.emplace_back(r); })) {
        return std::nullopt;
    }
    return records;
}

} // namespace

TEST_CASE("item URLs have the shapes of docs/contract.md §1 for the four phases") {
    CHECK(item_url(Phase::RankingFetch, k_base, "3", k_date) ==
          "https://open.api.nexon.com/maplestory/v1/ranking/overall?date=2026-11-22&page=3");
    CHECK(item_url(Phase::OcidLookup, k_base, "아델", k_date) ==
          "https://open.api.nexon.com/maplestory/v1/id?character_name=%EC%95%84%EB%8D%B8");
    const std::string ocid = "e0a4f439e53c369866b55297d2f5f4eb";
    CHECK(item_url(Phase::CharacterBasic, k_base, ocid, k_date) ==
          "https://open.api.nexon.com/maplestory/v1/character/basic?ocid=" + ocid + "&date=2026-11-22");
    CHECK(item_url(Phase::ItemEquipment, k_base, ocid, k_date) ==
          "https://open.api.nexon.com/maplestory/v1/character/item-equipment?ocid=" + ocid + "&date=2026-11-22");
}

TEST_CASE("ranking records are the API's entries with their keys in the API's order") {
    const std::string first = ranking_record(1, "아델");
    const std::string second = ranking_record(2, "Zeta");
    const std::string body = R"({"ranking": [)" + first + ",\n  " + second + "]}";
    const auto records = records_of(Phase::RankingFetch, "1", body);
    REQUIRE(records.has_value());
    REQUIRE(records->size() == 2);
    CHECK((*records)[0] == first);
    CHECK((*records)[1] == second);
    // "date" first and "character_guildname" last, as the API sends them (not sorted).
    CHECK((*records)[0].starts_with(R"({"date":"2026-11-22","ranking":1,"character_name":"아델")"));
    CHECK((*records)[0].ends_with(R"("character_guildname":null})"));

    // Past the last page: an empty list, no records, and that is a valid answer.
    const auto empty = records_of(Phase::RankingFetch, "9", R"({"ranking": []})");
    REQUIRE(empty.has_value());
    CHECK(empty->empty());
    // Not the promised shape.
    CHECK_FALSE(records_of(Phase::RankingFetch, "1", R"({"rank": []})").has_value());
    CHECK_FALSE(records_of(Phase::RankingFetch, "1", R"({"ranking": {}})").has_value());
    CHECK_FALSE(records_of(Phase::RankingFetch, "1", "[]").has_value());
}

TEST_CASE("an OCID record is {character_name, ocid}") {
    const auto records = records_of(Phase::OcidLookup, "아델", R"({"ocid": "e0a4f439e53c369866b55297d2f5f4eb"})");
    REQUIRE(records.has_value());
    REQUIRE(records->size() == 1);
    CHECK((*records)[0] == R"({"character_name":"아델","ocid":"e0a4f439e53c369866b55297d2f5f4eb"})");
    CHECK_FALSE(records_of(Phase::OcidLookup, "아델", R"({"id": "x"})").has_value());
    CHECK_FALSE(records_of(Phase::OcidLookup, "아델", R"({"ocid": 5})").has_value());
}

TEST_CASE("detail records are {ocid, date, data} with the body verbatim") {
    const std::string ocid = "e0a4f439e53c369866b55297d2f5f4eb";
    const std::string body = R"({"date":"2026-11-22T00:00+09:00","character_name":"아델","character_level":287})";
    for (Phase phase : {Phase::CharacterBasic, Phase::ItemEquipment}) {
        const auto records = records_of(phase, ocid, body);
        REQUIRE(records.has_value());
        REQUIRE(records->size() == 1);
        CHECK((*records)[0] == R"({"ocid":")" + ocid + R"(","date":"2026-11-22","data":)" + body + "}");
    }
}

TEST_CASE("line breaks in a detail body are folded so that the record stays on one line") {
    const std::string body = "{\r\n  \"date\": \"2026-11-22\",\n  \"note\": \"two\\nlines\",\n  \"n\": 1\n}\n\n";
    const auto records = records_of(Phase::ItemEquipment, "abc", body);
    REQUIRE(records.has_value());
    REQUIRE(records->size() == 1);
    const std::string& record = (*records)[0];
    CHECK(record.find('\n') == std::string::npos);
    CHECK(record.find('\r') == std::string::npos);
    const nlohmann::json parsed = nlohmann::json::parse(record);
    CHECK(parsed["ocid"] == "abc");
    CHECK(parsed["date"] == "2026-11-22");
    CHECK(parsed["data"] == nlohmann::json::parse(body));
    // The escaped newline inside a string is data, kept as it was.
    CHECK(parsed["data"]["note"] == "two\nlines");
    CHECK(record.find(R"(two\nlines)") != std::string::npos);
}

TEST_CASE("the phase table: names, upstreams in harvest order, the invalid-name message") {
    using pipeline::core::k_phase_specs;
    for (std::size_t i = 0; i < k_phase_specs.size(); ++i) {
        CHECK(static_cast<std::size_t>(k_phase_specs[i].phase) == i);
        CHECK(pipeline::core::parse_phase(k_phase_specs[i].name) == k_phase_specs[i].phase);
        if (k_phase_specs[i].upstream) {
            CHECK(static_cast<std::size_t>(*k_phase_specs[i].upstream) < i); // an upstream runs earlier
            CHECK(!k_phase_specs[i].item_field.empty());
        }
    }
    CHECK(pipeline::core::parse_phase("item_equipment") == Phase::ItemEquipment);
    CHECK(!pipeline::core::parse_phase("ITEMS"));
    CHECK(pipeline::core::invalid_phase_message("x") ==
          "INVALID_PHASE: x (expected one of RANKING_FETCH, OCID_LOOKUP, CHARACTER_BASIC, ITEM_EQUIPMENT)");
}

TEST_CASE("run waves follow the upstreams: the two detail phases side by side after OCID_LOOKUP") {
    using pipeline::core::run_waves;
    using W = std::vector<std::vector<Phase>>;
    const std::vector<Phase> all(pipeline::core::k_all_phases.begin(), pipeline::core::k_all_phases.end());
    CHECK(run_waves(all) == W{{Phase::RankingFetch}, {Phase::OcidLookup}, {Phase::CharacterBasic, Phase::ItemEquipment}});
    CHECK(run_waves({Phase::ItemEquipment}) == W{{Phase::ItemEquipment}});
    CHECK(run_waves({Phase::OcidLookup, Phase::ItemEquipment}) == W{{Phase::OcidLookup}, {Phase::ItemEquipment}});
    CHECK(run_waves({Phase::CharacterBasic, Phase::ItemEquipment}) ==
          W{{Phase::CharacterBasic, Phase::ItemEquipment}});
}

TEST_CASE("an id answer with a repeated ocid key is read as its answer check reads it") {
    const std::string body = R"({"ocid":"e0a4f439e53c369866b55297d2f5f4eb","ocid":[1]})";
    REQUIRE(pipeline::core::has_expected_shape(Phase::OcidLookup, body));
    const auto records = records_of(Phase::OcidLookup, "아델", body);
    REQUIRE(records.has_value());
    CHECK(nlohmann::json::parse(records->front())["ocid"] == "e0a4f439e53c369866b55297d2f5f4eb");
}
