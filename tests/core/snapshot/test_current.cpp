// _current.json (core/snapshot/snapshot.cpp): publish_manifest, read_current and newest_completed against an
// in-memory sink.
#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "core/snapshot/snapshot.hpp"
#include "core/util/error.hpp"
#include "fakes/memory_sink.hpp"

using namespace pipeline;
using core::Manifest;
using core::RunState;

namespace {

constexpr const char* k_date = "2026-11-22";
constexpr const char* k_phase = "ITEM_EQUIPMENT";

Manifest manifest_of(const std::string& run_id, RunState state, const std::string& finished_at) {
    Manifest m;
    m.phase = k_phase;
    m.date = k_date;
    m.run_id = run_id;
    m.state = state;
    m.records = 2;
    m.chunks = {{"part-00001.jsonl.gz", 2, 40, std::string(64, 'a')}};
    m.started_at = "2026-11-23T01:00:00Z";
    m.finished_at = finished_at;
    return m;
}

std::string manifest_key(const std::string& run_id) {
    return core::run_prefix(k_date, k_phase, run_id) + std::string(core::k_manifest_name);
}

} // namespace

TEST_CASE("publish_manifest: only a COMPLETED run becomes _current.json, as a byte copy of its manifest") {
    tests::MemorySink sink;
    const std::string current = core::current_key(k_date, k_phase);
    CHECK(current == "2026-11-22/ITEM_EQUIPMENT/_current.json");

    core::publish_manifest(sink,
                           manifest_of("20261123T010000Z-aaaaaa", RunState::Stopped, "2026-11-23T01:10:00Z"));
    CHECK_FALSE(sink.get(current).has_value());
    CHECK_FALSE(core::read_current(sink, k_phase, k_date).has_value());

    core::publish_manifest(
        sink, manifest_of("20261123T020000Z-bbbbbb", RunState::Completed, "2026-11-23T02:10:00Z"));
    CHECK(sink.get(current) == sink.get(manifest_key("20261123T020000Z-bbbbbb")));
    core::publish_manifest(sink,
                           manifest_of("20261123T030000Z-cccccc", RunState::Failed, "2026-11-23T03:10:00Z"));
    CHECK(core::read_current(sink, k_phase, k_date)->run_id == "20261123T020000Z-bbbbbb");

    // The stopped run, resumed to completion later, is the newest COMPLETED one.
    core::publish_manifest(
        sink, manifest_of("20261123T010000Z-aaaaaa", RunState::Completed, "2026-11-23T04:00:00Z"));
    CHECK(core::read_current(sink, k_phase, k_date)->run_id == "20261123T010000Z-aaaaaa");
    CHECK(core::newest_completed(sink, k_phase, k_date)->run_id == "20261123T010000Z-aaaaaa");
    CHECK(core::newest_completed_manifest(sink, k_phase, k_date)->run_id == "20261123T010000Z-aaaaaa");
}

TEST_CASE("publish_manifest: when _current.json cannot be written, the manifest says FAILED and the error "
          "goes on") {
    tests::MemorySink sink;
    sink.fail_puts_containing("_current.json");
    const Manifest m = manifest_of("20261123T020000Z-bbbbbb", RunState::Completed, "2026-11-23T02:10:00Z");
    CHECK_THROWS_AS(core::publish_manifest(sink, m), core::Error);
    CHECK(sink.get(manifest_key(m.run_id))->find("\"FAILED\"") != std::string::npos);
    CHECK_FALSE(core::newest_completed(sink, k_phase, k_date).has_value());
}

TEST_CASE("newest_completed goes by _current.json, and scans the manifests only without one") {
    tests::MemorySink sink;
    const Manifest older =
        manifest_of("20261123T010000Z-aaaaaa", RunState::Completed, "2026-11-23T01:10:00Z");
    const Manifest newer =
        manifest_of("20261123T020000Z-bbbbbb", RunState::Completed, "2026-11-23T02:10:00Z");
    sink.put(manifest_key(older.run_id), core::manifest_text(older));
    sink.put(manifest_key(newer.run_id), core::manifest_text(newer));
    CHECK(core::newest_completed(sink, k_phase, k_date)->run_id ==
          newer.run_id); // no _current.json: the scan
    sink.put(core::current_key(k_date, k_phase), core::manifest_text(older));
    CHECK(core::newest_completed(sink, k_phase, k_date)->run_id == older.run_id);
    CHECK(core::newest_completed_manifest(sink, k_phase, k_date)->run_id == newer.run_id);
}

TEST_CASE("read_current refuses a _current.json that is not JSON, of another folder, or not COMPLETED") {
    tests::MemorySink sink;
    const std::string key = core::current_key(k_date, k_phase);
    sink.put(key, "{\"phase\": ");
    CHECK_THROWS_WITH(core::read_current(sink, k_phase, k_date),
                      doctest::Contains("_current.json: not valid JSON"));
    Manifest other = manifest_of("20261123T010000Z-aaaaaa", RunState::Completed, "2026-11-23T01:10:00Z");
    other.date = "2026-11-21";
    sink.put(key, core::manifest_text(other));
    CHECK_THROWS_WITH(core::read_current(sink, k_phase, k_date),
                      doctest::Contains("not the folder it is in"));
    sink.put(key, core::manifest_text(manifest_of("20261123T010000Z-aaaaaa", RunState::Stopped, "")));
    CHECK_THROWS_WITH(core::read_current(sink, k_phase, k_date),
                      doctest::Contains("in state STOPPED, not COMPLETED"));
}
