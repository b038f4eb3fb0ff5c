// What differs between phases: item lists, request URLs (SPEC §1) and record shapes (SPEC §6).

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/api/phase_items.hpp"
#include "core/util/error.hpp"
#include "fakes/memory_sink.hpp"
#include "fakes/snapshot_builder.hpp"

using pipeline::core::item_url;
using pipeline::core::list_items;
using pipeline::core::make_records;
using pipeline::core::Phase;
using pipeline::tests::MemorySink;
using pipeline::tests::ocid_for;
using pipeline::tests::publish_snapshot;
using pipeline::tests::ranking_record;
using pipeline::tests::SnapshotSpec;

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

TEST_CASE("item URLs have the shapes of SPEC §1 for the four phases") {
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

TEST_CASE("RANKING_FETCH lists page numbers 1 to ranking.pages") {
    MemorySink sink;
    CHECK(list_items(Phase::RankingFetch, 4, sink, nullptr) == std::vector<std::string>{"1", "2", "3", "4"});
    CHECK(list_items(Phase::RankingFetch, 1, sink, nullptr) == std::vector<std::string>{"1"});
}

TEST_CASE("OCID_LOOKUP lists each distinct character name once, in rank order") {
    MemorySink sink;
    SnapshotSpec spec;
    spec.phase = Phase::RankingFetch;
    // Rankings shift between pages while they are fetched, so a name can appear twice.
    spec.chunks = {{ranking_record(1, "아델"), ranking_record(2, "Bravo"), ranking_record(3, "아델")},
                   {ranking_record(4, "Charlie"), ranking_record(5, "Bravo"), ranking_record(6, "델타")}};
    const auto manifest = publish_snapshot(sink, spec);
    CHECK(list_items(Phase::OcidLookup, 5, sink, &manifest) ==
          std::vector<std::string>{"아델", "Bravo", "Charlie", "델타"});
}

TEST_CASE("the detail phases list the ocids of the OCID_LOOKUP snapshot") {
    MemorySink sink;
    SnapshotSpec spec;
    spec.phase = Phase::OcidLookup;
    spec.compression = pipeline::core::Compression::Zstd;
    std::vector<std::string> expected;
    std::vector<std::string> records;
    for (const std::string name : {"아델", "Bravo", "Charlie"}) {
        expected.push_back(ocid_for(name));
        records.push_back(nlohmann::json{{"character_name", name}, {"ocid", ocid_for(name)}}.dump());
    }
    spec.chunks = {records};
    const auto manifest = publish_snapshot(sink, spec);
    CHECK(list_items(Phase::CharacterBasic, 5, sink, &manifest) == expected);
    CHECK(list_items(Phase::ItemEquipment, 5, sink, &manifest) == expected);
}

TEST_CASE("an upstream record without the field a phase needs is an error naming the upstream run") {
    MemorySink sink;
    SnapshotSpec spec;
    spec.phase = Phase::RankingFetch;
    spec.chunks = {{ranking_record(1, "아델"), R"({"ranking":2})"}};
    const auto manifest = publish_snapshot(sink, spec);
    try {
        list_items(Phase::OcidLookup, 5, sink, &manifest);
        FAIL("no error");
    } catch (const pipeline::core::Error& e) {
        CHECK(std::string(e.what()).find(spec.run_id) != std::string::npos);
        CHECK(std::string(e.what()).find("character_name") != std::string::npos);
    }
}
