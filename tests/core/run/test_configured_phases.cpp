// run_phase for phases only the config defines (docs/contract.md §1): list values multiply the items, a
// stopped run resumes exactly, paged rows end at the first empty page, two-field items merge, and upstream
// records without a usable field become rejects. Same rig as test_phase_runner.cpp.

#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config/config.hpp"
#include "core/run/phase_runner.hpp"
#include "core/state/checkpoint.hpp"
#include "phase_rig.hpp"

using pipeline::core::LedgerEntry;
using pipeline::core::Manifest;
using pipeline::core::PhaseOutcome;
using pipeline::core::RunState;
using pipeline::core::StopFlag;
using pipeline::tests::character_name;
using pipeline::tests::check_finished;
using pipeline::tests::FakeAnswer;
using pipeline::tests::k_rig_base;
using pipeline::tests::k_rig_date;
using pipeline::tests::ocid_for;
using pipeline::tests::ok_answer;
using pipeline::tests::Rig;

using Strings = std::vector<std::string>;

namespace {

// The built-in four plus three phases of pipeline.yaml's kind.
const std::string k_phases = R"(phases:
  RANKING_FETCH:
    path: /maplestory/v1/ranking/overall
    query: {date: "{date}", page: "{page}"}
    pages: 3
    rows: ranking
  OCID_LOOKUP:
    upstream: RANKING_FETCH
    path: /maplestory/v1/id
    query: {character_name: "{character_name}"}
    expect: ocid
    record: merge
  CHARACTER_SKILL:
    upstream: OCID_LOOKUP
    path: /maplestory/v1/character/skill
    query: {ocid: "{ocid}", date: "{date}", character_skill_grade: ["0", "1", "hyperpassive"]}
  GUILD_RANKING:
    path: /maplestory/v1/ranking/guild
    query: {date: "{date}", ranking_type: [0, 1, 2], page: "{page}"}
    pages: 4
    rows: ranking
  GUILD_ID:
    upstream: GUILD_RANKING
    path: /maplestory/v1/guild/id
    query: {guild_name: "{guild_name}", world_name: "{world_name}"}
    expect: oguild_id
    record: merge
)";

const Strings k_grades = {"0", "1", "hyperpassive"};

std::string skill_url(const std::string& ocid, const std::string& grade) {
    return k_rig_base + "/maplestory/v1/character/skill?ocid=" + ocid + "&date=" + k_rig_date +
           "&character_skill_grade=" + grade;
}

// The skill answer: Korean text, integers beyond 2^53 and unsorted keys, to be kept verbatim.
std::string skill_body(const std::string& ocid, const std::string& grade) {
    return R"({"date":"2026-11-22T00:00+09:00","character_class":"비숍","character_skill_grade":")" + grade +
           R"(","character_skill":[{"skill_name":"스킬 )" + ocid.substr(0, 6) +
           R"(","skill_level":30}],"exp":18446744073709551615,"id":9007199254740993})";
}

std::string guild_ranking_url(int type, int page) {
    return k_rig_base + "/maplestory/v1/ranking/guild?date=" + k_rig_date +
           "&ranking_type=" + std::to_string(type) + "&page=" + std::to_string(page);
}

std::string guild_row(int type, int page, int i) {
    return R"({"ranking":)" + std::to_string(i) + R"(,"guild_name":"길드)" + std::to_string(type) + "-" +
           std::to_string(page) + "-" + std::to_string(i) + R"(","world_name":"스카니아","ranking_type":)" +
           std::to_string(type) + "}";
}

std::string guild_id_url(const std::string& guild, const std::string& world) {
    return k_rig_base + "/maplestory/v1/guild/id?guild_name=" + pipeline::core::percent_encode(guild) +
           "&world_name=" + pipeline::core::percent_encode(world);
}

// A rig whose config holds k_phases and whose fake API answers the skill, guild ranking and guild id requests
// too. Guild ranking: type 0 has rows on page 1 and an empty page 2 (pages 3 and 4 would have rows again,
// but must not be asked); type 1 has two rows on every page; type 2 is empty from page 1.
struct ConfiguredRig : Rig {
    ConfiguredRig() {
        config.phases = pipeline::core::parse_config(k_phases, "/etc/harvest/pipeline.yaml").phases;
        extra = [](const std::string& url) -> std::vector<FakeAnswer> {
            for (int rank = 1; rank <= 60; ++rank) {
                const std::string ocid = ocid_for(character_name(rank));
                for (const std::string& grade : k_grades) {
                    if (url == skill_url(ocid, grade)) {
                        return {ok_answer(skill_body(ocid, grade))};
                    }
                }
            }
            for (int type = 0; type <= 2; ++type) {
                for (int page = 1; page <= 4; ++page) {
                    if (url != guild_ranking_url(type, page)) {
                        continue;
                    }
                    const int rows = type == 0 ? (page == 2 ? 0 : 3) : type == 1 ? 2 : 0;
                    std::string body = R"({"ranking":[)";
                    for (int i = 1; i <= rows; ++i) {
                        body += (i > 1 ? "," : "") + guild_row(type, page, i);
                    }
                    return {ok_answer(body + "]}")};
                }
            }
            for (const std::string guild : {"길드", "Other"}) {
                for (const std::string world : {"스카니아", "베라"}) {
                    if (url == guild_id_url(guild, world)) {
                        return {ok_answer(R"({"oguild_id":")" + ocid_for(guild + world) + R"("})")};
                    }
                }
            }
            return {};
        };
    }
};

} // namespace

TEST_CASE("a config-only phase with a list value: three items per ocid, each fetched once, records wrapped") {
    ConfiguredRig rig;
    rig.publish_ocids(10);
    const PhaseOutcome outcome = rig.run("CHARACTER_SKILL");
    CHECK_MESSAGE(outcome.error.empty(), outcome.error);
    const Manifest m = check_finished(rig, outcome, "CHARACTER_SKILL", RunState::Completed, 30);
    CHECK(m.upstream_phase == "OCID_LOOKUP");
    CHECK(m.upstream_run_id == "20261122T233000Z-000002");
    const LedgerEntry entry = rig.ledger_entry("CHARACTER_SKILL");
    CHECK(entry.progress.items_total == 30);
    CHECK(entry.progress.items_done == 30);
    CHECK(entry.progress.requests == 30);

    // Every (ocid, grade) asked exactly once, and nothing else.
    CHECK(rig.transport.unscripted() == 0);
    CHECK(rig.transport.start_count() == 30);
    for (int rank = 1; rank <= 10; ++rank) {
        for (const std::string& grade : k_grades) {
            CAPTURE(rank);
            CAPTURE(grade);
            CHECK(rig.transport.start_times(skill_url(ocid_for(character_name(rank)), grade)).size() == 1);
        }
    }
    // Each record: the item's fields (the ocid, the grade) in query order, the date, the answer verbatim.
    std::set<std::pair<std::string, std::string>> seen;
    for (const std::string& line : rig.lines(m)) {
        const nlohmann::json record = nlohmann::json::parse(line);
        const std::string ocid = record.at("ocid");
        const std::string grade = record.at("character_skill_grade");
        CHECK(line == R"({"ocid":")" + ocid + R"(","character_skill_grade":")" + grade +
                          R"(","date":"2026-11-22","data":)" + skill_body(ocid, grade) + "}");
        CHECK(seen.emplace(ocid, grade).second);
    }
    CHECK(seen.size() == 30);
}

TEST_CASE("a config-only phase stopped mid-run resumes to exactly one record per item") {
    ConfiguredRig rig;
    rig.publish_ocids(20);
    rig.config.api.concurrency = 2;
    rig.config.chunk_records = 5;
    StopFlag stop;
    rig.transport.on_start([&stop](std::size_t starts, const std::string&) {
        if (starts == 23) {
            stop.request();
        }
    });
    const PhaseOutcome stopped = rig.run("CHARACTER_SKILL", stop);
    rig.transport.on_start({});
    // Requests already out finish and are kept; nothing starts after the stop.
    CHECK(rig.transport.start_count() == 23);
    const Manifest partial = check_finished(rig, stopped, "CHARACTER_SKILL", RunState::Stopped, 23);
    CHECK(partial.chunks.size() == 5); // 5 + 5 + 5 + 5 + 3
    CHECK(rig.ledger_entry("CHARACTER_SKILL").progress.items_done == 23);

    StopFlag fresh;
    const PhaseOutcome resumed = rig.run("CHARACTER_SKILL", fresh, true);
    CHECK(resumed.run_id == stopped.run_id);
    const Manifest complete = check_finished(rig, resumed, "CHARACTER_SKILL", RunState::Completed, 60);
    REQUIRE(complete.chunks.size() == 13); // numbering continued after the 5 committed chunks
    CHECK(complete.chunks[5].name == "part-00006.jsonl.gz");
    std::map<std::pair<std::string, std::string>, int> seen;
    for (const nlohmann::json& record : rig.records(complete)) {
        ++seen[{record.at("ocid"), record.at("character_skill_grade")}];
    }
    CHECK(seen.size() == 60);
    for (const auto& [item, count] : seen) {
        CAPTURE(item.first);
        CAPTURE(item.second);
        CHECK(count == 1);
    }
    // Each item was asked once across both runs, and the request count carries over.
    CHECK(rig.transport.start_count() == 60);
    CHECK(rig.transport.unscripted() == 0);
    std::set<std::string> urls;
    for (const pipeline::tests::FakeTransport::Start& start : rig.transport.starts()) {
        urls.insert(start.url);
    }
    CHECK(urls.size() == 60);
    CHECK(rig.ledger_entry("CHARACTER_SKILL").progress.requests == 60);
}

TEST_CASE("paged rows end at the first empty page of each list value: later pages are not asked") {
    ConfiguredRig rig;
    rig.config.api.concurrency = 1; // one request at a time: an empty page is seen before the next is asked
    const PhaseOutcome outcome = rig.run("GUILD_RANKING");
    CHECK_MESSAGE(outcome.error.empty(), outcome.error);
    // Type 0: 3 rows (page 1), then empty page 2; type 1: 2 rows on each of 4 pages; type 2: empty page 1.
    const Manifest m = check_finished(rig, outcome, "GUILD_RANKING", RunState::Completed, 3 + 8);
    CHECK(m.upstream_phase.empty());
    CHECK(rig.transport.unscripted() == 0);
    CHECK(rig.transport.start_count() == 2 + 4 + 1);
    CHECK(rig.transport.start_times(guild_ranking_url(0, 1)).size() == 1);
    CHECK(rig.transport.start_times(guild_ranking_url(0, 2)).size() == 1);
    CHECK(rig.transport.start_times(guild_ranking_url(0, 3)).empty());
    CHECK(rig.transport.start_times(guild_ranking_url(0, 4)).empty());
    for (int page = 1; page <= 4; ++page) {
        CHECK(rig.transport.start_times(guild_ranking_url(1, page)).size() == 1);
    }
    CHECK(rig.transport.start_times(guild_ranking_url(2, 1)).size() == 1);
    CHECK(rig.transport.start_times(guild_ranking_url(2, 2)).empty());
    // The pages not asked are done all the same: the run is complete, nothing rejected.
    const LedgerEntry entry = rig.ledger_entry("GUILD_RANKING");
    CHECK(entry.progress.items_total == 12);
    CHECK(entry.progress.items_done == 12);
    CHECK(entry.progress.rejected == 0);
    // Rows are written as the API returned them, without item fields.
    Strings expected;
    for (int i = 1; i <= 3; ++i) {
        expected.push_back(guild_row(0, 1, i));
    }
    for (int page = 1; page <= 4; ++page) {
        for (int i = 1; i <= 2; ++i) {
            expected.push_back(guild_row(1, page, i));
        }
    }
    Strings lines = rig.lines(m);
    std::ranges::sort(lines);
    std::ranges::sort(expected);
    CHECK(lines == expected);
}

TEST_CASE("two-field items merge into their records; upstream records without a usable field are rejects") {
    ConfiguredRig rig;
    rig.config.api.max_reject_share = 0.5;
    pipeline::tests::SnapshotSpec spec;
    spec.phase = "GUILD_RANKING";
    spec.date = k_rig_date;
    spec.run_id = "20261122T230000Z-00000a";
    const std::string no_world = R"({"ranking":4,"guild_name":"Other"})";
    const std::string null_guild = R"({"ranking":5,"guild_name":null,"world_name":"베라"})";
    spec.chunks = {{R"({"ranking":1,"guild_name":"길드","world_name":"스카니아"})",
                    R"({"ranking":2,"guild_name":"길드","world_name":"베라"})",
                    R"({"ranking":3,"guild_name":"길드","world_name":"스카니아"})", no_world, null_guild,
                    R"({"ranking":6,"guild_name":"Other","world_name":"베라"})"}};
    pipeline::tests::publish_snapshot(rig.sink, spec);

    const PhaseOutcome outcome = rig.run("GUILD_ID");
    CHECK_MESSAGE(outcome.error.empty(), outcome.error);
    const Manifest m = check_finished(rig, outcome, "GUILD_ID", RunState::Completed, 3);
    CHECK(m.upstream_run_id == spec.run_id);
    CHECK(m.rejected == 2);
    CHECK(rig.transport.start_count() == 3); // the repeat of (길드, 스카니아) is one item
    CHECK(rig.transport.unscripted() == 0);
    const LedgerEntry entry = rig.ledger_entry("GUILD_ID");
    CHECK(entry.progress.items_total == 5);
    CHECK(entry.progress.items_done == 5);
    CHECK(entry.progress.rejected == 2);
    // Merged: the item's two fields in query order, then the answer's.
    Strings lines = rig.lines(m);
    std::ranges::sort(lines); // written as answers arrive
    CHECK(lines ==
          Strings{
              R"({"guild_name":"Other","world_name":"베라","oguild_id":")" + ocid_for("Other베라") + R"("})",
              R"({"guild_name":"길드","world_name":"베라","oguild_id":")" + ocid_for("길드베라") + R"("})",
              R"({"guild_name":"길드","world_name":"스카니아","oguild_id":")" + ocid_for("길드스카니아") +
                  R"("})"});

    // The unusable records: status "unusable" and NO_<FIELD> in _rejects.jsonl, status 0 in the checkpoint.
    const std::vector<nlohmann::json> rejects = rig.rejects("GUILD_ID", outcome.run_id);
    REQUIRE(rejects.size() == 2);
    CHECK(rejects[0].at("item") == no_world);
    CHECK(rejects[0].at("status") == "unusable");
    CHECK(rejects[0].at("error") == "NO_WORLD_NAME");
    CHECK(rejects[0].at("message").get<std::string>().find("GUILD_RANKING") != std::string::npos);
    CHECK(rejects[1].at("item") == null_guild);
    CHECK(rejects[1].at("status") == "unusable");
    CHECK(rejects[1].at("error") == "NO_GUILD_NAME");
    const auto checkpoint = pipeline::core::load_checkpoint(
        pipeline::core::checkpoint_path(rig.run_dir, k_rig_date, "GUILD_ID", outcome.run_id));
    REQUIRE(checkpoint.rejects.size() == 2);
    CHECK(checkpoint.rejects[0].status == 0);
    CHECK(checkpoint.rejects[0].error == "NO_WORLD_NAME");
    CHECK(checkpoint.rejects[1].status == 0);
    CHECK(checkpoint.rejects[1].key == null_guild);
}

TEST_CASE("a refused two-field item is described in _rejects.jsonl as a JSON object of its fields") {
    ConfiguredRig rig;
    rig.config.api.max_reject_share = 0.5;
    pipeline::tests::SnapshotSpec spec;
    spec.phase = "GUILD_RANKING";
    spec.date = k_rig_date;
    spec.chunks = {{R"({"guild_name":"길드","world_name":"스카니아"})",
                    R"({"guild_name":"Other","world_name":"베라"})"}};
    pipeline::tests::publish_snapshot(rig.sink, spec);
    rig.transport.add(guild_id_url("Other", "베라"), {pipeline::tests::api_error(400, "OPENAPI00004")});
    const PhaseOutcome outcome = rig.run("GUILD_ID");
    check_finished(rig, outcome, "GUILD_ID", RunState::Completed, 1);
    const std::vector<nlohmann::json> rejects = rig.rejects("GUILD_ID", outcome.run_id);
    REQUIRE(rejects.size() == 1);
    CHECK(rejects[0].at("item") == R"({"guild_name":"Other","world_name":"베라"})");
    CHECK(rejects[0].at("status") == 400);
    CHECK(rejects[0].at("error") == "OPENAPI00004");
}
