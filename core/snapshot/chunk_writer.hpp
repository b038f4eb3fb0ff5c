#pragma once
// Groups records into chunks: compresses as records arrive, publishes a whole chunk through the sink.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "core/snapshot/codec.hpp"
#include "core/snapshot/sink.hpp"
#include "core/snapshot/snapshot.hpp"

namespace pipeline::core {

/// Builds part-NNNNN chunks of one run. Not thread-safe.
class ChunkWriter {
  public:
    /// Chunks go under `prefix` (a run_prefix), numbered from `next_index`.
    ChunkWriter(Sink& sink, std::string prefix, Compression compression, std::size_t next_index);

    /// Adds one record (a JSON text without newline) to the open chunk.
    void add(std::string_view record);
    /// Records in the open chunk.
    std::uint64_t buffered() const { return m_records; }
    /// Publishes the open chunk (nothing when empty) and returns its manifest entry. Throws core::Error; the
    /// chunk then stays whole, and the next commit() publishes it again.
    std::optional<ChunkEntry> commit();

  private:
    Sink& m_sink;
    std::string m_prefix;
    Compression m_compression;
    std::size_t m_next_index;
    std::unique_ptr<Compressor> m_compressor;
    std::uint64_t m_records = 0;
    std::optional<std::string> m_finished; ///< the compressed chunk once finished, until published
};

} // namespace pipeline::core
