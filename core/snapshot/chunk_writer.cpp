#include "core/snapshot/chunk_writer.hpp"

#include "core/util/error.hpp"

namespace pipeline::core {

ChunkWriter::ChunkWriter(Sink& sink, std::string prefix, Compression compression, std::size_t next_index)
    : m_sink(sink), m_prefix(std::move(prefix)), m_compression(compression), m_next_index(next_index),
      m_compressor(make_compressor(compression)) {}

void ChunkWriter::add(std::string_view record) {
    if (m_finished) {
        throw Error(ExitCode::Failed, "internal: record added to a chunk whose publication failed");
    }
    m_compressor->add(record);
    m_compressor->add("\n");
    ++m_records;
}

std::optional<ChunkEntry> ChunkWriter::commit() {
    if (m_records == 0) {
        return std::nullopt;
    }
    // Finish once: a failed put leaves the complete chunk here, so that a later commit() retries it whole.
    if (!m_finished) {
        m_finished = m_compressor->finish();
    }
    ChunkEntry entry{chunk_name(m_next_index, m_compression), m_records, m_finished->size(), sha256_hex(*m_finished)};
    m_sink.put(m_prefix + entry.name, *m_finished);
    ++m_next_index;
    m_records = 0;
    m_finished.reset();
    m_compressor = make_compressor(m_compression);
    return entry;
}

} // namespace pipeline::core
