#pragma once
// Groups records into chunks and streams each chunk, compressed on worker threads, into its sink object as
// blocks finish; a chunk is published whole at commit (see docs/compression.md).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/snapshot/codec.hpp"
#include "core/snapshot/sink.hpp"
#include "core/snapshot/snapshot.hpp"
#include "core/snapshot/stream_encoder.hpp"

namespace pipeline::core {

/// Builds part-NNNNN chunks of one run. Not thread-safe (it owns compression workers of its own).
class ChunkWriter {
  public:
    /// Chunks go under `prefix` (a run_prefix), numbered from `next_index`, compressed by `threads` workers.
    ChunkWriter(Sink& sink, std::string prefix, Compression compression, std::size_t next_index,
                unsigned threads = 1);

    /// Adds one record (a JSON text without newline) to the open chunk. Throws core::Error when the sink
    /// fails; the open chunk is then lost (never published) and the next commit() says so.
    void add(std::string_view record);
    /// Records in the open chunk.
    std::uint64_t buffered() const { return m_records; }
    /// Publishes the open chunk (nothing when empty) and returns its manifest entry. Throws core::Error when
    /// the sink fails now or failed earlier in this chunk; nothing of the chunk is published then, and the
    /// writer starts the next chunk afresh under the same number.
    std::optional<ChunkEntry> commit();

  private:
    void emit(std::string_view bytes);
    void drop_chunk();

    Sink& m_sink;
    std::string m_prefix;
    Compression m_compression;
    std::size_t m_next_index;
    std::unique_ptr<StreamEncoder> m_encoder;
    std::unique_ptr<SinkObject> m_object; ///< the open chunk's unpublished object
    Sha256 m_sha256;
    std::uint64_t m_bytes = 0;
    std::uint64_t m_records = 0;
    std::optional<std::string> m_lost; ///< why the open chunk can no longer be published
};

} // namespace pipeline::core
