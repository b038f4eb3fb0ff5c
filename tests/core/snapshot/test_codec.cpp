// Reading chunk encodings: the streaming Decompressor on gzip / zstd / none streams of reference encoders,
// whole or fed piece by piece; corrupt and truncated data; names; SHA-256.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/snapshot/codec.hpp"
#include "core/util/error.hpp"
#include "fakes/reference_codec.hpp"

using pipeline::core::Compression;
using pipeline::core::compression_of;
using pipeline::core::Error;
using pipeline::core::sha256_hex;
using pipeline::tests::decompress;

namespace {

std::string compress(Compression compression, const std::vector<std::string>& pieces) {
    std::string joined;
    for (const std::string& piece : pieces) {
        joined += piece;
    }
    return pipeline::tests::compress(compression, joined);
}

std::string json_lines(std::size_t count) {
    std::string text;
    for (std::size_t i = 0; i < count; ++i) {
        text += R"({"ranking":)" + std::to_string(i) + R"(,"character_name":"캐릭터)" + std::to_string(i * 31) +
                R"(","world_name":"루나"})" + "\n";
    }
    return text;
}

// Bytes that do not compress (a simple LCG), so that outputs span many internal buffers.
std::string noise(std::size_t size) {
    std::string data(size, '\0');
    std::uint32_t state = 12345;
    for (char& c : data) {
        state = state * 1664525U + 1013904223U;
        c = static_cast<char>(state >> 24);
    }
    return data;
}

const std::vector<Compression> k_compressed = {Compression::Gzip, Compression::Zstd};

} // namespace

TEST_CASE("every compression round trips empty, small, large and incompressible data") {
    const std::vector<std::string> inputs = {"", "x", json_lines(3), json_lines(30000), noise(700000)};
    for (Compression compression : {Compression::Gzip, Compression::Zstd, Compression::None}) {
        CAPTURE(pipeline::core::compression_name(compression));
        for (const std::string& input : inputs) {
            CAPTURE(input.size());
            const std::string packed = compress(compression, {input});
            CHECK(decompress(compression, packed, "chunk") == input);
        }
    }
}

TEST_CASE("a stream fed piece by piece decompresses to the same bytes as in one piece") {
    const std::string text = json_lines(5000);
    for (Compression compression : {Compression::Gzip, Compression::Zstd, Compression::None}) {
        CAPTURE(pipeline::core::compression_name(compression));
        const std::string packed = compress(compression, {text});
        const auto decompressor = pipeline::core::make_decompressor(compression);
        std::string out;
        for (std::size_t at = 0; at < packed.size(); at += 37) {
            decompressor->add(std::string_view(packed).substr(at, 37), [&out](std::string_view p) { out += p; });
        }
        decompressor->finish();
        CHECK(out == text);
    }
}

TEST_CASE("two gzip members one after another read as one stream") {
    const std::string first = json_lines(10);
    const std::string second = json_lines(20);
    CHECK(decompress(Compression::Gzip, compress(Compression::Gzip, {first}) + compress(Compression::Gzip, {second})) ==
          first + second);
}

TEST_CASE("garbage, empty and truncated data are errors naming the chunk") {
    const std::string text = json_lines(200);
    for (Compression compression : k_compressed) {
        CAPTURE(pipeline::core::compression_name(compression));
        const std::string packed = compress(compression, {text});
        for (const std::string& bad : {std::string(), std::string("not compressed at all"), packed.substr(0, 10),
                                       packed.substr(0, packed.size() / 2), packed.substr(0, packed.size() - 1)}) {
            CAPTURE(bad.size());
            try {
                decompress(compression, bad, "2026-11-22/OCID_LOOKUP/r/part-00003");
                FAIL("no error");
            } catch (const Error& e) {
                CHECK(e.code() == pipeline::core::ExitCode::Failed);
                CHECK(std::string(e.what()).find("part-00003") != std::string::npos);
            }
        }
    }
}

TEST_CASE("a corrupted byte anywhere is an error or changes nothing, never silently different data") {
    const std::string text = json_lines(150);
    for (Compression compression : k_compressed) {
        CAPTURE(pipeline::core::compression_name(compression));
        const std::string packed = compress(compression, {text});
        std::size_t detected = 0;
        for (std::size_t at = 0; at < packed.size(); ++at) {
            std::string corrupt = packed;
            corrupt[at] = static_cast<char>(corrupt[at] ^ 0xff);
            try {
                const std::string out = decompress(compression, corrupt, "chunk");
                CAPTURE(at);
                CHECK(out == text); // only header fields nobody reads (gzip's mtime, OS) may change unnoticed
            } catch (const Error&) {
                ++detected;
            }
        }
        CHECK(detected + 10 >= packed.size());
    }
}

TEST_CASE("compression_of reads the compression from a chunk name") {
    CHECK(compression_of("part-00001.jsonl.gz") == Compression::Gzip);
    CHECK(compression_of("part-00001.jsonl.zst") == Compression::Zstd);
    CHECK(compression_of("part-00001.jsonl") == Compression::None);
    CHECK_FALSE(compression_of("_manifest.json").has_value());
    CHECK_FALSE(compression_of("part-00001.gz").has_value());
    CHECK_FALSE(compression_of("_rejects.jsonl").has_value());
    CHECK(pipeline::core::compression_extension(Compression::Zstd) == ".jsonl.zst");
}

TEST_CASE("sha256_hex gives the standard lower-case digests") {
    CHECK(sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK(sha256_hex(std::string("a\0b", 3)) != sha256_hex("a"));
}
