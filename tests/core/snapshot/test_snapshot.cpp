// The snapshot layout of docs/contract.md §6: names, manifests, the newest COMPLETED snapshot, verified record reads.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/snapshot/codec.hpp"
#include "core/snapshot/snapshot.hpp"
#include "core/util/error.hpp"
#include "fakes/memory_sink.hpp"
#include "fakes/reference_codec.hpp"
#include "fakes/snapshot_builder.hpp"

using pipeline::core::chunk_name;
using pipeline::core::Compression;
using pipeline::core::for_each_record;
using pipeline::core::Manifest;
using pipeline::core::newest_completed;
using pipeline::core::RunState;
using pipeline::tests::MemorySink;
using pipeline::tests::publish_snapshot;
using pipeline::tests::SnapshotSpec;

namespace {

std::vector<std::string> all_records(MemorySink& sink, const Manifest& manifest) {
    std::vector<std::string> records;
    for_each_record(sink, manifest, [&](std::string_view r) { records.emplace_back(r); });
    return records;
}

SnapshotSpec ocid_run(const std::string& run_id, RunState state, const std::string& finished_at) {
    SnapshotSpec spec;
    spec.phase = "OCID_LOOKUP";
    spec.run_id = run_id;
    spec.state = state;
    spec.finished_at = finished_at;
    spec.chunks = {{R"({"character_name":")" + run_id + R"(","ocid":"0"})"}};
    return spec;
}

} // namespace

TEST_CASE("snapshot keys follow <date>/<PHASE>/<run_id>/part-NNNNN") {
    CHECK(pipeline::core::run_prefix("2026-11-22", "ITEM_EQUIPMENT", "r1") == "2026-11-22/ITEM_EQUIPMENT/r1/");
    CHECK(pipeline::core::run_prefix("2026-11-22", "CHARACTER_SKILL", "r2") == "2026-11-22/CHARACTER_SKILL/r2/");
    CHECK(chunk_name(1, Compression::Gzip) == "part-00001.jsonl.gz");
    CHECK(chunk_name(42, Compression::Zstd) == "part-00042.jsonl.zst");
    CHECK(chunk_name(99999, Compression::None) == "part-99999.jsonl");
    CHECK(chunk_name(123456, Compression::Gzip) == "part-123456.jsonl.gz");
    CHECK(pipeline::core::is_chunk_name("part-00001.jsonl.gz"));
    CHECK_FALSE(pipeline::core::is_chunk_name("_manifest.json"));
    CHECK_FALSE(pipeline::core::is_chunk_name("_rejects.jsonl"));
    CHECK_FALSE(pipeline::core::is_chunk_name(".part-00001.jsonl.gz.tmp-1-1"));
}

TEST_CASE("a manifest has the fields of docs/contract.md §6 and reads back unchanged") {
    Manifest m;
    m.phase = "CHARACTER_BASIC";
    m.date = "2026-11-22";
    m.run_id = "20261123T020000Z-cafe01";
    m.state = RunState::Completed;
    m.records = 3;
    m.chunks = {{"part-00001.jsonl.gz", 2, 100, std::string(64, 'c')},
                {"part-00002.jsonl.gz", 1, 50, std::string(64, 'd')}};
    m.rejected = 1;
    m.started_at = "2026-11-23T02:00:00Z";
    m.finished_at = "2026-11-23T02:05:00Z";
    m.upstream_phase = "OCID_LOOKUP";
    m.upstream_run_id = "20261123T010000Z-000001";

    const nlohmann::json j = pipeline::core::manifest_to_json(m);
    for (const char* key : {"phase", "date", "run_id", "state", "records", "chunks", "rejected", "started_at",
                            "finished_at", "upstream"}) {
        CHECK_MESSAGE(j.contains(key), key);
    }
    CHECK(j["phase"] == "CHARACTER_BASIC");
    CHECK(j["state"] == "COMPLETED");
    CHECK(j["chunks"][0] == nlohmann::json{{"name", "part-00001.jsonl.gz"}, {"records", 2}, {"bytes", 100},
                                           {"sha256", std::string(64, 'c')}});
    CHECK(j["upstream"] == nlohmann::json{{"phase", "OCID_LOOKUP"}, {"run_id", "20261123T010000Z-000001"}});

    const Manifest back = pipeline::core::manifest_from_json(j, "here");
    CHECK(back.phase == m.phase);
    CHECK(back.date == m.date);
    CHECK(back.run_id == m.run_id);
    CHECK(back.state == m.state);
    CHECK(back.records == 3);
    REQUIRE(back.chunks.size() == 2);
    CHECK(back.chunks[1].name == "part-00002.jsonl.gz");
    CHECK(back.chunks[1].bytes == 50);
    CHECK(back.rejected == 1);
    CHECK(back.started_at == m.started_at);
    CHECK(back.finished_at == m.finished_at);
    CHECK(back.upstream_phase == "OCID_LOOKUP");
    CHECK(back.upstream_run_id == m.upstream_run_id);

    // The first phase has no upstream.
    Manifest first = m;
    first.phase = "RANKING_FETCH";
    first.upstream_phase.clear();
    first.upstream_run_id.clear();
    CHECK(pipeline::core::manifest_to_json(first)["upstream"].is_null());
    CHECK(pipeline::core::manifest_from_json(pipeline::core::manifest_to_json(first), "x").upstream_phase.empty());

    // A phase only the config defines, over another such phase, reads back the same.
    Manifest configured = m;
    configured.phase = "GUILD_BASIC";
    configured.upstream_phase = "GUILD_ID";
    const nlohmann::json cj = pipeline::core::manifest_to_json(configured);
    CHECK(cj["phase"] == "GUILD_BASIC");
    CHECK(cj["upstream"]["phase"] == "GUILD_ID");
    const Manifest configured_back = pipeline::core::manifest_from_json(cj, "here");
    CHECK(configured_back.phase == "GUILD_BASIC");
    CHECK(configured_back.upstream_phase == "GUILD_ID");
}

TEST_CASE("a malformed manifest is an error naming where it came from") {
    for (const std::string text : {R"({"phase":"OCID_LOOKUP"})", R"({"phase":"nope","state":"COMPLETED"})",
                                   R"({"phase":"OCID_LOOKUP","state":"DONE","date":"d","run_id":"r","records":1,"chunks":[]})"}) {
        CAPTURE(text);
        try {
            pipeline::core::manifest_from_json(nlohmann::json::parse(text), "memory://sink/x/_manifest.json");
            FAIL("no error");
        } catch (const pipeline::core::Error& e) {
            CHECK(std::string(e.what()).find("memory://sink/x/_manifest.json") != std::string::npos);
            if (text.find("nope") != std::string::npos) {
                CHECK(std::string(e.what()).find("'nope' is not a phase name") != std::string::npos);
            }
        }
    }
    MemorySink sink;
    sink.put("2026-11-22/OCID_LOOKUP/20261123T000000Z-0000a1/_manifest.json", "{broken");
    CHECK_THROWS_AS(
        pipeline::core::read_manifest(sink, "OCID_LOOKUP", "2026-11-22", "20261123T000000Z-0000a1"),
        pipeline::core::Error);
    CHECK_FALSE(
        pipeline::core::read_manifest(sink, "OCID_LOOKUP", "2026-11-22", "20261123T000000Z-0000a2")
            .has_value());
}

TEST_CASE("newest_completed picks the COMPLETED manifest that finished last") {
    MemorySink sink;
    CHECK_FALSE(newest_completed(sink, "OCID_LOOKUP", "2026-11-22").has_value());
    publish_snapshot(sink, ocid_run("20261123T050000Z-eeeeee", RunState::Completed, "2026-11-23T05:10:00Z"));
    publish_snapshot(sink, ocid_run("20261123T010000Z-aaaaaa", RunState::Completed, "2026-11-23T06:10:00Z"));
    publish_snapshot(sink, ocid_run("20261123T070000Z-ffffff", RunState::Failed, "2026-11-23T07:10:00Z"));
    publish_snapshot(sink, ocid_run("20261123T080000Z-000000", RunState::Stopped, "2026-11-23T08:10:00Z"));
    // Newer, but another phase or date.
    SnapshotSpec other_phase = ocid_run("20261123T090000Z-111111", RunState::Completed, "2026-11-23T09:10:00Z");
    other_phase.phase = "CHARACTER_BASIC";
    publish_snapshot(sink, other_phase);
    SnapshotSpec other_date = ocid_run("20261123T090000Z-222222", RunState::Completed, "2026-11-23T09:10:00Z");
    other_date.date = "2026-11-21";
    publish_snapshot(sink, other_date);
    // A run still in progress: chunks without a manifest.
    sink.put("2026-11-22/OCID_LOOKUP/20261123T100000Z-333333/part-00001.jsonl.gz", "partial");

    const std::optional<Manifest> newest = newest_completed(sink, "OCID_LOOKUP", "2026-11-22");
    REQUIRE(newest.has_value());
    CHECK(newest->run_id == "20261123T010000Z-aaaaaa");
    CHECK(newest->state == RunState::Completed);
    CHECK(newest_completed(sink, "CHARACTER_BASIC", "2026-11-22")->run_id == "20261123T090000Z-111111");
    CHECK(newest_completed(sink, "OCID_LOOKUP", "2026-11-21")->run_id == "20261123T090000Z-222222");
    CHECK_FALSE(newest_completed(sink, "ITEM_EQUIPMENT", "2026-11-22").has_value());
}

TEST_CASE("for_each_record reads every record in chunk order, for every compression") {
    for (Compression compression : {Compression::Gzip, Compression::Zstd, Compression::None}) {
        CAPTURE(pipeline::core::compression_name(compression));
        MemorySink sink;
        SnapshotSpec spec;
        spec.compression = compression;
        spec.chunks = {{R"({"n":1})", R"({"n":2})"}, {R"({"n":3})"}, {R"({"n":4})", R"({"n":5})"}};
        const Manifest manifest = publish_snapshot(sink, spec);
        CHECK(all_records(sink, manifest) ==
              std::vector<std::string>{R"({"n":1})", R"({"n":2})", R"({"n":3})", R"({"n":4})", R"({"n":5})"});
    }
}

TEST_CASE("for_each_record detects a chunk whose bytes differ from its manifest entry") {
    MemorySink sink;
    SnapshotSpec spec;
    spec.chunks = {{R"({"n":1})"}, {R"({"n":2})", R"({"n":3})"}};
    const Manifest manifest = publish_snapshot(sink, spec);
    const std::string key = pipeline::core::run_prefix(spec.date, spec.phase, spec.run_id) + "part-00002.jsonl.gz";
    const std::string original = *sink.get(key);

    SUBCASE("same size, one byte changed (sha256 mismatch)") {
        std::string changed = original;
        changed[changed.size() / 2] = static_cast<char>(changed[changed.size() / 2] ^ 1);
        sink.put(key, changed);
    }
    SUBCASE("replaced by another valid chunk of the same records count") {
        sink.put(key, pipeline::tests::compress(Compression::Gzip, "{\"n\":9}\n{\"n\":8}\n"));
    }
    SUBCASE("missing") {
        sink.remove(key);
    }
    std::vector<std::string> seen;
    try {
        for_each_record(sink, manifest, [&](std::string_view r) { seen.emplace_back(r); });
        FAIL("no error");
    } catch (const pipeline::core::Error& e) {
        CHECK(std::string(e.what()).find("part-00002.jsonl.gz") != std::string::npos);
    }
    // Records of the good chunk before it may have been read; none of the bad one.
    CHECK(seen.size() <= 1);
}
