#pragma once
// One transport for the whole process. Phases running side by side each get a client of it, and one thread
// drives the transport underneath (a CurlTransport: one libcurl multi handle), so every phase draws on one
// connection pool and one connection limit. libcurl cannot share a connection cache between multi handles
// that different threads drive (CURL_LOCK_DATA_CONNECT is not supported across concurrent threads, up to
// 7.88 and beyond; docs/pacing.md), hence one multi handle on one thread.

#include <memory>

#include "core/fetch/transport.hpp"

namespace pipeline::core {

/// Drives `inner` on a thread of its own and hands out clients. Thread-safe.
class TransportPool {
  public:
    /// Starts the thread. Throws std::system_error when it cannot start.
    explicit TransportPool(std::unique_ptr<Transport> inner);
    /// Stops the thread and destroys the inner transport; clients must be gone by then.
    ~TransportPool();
    TransportPool(const TransportPool&) = delete;
    TransportPool& operator=(const TransportPool&) = delete;

    /// A Transport for one phase run, as Transport says: start() and poll() from one thread, wake() from any.
    /// Its transfers share the inner transport's connections; the answers of transfers still in flight when
    /// it is destroyed are dropped.
    std::unique_ptr<Transport> client();

  private:
    struct Shared;
    class Client;
    void loop();

    std::shared_ptr<Shared> m_shared;
};

} // namespace pipeline::core
