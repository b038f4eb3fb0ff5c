#include "core/snapshot/chunk_writer.hpp"

#include "core/util/error.hpp"

namespace pipeline::core {

ChunkWriter::ChunkWriter(Sink& sink, std::string prefix, Compression compression, std::size_t next_index,
                         unsigned threads)
    : m_sink(sink), m_prefix(std::move(prefix)), m_compression(compression), m_next_index(next_index),
      m_encoder(make_stream_encoder(compression, threads, [this](std::string_view bytes) { emit(bytes); })) {}

void ChunkWriter::emit(std::string_view bytes) {
    m_object->write(bytes);
    m_sha256.update(bytes);
    m_bytes += bytes.size();
}

void ChunkWriter::add(std::string_view record) {
    if (m_lost) {
        ++m_records; // counted so that commit() reports the loss; nothing reaches the sink any more
        return;
    }
    try {
        if (!m_object) {
            m_object = m_sink.open(m_prefix + chunk_name(m_next_index, m_compression));
        }
        m_encoder->add(record);
        m_encoder->add("\n");
        ++m_records;
    } catch (const std::exception& e) {
        // Blocks already streamed cannot be taken back: the chunk is gone, its items are fetched again on resume.
        m_lost = e.what();
        ++m_records;
        m_encoder->abandon();
        m_object.reset();
        throw;
    }
}

void ChunkWriter::drop_chunk() {
    m_encoder->abandon();
    m_object.reset(); // an uncommitted object removes its temporary
    m_sha256.hex();
    m_bytes = 0;
    m_records = 0;
}

std::optional<ChunkEntry> ChunkWriter::commit() {
    if (m_records == 0) {
        return std::nullopt;
    }
    const std::string name = chunk_name(m_next_index, m_compression);
    if (m_lost) {
        const std::string cause = *m_lost;
        m_lost.reset();
        drop_chunk();
        throw Error(ExitCode::Failed, "chunk " + m_prefix + name + " was not published: " + cause);
    }
    try {
        m_encoder->finish();
        m_object->commit();
    } catch (...) {
        drop_chunk();
        throw;
    }
    ChunkEntry entry{name, m_records, m_bytes, m_sha256.hex()};
    m_object.reset();
    ++m_next_index;
    m_records = 0;
    m_bytes = 0;
    return entry;
}

} // namespace pipeline::core
