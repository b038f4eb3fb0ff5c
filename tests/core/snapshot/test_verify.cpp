// verify_phase and check_part against an in-memory sink; the streaming decompressor on split input.
#include <doctest/doctest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "core/snapshot/codec.hpp"
#include "core/snapshot/decompressor.hpp"
#include "core/snapshot/verify.hpp"
#include "fakes/memory_sink.hpp"
#include "fakes/reference_codec.hpp"
#include "fakes/snapshot_builder.hpp"

using namespace pipeline;
using core::Compression;
using core::VerifyStatus;

namespace {

// Feeds `data` one byte at a time, the worst split a stream can see.
std::string decompress_bytewise(Compression compression, const std::string& data) {
    const auto decompressor = core::make_decompressor(compression);
    std::string out;
    for (const char c : data) {
        decompressor->add(std::string_view(&c, 1), [&out](std::string_view piece) { out += piece; });
    }
    decompressor->finish();
    return out;
}

std::string compress(Compression compression, const std::string& text) {
    return pipeline::tests::compress(compression, text);
}

tests::SnapshotSpec spec_of(Compression compression) {
    tests::SnapshotSpec spec;
    spec.compression = compression;
    spec.chunks = {{R"({"a":1})", R"({"a":2})"}, {R"({"a":3})"}};
    return spec;
}

} // namespace

TEST_CASE("the streaming decompressor reads split input, several gzip members, and finds truncation") {
    const std::string text(100000, 'x');
    for (const Compression c : {Compression::Gzip, Compression::Zstd, Compression::None}) {
        CHECK(decompress_bytewise(c, compress(c, text)) == text);
    }
    const std::string two_members = compress(Compression::Gzip, "ab\n") + compress(Compression::Gzip, "cd\n");
    CHECK(decompress_bytewise(Compression::Gzip, two_members) == "ab\ncd\n");
    for (const Compression c : {Compression::Gzip, Compression::Zstd}) {
        const std::string whole = compress(c, text);
        CHECK_THROWS_WITH(decompress_bytewise(c, whole.substr(0, whole.size() - 3)), doctest::Contains("truncated"));
        CHECK_THROWS_WITH(decompress_bytewise(c, ""), doctest::Contains("truncated"));
        CHECK_THROWS_WITH(decompress_bytewise(c, whole + "junk"), doctest::Contains("corrupt"));
    }
}

TEST_CASE("verify: a sound snapshot is OK with its counts, in every compression") {
    for (const Compression c : {Compression::Gzip, Compression::Zstd, Compression::None}) {
        tests::MemorySink sink;
        tests::publish_snapshot(sink, spec_of(c));
        const core::VerifyResult result = core::verify_phase(sink, "RANKING_FETCH", "2026-11-22");
        CHECK(core::verify_line(result) == "OK RANKING_FETCH 20261123T010000Z-000001 3 records in 2 chunks");
    }
    // A phase only the config defines is verified the same way.
    tests::MemorySink sink;
    tests::SnapshotSpec skill = spec_of(Compression::Zstd);
    skill.phase = "CHARACTER_SKILL";
    skill.upstream_phase = "OCID_LOOKUP";
    tests::publish_snapshot(sink, skill);
    const core::VerifyResult result = core::verify_phase(sink, "CHARACTER_SKILL", "2026-11-22");
    CHECK(result.phase == "CHARACTER_SKILL");
    CHECK(core::verify_line(result) == "OK CHARACTER_SKILL 20261123T010000Z-000001 3 records in 2 chunks");
    CHECK(core::verify_line(core::verify_phase(sink, "CHARACTER_STAT", "2026-11-22")) == "MISSING CHARACTER_STAT");
}

TEST_CASE("verify: the newest run is the one checked; no run is MISSING") {
    tests::MemorySink sink;
    CHECK(core::verify_line(core::verify_phase(sink, "OCID_LOOKUP", "2026-11-22")) == "MISSING OCID_LOOKUP");
    tests::SnapshotSpec older = spec_of(Compression::Gzip);
    older.run_id = "20261122T010000Z-000001";
    tests::publish_snapshot(sink, older);
    tests::publish_snapshot(sink, spec_of(Compression::Gzip));
    sink.remove("2026-11-22/RANKING_FETCH/20261122T010000Z-000001/_manifest.json"); // the older one is broken
    CHECK(core::verify_phase(sink, "RANKING_FETCH", "2026-11-22").status == VerifyStatus::Ok);
}

TEST_CASE("verify: each kind of damage names the file") {
    const std::string prefix = "2026-11-22/RANKING_FETCH/20261123T010000Z-000001/";
    struct Damage {
        const char* what;
        void (*apply)(tests::MemorySink&, const std::string&);
        const char* line;
    };
    const Damage damages[] = {
        {"flipped byte",
         [](tests::MemorySink& s, const std::string& p) {
             std::string data = *s.get(p + "part-00001.jsonl.gz");
             data[data.size() / 2] ^= 1;
             s.put(p + "part-00001.jsonl.gz", data);
         },
         "part-00001.jsonl.gz: sha256 "},
        {"missing part", [](tests::MemorySink& s, const std::string& p) { s.remove(p + "part-00002.jsonl.gz"); },
         "part-00002.jsonl.gz: missing"},
        {"extra part",
         [](tests::MemorySink& s, const std::string& p) { s.put(p + "part-00003.jsonl.gz", *s.get(p + "part-00001.jsonl.gz")); },
         "part-00003.jsonl.gz: not listed in the manifest"},
        {"lying total",
         [](tests::MemorySink& s, const std::string& p) {
             nlohmann::json manifest = nlohmann::json::parse(*s.get(p + "_manifest.json"));
             manifest["records"] = 4;
             s.put(p + "_manifest.json", manifest.dump());
             s.put(core::current_key("2026-11-22", "RANKING_FETCH"), manifest.dump()); // kept in step
         },
         "_manifest.json: records says 4, the chunks hold 3"},
    };
    for (const Damage& damage : damages) {
        CAPTURE(damage.what);
        tests::MemorySink sink;
        tests::publish_snapshot(sink, spec_of(Compression::Gzip));
        damage.apply(sink, prefix);
        const core::VerifyResult result = core::verify_phase(sink, "RANKING_FETCH", "2026-11-22");
        CHECK(result.status == VerifyStatus::Bad);
        CHECK(core::verify_line(result).starts_with(std::string("BAD RANKING_FETCH 20261123T010000Z-000001 ") + damage.line));
    }
}

TEST_CASE("check_part: lines that are not JSON objects, and a count that differs") {
    tests::MemorySink sink;
    const auto entry_for = [](const std::string& data, std::uint64_t records) {
        return core::ChunkEntry{"part-00001.jsonl", records, data.size(), core::sha256_hex(data)};
    };
    for (const auto& [text, problem] : std::initializer_list<std::pair<std::string, std::string>>{
             {"{\"a\":1}\n[1]\n", "line 2 is not a JSON object"},
             {"{\"a\":1}\n{\"a\":\n", "line 2 is not valid JSON"},
             {"{\"a\":1}\n\n", "line 2 is not valid JSON"},
             {"{\"a\":1}\n{\"b\":2}", "holds 2 records, manifest says 3"}}) {
        sink.put("k/part-00001.jsonl", text);
        const core::PartCheck check = core::check_part(sink, "k/part-00001.jsonl", entry_for(text, 3));
        CHECK(check.problem.value_or("") == problem);
    }
}
