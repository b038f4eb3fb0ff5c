#pragma once
// An S3 object written piece by piece: at most one part in memory, uploaded part by part once it outgrows one.

#include <string>
#include <string_view>

#include "core/snapshot/sink.hpp"

namespace pipeline::sinks {

class S3Sink;

/// Holds up to one part (S3SinkOptions::part_size_bytes); a small object goes up as one PUT at commit, a
/// larger one as a multipart upload started when the first part is full and completed at commit, so a reader
/// never sees part of it. Destroyed uncommitted, it aborts its upload. Failures throw core::Error (exit 1).
class S3Object final : public core::SinkObject {
  public:
    /// `key` is relative to the sink's prefix.
    S3Object(S3Sink& sink, std::string key);
    ~S3Object() override;
    S3Object(const S3Object&) = delete;
    S3Object& operator=(const S3Object&) = delete;

    void write(std::string_view data) override;
    void commit() override;

  private:
    void send_part(std::string_view data);

    S3Sink& m_sink;
    std::string m_key;      ///< relative to the sink's prefix
    std::string m_full_key; ///< the object's key in the bucket
    std::string m_buffer;
    std::string m_upload_id; ///< empty until the object outgrows one part
    std::string m_parts_xml;
    int m_parts = 0;
    std::uint64_t m_sent_bytes = 0; ///< bytes of the parts sent so far: the size HEAD must find after a lost completion
    bool m_finished = false; ///< committed, or aborted after a failure
};

} // namespace pipeline::sinks
