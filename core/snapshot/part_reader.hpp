#pragma once
// Reading one published part against its manifest entry, as a stream: what verify and cat share.

#include <cstdint>
#include <optional>
#include <string>

#include "core/snapshot/decompressor.hpp"
#include "core/snapshot/sink.hpp"
#include "core/snapshot/snapshot.hpp"

namespace pipeline::core {

/// What streaming one part found.
struct PartRead {
    std::uint64_t bytes = 0;            ///< bytes read: never more than the entry's bytes + 1
    std::string sha256;                 ///< of the bytes read (empty when nothing could be read)
    std::optional<std::string> problem; ///< the first problem, worded for a BAD line; nullopt when sound
};

/// Reads the part `key` once: nothing of a key that is not a regular file, and never more than `entry.bytes`
/// + 1 bytes, so a FIFO or an endless file cannot hold a reader; hashes what it reads, decompresses the first
/// `entry.bytes` of it as the part's name says, and hands the decompressed bytes to `out` as they come (so a
/// part whose sha256 turns out wrong has been handed on by then). Returns the problem that explains most:
/// missing, not a regular file, longer or shorter than the manifest says, another sha256, or corrupt or
/// truncated data. Throws core::Error only when the sink itself fails, and whatever `out` throws.
PartRead read_part(Sink& sink, const std::string& key, const ChunkEntry& entry,
                   const Decompressor::Output& out);

} // namespace pipeline::core
