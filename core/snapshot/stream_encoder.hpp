#pragma once
// Parallel streaming compression of one chunk at a time: gzip as independent members compressed by worker
// threads, zstd as one frame compressed by libzstd's own workers, plain text copied. Output comes out in input
// order through a callback, as soon as it is ready, so that a chunk never has to be held whole in memory.

#include <cstddef>
#include <functional>
#include <memory>
#include <string_view>

#include "core/config/config.hpp"

namespace pipeline::core {

/// Receives compressed bytes in order; may throw (a sink failure), which the encoder passes on.
using EncodedSink = std::function<void(std::string_view)>;

/// Compresses a sequence of streams (one per chunk). Used by one thread; owns its worker threads.
class StreamEncoder {
  public:
    virtual ~StreamEncoder() = default;
    /// Adds bytes to the current stream; may emit finished output. Throws core::Error (library or sink failure).
    virtual void add(std::string_view data) = 0;
    /// Ends the current stream, emitting everything that is left; the next add() starts a new stream.
    virtual void finish() = 0;
    /// Drops the current stream (after a failure) without emitting more; the next add() starts afresh.
    virtual void abandon() = 0;
};

/// Input bytes per gzip member: large enough that the 32 KiB window loses almost nothing at the boundaries,
/// small enough that `threads + 2` blocks in flight stay a few MiB.
inline constexpr std::size_t k_gzip_block_bytes = 1u << 20;

/// Input bytes per libzstd worker job (its minimum is 512 KiB); bounds zstd's buffers to a few MiB a worker.
inline constexpr std::size_t k_zstd_job_bytes = 2u << 20;

/// An encoder for `compression` (gzip: libdeflate level 6; zstd: level 3 with a checksum) using `threads`
/// workers (at least 1), emitting through `out`.
std::unique_ptr<StreamEncoder> make_stream_encoder(Compression compression, unsigned threads, EncodedSink out);

/// The number of compression threads `sink.compression_threads` means: the value itself, or the number of
/// cores when it is 0.
unsigned compression_threads(int configured);

} // namespace pipeline::core
