// Parallel compression: a chunk of many blocks (several gzip members, one multi-job zstd frame) holds exactly
// the records in order, as the standard readers (gzip -d, zstd -d, Python's gzip) and our own decompress see it.

#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/snapshot/chunk_writer.hpp"
#include "core/snapshot/codec.hpp"
#include "core/snapshot/stream_encoder.hpp"
#include "core/util/error.hpp"
#include "fakes/memory_sink.hpp"
#include "fakes/reference_codec.hpp"
#include "sinks/local/local_sink.hpp"

using pipeline::core::ChunkEntry;
using pipeline::core::ChunkWriter;
using pipeline::core::Compression;
using pipeline::tests::decompress;
using pipeline::core::sha256_hex;
using pipeline::tests::MemorySink;

namespace {

const std::string k_prefix = "2026-11-30/ITEM_EQUIPMENT/20261201T010000Z-abcdef/";

// Records of about 800 bytes with varied digits, so that thousands span several 1 MiB blocks and zstd jobs.
std::vector<std::string> records(std::size_t count) {
    std::vector<std::string> lines;
    std::uint64_t state = 88172645463325252ULL;
    for (std::size_t i = 0; i < count; ++i) {
        std::string line = R"({"ocid":")" + std::to_string(i) + R"(","data":{"item_name":"아케인셰이드 나이트슈즈","opts":[)";
        for (int k = 0; k < 100; ++k) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            line += (k ? "," : "") + std::string("\"") + std::to_string(state % 100000) + "\"";
        }
        lines.push_back(line + "]}}");
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

// Runs a shell command and returns its standard output.
std::string run(const std::string& command) {
    std::string out;
    FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buffer[65536];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
        out.append(buffer, n);
    }
    CHECK(::pclose(pipe) == 0);
    return out;
}

std::size_t gzip_members(const std::string& data) {
    std::size_t members = 0;
    for (std::size_t at = 0; (at = data.find("\x1f\x8b\x08", at)) != std::string::npos; ++at) {
        ++members; // an upper bound (the magic may occur inside compressed data), enough to see "several"
    }
    return members;
}

} // namespace

TEST_CASE("a multi-block chunk holds exactly the records in order, for standard readers and ours") {
    const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("pipeline-encoder-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    const std::vector<std::string> lines = records(8000); // ~6 MB: six gzip blocks, three zstd jobs
    const std::string expected = joined(lines);
    for (unsigned threads : {1u, 2u, 4u}) {
        for (Compression compression : {Compression::Gzip, Compression::Zstd, Compression::None}) {
            CAPTURE(threads);
            CAPTURE(pipeline::core::compression_name(compression));
            pipeline::sinks::LocalSink sink(dir);
            ChunkWriter writer(sink, k_prefix, compression, 1, threads);
            for (const std::string& line : lines) {
                writer.add(line);
            }
            const std::optional<ChunkEntry> entry = writer.commit();
            REQUIRE(entry.has_value());
            const std::filesystem::path file = dir / (k_prefix + entry->name);
            const std::optional<std::string> stored = sink.get(k_prefix + entry->name);
            REQUIRE(stored.has_value());
            CHECK(entry->bytes == stored->size());
            CHECK(entry->sha256 == sha256_hex(*stored));
            CHECK(entry->records == lines.size());
            CHECK(decompress(compression, *stored, entry->name) == expected);
            if (compression == Compression::Gzip) {
                CHECK(gzip_members(*stored) >= 5);
                CHECK(run("gzip -dc '" + file.string() + "'") == expected);
                CHECK(run("python3 -c 'import gzip,sys; sys.stdout.buffer.write(gzip.open(sys.argv[1]).read())' '" +
                          file.string() + "'") == expected);
            } else if (compression == Compression::Zstd) {
                CHECK(run("zstd -dc -q '" + file.string() + "'") == expected);
                // One frame: the frame header magic appears once at the start and the CLI lists one frame.
                CHECK(run("zstd -lv '" + file.string() + "' | grep -c '^# Zstandard Frames: *1$' || true") == "1\n");
            }
            std::filesystem::remove(file);
        }
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("chunks after the first start new streams: every chunk decompresses alone") {
    for (Compression compression : {Compression::Gzip, Compression::Zstd}) {
        CAPTURE(pipeline::core::compression_name(compression));
        MemorySink sink;
        ChunkWriter writer(sink, k_prefix, compression, 1, 2);
        const std::vector<std::string> lines = records(1200);
        std::vector<ChunkEntry> entries;
        for (std::size_t i = 0; i < lines.size(); ++i) {
            writer.add(lines[i]);
            if ((i + 1) % 500 == 0) {
                entries.push_back(*writer.commit());
            }
        }
        entries.push_back(*writer.commit());
        REQUIRE(entries.size() == 3);
        std::string all;
        for (const ChunkEntry& e : entries) {
            all += decompress(compression, *sink.get(k_prefix + e.name), e.name);
        }
        CHECK(all == joined(lines));
    }
}

TEST_CASE("a sink failure during streaming loses only that chunk, and the next commit says so") {
    MemorySink sink;
    sink.fail_put(1, "No space left on device");
    ChunkWriter writer(sink, k_prefix, Compression::Gzip, 1, 2);
    for (const std::string& line : records(10)) {
        writer.add(line);
    }
    CHECK_THROWS_AS(writer.commit(), pipeline::core::Error);
    CHECK(sink.list(k_prefix).empty());
    // The writer carries on with the same number for the next chunk.
    writer.add(R"({"a":1})");
    const std::optional<ChunkEntry> next = writer.commit();
    REQUIRE(next.has_value());
    CHECK(next->name == "part-00001.jsonl.gz");
    CHECK(decompress(Compression::Gzip, *sink.get(k_prefix + next->name), next->name) == "{\"a\":1}\n");
}

TEST_CASE("compression_threads: 0 means one per core") {
    CHECK(pipeline::core::compression_threads(3) == 3);
    CHECK(pipeline::core::compression_threads(0) >= 1);
}
