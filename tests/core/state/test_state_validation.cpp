// Corrupt or planted state files (issue 13 items 2 and 5): the ledger and checkpoints are validated field by
// field, errors name the file and field, and one bad old checkpoint does not block a good run.

#include <doctest/doctest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "core/state/checkpoint.hpp"
#include "core/state/ledger.hpp"
#include "core/state/stop_sentinel.hpp"
#include "core/util/atomic_file.hpp"
#include "core/util/error.hpp"
#include "core/util/process.hpp"
#include "fakes/temp_dir.hpp"

using nlohmann::json;
using pipeline::core::Checkpoint;
using pipeline::core::checkpoint_path;
using pipeline::core::Error;
using pipeline::core::Ledger;
using pipeline::core::load_checkpoint;
using pipeline::core::RunDir;
using pipeline::core::RunState;
using pipeline::core::write_file_atomically;
using pipeline::tests::TempDir;

namespace {

constexpr const char* k_good_id = "20261123T010000Z-abcdef";
constexpr const char* k_old_id = "20261122T010000Z-000001";

std::string error_of(const auto& action) {
    try {
        action();
    } catch (const Error& e) {
        return e.what();
    }
    FAIL("no error");
    return "";
}

json ledger_with(const json& entry) {
    return json{{"version", 1}, {"phases", json::array({entry})}};
}

json good_entry() {
    return json{{"phase", "OCID_LOOKUP"},
                {"state", "COMPLETED"},
                {"run_id", k_good_id},
                {"date", "2026-11-22"},
                {"pid", 42},
                {"progress", {{"items_done", 3}, {"items_total", 3}}}};
}

Checkpoint checkpoint(const std::string& run_id, RunState state, const std::string& started_at) {
    Checkpoint c;
    c.phase = "CHARACTER_BASIC";
    c.date = "2026-11-22";
    c.run_id = run_id;
    c.state = state;
    c.started_at = started_at;
    c.pid = pipeline::core::self_pid();
    c.pid_start_ticks = pipeline::core::self_start_ticks();
    c.done.resize(4);
    c.done.add(1);
    return c;
}

} // namespace

TEST_CASE("a ledger field of the wrong type or range is an error naming the file and field") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    const Ledger ledger(run_dir);
    write_file_atomically(run_dir.ledger(), ledger_with(good_entry()).dump());
    CHECK(pipeline::core::entry_of(ledger.read(), "OCID_LOOKUP").run_id == k_good_id);

    struct Case {
        const char* key;
        json value;
        const char* field;
    };
    const Case cases[] = {
        {"pid", 1e30, "phases[0].pid"},
        {"pid", -5, "phases[0].pid"},
        {"pid", "42", "phases[0].pid"},
        {"state", 3, "phases[0].state"},
        {"state", "SLEEPING", "phases[0].state"},
        {"stop_requested", "yes", "phases[0].stop_requested"},
        {"error", json::object(), "phases[0].error"},
        {"progress", json{{"records", "many"}}, "phases[0].progress.records"},
        {"progress", json{{"retries_by_class", {{"transport", 1.5}}}},
         "phases[0].progress.retries_by_class.transport"},
        {"run_id", "../../somewhere", "phases[0].run_id"},
        {"upstream_run_id", "x/y", "phases[0].upstream_run_id"},
        {"date", "../2026", "phases[0].date"},
        {"phase", "ocid_lookup", "phases[0].phase"},
        {"phase", "../OCID_LOOKUP", "phases[0].phase"},
        {"phase", "", "phases[0].phase"},
        {"phase", std::string(33, 'A'), "phases[0].phase"},
        {"phase", 5, "phases[0].phase"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.key);
        json entry = good_entry();
        entry[c.key] = c.value;
        write_file_atomically(run_dir.ledger(), ledger_with(entry).dump());
        const std::string message = error_of([&] { ledger.read(); });
        CHECK(message.find(run_dir.ledger().string() + ": field '" + c.field + "'") == 0);
        CHECK(message.find("json.exception") == std::string::npos);
        if (std::string(c.key) == "phase" && c.value.is_string()) {
            CHECK(message.find("is not a phase name") != std::string::npos);
        }
    }
    // A phase listed twice, and an entry without a phase.
    write_file_atomically(run_dir.ledger(),
                          json{{"phases", json::array({good_entry(), good_entry()})}}.dump());
    const std::string twice = error_of([&] { ledger.read(); });
    CHECK(twice.find(run_dir.ledger().string() + ": field 'phases[1].phase'") == 0);
    CHECK(twice.find("listed twice") != std::string::npos);
    json no_phase = good_entry();
    no_phase.erase("phase");
    write_file_atomically(run_dir.ledger(), ledger_with(no_phase).dump());
    CHECK(error_of([&] { ledger.read(); }).find(run_dir.ledger().string() + ": field 'phases[0].phase'") == 0);
    write_file_atomically(run_dir.ledger(), R"({"phases": {"a": 1}})");
    CHECK(error_of([&] { ledger.read(); }).find("field 'phases': expected an array") != std::string::npos);
    write_file_atomically(run_dir.ledger(), R"([1, 2])");
    CHECK(error_of([&] { ledger.read(); }).find(run_dir.ledger().string()) == 0);
}

TEST_CASE("a checkpoint done-range outside items_total is refused at once, not looped over") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    const Checkpoint c = checkpoint(k_good_id, RunState::Stopped, "2026-11-23T01:00:00Z");
    pipeline::core::save_checkpoint(run_dir, c);
    const std::filesystem::path path = checkpoint_path(run_dir, c.date, c.phase, c.run_id);
    const json saved = json::parse(pipeline::core::read_file(path));

    const std::pair<const char*, json> cases[] = {
        {"done", json::array({json::array({0, 18446744073709551615ULL})})},
        {"done", json::array({json::array({2, 1})})},
        {"done", json::array({json::array({0, 1}), json::array({1, 2})})}, // overlapping
        {"done", json::array({"0-3"})},
        {"items_total", 18446744073709551615ULL},
        {"pid", 1e30},
        {"pid_start_ticks", -1},
        {"upstream_run_id", "../../somewhere"},
        {"compression", "lz4"},
        {"records", "ten"},
        {"phase", "character_basic"},
        {"phase", "../CHARACTER_BASIC"},
        {"phase", 3},
    };
    for (const auto& [key, value] : cases) {
        CAPTURE(key);
        CAPTURE(value.dump());
        json broken = saved;
        broken[key] = value;
        write_file_atomically(path, broken.dump());
        const std::string message = error_of([&] { load_checkpoint(path); });
        CHECK(message.find(path.string() + ": field '" + key) == 0);
        if (std::string(key) == "phase" && value.is_string()) {
            CHECK(message.find("is not a phase name") != std::string::npos);
        }
    }
    json bad_chunk = saved;
    bad_chunk["chunks"] = json::array(
        {{{"name", "../../etc/x"}, {"records", 1}, {"bytes", 1}, {"sha256", std::string(64, 'a')}}});
    write_file_atomically(path, bad_chunk.dump());
    CHECK(error_of([&] { load_checkpoint(path); }).find("field 'chunks[0].name'") != std::string::npos);
    bad_chunk["chunks"][0]["name"] = "part-00001.jsonl.gz";
    bad_chunk["chunks"][0]["sha256"] = "zz";
    write_file_atomically(path, bad_chunk.dump());
    CHECK(error_of([&] { load_checkpoint(path); }).find("field 'chunks[0].sha256'") != std::string::npos);
}

TEST_CASE("a checkpoint whose run id is planted or does not match its file name is refused") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    Checkpoint c = checkpoint(k_good_id, RunState::Stopped, "2026-11-23T01:00:00Z");
    pipeline::core::save_checkpoint(run_dir, c);
    const std::filesystem::path path = checkpoint_path(run_dir, c.date, c.phase, c.run_id);
    json j = json::parse(pipeline::core::read_file(path));
    j["run_id"] = "../../somewhere";
    write_file_atomically(path, j.dump());
    CHECK(error_of([&] {
              load_checkpoint(path);
          }).find("field 'run_id': '../../somewhere' is not a run id") != std::string::npos);
    j["run_id"] = k_old_id;
    write_file_atomically(path, j.dump());
    CHECK(error_of([&] { load_checkpoint(path); }).find("not the run its file name says") !=
          std::string::npos);
    // Nothing to resume but the bad file: its error, not "nothing to resume".
    CHECK(error_of([&] {
              pipeline::core::find_resumable(run_dir, "CHARACTER_BASIC", "2026-11-22");
          }).find(path.string()) == 0);
}

TEST_CASE("one unreadable old checkpoint is skipped when a good run exists") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    pipeline::core::save_checkpoint(run_dir,
                                    checkpoint(k_good_id, RunState::Stopped, "2026-11-23T01:00:00Z"));
    write_file_atomically(run_dir.checkpoints() /
                              ("2026-11-22.CHARACTER_BASIC." + std::string(k_old_id) + ".json"),
                          R"({"phase": "CHARACTER_BASIC", "pid": 1e30})");
    write_file_atomically(run_dir.checkpoints() / "2026-11-22.CHARACTER_BASIC.garbage.json", "{not json");
    const std::optional<Checkpoint> resumable =
        pipeline::core::find_resumable(run_dir, "CHARACTER_BASIC", "2026-11-22");
    REQUIRE(resumable.has_value());
    CHECK(resumable->run_id == k_good_id);
    CHECK(pipeline::core::find_latest(run_dir, "CHARACTER_BASIC", "2026-11-22")->run_id == k_good_id);
}

TEST_CASE("a stop sentinel naming something that is not a run id is ignored") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    write_file_atomically(run_dir.stop_sentinel("OCID_LOOKUP"), "../../x\n");
    CHECK(pipeline::core::read_stop_request(run_dir, "OCID_LOOKUP").empty());
    write_file_atomically(run_dir.stop_sentinel("OCID_LOOKUP"), std::string(k_good_id) + "\n");
    CHECK(pipeline::core::read_stop_request(run_dir, "OCID_LOOKUP") == k_good_id);
}
