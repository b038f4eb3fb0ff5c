// A run's ledger entry (RunRecord) and the stop protocol's sentinel: a stop names one run, a new run clears a
// stale stop, the end of a run clears its own stop and no other, and a run that lost its entry writes nothing.

#include <doctest/doctest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "core/state/ledger.hpp"
#include "core/state/run_record.hpp"
#include "core/state/stop_sentinel.hpp"
#include "core/util/atomic_file.hpp"
#include "core/util/process.hpp"
#include "fakes/temp_dir.hpp"

using namespace std::chrono_literals;
using pipeline::core::Ledger;
using pipeline::core::Progress;
using pipeline::core::RunDir;
using pipeline::core::RunRecord;
using pipeline::core::RunStart;
using pipeline::core::RunState;
using pipeline::tests::TempDir;

namespace {

RunStart start_of(const std::string& run_id) {
    RunStart start;
    start.run_id = run_id;
    start.date = "2026-11-22";
    start.started_at = "2026-11-23T01:00:00Z";
    start.pid = pipeline::core::self_pid();
    start.pid_start_ticks = pipeline::core::self_start_ticks();
    start.sink = "local:/data";
    return start;
}

RunDir make_run_dir(const TempDir& dir) {
    RunDir run_dir(dir / "run");
    run_dir.create();
    return run_dir;
}

} // namespace

TEST_CASE("a stop names the live run, and nothing when no run is live") {
    TempDir dir;
    const RunDir run_dir = make_run_dir(dir);
    CHECK(!pipeline::core::request_stop(run_dir, "ITEM_EQUIPMENT")); // no ledger yet
    RunRecord record(run_dir, "ITEM_EQUIPMENT");
    record.start(start_of("20261123T010000Z-aaaaaa"));
    CHECK(pipeline::core::request_stop(run_dir, "ITEM_EQUIPMENT") == "20261123T010000Z-aaaaaa");
    CHECK(pipeline::core::read_stop_request(run_dir, "ITEM_EQUIPMENT") == "20261123T010000Z-aaaaaa");
    CHECK(pipeline::core::entry_of(Ledger(run_dir).read(), "ITEM_EQUIPMENT").stop_requested);
    CHECK(!pipeline::core::request_stop(run_dir, "CHARACTER_BASIC")); // another phase is untouched
    CHECK(pipeline::core::read_stop_request(run_dir, "CHARACTER_BASIC").empty());
}

TEST_CASE("the end of a run records its state and clears the stop that named it") {
    TempDir dir;
    const RunDir run_dir = make_run_dir(dir);
    RunRecord record(run_dir, "OCID_LOOKUP");
    record.start(start_of("20261123T010000Z-aaaaaa"));
    Progress p;
    p.items_done = 7;
    p.items_total = 10;
    record.progress(p, "20261123T000000Z-bbbbbb");
    CHECK(pipeline::core::entry_of(Ledger(run_dir).read(), "OCID_LOOKUP").progress.items_done == 7);
    CHECK(pipeline::core::entry_of(Ledger(run_dir).read(), "OCID_LOOKUP").upstream_run_id == "20261123T000000Z-bbbbbb");
    REQUIRE(pipeline::core::request_stop(run_dir, "OCID_LOOKUP"));
    p.items_done = 8;
    record.finish(RunState::Stopped, p, std::nullopt);
    const auto entry = pipeline::core::entry_of(Ledger(run_dir).read(), "OCID_LOOKUP");
    CHECK(entry.state == RunState::Stopped);
    CHECK(entry.progress.items_done == 8);
    CHECK(!entry.finished_at.empty());
    CHECK(!std::filesystem::exists(run_dir.stop_sentinel("OCID_LOOKUP")));
}

TEST_CASE("a new run clears a stale stop left for an earlier run, so the stop cannot hit it") {
    TempDir dir;
    const RunDir run_dir = make_run_dir(dir);
    pipeline::core::write_file_atomically(run_dir.stop_sentinel("RANKING_FETCH"),
                                          "20261122T010000Z-0dd000\n");
    RunRecord record(run_dir, "RANKING_FETCH");
    record.start(start_of("20261123T010000Z-0ee000"));
    CHECK(pipeline::core::read_stop_request(run_dir, "RANKING_FETCH").empty());
}

TEST_CASE("a run that lost its entry to a newer run leaves the newer run's entry and stop alone") {
    TempDir dir;
    const RunDir run_dir = make_run_dir(dir);
    RunRecord old_run(run_dir, "ITEM_EQUIPMENT");
    old_run.start(start_of("20261123T010000Z-0dd000"));
    RunRecord new_run(run_dir, "ITEM_EQUIPMENT");
    new_run.start(start_of("20261123T020000Z-0ee000"));
    REQUIRE(pipeline::core::request_stop(run_dir, "ITEM_EQUIPMENT") == "20261123T020000Z-0ee000");
    old_run.finish(RunState::Failed, Progress{}, "late");
    const auto entry = pipeline::core::entry_of(Ledger(run_dir).read(), "ITEM_EQUIPMENT");
    CHECK(entry.run_id == "20261123T020000Z-0ee000");
    CHECK(entry.state == RunState::Running);
    CHECK(pipeline::core::read_stop_request(run_dir, "ITEM_EQUIPMENT") == "20261123T020000Z-0ee000");
}

TEST_CASE("a ledger write that fails is reported, and entry() still says how the run ended") {
    TempDir dir;
    const RunDir run_dir = make_run_dir(dir);
    RunRecord record(run_dir, "RANKING_FETCH");
    record.start(start_of("20261123T010000Z-aaaaaa"));
    // A folder where the ledger's temporary would go makes the replacement fail, as a full disk would.
    std::filesystem::remove(run_dir.ledger());
    std::filesystem::create_directory(run_dir.ledger());
    CHECK_THROWS(record.finish(RunState::Completed, Progress{}, std::nullopt));
    CHECK(record.entry().state == RunState::Completed);
}

TEST_CASE("wait_for_run_dir returns when the condition turns true after a file is replaced") {
    TempDir dir;
    const RunDir run_dir = make_run_dir(dir);
    std::thread writer([&] {
        std::this_thread::sleep_for(50ms); // the event under test: a replacement some time after the wait began
        pipeline::core::write_file_atomically(run_dir.root() / "flag", "x");
    });
    const auto started = std::chrono::steady_clock::now();
    const bool done = pipeline::core::wait_for_run_dir(run_dir, 10s, [&] {
        return std::filesystem::exists(run_dir.root() / "flag");
    });
    writer.join();
    CHECK(done);
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    CHECK(!pipeline::core::wait_for_run_dir(run_dir, 50ms, [] { return false; }));
}
