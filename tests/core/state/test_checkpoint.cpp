// Run checkpoints: DoneSet ranges, save/load round trips, and which run --resume picks.

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "core/state/checkpoint.hpp"
#include "core/util/atomic_file.hpp"
#include "core/util/error.hpp"
#include "core/util/process.hpp"
#include "fakes/temp_dir.hpp"

using pipeline::core::Checkpoint;
using pipeline::core::checkpoint_path;
using pipeline::core::Compression;
using pipeline::core::DoneSet;
using pipeline::core::find_resumable;
using pipeline::core::load_checkpoint;
using pipeline::core::RunDir;
using pipeline::core::RunState;
using pipeline::core::save_checkpoint;
using pipeline::tests::TempDir;
using Ranges = std::vector<std::pair<std::size_t, std::size_t>>;

namespace {

Checkpoint checkpoint(const std::string& run_id, RunState state, const std::string& started_at,
                      const std::string& phase = "CHARACTER_BASIC", const std::string& date = "2026-11-22") {
    Checkpoint c;
    c.phase = phase;
    c.date = date;
    c.run_id = run_id;
    c.state = state;
    c.started_at = started_at;
    c.pid = pipeline::core::self_pid();
    c.pid_start_ticks = pipeline::core::self_start_ticks();
    c.done.resize(4);
    return c;
}

pid_t dead_pid() {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::_exit(0);
    }
    REQUIRE(::waitpid(child, nullptr, 0) == child);
    return child;
}

} // namespace

TEST_CASE("DoneSet stores done items as inclusive ranges and counts each item once") {
    DoneSet done;
    done.resize(10);
    CHECK(done.size() == 10);
    CHECK(done.ranges().empty());
    for (std::size_t item : {7, 0, 2, 1, 5, 8, 2, 0}) {
        done.add(item);
    }
    CHECK(done.count() == 6);
    CHECK(done.ranges() == Ranges{{0, 2}, {5, 5}, {7, 8}});
    CHECK(done.contains(5));
    CHECK_FALSE(done.contains(6));
    CHECK_FALSE(done.contains(42));
    // Adding past the end grows the set.
    done.add(12);
    CHECK(done.size() == 13);
    CHECK(done.ranges() == Ranges{{0, 2}, {5, 5}, {7, 8}, {12, 12}});
    for (std::size_t item = 0; item < 13; ++item) {
        done.add(item);
    }
    CHECK(done.ranges() == Ranges{{0, 12}});
    CHECK(done.count() == 13);
}

TEST_CASE("DoneSet ranges match the items added, in any order, as they are added") {
    // Items complete mostly in order with a window of stragglers (concurrency), sometimes far ahead (a
    // refused item): after every add the ranges are those of a plain scan of the items.
    std::mt19937 random(20261202);
    const std::size_t items = 3000;
    std::vector<std::size_t> order(items);
    for (std::size_t i = 0; i < items; ++i) {
        order[i] = i;
    }
    for (std::size_t i = 0; i + 1 < items; ++i) { // shuffle within a window of 40
        std::swap(order[i], order[std::min(items - 1, i + random() % 40)]);
    }
    std::swap(order[10], order[2900]);
    DoneSet done;
    done.resize(items);
    std::vector<bool> plain(items, false);
    for (std::size_t step = 0; step < items; ++step) {
        done.add(order[step]);
        plain[order[step]] = true;
        if (step % 97 != 0 && step + 1 != items) {
            continue;
        }
        Ranges expected;
        for (std::size_t i = 0; i < items; ++i) {
            if (!plain[i]) {
                continue;
            }
            if (!expected.empty() && expected.back().second + 1 == i) {
                expected.back().second = i;
            } else {
                expected.emplace_back(i, i);
            }
        }
        REQUIRE(done.ranges() == expected);
    }
    CHECK(done.ranges() == Ranges{{0, items - 1}});
    CHECK(done.count() == items);
}

TEST_CASE("a checkpoint with thousands of chunks loads back with each of them") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    Checkpoint c = checkpoint("20261123T010000Z-a1b2c3", RunState::Running, "2026-11-23T01:00:00Z");
    for (std::size_t i = 1; i <= 2500; ++i) {
        char name[32];
        std::snprintf(name, sizeof name, "part-%05zu.jsonl.gz", i);
        c.chunks.push_back({name, i, 1000 + i, std::string(64, "0123456789abcdef"[i % 16])});
    }
    save_checkpoint(run_dir, c);
    const Checkpoint back = load_checkpoint(checkpoint_path(run_dir, c.date, c.phase, c.run_id));
    REQUIRE(back.chunks.size() == c.chunks.size());
    for (std::size_t i = 0; i < c.chunks.size(); ++i) {
        CHECK(back.chunks[i].name == c.chunks[i].name);
        CHECK(back.chunks[i].records == c.chunks[i].records);
        CHECK(back.chunks[i].bytes == c.chunks[i].bytes);
        CHECK(back.chunks[i].sha256 == c.chunks[i].sha256);
    }
}

TEST_CASE("a saved checkpoint loads back with every field") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    Checkpoint c = checkpoint("20261123T010000Z-a1b2c3", RunState::Stopped, "2026-11-23T01:00:00Z",
                              "ITEM_EQUIPMENT");
    c.pid = 4321;
    c.pid_start_ticks = 99887766;
    c.compression = Compression::Zstd;
    c.upstream_run_id = "20261123T000000Z-000000";
    c.done.resize(10);
    for (std::size_t item : {0, 1, 2, 6, 9}) {
        c.done.add(item);
    }
    c.chunks = {{"part-00001.jsonl.zst", 3, 321, std::string(64, 'a')},
                {"part-00002.jsonl.zst", 1, 99, std::string(64, 'b')}};
    c.rejects = {{6, "0123abcd", 400, "OPENAPI00003", "invalid identifier"},
                 {9, R"({"ranking":9})", 0, "NO_OCID", "the upstream record has no usable 'ocid'"}};
    c.records = 4;
    c.counters.requests = 17;
    c.counters.retries = 5;
    c.error = "stopped by request";
    save_checkpoint(run_dir, c);

    const std::filesystem::path path = checkpoint_path(run_dir, c.date, c.phase, c.run_id);
    CHECK(path == run_dir.checkpoints() / "2026-11-22.ITEM_EQUIPMENT.20261123T010000Z-a1b2c3.json");
    const Checkpoint back = load_checkpoint(path);
    CHECK(back.phase == "ITEM_EQUIPMENT");
    CHECK(back.date == "2026-11-22");
    CHECK(back.run_id == c.run_id);
    CHECK(back.state == RunState::Stopped);
    CHECK(back.started_at == "2026-11-23T01:00:00Z");
    CHECK(back.pid == 4321);
    CHECK(back.pid_start_ticks == 99887766);
    CHECK(back.compression == Compression::Zstd);
    CHECK(back.upstream_run_id == c.upstream_run_id);
    CHECK(back.done.size() == 10);
    CHECK(back.done.count() == 5);
    CHECK(back.done.ranges() == Ranges{{0, 2}, {6, 6}, {9, 9}});
    REQUIRE(back.chunks.size() == 2);
    CHECK(back.chunks[1].name == "part-00002.jsonl.zst");
    CHECK(back.chunks[1].records == 1);
    CHECK(back.chunks[1].bytes == 99);
    CHECK(back.chunks[1].sha256 == std::string(64, 'b'));
    REQUIRE(back.rejects.size() == 2);
    CHECK(back.rejects[0].index == 6);
    CHECK(back.rejects[0].key == "0123abcd");
    CHECK(back.rejects[0].status == 400);
    CHECK(back.rejects[0].error == "OPENAPI00003");
    CHECK(back.rejects[0].message == "invalid identifier");
    // An unusable upstream record: status 0, the record's text as the item.
    CHECK(back.rejects[1].index == 9);
    CHECK(back.rejects[1].key == R"({"ranking":9})");
    CHECK(back.rejects[1].status == 0);
    CHECK(back.rejects[1].error == "NO_OCID");
    CHECK(back.records == 4);
    CHECK(back.counters.requests == 17);
    CHECK(back.counters.retries == 5);
    CHECK(back.error == "stopped by request");

    // Saving again replaces the file whole.
    c.state = RunState::Completed;
    c.error.reset();
    save_checkpoint(run_dir, c);
    const Checkpoint again = load_checkpoint(path);
    CHECK(again.state == RunState::Completed);
    CHECK_FALSE(again.error.has_value());
}

TEST_CASE("an unreadable or malformed checkpoint is an error naming the file") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    const std::filesystem::path broken = run_dir.checkpoints() / "2026-11-22.OCID_LOOKUP.x.json";
    for (const std::string text : {"{not json", R"({"phase":"OCID_LOOKUP"})", R"({"phase":"nope","date":"x"})"}) {
        CAPTURE(text);
        pipeline::core::write_file_atomically(broken, text);
        try {
            load_checkpoint(broken);
            FAIL("no error");
        } catch (const pipeline::core::Error& e) {
            CHECK(std::string(e.what()).find(broken.string()) != std::string::npos);
            if (text.find("nope") != std::string::npos) {
                CHECK(std::string(e.what()).find("field 'phase': 'nope' is not a phase name") != std::string::npos);
            }
        }
    }
    CHECK_THROWS_AS(load_checkpoint(run_dir.checkpoints() / "missing.json"), pipeline::core::Error);
}

TEST_CASE("find_resumable picks the newest STOPPED or FAILED run of the phase and date") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    CHECK_FALSE(find_resumable(run_dir, "CHARACTER_BASIC", "2026-11-22").has_value());

    save_checkpoint(run_dir,
                    checkpoint("20261123T000000Z-0000a1", RunState::Stopped, "2026-11-23T01:00:00Z"));
    save_checkpoint(run_dir, checkpoint("20261123T000000Z-0000a2", RunState::Failed, "2026-11-23T02:00:00Z"));
    save_checkpoint(run_dir,
                    checkpoint("20261123T000000Z-0000a3", RunState::Completed, "2026-11-23T03:00:00Z"));
    // A live run (this process) is not resumable.
    save_checkpoint(run_dir,
                    checkpoint("20261123T000000Z-0000a4", RunState::Running, "2026-11-23T04:00:00Z"));
    // Newer, but of another phase or date.
    save_checkpoint(run_dir, checkpoint("20261123T000000Z-0000b1", RunState::Stopped, "2026-11-23T09:00:00Z",
                                        "ITEM_EQUIPMENT"));
    save_checkpoint(run_dir, checkpoint("20261123T000000Z-0000b2", RunState::Stopped, "2026-11-23T09:00:00Z",
                                        "CHARACTER_BASIC", "2026-11-21"));

    std::optional<Checkpoint> found = find_resumable(run_dir, "CHARACTER_BASIC", "2026-11-22");
    REQUIRE(found.has_value());
    CHECK(found->run_id == "20261123T000000Z-0000a2");
    CHECK(found->state == RunState::Failed);

    CHECK(find_resumable(run_dir, "ITEM_EQUIPMENT", "2026-11-22")->run_id == "20261123T000000Z-0000b1");
    CHECK(find_resumable(run_dir, "CHARACTER_BASIC", "2026-11-21")->run_id == "20261123T000000Z-0000b2");
    CHECK_FALSE(find_resumable(run_dir, "OCID_LOOKUP", "2026-11-22").has_value());
}

TEST_CASE("a RUNNING run whose process is gone is resumable") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    save_checkpoint(run_dir,
                    checkpoint("20261123T000000Z-0000a1", RunState::Stopped, "2026-11-23T01:00:00Z"));
    Checkpoint crashed = checkpoint("20261123T000000Z-0000a5", RunState::Running, "2026-11-23T05:00:00Z");
    crashed.pid = dead_pid();
    save_checkpoint(run_dir, crashed);
    CHECK(find_resumable(run_dir, "CHARACTER_BASIC", "2026-11-22")->run_id == "20261123T000000Z-0000a5");

    // A pid that lives but belongs to another process (start time differs) counts as gone too.
    Checkpoint reused = checkpoint("20261123T000000Z-0000a6", RunState::Running, "2026-11-23T06:00:00Z");
    reused.pid_start_ticks += 1;
    save_checkpoint(run_dir, reused);
    CHECK(find_resumable(run_dir, "CHARACTER_BASIC", "2026-11-22")->run_id == "20261123T000000Z-0000a6");
}

TEST_CASE("runs started in the same second are ordered by run id") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    save_checkpoint(run_dir, checkpoint("20261123T010000Z-bbbbbb", RunState::Stopped, "2026-11-23T01:00:00Z"));
    save_checkpoint(run_dir, checkpoint("20261123T010000Z-aaaaaa", RunState::Stopped, "2026-11-23T01:00:00Z"));
    CHECK(find_resumable(run_dir, "CHARACTER_BASIC", "2026-11-22")->run_id == "20261123T010000Z-bbbbbb");
}

TEST_CASE("checkpoints of configured phases are listed by phase and date; files of no phase are skipped") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    save_checkpoint(run_dir, checkpoint("20261123T000000Z-0000c1", RunState::Stopped, "2026-11-23T01:00:00Z",
                                        "CHARACTER_SKILL"));
    save_checkpoint(run_dir, checkpoint("20261123T000000Z-0000c2", RunState::Completed, "2026-11-23T02:00:00Z",
                                        "GUILD_RANKING", "2026-11-21"));
    save_checkpoint(run_dir, checkpoint("20261123T000000Z-0000c3", RunState::Failed, "2026-11-23T03:00:00Z"));
    // Not written by pipeline: a name that is not a phase name, or no run id.
    pipeline::core::write_file_atomically(
        run_dir.checkpoints() / "2026-11-22.character_skill.20261123T000000Z-0000c4.json", "{}");
    pipeline::core::write_file_atomically(run_dir.checkpoints() / "2026-11-22.CHARACTER_SKILL.x.json", "{}");

    const auto names = [](const std::vector<pipeline::core::CheckpointFile>& files) {
        std::vector<std::string> out;
        for (const pipeline::core::CheckpointFile& file : files) {
            out.push_back(file.date + " " + file.phase + " " + file.run_id);
        }
        std::ranges::sort(out);
        return out;
    };
    CHECK(names(pipeline::core::list_checkpoints(run_dir)) ==
          std::vector<std::string>{"2026-11-21 GUILD_RANKING 20261123T000000Z-0000c2",
                                   "2026-11-22 CHARACTER_BASIC 20261123T000000Z-0000c3",
                                   "2026-11-22 CHARACTER_SKILL 20261123T000000Z-0000c1"});
    CHECK(names(pipeline::core::list_checkpoints(run_dir, "CHARACTER_SKILL")) ==
          std::vector<std::string>{"2026-11-22 CHARACTER_SKILL 20261123T000000Z-0000c1"});
    CHECK(names(pipeline::core::list_checkpoints(run_dir, "", "2026-11-21")) ==
          std::vector<std::string>{"2026-11-21 GUILD_RANKING 20261123T000000Z-0000c2"});
    CHECK(pipeline::core::list_checkpoints(run_dir, "CHARACTER_STAT").empty());

    CHECK(find_resumable(run_dir, "CHARACTER_SKILL", "2026-11-22")->run_id == "20261123T000000Z-0000c1");
    CHECK(pipeline::core::find_latest(run_dir, "GUILD_RANKING", "2026-11-21")->state == RunState::Completed);
    CHECK_FALSE(find_resumable(run_dir, "GUILD_RANKING", "2026-11-21").has_value());
}
