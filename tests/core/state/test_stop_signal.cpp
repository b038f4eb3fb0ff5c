// Phases named by string in the run directory: sentinel and slot file names, the stop watcher binding a run
// of a phase only the config defines (with inotify and with polling), and slots of such phases.

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include <spdlog/spdlog.h>

#include "core/state/slot.hpp"
#include "core/state/stop_sentinel.hpp"
#include "core/state/stop_signal.hpp"
#include "core/util/atomic_file.hpp"
#include "core/util/error.hpp"
#include "fakes/temp_dir.hpp"

using namespace std::chrono_literals;
using pipeline::core::phase_of_stop_file;
using pipeline::core::RunDir;
using pipeline::core::StopFlag;
using pipeline::core::StopWatcher;
using pipeline::tests::TempDir;

namespace {

constexpr const char* k_run_id = "20261123T010000Z-abcdef";

// Quiets logging while it lives (the watcher logs each stop it applies).
struct QuietLog {
    QuietLog() : previous(spdlog::get_level()) { spdlog::set_level(spdlog::level::off); }
    ~QuietLog() { spdlog::set_level(previous); }
    QuietLog(const QuietLog&) = delete;
    QuietLog& operator=(const QuietLog&) = delete;
    spdlog::level::level_enum previous;
};

// Waits up to `timeout` for `flag` to be set.
bool wait_for(const StopFlag& flag, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (!flag.requested() && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(5ms);
    }
    return flag.requested();
}

} // namespace

TEST_CASE("sentinel and slot files are named after the phase, built in or configured") {
    const RunDir run_dir("/srv/run");
    CHECK(RunDir::stop_sentinel_name("ITEM_EQUIPMENT") == "ITEM_EQUIPMENT.stop");
    CHECK(run_dir.stop_sentinel("GUILD_BASIC") == "/srv/run/GUILD_BASIC.stop");
    CHECK(run_dir.slot_lock("CHARACTER_SKILL") == "/srv/run/CHARACTER_SKILL.lock");

    CHECK(phase_of_stop_file("ITEM_EQUIPMENT.stop") == "ITEM_EQUIPMENT");
    CHECK(phase_of_stop_file("CHARACTER_SKILL.stop") == "CHARACTER_SKILL");
    CHECK(phase_of_stop_file("A.stop") == "A");
    for (const std::string other : {"ledger.json", "ITEM_EQUIPMENT.lock", "item_equipment.stop", ".stop",
                                    "ITEM_EQUIPMENT.stop.tmp", "../X.stop", "1X.stop", "X Y.stop"}) {
        CAPTURE(other);
        CHECK_FALSE(phase_of_stop_file(other).has_value());
    }
}

TEST_CASE("the stop watcher stops a configured phase's run named by its sentinel, and only that run") {
    const QuietLog quiet;
    for (const bool polling : {false, true}) {
        CAPTURE(polling);
        if (polling) {
            ::setenv("PIPELINE_STOP_POLL", "1", 1);
        }
        const TempDir dir;
        const RunDir run_dir(dir / "run");
        run_dir.create();
        {
            StopWatcher watcher(run_dir);
            StopFlag skill;
            StopFlag stat;
            const StopWatcher::Watch skill_watch = watcher.watch("CHARACTER_SKILL", k_run_id, skill);
            const StopWatcher::Watch stat_watch = watcher.watch("CHARACTER_STAT", k_run_id, stat);
            CHECK(watcher.watching("CHARACTER_SKILL"));
            CHECK(watcher.watching("CHARACTER_STAT"));
            CHECK_FALSE(watcher.watching("CHARACTER_BASIC"));

            // A sentinel naming an earlier run of the phase is ignored.
            pipeline::core::write_file_atomically(run_dir.stop_sentinel("CHARACTER_SKILL"),
                                                  "20261122T010000Z-000001\n");
            CHECK_FALSE(wait_for(skill, 300ms));
            // The one naming this run stops it; its sibling of the same run id goes on.
            pipeline::core::write_file_atomically(run_dir.stop_sentinel("CHARACTER_SKILL"),
                                                  std::string(k_run_id) + "\n");
            CHECK(wait_for(skill, 5s));
            CHECK_FALSE(stat.requested());
        }
        if (polling) {
            ::unsetenv("PIPELINE_STOP_POLL");
        }
    }
}

TEST_CASE("a sentinel already present when the run is bound stops it at once; unbinding lets go") {
    const QuietLog quiet;
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    pipeline::core::write_file_atomically(run_dir.stop_sentinel("GUILD_BASIC"), std::string(k_run_id) + "\n");
    StopWatcher watcher(run_dir);
    StopFlag flag;
    {
        const StopWatcher::Watch watch = watcher.watch("GUILD_BASIC", k_run_id, flag);
        CHECK(flag.requested());
    }
    CHECK_FALSE(watcher.watching("GUILD_BASIC"));
}

TEST_CASE("one live run per configured phase: its slot is busy, a sibling's is free") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    const pipeline::core::FileLock held = pipeline::core::take_slot(run_dir, "CHARACTER_SKILL");
    try {
        const pipeline::core::FileLock again = pipeline::core::take_slot(run_dir, "CHARACTER_SKILL");
        FAIL("the slot was taken twice");
    } catch (const pipeline::core::Error& e) {
        CHECK(e.code() == pipeline::core::ExitCode::SlotBusy);
        CHECK(std::string(e.what()).find("CHARACTER_SKILL is already running") != std::string::npos);
    }
    CHECK_NOTHROW(pipeline::core::take_slot(run_dir, "CHARACTER_STAT"));
}
