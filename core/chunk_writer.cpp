#include "core/chunk_writer.hpp"

namespace pipeline::core {

ChunkWriter::ChunkWriter(Sink& sink, std::string prefix, Compression compression, std::size_t next_index)
    : m_sink(sink), m_prefix(std::move(prefix)), m_compression(compression), m_next_index(next_index),
      m_compressor(make_compressor(compression)) {}

void ChunkWriter::add(std::string_view record) {
    m_compressor->add(record);
    m_compressor->add("\n");
    ++m_records;
}

std::optional<ChunkEntry> ChunkWriter::commit() {
    if (m_records == 0) {
        return std::nullopt;
    }
    const std::string data = m_compressor->finish();
    ChunkEntry entry{chunk_name(m_next_index, m_compression), m_records, data.size(), sha256_hex(data)};
    m_sink.put(m_prefix + entry.name, data);
    ++m_next_index;
    m_records = 0;
    m_compressor = make_compressor(m_compression);
    return entry;
}

} // namespace pipeline::core
