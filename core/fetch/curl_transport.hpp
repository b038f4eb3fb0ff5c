#pragma once
// The real Transport: libcurl's multi interface with connection reuse.

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/fetch/transport.hpp"

namespace pipeline::core {

/// Settings of a CurlTransport.
struct CurlTransportOptions {
    std::size_t max_connections = 32;            ///< upper bound of parallel connections to the host
    std::chrono::milliseconds timeout{10000};    ///< whole-request timeout
    std::chrono::milliseconds connect_timeout{5000};
    std::vector<std::pair<std::string, std::string>> headers; ///< sent with every request (e.g. the API key)
    /// A body larger than this is cut off as it arrives (TransportError::TooLarge); 0: no limit.
    std::size_t max_body_bytes = 0;
    /// PEM bundle that verifies the server's certificate (CURLOPT_CAINFO); empty: the system's. Verification
    /// is never turned off.
    std::string ca_file;
};

/// Transport over a libcurl multi handle. start() and poll() must be called from one thread; wake() from any.
class CurlTransport final : public Transport {
  public:
    explicit CurlTransport(CurlTransportOptions options);
    ~CurlTransport() override;
    CurlTransport(const CurlTransport&) = delete;
    CurlTransport& operator=(const CurlTransport&) = delete;

    void start(std::uint64_t tag, const std::string& url) override;
    std::vector<TransportResult> poll(std::chrono::milliseconds timeout) override;
    void wake() override;
    std::size_t in_flight() const override;

  private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

/// Initialises libcurl once per process; call from main before any thread starts. Throws on failure.
void http_global_init();

} // namespace pipeline::core
