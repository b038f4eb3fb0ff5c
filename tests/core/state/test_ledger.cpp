// The run ledger: defaults, round trips, dead workers shown as FAILED, and writers in separate processes.

#include <doctest/doctest.h>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/state/ledger.hpp"
#include "core/util/atomic_file.hpp"
#include "core/util/error.hpp"
#include "core/util/process.hpp"
#include "fakes/temp_dir.hpp"

using pipeline::core::effective_entry;
using pipeline::core::entry_of;
using pipeline::core::Ledger;
using pipeline::core::LedgerEntries;
using pipeline::core::LedgerEntry;
using pipeline::core::RunDir;
using pipeline::core::RunState;
using pipeline::tests::TempDir;

namespace {

// The built-in four and two phases only a config defines.
const std::vector<std::string> k_phases = {"RANKING_FETCH",  "OCID_LOOKUP",    "CHARACTER_BASIC",
                                           "ITEM_EQUIPMENT", "CHARACTER_SKILL", "GUILD_RANKING"};

std::vector<std::string> phases_of(const LedgerEntries& entries) {
    std::vector<std::string> names;
    for (const LedgerEntry& entry : entries) {
        names.push_back(entry.phase);
    }
    return names;
}

// The pid of a child that has exited and been reaped: a process that is certainly gone.
pid_t dead_pid() {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    return child;
}

// Waits for a child and returns its exit code (-1 when it did not exit normally).
int wait_exit_code(pid_t child) {
    int status = 0;
    if (::waitpid(child, &status, 0) != child) {
        return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

LedgerEntry running_entry(pid_t pid, std::uint64_t start_ticks) {
    LedgerEntry entry;
    entry.phase = "OCID_LOOKUP";
    entry.state = RunState::Running;
    entry.run_id = "20261123T010000Z-abcdef";
    entry.pid = pid;
    entry.pid_start_ticks = start_ticks;
    return entry;
}

} // namespace

TEST_CASE("reading a ledger that does not exist gives no entries; any phase's entry is then IDLE") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    const LedgerEntries entries = Ledger(run_dir).read();
    CHECK(entries.empty());
    for (const std::string& phase : k_phases) {
        const LedgerEntry entry = entry_of(entries, phase);
        CHECK(entry.phase == phase);
        CHECK(entry.state == RunState::Idle);
        CHECK(entry.run_id.empty());
        CHECK(entry.progress.records == 0);
        CHECK_FALSE(entry.error.has_value());
    }
    CHECK_FALSE(std::filesystem::exists(run_dir.ledger()));
}

TEST_CASE("an update is read back field by field and leaves the other phases alone") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    Ledger ledger(run_dir);
    ledger.update("RANKING_FETCH", [](LedgerEntry& e) {
        e.state = RunState::Completed;
        return true;
    });
    const LedgerEntry returned = ledger.update("CHARACTER_BASIC", [](LedgerEntry& e) {
        e.state = RunState::Failed;
        e.run_id = "20261123T010000Z-0a1b2c";
        e.date = "2026-11-22";
        e.pid = 4242;
        e.pid_start_ticks = 987654;
        e.started_at = "2026-11-23T01:00:00Z";
        e.updated_at = "2026-11-23T01:05:00Z";
        e.finished_at = "2026-11-23T01:06:00Z";
        e.stop_requested = true;
        e.progress = {10, 12, 2000, 2, 15, 3, 1};
        e.progress.retries_by_class[static_cast<std::size_t>(pipeline::core::RetryClass::RateLimited)] = 1;
        e.progress.retries_by_class[static_cast<std::size_t>(pipeline::core::RetryClass::ServerError)] = 1;
        e.progress.retries_by_class[static_cast<std::size_t>(pipeline::core::RetryClass::Transport)] = 1;
        e.error = "it broke";
        e.upstream_run_id = "20261123T000000Z-ffffff";
        e.sink = "/srv/data";
        return true;
    });
    CHECK(returned.run_id == "20261123T010000Z-0a1b2c");

    const LedgerEntries entries = ledger.read();
    CHECK(phases_of(entries) == std::vector<std::string>{"RANKING_FETCH", "CHARACTER_BASIC"});
    const LedgerEntry e = entry_of(entries, "CHARACTER_BASIC");
    CHECK(e.phase == "CHARACTER_BASIC");
    CHECK(e.state == RunState::Failed);
    CHECK(e.run_id == "20261123T010000Z-0a1b2c");
    CHECK(e.date == "2026-11-22");
    CHECK(e.pid == 4242);
    CHECK(e.pid_start_ticks == 987654);
    CHECK(e.started_at == "2026-11-23T01:00:00Z");
    CHECK(e.updated_at == "2026-11-23T01:05:00Z");
    CHECK(e.finished_at == "2026-11-23T01:06:00Z");
    CHECK(e.stop_requested);
    CHECK(e.progress.items_done == 10);
    CHECK(e.progress.items_total == 12);
    CHECK(e.progress.records == 2000);
    CHECK(e.progress.chunks == 2);
    CHECK(e.progress.requests == 15);
    CHECK(e.progress.retries == 3);
    CHECK(e.progress.rejected == 1);
    CHECK(e.progress.retries_by_class[static_cast<std::size_t>(pipeline::core::RetryClass::RateLimited)] == 1);
    CHECK(e.progress.retries_by_class[static_cast<std::size_t>(pipeline::core::RetryClass::ServerError)] == 1);
    CHECK(e.progress.retries_by_class[static_cast<std::size_t>(pipeline::core::RetryClass::Transport)] == 1);
    CHECK(e.error == "it broke");
    CHECK(e.upstream_run_id == "20261123T000000Z-ffffff");
    CHECK(e.sink == "/srv/data");
    CHECK(entry_of(entries, "RANKING_FETCH").state == RunState::Completed);
    for (const std::string other : {"OCID_LOOKUP", "ITEM_EQUIPMENT"}) {
        CHECK(entry_of(entries, other).state == RunState::Idle);
    }

    // The file has the shape of docs/contract.md §5: the phases that ran, in the order they first did, with
    // the documented fields.
    const nlohmann::json file = nlohmann::json::parse(pipeline::core::read_file(run_dir.ledger()));
    REQUIRE(file.at("phases").size() == 2);
    CHECK(file["phases"][0]["phase"] == "RANKING_FETCH");
    CHECK(file["phases"][0]["state"] == "COMPLETED");
    const nlohmann::json& basic = file["phases"][1];
    CHECK(basic["phase"] == "CHARACTER_BASIC");
    CHECK(basic["state"] == "FAILED");
    CHECK(basic["progress"]["records"] == 2000);
    CHECK(basic["error"] == "it broke");
    for (const char* key : {"run_id", "date", "pid", "started_at", "updated_at", "finished_at", "stop_requested",
                            "progress", "error"}) {
        CHECK_MESSAGE(basic.contains(key), key);
    }
}

TEST_CASE("an update whose change returns false writes nothing") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    Ledger ledger(run_dir);
    ledger.update("RANKING_FETCH", [](LedgerEntry& e) {
        e.state = RunState::Completed;
        return true;
    });
    const std::string before = pipeline::core::read_file(run_dir.ledger());
    ledger.update("RANKING_FETCH", [](LedgerEntry& e) {
        e.state = RunState::Failed;
        return false;
    });
    // Not even a new entry of another phase is added.
    ledger.update("OCID_LOOKUP", [](LedgerEntry& e) {
        e.state = RunState::Running;
        return false;
    });
    CHECK(ledger.read().size() == 1);
    CHECK(entry_of(ledger.read(), "RANKING_FETCH").state == RunState::Completed);
    CHECK(pipeline::core::read_file(run_dir.ledger()) == before);
}

TEST_CASE("a ledger that is not valid JSON is an error naming the file") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    pipeline::core::write_file_atomically(run_dir.ledger(), "{\"phases\": [");
    try {
        Ledger(run_dir).read();
        FAIL("no error");
    } catch (const pipeline::core::Error& e) {
        CHECK(e.code() == pipeline::core::ExitCode::Failed);
        CHECK(std::string(e.what()).find(run_dir.ledger().string()) != std::string::npos);
    }
}

TEST_CASE("a RUNNING entry whose process is gone is shown as FAILED naming the pid") {
    const pid_t gone = dead_pid();
    for (const std::uint64_t ticks : {std::uint64_t{0}, std::uint64_t{12345}}) {
        const LedgerEntry shown = effective_entry(running_entry(gone, ticks));
        CHECK(shown.state == RunState::Failed);
        REQUIRE(shown.error.has_value());
        CHECK(shown.error->find("pid " + std::to_string(gone)) != std::string::npos);
        CHECK(shown.run_id == "20261123T010000Z-abcdef");
    }
    // No pid recorded at all is gone too.
    CHECK(effective_entry(running_entry(0, 0)).state == RunState::Failed);
}

TEST_CASE("a RUNNING entry whose pid lives but started at another time is FAILED") {
    const pid_t self = pipeline::core::self_pid();
    const std::uint64_t ticks = pipeline::core::self_start_ticks();
    REQUIRE(ticks != 0);
    const LedgerEntry reused = effective_entry(running_entry(self, ticks + 1));
    CHECK(reused.state == RunState::Failed);
    REQUIRE(reused.error.has_value());
    CHECK(reused.error->find(std::to_string(self)) != std::string::npos);

    // The same process is still running.
    const LedgerEntry alive = effective_entry(running_entry(self, ticks));
    CHECK(alive.state == RunState::Running);
    CHECK_FALSE(alive.error.has_value());
}

TEST_CASE("terminal and idle entries are shown as recorded whatever their pid") {
    const pid_t gone = dead_pid();
    for (RunState state : {RunState::Idle, RunState::Completed, RunState::Stopped, RunState::Failed}) {
        LedgerEntry entry = running_entry(gone, 0);
        entry.state = state;
        const LedgerEntry shown = effective_entry(entry);
        CHECK(shown.state == state);
        CHECK_FALSE(shown.error.has_value());
    }
}

TEST_CASE("writers in separate processes lose no update and readers never see a broken file") {
    constexpr int k_updates = 200;
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();

    // The reader runs until the parent closes `stop`; it reports how many reads it made through `report`.
    int stop[2];
    int report[2];
    REQUIRE(::pipe(stop) == 0);
    REQUIRE(::pipe(report) == 0);
    const pid_t reader = ::fork();
    REQUIRE(reader >= 0);
    if (reader == 0) {
        ::close(stop[1]);
        ::close(report[0]);
        long reads = 0;
        int code = 0;
        for (;;) {
            try {
                const LedgerEntries entries = Ledger(run_dir).read();
                for (const LedgerEntry& e : entries) {
                    if (e.progress.records > k_updates) {
                        code = 3;
                    }
                }
                ++reads;
            } catch (...) {
                code = 4; // a partial or unparsable file
            }
            pollfd fd{stop[0], POLLIN, 0};
            if (::poll(&fd, 1, 0) != 0) {
                break;
            }
        }
        [[maybe_unused]] const ssize_t n = ::write(report[1], &reads, sizeof reads);
        ::_exit(code);
    }
    ::close(stop[0]);
    ::close(report[1]);

    std::vector<pid_t> writers;
    for (const std::string& phase : k_phases) {
        const pid_t writer = ::fork();
        REQUIRE(writer >= 0);
        if (writer == 0) {
            try {
                Ledger ledger(run_dir);
                for (int i = 0; i < k_updates; ++i) {
                    ledger.update(phase, [](LedgerEntry& e) {
                        e.state = RunState::Running;
                        ++e.progress.records;
                        return true;
                    });
                }
            } catch (...) {
                ::_exit(2);
            }
            ::_exit(0);
        }
        writers.push_back(writer);
    }
    for (pid_t writer : writers) {
        CHECK(wait_exit_code(writer) == 0);
    }
    ::close(stop[1]);
    long reads = 0;
    CHECK(::read(report[0], &reads, sizeof reads) == static_cast<ssize_t>(sizeof reads));
    ::close(report[0]);
    CHECK(wait_exit_code(reader) == 0);
    CHECK(reads > 0);

    const LedgerEntries entries = Ledger(run_dir).read();
    std::vector<std::string> names = phases_of(entries);
    std::ranges::sort(names); // in the order their first updates happened to come
    std::vector<std::string> expected = k_phases;
    std::ranges::sort(expected);
    CHECK(names == expected);
    for (const LedgerEntry& e : entries) {
        CAPTURE(e.phase);
        CHECK(e.state == RunState::Running);
        CHECK(e.progress.records == k_updates);
    }
    // No temporary is left behind by the writers.
    for (const auto& entry : std::filesystem::directory_iterator(run_dir.root())) {
        CHECK_FALSE(pipeline::core::is_temporary_name(entry.path().filename().string()));
    }
}

TEST_CASE("stop_reason is written for a STOPPED run, read back, and null in any other state") {
    using pipeline::core::StopReason;
    LedgerEntry e;
    e.phase = "OCID_LOOKUP";
    e.state = RunState::Stopped;
    e.stop_reason = StopReason::Quota;
    const nlohmann::json stopped = pipeline::core::entry_to_json(e);
    CHECK(stopped["stop_reason"] == "quota");
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    Ledger ledger(run_dir);
    ledger.update("OCID_LOOKUP", [&](LedgerEntry& entry) {
        entry = e;
        entry.progress.empty = 3;
        return true;
    });
    const LedgerEntry read = entry_of(ledger.read(), "OCID_LOOKUP");
    CHECK(read.stop_reason == StopReason::Quota);
    CHECK(read.progress.empty == 3);
    e.state = RunState::Completed;
    CHECK(pipeline::core::entry_to_json(e)["stop_reason"].is_null());
}

TEST_CASE("entries of phases the config no longer has are kept, in file order, when another phase is updated") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    pipeline::core::write_file_atomically(run_dir.ledger(), R"({"version": 1, "phases": [
        {"phase": "GUILD_BASIC", "state": "COMPLETED", "run_id": "20261123T010000Z-abcdef", "date": "2026-11-22"},
        {"phase": "RANKING_FETCH", "state": "FAILED", "error": "x"}]})");
    Ledger ledger(run_dir);
    CHECK(phases_of(ledger.read()) == std::vector<std::string>{"GUILD_BASIC", "RANKING_FETCH"});
    ledger.update("CHARACTER_SKILL", [](LedgerEntry& e) {
        e.state = RunState::Running;
        return true;
    });
    ledger.update("RANKING_FETCH", [](LedgerEntry& e) {
        e.state = RunState::Completed;
        e.error.reset();
        return true;
    });
    const LedgerEntries entries = ledger.read();
    CHECK(phases_of(entries) == std::vector<std::string>{"GUILD_BASIC", "RANKING_FETCH", "CHARACTER_SKILL"});
    const LedgerEntry kept = entry_of(entries, "GUILD_BASIC");
    CHECK(kept.state == RunState::Completed);
    CHECK(kept.run_id == "20261123T010000Z-abcdef");
    CHECK(kept.date == "2026-11-22");
    CHECK(entry_of(entries, "RANKING_FETCH").state == RunState::Completed);
    CHECK_FALSE(entry_of(entries, "RANKING_FETCH").error.has_value());
    CHECK(entry_of(entries, "CHARACTER_SKILL").state == RunState::Running);
}
