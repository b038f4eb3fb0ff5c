#pragma once
// The HTTP seam of the fetcher: a non-blocking transport that runs many GETs at once.
// The real one is CurlTransport (curl_transport.hpp); tests use a scripted fake.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace pipeline::core {

/// Why a transfer produced no HTTP answer (or an incomplete one).
enum class TransportError {
    None,        ///< an HTTP status and a complete body arrived
    Timeout,     ///< the request timeout elapsed
    Connect,     ///< could not connect (refused, DNS, unreachable)
    Reset,       ///< the connection broke while sending or receiving
    Truncated,   ///< the body ended before Content-Length was met
    TooLarge,    ///< the body passed the size cap and was cut off as it arrived
    BadEncoding, ///< the body's Content-Encoding (gzip, deflate) could not be decoded
    Tls,         ///< the TLS handshake or the certificate check failed
    Other,       ///< anything else libcurl reports
};

/// One finished transfer, as returned by Transport::poll.
struct TransportResult {
    std::uint64_t tag = 0;                   ///< the tag given to Transport::start
    long status = 0;                         ///< HTTP status, 0 when error != None
    std::string body;                        ///< the response body (complete only when error == None)
    std::optional<std::string> retry_after;  ///< raw Retry-After header value, if any
    TransportError error = TransportError::None;
    std::string error_message;               ///< human-readable cause when error != None
};

/// Runs GET requests concurrently. Not thread-safe except for wake().
class Transport {
  public:
    virtual ~Transport() = default;
    /// Starts a GET of url; its result comes back from a later poll() carrying tag. Never blocks.
    virtual void start(std::uint64_t tag, const std::string& url) = 0;
    /// Waits until at least one transfer finished, wake() was called, or timeout elapsed, and returns
    /// every finished transfer (possibly none).
    virtual std::vector<TransportResult> poll(std::chrono::milliseconds timeout) = 0;
    /// Makes a poll() that is waiting (or the next one) return at once. Safe from any thread.
    virtual void wake() = 0;
    /// Number of transfers started and not yet returned by poll().
    virtual std::size_t in_flight() const = 0;
};

} // namespace pipeline::core
