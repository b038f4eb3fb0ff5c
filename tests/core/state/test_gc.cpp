// collect_garbage against an in-memory sink and a temporary run directory.
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

#include "core/state/checkpoint.hpp"
#include "core/state/gc.hpp"
#include "core/state/ledger.hpp"
#include "core/util/process.hpp"
#include "core/util/time_util.hpp"
#include "fakes/memory_sink.hpp"
#include "fakes/temp_dir.hpp"

using namespace pipeline;

namespace {

// 2026-12-01T03:00:00Z is 12:00 on 2026-12-01 in Seoul.
const core::SystemTime k_now = *core::parse_utc("2026-12-01T03:00:00Z");

struct Gc {
    std::vector<std::string> lines;
    std::vector<std::string> problems;
    core::GcSummary run(core::Sink& sink, const core::RunDir& run_dir, int keep_days, bool dry_run = false) {
        core::GcOptions options;
        options.keep_days = keep_days;
        options.dry_run = dry_run;
        options.now = k_now;
        options.report = [this](const std::string& line) { lines.push_back(line); };
        options.problem = [this](const std::string& line) { problems.push_back(line); };
        return core::collect_garbage(sink, run_dir, options);
    }
};

void touch(const std::filesystem::path& path) {
    std::ofstream(path) << "{}";
}

} // namespace

TEST_CASE("gc_cutoff counts days back from today in Seoul") {
    CHECK(core::format_date(core::gc_cutoff(k_now, 0)) == "2026-12-01");
    CHECK(core::format_date(core::gc_cutoff(k_now, 5)) == "2026-11-26");
    // 16:00 UTC is already the next day in Seoul.
    CHECK(core::format_date(core::gc_cutoff(*core::parse_utc("2026-11-30T16:00:00Z"), 1)) == "2026-11-30");
}

TEST_CASE("gc removes old run folders and checkpoints, keeps recent ones and a RUNNING run, then nothing more") {
    tests::TempDir dir;
    const core::RunDir run_dir(dir / "run");
    run_dir.create();
    tests::MemorySink sink;
    for (const std::string date : {"2026-11-20", "2026-11-25", "2026-11-26"}) {
        sink.put(date + "/RANKING_FETCH/20261123T000000Z-0000a1/part-00001.jsonl.gz", "x");
        sink.put(date + "/RANKING_FETCH/20261123T000000Z-0000a1/_manifest.json", "{}");
        touch(run_dir.checkpoints() / (date + ".RANKING_FETCH.20261123T000000Z-0000a1.json"));
    }
    sink.put("2026-11-20/OCID_LOOKUP/20261120T000000Z-00000e/part-00001.jsonl.gz", "x");
    touch(run_dir.checkpoints() / "2026-11-20.OCID_LOOKUP.20261120T000000Z-00000e.json");
    sink.put("not-a-date/file", "x");
    core::Ledger(run_dir).update("OCID_LOOKUP", [](core::LedgerEntry& e) {
        e.state = core::RunState::Running;
        e.run_id = "20261120T000000Z-00000e";
        e.date = "2026-11-20";
        e.pid = ::getpid();
        e.pid_start_ticks = core::process_start_ticks(::getpid()).value_or(0);
        return true;
    });

    Gc dry;
    const core::GcSummary would = dry.run(sink, run_dir, 5, true);
    CHECK(would.removed == 4);
    CHECK(would.kept_running == 1);
    CHECK(sink.list("").size() == 8);

    Gc gc;
    const core::GcSummary done = gc.run(sink, run_dir, 5);
    CHECK(done.removed == 4);
    CHECK(done.failed == 0);
    CHECK(gc.lines == std::vector<std::string>{
                          "REMOVED memory://sink/2026-11-20/RANKING_FETCH/20261123T000000Z-0000a1/ (2 files)",
                          "REMOVED memory://sink/2026-11-25/RANKING_FETCH/20261123T000000Z-0000a1/ (2 files)",
                          "REMOVED " + (run_dir.checkpoints() / "2026-11-20.RANKING_FETCH.20261123T000000Z-0000a1.json").string(),
                          "REMOVED " + (run_dir.checkpoints() / "2026-11-25.RANKING_FETCH.20261123T000000Z-0000a1.json").string()});
    for (std::string& line : dry.lines) {
        line.replace(0, std::string("WOULD_REMOVE").size(), "REMOVED");
    }
    CHECK(dry.lines == gc.lines);
    CHECK(sink.list("") == std::vector<std::string>{"2026-11-20/OCID_LOOKUP/20261120T000000Z-00000e/part-00001.jsonl.gz",
                                                    "2026-11-26/RANKING_FETCH/20261123T000000Z-0000a1/_manifest.json",
                                                    "2026-11-26/RANKING_FETCH/20261123T000000Z-0000a1/part-00001.jsonl.gz",
                                                    "not-a-date/file"});
    CHECK(std::filesystem::exists(run_dir.checkpoints() / "2026-11-20.OCID_LOOKUP.20261120T000000Z-00000e.json"));

    Gc again;
    CHECK(again.run(sink, run_dir, 5).removed == 0);
    CHECK(again.lines.empty());
}
