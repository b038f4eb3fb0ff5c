// run_phase end to end for the built-in four: FakeTransport + MemorySink + a real StopWatcher and RunDir in a
// temp folder (phase_rig.hpp). Phases only the config defines: test_configured_phases.cpp.

#include <doctest/doctest.h>

#include <future>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/run/phase_runner.hpp"
#include "core/state/checkpoint.hpp"
#include "core/util/atomic_file.hpp"
#include "phase_rig.hpp"

using namespace std::chrono_literals;
using pipeline::core::LedgerEntry;
using pipeline::core::Manifest;
using pipeline::core::PhaseOutcome;
using pipeline::core::RunState;
using pipeline::core::StopFlag;
using pipeline::tests::api_error;
using pipeline::tests::basic_body;
using pipeline::tests::character_name;
using pipeline::tests::check_finished;
using pipeline::tests::FakeTransport;
using pipeline::tests::id_url;
using pipeline::tests::ocid_for;
using pipeline::tests::ok_answer;
using pipeline::tests::Rig;

namespace {

const std::string& k_date = pipeline::tests::k_rig_date;

} // namespace

TEST_CASE("RANKING_FETCH, OCID_LOOKUP and CHARACTER_BASIC run in turn with exact record counts") {
    Rig rig;
    const PhaseOutcome ranking = rig.run("RANKING_FETCH");
    CHECK(ranking.error.empty());
    const Manifest ranking_manifest = check_finished(rig, ranking, "RANKING_FETCH", RunState::Completed, 30);
    CHECK(ranking_manifest.chunks.size() == 3); // a page (10 records) fills a chunk of 7 at once
    CHECK(ranking_manifest.chunks[0].name == "part-00001.jsonl.gz");
    CHECK(ranking_manifest.upstream_phase.empty());
    std::set<int> ranks;
    for (const nlohmann::json& record : rig.records(ranking_manifest)) {
        ranks.insert(record.at("ranking").get<int>());
    }
    CHECK(ranks.size() == 30);
    CHECK(*ranks.begin() == 1);
    CHECK(*ranks.rbegin() == 30);
    CHECK(rig.ledger_entry("RANKING_FETCH").progress.items_done == 3);
    // Progress reports name the run, never go backwards, and end with the final state.
    REQUIRE_FALSE(rig.progress_reports.empty());
    std::uint64_t last_records = 0;
    for (const LedgerEntry& report : rig.progress_reports) {
        CHECK(report.run_id == ranking.run_id);
        CHECK(report.progress.records >= last_records);
        last_records = report.progress.records;
    }
    CHECK(rig.progress_reports.back().state == RunState::Completed);
    CHECK(rig.progress_reports.back().progress.records == 30);

    // 30 entries name 28 distinct characters: page 2 and 3 each repeat the previous page's last name.
    const PhaseOutcome ocid = rig.run("OCID_LOOKUP");
    const Manifest ocid_manifest = check_finished(rig, ocid, "OCID_LOOKUP", RunState::Completed, 28);
    CHECK(ocid_manifest.chunks.size() == 4); // 7 + 7 + 7 + 7
    CHECK(ocid_manifest.upstream_phase == "RANKING_FETCH");
    CHECK(ocid_manifest.upstream_run_id == ranking.run_id);
    std::set<std::string> names;
    for (const nlohmann::json& record : rig.records(ocid_manifest)) {
        const std::string name = record.at("character_name");
        CHECK(record.at("ocid") == ocid_for(name));
        CHECK(record.size() == 2);
        names.insert(name);
    }
    CHECK(names.size() == 28);
    CHECK(rig.ledger_entry("OCID_LOOKUP").progress.items_total == 28);

    const PhaseOutcome basic = rig.run("CHARACTER_BASIC");
    const Manifest basic_manifest = check_finished(rig, basic, "CHARACTER_BASIC", RunState::Completed, 28);
    CHECK(basic_manifest.upstream_run_id == ocid.run_id);
    std::set<std::string> ocids;
    for (const nlohmann::json& record : rig.records(basic_manifest)) {
        CHECK(record.at("date") == k_date);
        const std::string name = record.at("data").at("character_name");
        CHECK(record.at("ocid") == ocid_for(name));
        CHECK(record.at("data") == nlohmann::json::parse(basic_body(name)));
        ocids.insert(record.at("ocid"));
    }
    CHECK(ocids.size() == 28);
    CHECK(rig.transport.unscripted() == 0);
    CHECK(rig.transport.start_count() == 3 + 28 + 28);
    // A phase that never ran has no ledger entry; asked for, it is IDLE.
    CHECK(rig.ledger_entry("ITEM_EQUIPMENT").state == RunState::Idle);
    std::vector<std::string> in_ledger;
    for (const LedgerEntry& entry : pipeline::core::Ledger(rig.run_dir).read()) {
        in_ledger.push_back(entry.phase);
    }
    CHECK(in_ledger == std::vector<std::string>{"RANKING_FETCH", "OCID_LOOKUP", "CHARACTER_BASIC"});
}

TEST_CASE("a phase without a COMPLETED upstream snapshot fails naming the phase and date") {
    Rig rig;
    const PhaseOutcome outcome = rig.run("CHARACTER_BASIC");
    CHECK(outcome.state == RunState::Failed);
    CHECK(outcome.error.find("OCID_LOOKUP") != std::string::npos);
    CHECK(outcome.error.find(k_date) != std::string::npos);
    CHECK(rig.ledger_entry("CHARACTER_BASIC").state == RunState::Failed);
    CHECK(rig.transport.start_count() == 0);
}

TEST_CASE("resuming when nothing can be resumed is a usage error") {
    Rig rig;
    try {
        rig.run("RANKING_FETCH", true);
        FAIL("no error");
    } catch (const pipeline::core::Error& e) {
        CHECK(e.code() == pipeline::core::ExitCode::Usage);
    }
}

TEST_CASE("an item the API refuses lands in _rejects.jsonl and the run still completes") {
    Rig rig;
    rig.publish_ranking(40);
    rig.transport.add(id_url(character_name(17)), {api_error(400, "OPENAPI00004")});
    const PhaseOutcome outcome = rig.run("OCID_LOOKUP");
    const Manifest m = check_finished(rig, outcome, "OCID_LOOKUP", RunState::Completed, 39);
    CHECK(m.rejected == 1);
    CHECK(rig.ledger_entry("OCID_LOOKUP").progress.rejected == 1);
    const std::optional<std::string> rejects = rig.sink.get(pipeline::core::run_prefix(k_date, "OCID_LOOKUP",
                                                                                       outcome.run_id) +
                                                            "_rejects.jsonl");
    REQUIRE(rejects.has_value());
    CHECK(std::count(rejects->begin(), rejects->end(), '\n') == 1);
    const nlohmann::json line = nlohmann::json::parse(rejects->substr(0, rejects->find('\n')));
    CHECK(line.at("item") == character_name(17));
    CHECK(line.at("status") == 400);
    CHECK(line.at("error") == "OPENAPI00004");
    for (const nlohmann::json& record : rig.records(m)) {
        CHECK(record.at("character_name") != character_name(17));
    }
}

TEST_CASE("ranking records without a usable character name are rejects of OCID_LOOKUP, not its failure") {
    Rig rig;
    const std::string missing = R"({"ranking":21})";
    const std::string empty = R"({"ranking":22,"character_name":""})";
    rig.publish_ranking(20, {missing, empty});
    rig.config.api.max_reject_share = 0.2;
    const PhaseOutcome outcome = rig.run("OCID_LOOKUP");
    CHECK(outcome.error.empty());
    const Manifest m = check_finished(rig, outcome, "OCID_LOOKUP", RunState::Completed, 20);
    CHECK(m.rejected == 2);
    CHECK(rig.transport.start_count() == 20); // nothing asked for them
    const LedgerEntry entry = rig.ledger_entry("OCID_LOOKUP");
    CHECK(entry.progress.items_total == 22);
    CHECK(entry.progress.items_done == 22);
    CHECK(entry.progress.rejected == 2);
    const std::vector<nlohmann::json> rejects = rig.rejects("OCID_LOOKUP", outcome.run_id);
    REQUIRE(rejects.size() == 2);
    CHECK(rejects[0].at("item") == missing);
    CHECK(rejects[1].at("item") == empty);
    for (const nlohmann::json& line : rejects) {
        CHECK(line.at("status") == "unusable");
        CHECK(line.at("error") == "NO_CHARACTER_NAME");
        CHECK(line.at("message").get<std::string>().find("RANKING_FETCH") != std::string::npos);
    }
    const auto checkpoint = pipeline::core::load_checkpoint(
        pipeline::core::checkpoint_path(rig.run_dir, k_date, "OCID_LOOKUP", outcome.run_id));
    REQUIRE(checkpoint.rejects.size() == 2);
    CHECK(checkpoint.rejects[0].status == 0);
    CHECK(checkpoint.rejects[0].key == missing);

    // They count against max_reject_share like refusals of the API: 2 of 22 is more than 5%.
    rig.config.api.max_reject_share = 0.05;
    const PhaseOutcome strict = rig.run("OCID_LOOKUP");
    check_finished(rig, strict, "OCID_LOOKUP", RunState::Failed, 20);
    CHECK(strict.error.find("2 of 22") != std::string::npos);
}

TEST_CASE("more refused items than max_reject_share allows fail the run") {
    Rig rig;
    rig.publish_ranking(20);
    rig.config.api.max_reject_share = 0.1;
    for (int rank : {3, 9, 15}) {
        rig.transport.add(id_url(character_name(rank)), {api_error(400, "OPENAPI00003")});
    }
    const PhaseOutcome outcome = rig.run("OCID_LOOKUP");
    const Manifest m = check_finished(rig, outcome, "OCID_LOOKUP", RunState::Failed, 17);
    CHECK(outcome.error.find("max_reject_share") != std::string::npos);
    CHECK(rig.ledger_entry("OCID_LOOKUP").error.value_or("").find("3 of 20") != std::string::npos);
    CHECK(m.rejected == 3);
}

TEST_CASE("a sink that cannot write fails the run with its message and keeps earlier chunks listed") {
    Rig rig;
    rig.config.phases.front().pages = 5;
    rig.config.api.concurrency = 1;
    rig.sink.fail_puts_containing("part-00003", "No space left on device");
    const PhaseOutcome outcome = rig.run("RANKING_FETCH");
    CHECK(outcome.state == RunState::Failed);
    CHECK(outcome.error.find("No space left on device") != std::string::npos);
    const LedgerEntry entry = rig.ledger_entry("RANKING_FETCH");
    CHECK(entry.state == RunState::Failed);
    CHECK(entry.error.value_or("").find("No space left on device") != std::string::npos);
    const Manifest m = rig.manifest("RANKING_FETCH", outcome.run_id);
    CHECK(m.state == RunState::Failed);
    REQUIRE(m.chunks.size() == 2);
    CHECK(m.chunks[0].name == "part-00001.jsonl.gz");
    CHECK(m.chunks[1].name == "part-00002.jsonl.gz");
    CHECK(m.records == 20);
    CHECK(rig.records(m).size() == 20);

    // Once the disk is fixed, --resume finishes the same run with every entry exactly once.
    rig.sink.fail_puts_containing("");
    const PhaseOutcome resumed = rig.run("RANKING_FETCH", true);
    CHECK(resumed.run_id == outcome.run_id);
    const Manifest done = check_finished(rig, resumed, "RANKING_FETCH", RunState::Completed, 50);
    std::multiset<int> ranks;
    for (const nlohmann::json& record : rig.records(done)) {
        ranks.insert(record.at("ranking").get<int>());
    }
    CHECK(ranks.size() == 50);
    CHECK(std::set<int>(ranks.begin(), ranks.end()).size() == 50);
}

// A put that fails once (a transient error): the driver's last-chance commit after the failure
// (phase_runner.cpp, run_phase) must not publish a chunk that does not hold what the manifest says.
TEST_CASE("after a put fails once, every chunk the FAILED manifest lists is complete") {
    Rig rig;
    rig.config.phases.front().pages = 5;
    rig.config.api.concurrency = 1;
    rig.sink.fail_put(3, "Input/output error");
    const PhaseOutcome outcome = rig.run("RANKING_FETCH");
    CHECK(outcome.state == RunState::Failed);
    CHECK(outcome.error.find("Input/output error") != std::string::npos);
    const Manifest m = rig.manifest("RANKING_FETCH", outcome.run_id);
    REQUIRE(m.chunks.size() >= 2);
    CHECK(m.chunks[0].name == "part-00001.jsonl.gz");
    CHECK(m.chunks[1].name == "part-00002.jsonl.gz");
    std::vector<nlohmann::json> records;
    CHECK_NOTHROW(records = rig.records(m));
    CHECK(records.size() == m.records);
}

TEST_CASE("a stop mid-run ends STOPPED with every delivered record committed, and resume completes it") {
    Rig rig;
    rig.publish_ranking(60);
    rig.config.api.concurrency = 2;
    rig.config.chunk_records = 5;
    StopFlag stop;
    rig.transport.on_start([&stop](std::size_t starts, const std::string&) {
        if (starts == 23) {
            stop.request();
        }
    });
    const PhaseOutcome stopped = rig.run("OCID_LOOKUP", stop);
    rig.transport.on_start({});
    // Requests already out finish and are kept; nothing starts after the stop.
    CHECK(rig.transport.start_count() == 23);
    const Manifest partial = check_finished(rig, stopped, "OCID_LOOKUP", RunState::Stopped, 23);
    CHECK(rig.records(partial).size() == 23);
    CHECK(partial.chunks.size() == 5); // 5 + 5 + 5 + 5 + 3: the final chunk holds the rest

    StopFlag fresh;
    const PhaseOutcome resumed = rig.run("OCID_LOOKUP", fresh, true);
    CHECK(resumed.run_id == stopped.run_id);
    const Manifest complete = check_finished(rig, resumed, "OCID_LOOKUP", RunState::Completed, 60);
    CHECK(complete.chunks.size() == 13); // numbering continued after the 5 committed chunks
    CHECK(complete.chunks[5].name == "part-00006.jsonl.gz");
    std::map<std::string, int> seen;
    for (const nlohmann::json& record : rig.records(complete)) {
        ++seen[record.at("character_name")];
    }
    CHECK(seen.size() == 60);
    for (const auto& [name, count] : seen) {
        CAPTURE(name);
        CHECK(count == 1);
    }
    // Nothing fetched before the stop was fetched again, and the request count carries over.
    CHECK(rig.transport.start_count() == 60);
    CHECK(rig.ledger_entry("OCID_LOOKUP").progress.requests == 60);
    std::set<std::string> urls;
    for (const FakeTransport::Start& start : rig.transport.starts()) {
        urls.insert(start.url);
    }
    CHECK(urls.size() == 60);
}

TEST_CASE("a stop sentinel naming the running run stops it; one naming an earlier run does not") {
    Rig rig;
    rig.publish_ranking(40);
    // Left by `pipeline stop` against a run that has ended: never applies to a new run.
    pipeline::core::write_file_atomically(rig.run_dir.stop_sentinel("OCID_LOOKUP"), "20200101T000000Z-000000\n");
    const PhaseOutcome unaffected = rig.run("OCID_LOOKUP");
    check_finished(rig, unaffected, "OCID_LOOKUP", RunState::Completed, 40);

    // Now `pipeline stop` names the live run after 10 requests; answers from then on stay in flight until the
    // stop has reached the fetcher (it wakes the transport), so the run cannot finish first.
    rig.config.api.concurrency = 2;
    const std::size_t before = rig.transport.start_count();
    rig.transport.on_start([&](std::size_t starts, const std::string&) {
        if (starts == before + 10) {
            rig.transport.hold_all(true);
            const std::string run_id = rig.ledger_entry("OCID_LOOKUP").run_id;
            pipeline::core::write_file_atomically(rig.run_dir.stop_sentinel("OCID_LOOKUP"), run_id + "\n");
        }
    });
    StopFlag stop;
    std::future<PhaseOutcome> running = std::async(std::launch::async, [&] { return rig.run("OCID_LOOKUP", stop); });
    REQUIRE(rig.transport.wait_for_wakes(1, 5s));
    rig.transport.release();
    REQUIRE(running.wait_for(10s) == std::future_status::ready);
    const PhaseOutcome stopped = running.get();
    rig.transport.hold_all(false);
    rig.transport.on_start({});
    CHECK(stopped.run_id != unaffected.run_id);
    const std::size_t started = rig.transport.start_count() - before;
    CHECK(started < 40);
    check_finished(rig, stopped, "OCID_LOOKUP", RunState::Stopped, started);
    // The run is over, so its sentinel is gone.
    CHECK_FALSE(std::filesystem::exists(rig.run_dir.stop_sentinel("OCID_LOOKUP")));
}

// records.hpp: make_records "returns false when the answer does not have the shape the API promises
// (the caller retries it like a bad body)".
TEST_CASE("an answer without the promised shape is retried like a bad body, not a failure of the run") {
    Rig rig;
    rig.publish_ranking(20);
    rig.transport.add(id_url(character_name(5)),
                      {ok_answer(R"({"id":"not an ocid"})"), ok_answer(R"({"ocid":")" + ocid_for(character_name(5)) + R"("})")});
    const PhaseOutcome outcome = rig.run("OCID_LOOKUP");
    CHECK(outcome.error == "");
    check_finished(rig, outcome, "OCID_LOOKUP", RunState::Completed, 20);
    CHECK(rig.transport.start_times(id_url(character_name(5))).size() == 2);
}

TEST_CASE("a ledger that can no longer be written fails the run cleanly, and the watcher lets go of its flag") {
    Rig rig;
    rig.publish_ranking(40);
    // Once the run is under way, the ledger's lock file is replaced by a folder: every later ledger write
    // fails, as on a full or read-only disk.
    rig.transport.on_start([&](std::size_t starts, const std::string&) {
        if (starts != 5) {
            return;
        }
        const std::filesystem::path lock = rig.run_dir.ledger_lock();
        std::error_code ec;
        while (!std::filesystem::is_directory(lock)) { // a writer may recreate the file in between
            std::filesystem::remove(lock, ec);
            std::filesystem::create_directory(lock, ec);
        }
    });
    StopFlag stop;
    const PhaseOutcome outcome = rig.run("OCID_LOOKUP", stop);
    rig.transport.on_start({});
    CHECK(outcome.state == RunState::Failed);
    CHECK(outcome.error.find("could not record the end of the run") != std::string::npos);
    CHECK(outcome.error.find("ledger.lock") != std::string::npos);
    // The checkpoint, written apart from the ledger, still says how the run ended.
    CHECK(pipeline::core::load_checkpoint(
              pipeline::core::checkpoint_path(rig.run_dir, k_date, "OCID_LOOKUP", outcome.run_id))
              .state == RunState::Failed);
    // The run's binding to its stop flag is gone with the run, although its last ledger write threw.
    CHECK_FALSE(rig.watcher->watching("OCID_LOOKUP"));
}
