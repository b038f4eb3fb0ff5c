#pragma once
// The S3 sink: objects in a bucket under a prefix, over path-style URLs signed with AWS SigV4.

#include <chrono>
#include <functional>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/fetch/backoff.hpp"
#include "core/snapshot/sink.hpp"
#include "sinks/s3/http_client.hpp"

namespace pipeline::sinks {

/// Where and how an S3Sink writes; the secrets are the values, not the names of their variables.
struct S3SinkOptions {
    std::string endpoint; ///< "http://127.0.0.1:9000"; a trailing '/' is ignored
    std::string bucket;
    std::string prefix; ///< may be empty; leading and trailing '/' are ignored
    std::string region = "us-east-1";
    std::string access_key;
    std::string secret_key;
    std::uint64_t multipart_threshold_bytes = 64u << 20; ///< larger objects go up as a multipart upload
    std::uint64_t part_size_bytes = 16u << 20;           ///< size of each part but the last (S3: >= 5 MiB)
    int max_attempts = 5;                                ///< tries of one request before it fails
    int max_keys = 1000;                                 ///< keys per ListObjectsV2 page
    std::chrono::milliseconds backoff_base{200};         ///< first retry waits up to this long (full jitter)
    std::chrono::milliseconds backoff_max{5000};         ///< no single wait is longer
    std::chrono::milliseconds timeout{60000};            ///< limit of one HTTP request
};

/// Stores objects in S3 (or any S3-compatible server). A put is atomic for readers: one PUT, or a
/// multipart upload that only becomes visible when completed. Transient failures (5xx, SlowDown, timeouts,
/// resets, refused connections) are retried with backoff; the rest fail at once. Failures throw core::Error
/// (exit 1) naming method, bucket, key, endpoint and the server's error code, never a secret.
class S3Sink final : public core::Sink {
  public:
    /// Keeps the options; makes no request yet.
    explicit S3Sink(S3SinkOptions options);

    void put(const std::string& key, std::string_view data) override;
    /// Streams the object: held in memory up to one part (part_size_bytes) and sent as one PUT at commit, or
    /// uploaded part by part as it grows and completed at commit (see S3Object).
    std::unique_ptr<core::SinkObject> open(const std::string& key) override;
    std::optional<std::string> get(const std::string& key) override;
    /// One GET whose body is handed on as it arrives (a bounded buffer, never the whole object), for at most
    /// `max_bytes` (a Range request, and cut off here should the server send more); a broken transfer is
    /// retried from where it stopped.
    core::StreamStatus stream(const std::string& key, std::uint64_t max_bytes,
                              const std::function<void(std::string_view)>& consume) override;
    std::vector<std::string> list(const std::string& prefix) override;
    void remove(const std::string& key) override;
    void clean_temporaries(const std::string& prefix) override;
    /// DeleteObjects in batches of up to 1000 keys; a key the server could not delete fails the call, naming it.
    void remove_many(const std::vector<std::string>& keys) override;
    /// The incomplete multipart uploads under `prefix` started at least a day ago (none when the server cannot
    /// list uploads).
    std::vector<core::Temporary> stale_temporaries(const std::string& prefix) override;
    /// Aborts one incomplete multipart upload.
    void remove_temporary(const core::Temporary& temporary) override;
    std::string describe() const override;

  private:
    friend class S3Object; // streams its parts through the multipart steps below

    /// One request to send: `key` is the full object key (empty for the bucket), `query` a canonical
    /// query string (sorted, encoded, no '?'), `about` what messages name for a bucket request.
    struct Call {
        std::string method = {};
        std::string key = {};
        std::string query = {};
        std::string_view body = {};
        std::string content_type = {};
        std::string about = {};
        std::string content_md5 = {}; ///< base64 MD5 of the body, which DeleteObjects requires
        /// Adjusts each attempt's request (a streamed GET asks for the range after what it already has).
        std::function<void(HttpRequest&)> prepare = {};
        /// A streamed GET's reader (HttpRequest::on_body); the answer then also ends at a 416 or a stop.
        std::function<bool(long, std::string_view)> on_body = {};
    };

    /// A canonical query string: parameters sorted by name, values encoded, "name=" for empty values.
    static std::string make_query(std::vector<std::pair<std::string, std::string>> params);

    std::string full_key(const std::string& key) const;
    HttpResponse send(const Call& call, bool missing_ok);
    std::string failure(const Call& call, const std::string& cause) const;
    void put_multipart(const std::string& key, std::string_view data);
    std::string begin_multipart(const std::string& key); // returns the upload id
    std::string upload_part(const std::string& key, const std::string& upload_id, int part_number,
                            std::string_view data); // returns the part's <Part> element
    /// Completes an upload of `size` bytes from its <Part> elements; a NoSuchUpload answer is success when
    /// HEAD finds the object complete (a retry after a lost answer). Throws on failure.
    void complete_multipart(const std::string& key, const std::string& upload_id, const std::string& parts_xml,
                            std::uint64_t size);
    /// True when HEAD shows `key` with `size` bytes and, when the server uses AWS's multipart ETag form,
    /// the ETag `etag` ("" when unknown).
    bool object_is_complete(const std::string& key, std::uint64_t size, const std::string& etag);
    void abort_upload(const std::string& key, const std::string& upload_id);
    /// Calls visit(key, upload id, <Upload> element) for each multipart upload under `wanted` (a full key
    /// prefix), page by page; a server that cannot list uploads ends the walk (logged at debug level).
    void for_each_upload(const std::string& wanted,
                         const std::function<void(const std::string&, const std::string&, std::string_view)>& visit);
    void delete_batch(const std::vector<std::string>& keys, std::size_t begin, std::size_t end);

    S3SinkOptions m_options;
    HttpClient m_http;
    core::Backoff m_backoff;
};

} // namespace pipeline::sinks
