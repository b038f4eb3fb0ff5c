#include "core/snapshot/part_reader.hpp"

#include <algorithm>
#include <memory>

#include "core/snapshot/codec.hpp"
#include "core/util/error.hpp"

namespace pipeline::core {

namespace {

std::string base_name(const std::string& key) {
    const std::size_t slash = key.rfind('/');
    return slash == std::string::npos ? key : key.substr(slash + 1);
}

} // namespace

PartRead read_part(Sink& sink, const std::string& key, const ChunkEntry& entry,
                   const Decompressor::Output& out) {
    PartRead read;
    Sha256 hash;
    const std::unique_ptr<Decompressor> decompressor =
        make_decompressor(compression_of(base_name(key)).value_or(Compression::None));
    std::optional<std::string> decode_problem;
    // One byte more than the manifest says tells "longer" from "as long", without reading an endless file.
    const std::uint64_t limit = entry.bytes == UINT64_MAX ? entry.bytes : entry.bytes + 1;
    const StreamStatus status = sink.stream(key, limit, [&](std::string_view piece) {
        const std::uint64_t before = read.bytes;
        read.bytes += piece.size();
        hash.update(piece);
        if (decode_problem || before >= entry.bytes) {
            return; // keep hashing: a wrong size or sha256 is the better explanation
        }
        try {
            decompressor->add(piece.substr(0, static_cast<std::size_t>(std::min<std::uint64_t>(
                                                  piece.size(), entry.bytes - before))),
                              out);
        } catch (const Error& e) {
            decode_problem = e.what();
        }
    });
    if (status == StreamStatus::Missing) {
        read.problem = "missing (listed in the manifest)";
        return read;
    }
    if (status == StreamStatus::NotAFile) {
        read.problem = "not a regular file (a FIFO, a device or a symbolic link); nothing read";
        return read;
    }
    read.sha256 = hash.hex();
    if (read.bytes > entry.bytes) {
        read.problem = "longer than the " + std::to_string(entry.bytes) + " bytes the manifest says";
        return read;
    }
    if (!decode_problem) {
        try {
            decompressor->finish();
        } catch (const Error& e) {
            decode_problem = e.what();
        }
    }
    if (read.bytes != entry.bytes) {
        read.problem =
            "size " + std::to_string(read.bytes) + " bytes, manifest says " + std::to_string(entry.bytes);
    } else if (read.sha256 != entry.sha256) {
        read.problem = "sha256 " + read.sha256 + " does not match the manifest's " + entry.sha256;
    } else if (decode_problem) {
        read.problem = *decode_problem;
    }
    return read;
}

} // namespace pipeline::core
