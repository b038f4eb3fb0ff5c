#pragma once
// Blocking single HTTP requests (used by the S3 sink), with optional AWS SigV4 signing done by libcurl.

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/fetch/transport.hpp"

namespace pipeline::sinks {

using core::TransportError;

/// AWS Signature V4 credentials; signing is done by libcurl (CURLOPT_AWS_SIGV4).
struct AwsSigning {
    std::string access_key;
    std::string secret_key;
    std::string region;            ///< e.g. "us-east-1"
    std::string service = "s3";
};

/// A single blocking request.
struct HttpRequest {
    std::string method = "GET";                  ///< GET, PUT, POST, DELETE, HEAD
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string_view body;                       ///< sent for PUT/POST; must outlive the call
    std::optional<AwsSigning> signing;
    std::chrono::milliseconds timeout{30000};
    /// When set, the body of a 2xx answer is handed here piece by piece (with the status) instead of being
    /// kept in HttpResponse::body, so that memory stays bounded whatever the object's size. Returning false
    /// ends the transfer at once (HttpResponse::stopped). What it throws ends the transfer and is rethrown by
    /// perform().
    std::function<bool(long status, std::string_view piece)> on_body;
};

/// A response: status and body, or a transport error.
struct HttpResponse {
    long status = 0;
    std::string body;
    std::map<std::string, std::string> headers;  ///< lower-case names
    TransportError error = TransportError::None;
    std::string error_message;
    bool stopped = false; ///< on_body returned false: the transfer ended early, by request (error is None)
};

/// Performs one request synchronously; never throws for network or HTTP failures (see error/status), only
/// what the request's on_body throws.
/// Reuses connections between calls on the same client. Not thread-safe: one client per thread.
class HttpClient {
  public:
    HttpClient();
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;
    HttpResponse perform(const HttpRequest& request);

  private:
    void* m_easy; // CURL*, kept opaque so that users need not include <curl/curl.h>
};


} // namespace pipeline::sinks
