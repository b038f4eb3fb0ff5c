// pipeline.yaml's `phases:` map (docs/contract.md §1), read: definitions in phase order with their values,
// the waves they run in, and the built-in four without it. Broken definitions: test_phase_errors.cpp.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/config/phase_def.hpp"

using pipeline::core::Config;
using pipeline::core::parse_config;
using pipeline::core::PhaseDef;
using pipeline::core::RecordShape;
using pipeline::core::run_waves;

using Strings = std::vector<std::string>;

namespace {

const std::filesystem::path k_source = "/etc/harvest/pipeline.yaml";

// Nine phases, written out of phase order on purpose: GUILD_BASIC comes before its upstream GUILD_ID.
const std::string k_nine = R"(run_dir: ./run
phases:
  RANKING_FETCH:
    path: /maplestory/v1/ranking/overall
    query: {date: "{date}", page: "{page}"}
    pages: 2
    rows: ranking
  OCID_LOOKUP:
    upstream: RANKING_FETCH
    path: /maplestory/v1/id
    query: {character_name: "{character_name}"}
    expect: ocid
    record: merge
    reuse_days: 7
  CHARACTER_BASIC:
    upstream: OCID_LOOKUP
    path: /maplestory/v1/character/basic
    query: {ocid: "{ocid}", date: "{date}"}
  ITEM_EQUIPMENT:
    upstream: OCID_LOOKUP
    path: /maplestory/v1/character/item-equipment
    query: {ocid: "{ocid}", date: "{date}"}
  CHARACTER_STAT:
    upstream: OCID_LOOKUP
    path: /maplestory/v1/character/stat
    query: {ocid: "{ocid}", date: "{date}"}
  CHARACTER_SKILL:
    upstream: OCID_LOOKUP
    path: /maplestory/v1/character/skill
    query:
      ocid: "{ocid}"
      date: "{date}"
      character_skill_grade: ["0", "1", hyperpassive]
  GUILD_BASIC:
    upstream: GUILD_ID
    path: /maplestory/v1/guild/basic
    query: {oguild_id: "{oguild_id}", date: "{date}"}
  GUILD_RANKING:
    path: /maplestory/v1/ranking/guild
    query: {date: "{date}", ranking_type: [0, 1], page: "{page}"}
    pages: 3
    rows: ranking
  GUILD_ID:
    upstream: GUILD_RANKING
    path: /maplestory/v1/guild/id
    query: {guild_name: "{guild_name}", world_name: "{world_name}"}
    expect: oguild_id
    record: merge
)";

const Strings k_nine_order = {"RANKING_FETCH",  "OCID_LOOKUP",    "CHARACTER_BASIC",
                              "ITEM_EQUIPMENT", "CHARACTER_STAT", "CHARACTER_SKILL",
                              "GUILD_RANKING",  "GUILD_ID",       "GUILD_BASIC"};

Strings names_of(const std::vector<PhaseDef>& phases) {
    Strings names;
    for (const PhaseDef& def : phases) {
        names.push_back(def.name);
    }
    return names;
}

const PhaseDef& phase(const Config& config, const std::string& name) {
    const PhaseDef* def = pipeline::core::find_phase(config.phases, name);
    REQUIRE(def != nullptr);
    return *def;
}

} // namespace

TEST_CASE("a nine-phase config parses in phase order with every value") {
    const Config config = parse_config(k_nine, k_source);
    CHECK(names_of(config.phases) == k_nine_order);

    // Where each definition starts in the file.
    const std::vector<std::pair<std::string, int>> lines = {
        {"RANKING_FETCH", 3},   {"OCID_LOOKUP", 8},     {"CHARACTER_BASIC", 15},
        {"ITEM_EQUIPMENT", 19}, {"CHARACTER_STAT", 23}, {"CHARACTER_SKILL", 27},
        {"GUILD_BASIC", 34},    {"GUILD_RANKING", 38},  {"GUILD_ID", 43}};
    for (const auto& [name, line] : lines) {
        CAPTURE(name);
        CHECK(phase(config, name).line == line);
    }

    const PhaseDef& ranking = phase(config, "RANKING_FETCH");
    CHECK(ranking.upstream.empty());
    CHECK(ranking.path == "/maplestory/v1/ranking/overall");
    CHECK(ranking.pages == 2);
    CHECK(ranking.rows == "ranking");
    CHECK(ranking.fields.empty());
    REQUIRE(ranking.query.size() == 2);
    CHECK(ranking.query[0].key == "date");
    CHECK(ranking.query[0].values == Strings{"{date}"});
    CHECK_FALSE(ranking.query[0].list);
    CHECK(ranking.query[1].key == "page");
    CHECK(ranking.query[1].values == Strings{"{page}"});

    const PhaseDef& ocid = phase(config, "OCID_LOOKUP");
    CHECK(ocid.upstream == "RANKING_FETCH");
    CHECK(ocid.expect == "ocid");
    CHECK(ocid.record == RecordShape::Merge);
    CHECK(ocid.reuse_days == 7);
    CHECK(ocid.pages == 0);
    CHECK(ocid.rows.empty());
    CHECK(ocid.fields == Strings{"character_name"});

    const PhaseDef& basic = phase(config, "CHARACTER_BASIC");
    CHECK(basic.record == RecordShape::Wrap); // the default
    CHECK(basic.reuse_days == 0);
    CHECK(basic.expect.empty());
    CHECK(basic.fields == Strings{"ocid"});

    // A list value: one item per value, in the order written (a block mapping keeps its order too).
    const PhaseDef& skill = phase(config, "CHARACTER_SKILL");
    REQUIRE(skill.query.size() == 3);
    CHECK(skill.query[0].key == "ocid");
    CHECK(skill.query[1].key == "date");
    CHECK(skill.query[2].key == "character_skill_grade");
    CHECK(skill.query[2].list);
    CHECK(skill.query[2].values == Strings{"0", "1", "hyperpassive"});
    CHECK(skill.combinations() == 3);
    CHECK(skill.fields == Strings{"ocid"});

    // Numbers in a list keep the text the file gives; pages with a list and rows.
    const PhaseDef& guilds = phase(config, "GUILD_RANKING");
    REQUIRE(guilds.query.size() == 3);
    CHECK(guilds.query[1].list);
    CHECK(guilds.query[1].values == Strings{"0", "1"});
    CHECK(guilds.pages == 3);
    CHECK(guilds.rows == "ranking");
    CHECK(guilds.combinations() == 2);

    // Two fields, in order of first mention; merged records.
    const PhaseDef& guild_id = phase(config, "GUILD_ID");
    CHECK(guild_id.fields == Strings{"guild_name", "world_name"});
    CHECK(guild_id.record == RecordShape::Merge);
    CHECK(guild_id.expect == "oguild_id");
    CHECK(phase(config, "GUILD_BASIC").upstream == "GUILD_ID");
    CHECK(phase(config, "GUILD_BASIC").fields == Strings{"oguild_id"});
}

TEST_CASE("phase order: each phase after its upstream, otherwise the order of the file") {
    // GUILD_RANKING written before RANKING_FETCH keeps its place; GUILD_BASIC moves after its upstream only.
    const std::string text = R"(phases:
  GUILD_BASIC:
    upstream: GUILD_ID
    path: /guild/basic
    query: {oguild_id: "{oguild_id}"}
  GUILD_RANKING:
    path: /ranking/guild
    query: {page: "{page}"}
    pages: 1
    rows: ranking
  RANKING_FETCH:
    path: /ranking/overall
    query: {page: "{page}"}
    pages: 1
    rows: ranking
  GUILD_ID:
    upstream: GUILD_RANKING
    path: /guild/id
    query: {guild_name: "{guild_name}"}
  OCID_LOOKUP:
    upstream: RANKING_FETCH
    path: /id
    query: {character_name: "{character_name}"}
)";
    const Config config = parse_config(text, k_source);
    CHECK(names_of(config.phases) ==
          Strings{"GUILD_RANKING", "RANKING_FETCH", "GUILD_ID", "GUILD_BASIC", "OCID_LOOKUP"});
    CHECK(phase(config, "GUILD_BASIC").line == 2);
    CHECK(phase(config, "OCID_LOOKUP").line == 20);
    // The driver's order of waves: phases of one wave run side by side.
    CHECK(run_waves(config.phases, names_of(config.phases)) ==
          std::vector<Strings>{
              {"GUILD_RANKING", "RANKING_FETCH"}, {"GUILD_ID", "OCID_LOOKUP"}, {"GUILD_BASIC"}});
}

TEST_CASE("run waves of the nine phases, and of subsets of them") {
    const Config config = parse_config(k_nine, k_source);
    CHECK(run_waves(config.phases, k_nine_order) ==
          std::vector<Strings>{
              {"RANKING_FETCH", "GUILD_RANKING"},
              {"OCID_LOOKUP", "GUILD_ID"},
              {"CHARACTER_BASIC", "ITEM_EQUIPMENT", "CHARACTER_STAT", "CHARACTER_SKILL", "GUILD_BASIC"}});
    // An upstream that is not chosen does not hold its phase back: it joins the first wave.
    CHECK(run_waves(config.phases, {"CHARACTER_SKILL", "GUILD_ID", "GUILD_BASIC"}) ==
          std::vector<Strings>{{"CHARACTER_SKILL", "GUILD_ID"}, {"GUILD_BASIC"}});
    CHECK(run_waves(config.phases, {"GUILD_RANKING", "GUILD_BASIC"}) ==
          std::vector<Strings>{{"GUILD_RANKING", "GUILD_BASIC"}});
    CHECK(run_waves(config.phases, {"OCID_LOOKUP", "CHARACTER_STAT", "GUILD_RANKING", "GUILD_ID"}) ==
          std::vector<Strings>{{"OCID_LOOKUP", "GUILD_RANKING"}, {"CHARACTER_STAT", "GUILD_ID"}});
    CHECK(run_waves(config.phases, {"ITEM_EQUIPMENT"}) == std::vector<Strings>{{"ITEM_EQUIPMENT"}});
    CHECK(run_waves(config.phases, {}).empty());
}

TEST_CASE("without phases: the built-in four; ranking: {pages: N} sets RANKING_FETCH's pages") {
    const Config defaults = parse_config("run_dir: ./run\n", k_source);
    CHECK(names_of(defaults.phases) ==
          Strings{"RANKING_FETCH", "OCID_LOOKUP", "CHARACTER_BASIC", "ITEM_EQUIPMENT"});
    CHECK(defaults.phases.front().pages == 5);
    const Config seven = parse_config("ranking:\n  pages: 7\n", k_source);
    REQUIRE(seven.phases.size() == 4);
    CHECK(seven.phases.front().pages == 7);
    CHECK(seven.phases[1].upstream == "RANKING_FETCH");
    // A phases: map replaces the built-in four entirely.
    const Config one = parse_config(R"(phases:
  RANKING_FETCH:
    path: /r
    query: {page: "{page}"}
    pages: 2
    rows: ranking
)",
                                    k_source);
    CHECK(names_of(one.phases) == Strings{"RANKING_FETCH"});
    CHECK(one.phases.front().path == "/r");
    CHECK(one.phases.front().pages == 2);
}
