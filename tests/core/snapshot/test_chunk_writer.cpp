// ChunkWriter: part-NNNNN names, manifest entries that match what the sink holds, every compression.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/snapshot/chunk_writer.hpp"
#include "core/snapshot/codec.hpp"
#include "core/util/error.hpp"
#include "fakes/memory_sink.hpp"
#include "fakes/reference_codec.hpp"

using pipeline::core::ChunkEntry;
using pipeline::core::ChunkWriter;
using pipeline::core::Compression;
using pipeline::tests::decompress;
using pipeline::core::sha256_hex;
using pipeline::tests::MemorySink;

namespace {

const std::string k_prefix = "2026-11-22/RANKING_FETCH/20261123T010000Z-abcdef/";

std::vector<std::string> sample_lines(std::size_t count, std::size_t first = 0) {
    std::vector<std::string> lines;
    for (std::size_t i = first; i < first + count; ++i) {
        lines.push_back(R"({"ranking":)" + std::to_string(i + 1) + R"(,"character_name":"이름)" + std::to_string(i) +
                        R"(","world_name":"스카니아","character_exp":)" + std::to_string(i * 7919) + "}");
    }
    return lines;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string text;
    for (const std::string& line : lines) {
        text += line + "\n";
    }
    return text;
}

// Checks that `entry` describes exactly what the sink stores and that it holds `lines`.
void check_chunk(MemorySink& sink, const ChunkEntry& entry, Compression compression,
                 const std::vector<std::string>& lines) {
    const std::optional<std::string> stored = sink.get(k_prefix + entry.name);
    REQUIRE(stored.has_value());
    CHECK(entry.records == lines.size());
    CHECK(entry.bytes == stored->size());
    CHECK(entry.sha256 == sha256_hex(*stored));
    CHECK(decompress(compression, *stored, entry.name) == joined(lines));
}

} // namespace

TEST_CASE("chunks are named part-00001 onwards and match what the sink stored, for every compression") {
    const std::vector<std::pair<Compression, std::string>> cases = {
        {Compression::Gzip, ".jsonl.gz"}, {Compression::Zstd, ".jsonl.zst"}, {Compression::None, ".jsonl"}};
    for (const auto& [compression, extension] : cases) {
        CAPTURE(extension);
        MemorySink sink;
        ChunkWriter writer(sink, k_prefix, compression, 1);
        const std::vector<std::string> first = sample_lines(3);
        for (const std::string& line : first) {
            writer.add(line);
        }
        CHECK(writer.buffered() == 3);
        const std::optional<ChunkEntry> one = writer.commit();
        REQUIRE(one.has_value());
        CHECK(one->name == "part-00001" + extension);
        CHECK(writer.buffered() == 0);
        check_chunk(sink, *one, compression, first);

        // The next chunk starts afresh: it holds only its own records.
        const std::vector<std::string> second = sample_lines(2, 3);
        for (const std::string& line : second) {
            writer.add(line);
        }
        const std::optional<ChunkEntry> two = writer.commit();
        REQUIRE(two.has_value());
        CHECK(two->name == "part-00002" + extension);
        check_chunk(sink, *two, compression, second);
        CHECK(sink.list(k_prefix) ==
              std::vector<std::string>{k_prefix + "part-00001" + extension, k_prefix + "part-00002" + extension});
    }
}

TEST_CASE("a large chunk round trips through every compression") {
    for (Compression compression : {Compression::Gzip, Compression::Zstd, Compression::None}) {
        CAPTURE(pipeline::core::compression_name(compression));
        MemorySink sink;
        ChunkWriter writer(sink, k_prefix, compression, 1);
        const std::vector<std::string> lines = sample_lines(20000);
        for (const std::string& line : lines) {
            writer.add(line);
        }
        const std::optional<ChunkEntry> entry = writer.commit();
        REQUIRE(entry.has_value());
        check_chunk(sink, *entry, compression, lines);
    }
}

TEST_CASE("committing an empty chunk publishes nothing") {
    MemorySink sink;
    ChunkWriter writer(sink, k_prefix, Compression::Gzip, 1);
    CHECK_FALSE(writer.commit().has_value());
    CHECK(sink.puts() == 0);
    writer.add("{}");
    REQUIRE(writer.commit().has_value());
    CHECK_FALSE(writer.commit().has_value());
    CHECK(sink.puts() == 1);
}

TEST_CASE("numbering continues from the index given (a resumed run)") {
    MemorySink sink;
    ChunkWriter writer(sink, k_prefix, Compression::Zstd, 7);
    writer.add(R"({"a":1})");
    const std::optional<ChunkEntry> entry = writer.commit();
    REQUIRE(entry.has_value());
    CHECK(entry->name == "part-00007.jsonl.zst");
    CHECK(sink.get(k_prefix + "part-00007.jsonl.zst").has_value());
}

TEST_CASE("a failed put throws and publishes nothing") {
    MemorySink sink;
    sink.fail_put(1, "No space left on device");
    ChunkWriter writer(sink, k_prefix, Compression::Gzip, 1);
    writer.add(R"({"a":1})");
    try {
        writer.commit();
        FAIL("no error");
    } catch (const pipeline::core::Error& e) {
        CHECK(std::string(e.what()).find("No space left on device") != std::string::npos);
        CHECK(std::string(e.what()).find("part-00001.jsonl.gz") != std::string::npos);
    }
    CHECK(sink.list(k_prefix).empty());
}

// The phase driver commits once more after a failure to keep what was fetched (phase_runner.cpp, run_phase):
// whatever that second commit publishes must be a valid chunk that its entry describes.
TEST_CASE("a commit retried after a failed put never publishes a chunk its entry does not describe") {
    for (Compression compression : {Compression::Gzip, Compression::Zstd, Compression::None}) {
        CAPTURE(pipeline::core::compression_name(compression));
        MemorySink sink;
        sink.fail_put(1);
        ChunkWriter writer(sink, k_prefix, compression, 1);
        const std::vector<std::string> lines = sample_lines(5);
        for (const std::string& line : lines) {
            writer.add(line);
        }
        CHECK_THROWS_AS(writer.commit(), pipeline::core::Error);
        std::optional<ChunkEntry> retried;
        try {
            retried = writer.commit();
        } catch (const pipeline::core::Error&) {
            // Refusing is acceptable; publishing a broken chunk is not.
        }
        if (retried) {
            check_chunk(sink, *retried, compression, lines);
        }
    }
}
