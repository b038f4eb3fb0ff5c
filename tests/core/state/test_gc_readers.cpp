// collect_garbage and what readers rely on (issue 21): a phase's _current.json goes first, only folders named as
// dates are looked into (never a plain object at the root named like a date), and a ledger with a planted run id
// is a failure (exit 1) that names the file and field, with nothing removed.
#include <doctest/doctest.h>

#include <fstream>
#include <string>
#include <vector>

#include "core/state/gc.hpp"
#include "core/util/error.hpp"
#include "core/util/time_util.hpp"
#include "fakes/memory_sink.hpp"
#include "fakes/temp_dir.hpp"

using namespace pipeline;

namespace {

// 2026-12-01T03:00:00Z is 12:00 on 2026-12-01 in Seoul.
const core::SystemTime k_now = *core::parse_utc("2026-12-01T03:00:00Z");

core::GcOptions options_with(std::vector<std::string>& lines, std::vector<std::string>& problems) {
    core::GcOptions options;
    options.keep_days = 5;
    options.now = k_now;
    options.report = [&lines](const std::string& line) { lines.push_back(line); };
    options.problem = [&problems](const std::string& line) { problems.push_back(line); };
    return options;
}

} // namespace

TEST_CASE("gc removes _current.json before the runs of its phase, and leaves non-folders at the root") {
    tests::TempDir dir;
    const core::RunDir run_dir(dir / "run");
    run_dir.create();
    tests::MemorySink sink;
    sink.put("2026-11-20/ITEM_EQUIPMENT/20261121T000000Z-0000a1/part-00001.jsonl.gz", "x");
    sink.put("2026-11-20/ITEM_EQUIPMENT/20261121T000000Z-0000a1/_manifest.json", "{}");
    sink.put("2026-11-20/ITEM_EQUIPMENT/_current.json", "{}");
    sink.put("2026-11-19", "a plain object named like a date");
    sink.put("lost+found/x", "not a date");
    std::vector<std::string> lines;
    std::vector<std::string> problems;
    const core::GcSummary summary = core::collect_garbage(sink, run_dir, options_with(lines, problems));
    CHECK(summary.failed == 0);
    CHECK(problems.empty());
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "REMOVED memory://sink/2026-11-20/ITEM_EQUIPMENT/_current.json");
    CHECK(lines[1] == "REMOVED memory://sink/2026-11-20/ITEM_EQUIPMENT/20261121T000000Z-0000a1/ (2 files)");
    CHECK(sink.list("") == std::vector<std::string>{"2026-11-19", "lost+found/x"});
}

TEST_CASE("gc refuses a ledger with a planted run id: exit 1, naming file and field, nothing removed") {
    tests::TempDir dir;
    const core::RunDir run_dir(dir / "run");
    run_dir.create();
    std::ofstream(run_dir.root() / "ledger.json")
        << R"({"phases": [{"phase": "RANKING_FETCH", "state": "RUNNING", "run_id": "../../elsewhere",
                            "date": "2026-11-20", "pid": 1}]})";
    tests::MemorySink sink;
    sink.put("2026-11-20/RANKING_FETCH/20261121T000000Z-0000a1/_manifest.json", "{}");
    std::vector<std::string> lines;
    std::vector<std::string> problems;
    try {
        core::collect_garbage(sink, run_dir, options_with(lines, problems));
        FAIL("no error");
    } catch (const core::Error& e) {
        CHECK(e.code() == core::ExitCode::Failed);
        CHECK(std::string(e.what()).find("ledger.json: field 'phases[0].run_id'") != std::string::npos);
    }
    CHECK(lines.empty());
    CHECK(sink.list("").size() == 1);
}
