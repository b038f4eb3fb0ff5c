// Manifests read back from a sink are validated like every state file (issue 13 items 2 and 5): a run id,
// date or chunk name not of pipeline's form is refused, and one unreadable old manifest does not hide a good
// snapshot from downstream phases.

#include <doctest/doctest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "core/snapshot/snapshot.hpp"
#include "core/util/error.hpp"
#include "fakes/memory_sink.hpp"
#include "fakes/snapshot_builder.hpp"

using nlohmann::json;
using pipeline::core::Error;
using pipeline::core::Manifest;
using pipeline::tests::MemorySink;
using pipeline::tests::SnapshotSpec;

namespace {

constexpr const char* k_good_id = "20261123T010000Z-00000a";
constexpr const char* k_old_id = "20261122T010000Z-00000b";

std::string error_of(const auto& action) {
    try {
        action();
    } catch (const Error& e) {
        return e.what();
    }
    FAIL("no error");
    return "";
}

Manifest good_run(MemorySink& sink) {
    SnapshotSpec spec;
    spec.phase = "OCID_LOOKUP";
    spec.run_id = k_good_id;
    spec.chunks = {{R"({"character_name":"a","ocid":"0"})"}};
    return pipeline::tests::publish_snapshot(sink, spec);
}

} // namespace

TEST_CASE("a manifest field of the wrong type, or a planted run id or chunk name, names the file and field") {
    MemorySink sink;
    const Manifest manifest = good_run(sink);
    const json good = pipeline::core::manifest_to_json(manifest);
    const std::pair<const char*, json> cases[] = {
        {"records", "ten"},         {"records", 1e30}, {"run_id", "../../x"}, {"date", "2026/11/22"},
        {"chunks", json::object()}, {"state", 1},      {"rejected", -1},
        {"phase", "ocid_lookup"},   {"phase", "../OCID_LOOKUP"}, {"phase", 5}, {"phase", ""},
    };
    for (const auto& [key, value] : cases) {
        CAPTURE(key);
        json broken = good;
        broken[key] = value;
        const std::string message =
            error_of([&] { pipeline::core::manifest_from_json(broken, "where.json"); });
        CHECK(message.find(std::string("where.json: field '") + key) == 0);
        CHECK(message.find("json.exception") == std::string::npos);
        if (std::string(key) == "phase" && value.is_string() && !value.get<std::string>().empty()) {
            CHECK(message.find("is not a phase name") != std::string::npos);
        }
    }
    // The upstream's phase name is checked the same way.
    json bad_upstream = good;
    bad_upstream["upstream"] = {{"phase", "ranking/fetch"}, {"run_id", k_old_id}};
    const std::string upstream_message =
        error_of([&] { pipeline::core::manifest_from_json(bad_upstream, "where.json"); });
    CHECK(upstream_message.find("where.json: field 'upstream.phase'") == 0);
    CHECK(upstream_message.find("is not a phase name") != std::string::npos);
    json planted = good;
    planted["chunks"][0]["name"] = "../../../etc/passwd";
    CHECK(error_of([&] {
              pipeline::core::manifest_from_json(planted, "where.json");
          }).find("chunks[0].name") != std::string::npos);
    CHECK(error_of([&] {
              pipeline::core::read_manifest(sink, "OCID_LOOKUP", "2026-11-22", "../x");
          }).find("not a run id") != std::string::npos);
}

TEST_CASE("a manifest that describes another run than its folder is refused") {
    MemorySink sink;
    const Manifest manifest = good_run(sink);
    json moved = pipeline::core::manifest_to_json(manifest);
    sink.put(std::string("2026-11-22/OCID_LOOKUP/") + k_old_id + "/_manifest.json", moved.dump());
    CHECK(error_of([&] {
              pipeline::core::read_manifest(sink, "OCID_LOOKUP", "2026-11-22", k_old_id);
          }).find("not the folder it is in") != std::string::npos);
}

TEST_CASE("an unreadable old manifest is skipped when a good COMPLETED snapshot exists, else named") {
    MemorySink sink;
    sink.put(std::string("2026-11-22/OCID_LOOKUP/") + k_old_id + "/_manifest.json", R"({"phase": 5})");
    const std::string alone =
        error_of([&] { pipeline::core::newest_completed(sink, "OCID_LOOKUP", "2026-11-22"); });
    CHECK(alone.find(std::string("memory://sink/2026-11-22/OCID_LOOKUP/") + k_old_id + "/_manifest.json") ==
          0);
    good_run(sink);
    sink.put("2026-11-22/OCID_LOOKUP/not-a-run/_manifest.json", "{broken");
    const std::optional<Manifest> newest =
        pipeline::core::newest_completed(sink, "OCID_LOOKUP", "2026-11-22");
    REQUIRE(newest.has_value());
    CHECK(newest->run_id == k_good_id);
}
