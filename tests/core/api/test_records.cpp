// The generic record builders of docs/contract.md §1 ("record", "rows", "expect"), driven by phase
// definitions: the built-in four and config-only ones.

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/api/records.hpp"
#include "core/config/phase_def.hpp"
#include "fakes/snapshot_builder.hpp"

using pipeline::core::answer_ok;
using pipeline::core::answer_rows;
using pipeline::core::ItemFields;
using pipeline::core::make_records;
using pipeline::core::PhaseDef;
using pipeline::core::RecordShape;
using pipeline::tests::ranking_record;

namespace {

const std::string k_date = "2026-11-22";
const std::string k_ocid = "e0a4f439e53c369866b55297d2f5f4eb";

// The built-in phase `name`, copied out of the default config.
PhaseDef builtin(const std::string& name) {
    const std::vector<PhaseDef> phases = pipeline::core::builtin_phases(5);
    const PhaseDef* def = pipeline::core::find_phase(phases, name);
    REQUIRE(def != nullptr);
    return *def;
}

// The records make_records emits, or nullopt when it refuses the answer.
std::optional<std::vector<std::string>> records_of(const PhaseDef& def, const ItemFields& item,
                                                   std::string_view body) {
    std::vector<std::string> records;
    if (!make_records(def, item, k_date, body, [&](std::string_view r) { records.emplace_back(r); })) {
        return std::nullopt;
    }
    return records;
}

// The one record make_records emits for `body`.
std::string one_record(const PhaseDef& def, const ItemFields& item, std::string_view body) {
    const auto records = records_of(def, item, body);
    REQUIRE(records.has_value());
    REQUIRE(records->size() == 1);
    return records->front();
}

} // namespace

TEST_CASE("rows: each element of the answer's array is a record, its keys in the API's order") {
    const PhaseDef ranking = builtin("RANKING_FETCH");
    const std::string first = ranking_record(1, "아델");
    const std::string second = ranking_record(2, "Zeta");
    const std::string body = R"({"ranking": [)" + first + ",\n  " + second + "]}";
    CHECK(answer_ok(ranking, body));
    CHECK(answer_rows(ranking, body) == std::size_t{2});
    const auto records = records_of(ranking, {{"page", "1"}}, body);
    REQUIRE(records.has_value());
    REQUIRE(records->size() == 2);
    CHECK((*records)[0] == first);
    CHECK((*records)[1] == second);
    // "date" first and "character_guildname" last, as the API sends them (not sorted); no item fields added.
    CHECK((*records)[0].starts_with(R"({"date":"2026-11-22","ranking":1,"character_name":"아델")"));
    CHECK((*records)[0].ends_with(R"("character_guildname":null})"));

    // Past the last page: an empty list, no records, and that is a valid answer with 0 rows.
    const std::string empty_page = R"({"ranking": []})";
    CHECK(answer_ok(ranking, empty_page));
    CHECK(answer_rows(ranking, empty_page) == std::size_t{0});
    const auto empty = records_of(ranking, {{"page", "9"}}, empty_page);
    REQUIRE(empty.has_value());
    CHECK(empty->empty());
    // Not the promised shape: refused by the check, and by the builder.
    for (const std::string bad : {R"({"rank": []})", R"({"ranking": {}})", R"({"ranking": null})", "[]"}) {
        CAPTURE(bad);
        CHECK_FALSE(answer_ok(ranking, bad));
        CHECK_FALSE(answer_rows(ranking, bad).has_value());
        CHECK_FALSE(records_of(ranking, {{"page", "1"}}, bad).has_value());
    }
}

TEST_CASE("rows: another array name, and integers beyond 2^53 in an element survive") {
    PhaseDef guilds;
    guilds.name = "GUILD_RANKING";
    guilds.path = "/maplestory/v1/ranking/guild";
    guilds.pages = 3;
    guilds.rows = "ranking_list";
    const std::string body =
        R"({"ranking_list":[{"guild_name":"길드","point":9007199254740993,"exp":18446744073709551615}]})";
    CHECK(answer_ok(guilds, body));
    CHECK(answer_rows(guilds, body) == std::size_t{1});
    CHECK_FALSE(answer_ok(guilds, R"({"ranking":[]})"));
    CHECK(one_record(guilds, {}, body) ==
          R"({"guild_name":"길드","point":9007199254740993,"exp":18446744073709551615})");
}

TEST_CASE("wrap: {<item fields>, date, data} with the answer spliced verbatim") {
    const std::string body =
        R"({"date":"2026-11-22T00:00+09:00","character_name":"아델","character_level":287,)"
        R"("character_exp":123456789012345678901,"id":9007199254740993,"zeta":1,"alpha":2})";
    for (const std::string name : {"CHARACTER_BASIC", "ITEM_EQUIPMENT"}) {
        CAPTURE(name);
        const PhaseDef def = builtin(name);
        CHECK(answer_ok(def, body)); // no rows, no expect: any object will do
        CHECK_FALSE(answer_rows(def, body).has_value());
        const std::string record = one_record(def, {{"ocid", k_ocid}}, body);
        CHECK(record == R"({"ocid":")" + k_ocid + R"(","date":"2026-11-22","data":)" + body + "}");
        // Beyond 2^53 and beyond 2^64: the digits as the API sent them; Korean text as UTF-8; keys unsorted.
        CHECK(record.find("123456789012345678901") != std::string::npos);
        CHECK(record.find("9007199254740993") != std::string::npos);
        CHECK(record.find(R"("character_name":"아델")") != std::string::npos);
        CHECK(record.find(R"("zeta":1,"alpha":2)") != std::string::npos);
    }
}

TEST_CASE("wrap: several item fields come first in the order given, then date and data") {
    PhaseDef skill = builtin("CHARACTER_BASIC");
    skill.name = "CHARACTER_SKILL";
    skill.path = "/maplestory/v1/character/skill";
    const ItemFields item = {{"ocid", k_ocid}, {"character_skill_grade", "hyperpassive"}};
    const std::string record = one_record(skill, item, R"({"character_skill":[]})");
    CHECK(
        record ==
        R"({"ocid":")" + k_ocid +
            R"(","character_skill_grade":"hyperpassive","date":"2026-11-22","data":{"character_skill":[]}})");
    // Item values are JSON-escaped, not spliced.
    const std::string quoted = one_record(skill, {{"name", "a\"b\\c"}}, "{}");
    CHECK(nlohmann::json::parse(quoted)["name"] == "a\"b\\c");
}

TEST_CASE("wrap: line breaks in the answer are folded so that the record stays on one line") {
    const std::string body =
        "{\r\n  \"date\": \"2026-11-22\",\n  \"note\": \"two\\nlines\",\n  \"n\": 1\n}\n\n";
    const std::string record = one_record(builtin("ITEM_EQUIPMENT"), {{"ocid", "abc"}}, body);
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

TEST_CASE("merge: the item's fields, then the answer's, so an OCID record is {character_name, ocid}") {
    const PhaseDef ocid = builtin("OCID_LOOKUP");
    CHECK(ocid.record == RecordShape::Merge);
    const ItemFields item = {{"character_name", "아델"}};
    const std::string body = R"({"ocid": ")" + k_ocid + R"("})";
    CHECK(answer_ok(ocid, body));
    CHECK(one_record(ocid, item, body) == R"({"character_name":"아델","ocid":")" + k_ocid + R"("})");
    CHECK(nlohmann::json::parse(one_record(ocid, item, body)) ==
          nlohmann::json{{"character_name", "아델"}, {"ocid", k_ocid}});
    // More answer fields follow in the API's order, big integers exact, written as one line.
    CHECK(one_record(ocid, item, "{\"ocid\":\"x\",\n\"n\":9007199254740993}\n") ==
          R"({"character_name":"아델","ocid":"x","n":9007199254740993})");
    // A key the answer repeats, or that repeats an item field, is written once: the first.
    CHECK(one_record(ocid, item, R"({"ocid":"x","character_name":"other","ocid":"y"})") ==
          R"({"character_name":"아델","ocid":"x"})");

    // An answer {} (with or without blanks inside) leaves the item's fields alone; no item fields: {}.
    for (const std::string empty : {"{}", "{ }", "{\n}\n", " {} "}) {
        CAPTURE(empty);
        CHECK(one_record(ocid, item, empty) == R"({"character_name":"아델"})");
        CHECK(one_record(ocid, {}, empty) == "{}");
    }
    // Two item fields (a guild: name and world), then the answer.
    PhaseDef guild_id = ocid;
    guild_id.name = "GUILD_ID";
    guild_id.expect = "oguild_id";
    CHECK(
        one_record(guild_id, {{"guild_name", "길드"}, {"world_name", "스카니아"}}, R"({"oguild_id":"g1"})") ==
        R"({"guild_name":"길드","world_name":"스카니아","oguild_id":"g1"})");
}

TEST_CASE("expect: an answer without a non-empty string of that name is refused") {
    const PhaseDef ocid = builtin("OCID_LOOKUP");
    CHECK(ocid.expect == "ocid");
    CHECK(answer_ok(ocid, R"({"ocid":"abc"})"));
    CHECK(answer_ok(ocid, R"({"other":1,"ocid":"abc"})"));
    for (const std::string bad : {R"({"id":"x"})", R"({"ocid":5})", R"({"ocid":""})", R"({"ocid":null})",
                                  R"({"ocid":["abc"]})", "{}", "[]", "{"}) {
        CAPTURE(bad);
        CHECK_FALSE(answer_ok(ocid, bad));
    }
    // Without expect (and without rows) every object passes, an empty one included.
    const PhaseDef basic = builtin("CHARACTER_BASIC");
    CHECK(answer_ok(basic, "{}"));
    CHECK(answer_ok(basic, R"({"id":"x"})"));
}

TEST_CASE("an id answer with a repeated ocid key is read downstream as its answer check reads it") {
    const PhaseDef ocid = builtin("OCID_LOOKUP");
    const std::string body = R"({"ocid":")" + k_ocid + R"(","ocid":[1]})";
    REQUIRE(answer_ok(ocid, body)); // the check reads the first "ocid"
    const std::string record = one_record(ocid, {{"character_name", "아델"}}, body);
    // The record holds the ocid the check read, once: every reader sees the same one.
    CHECK(record == R"({"character_name":"아델","ocid":")" + k_ocid + R"("})");
    CHECK(nlohmann::json::accept(record));
}

TEST_CASE("rows: an answer with a repeated rows key is written as its check read it") {
    const PhaseDef ranking = builtin("RANKING_FETCH");
    for (const std::string body : {R"({"ranking":[{"a":1},{"a":2}],"ranking":{}})",
                                   R"({"ranking":[{"a":1},{"a":2}],"ranking":[{"b":3}]})"}) {
        CAPTURE(body);
        REQUIRE(answer_ok(ranking, body));
        CHECK(answer_rows(ranking, body) == std::size_t{2});
        const auto records = records_of(ranking, {{"page", "1"}}, body);
        REQUIRE(records.has_value());
        CHECK(*records == std::vector<std::string>{R"({"a":1})", R"({"a":2})"});
    }
}
