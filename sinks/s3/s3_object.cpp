#include "sinks/s3/s3_object.hpp"

#include "core/util/error.hpp"
#include "sinks/s3/s3_sink.hpp"

namespace pipeline::sinks {

S3Object::S3Object(S3Sink& sink, std::string key)
    : m_sink(sink), m_key(std::move(key)), m_full_key(m_sink.full_key(m_key)) {}

S3Object::~S3Object() {
    if (!m_finished && !m_upload_id.empty()) {
        m_sink.abort_upload(m_full_key, m_upload_id); // only logs when it fails
    }
}

void S3Object::send_part(std::string_view data) {
    try {
        if (m_upload_id.empty()) {
            m_upload_id = m_sink.begin_multipart(m_full_key);
        }
        m_parts_xml += m_sink.upload_part(m_full_key, m_upload_id, ++m_parts, data);
        m_sent_bytes += data.size();
    } catch (const core::Error&) {
        if (!m_upload_id.empty()) {
            m_sink.abort_upload(m_full_key, m_upload_id);
        }
        m_finished = true;
        throw;
    }
}

void S3Object::write(std::string_view data) {
    if (m_finished) {
        throw core::Error(core::ExitCode::Failed, "internal: write to a finished S3 object " + m_full_key);
    }
    m_buffer.append(data);
    // Strictly more than a part: the last part (sent at commit) is then never empty.
    const std::size_t part = m_sink.m_options.part_size_bytes;
    while (m_buffer.size() > part) {
        send_part(std::string_view(m_buffer).substr(0, part));
        m_buffer.erase(0, part);
    }
}

void S3Object::commit() {
    if (m_finished) {
        throw core::Error(core::ExitCode::Failed, "internal: commit of a finished S3 object " + m_full_key);
    }
    if (m_upload_id.empty()) {
        m_finished = true;
        m_sink.put(m_key, m_buffer);
        return;
    }
    send_part(m_buffer);
    try {
        m_sink.complete_multipart(m_full_key, m_upload_id, m_parts_xml, m_sent_bytes);
    } catch (const core::Error&) {
        m_sink.abort_upload(m_full_key, m_upload_id);
        m_finished = true;
        throw;
    }
    m_finished = true;
    m_buffer = std::string();
}

} // namespace pipeline::sinks
