#pragma once
// The flag a graceful stop sets: read by every phase at every page, batch and chunk boundary.

#include <atomic>
#include <functional>
#include <mutex>

#include "core/util/stop_reason.hpp"

namespace pipeline::core {

/// Set once when a stop is requested (by a sentinel, a signal, the call budget or the API asking to come
/// back later), with the reason of the first request.
class StopFlag {
  public:
    /// Sets the flag (keeping the reason of an earlier request) and calls the waker (if any) so that a
    /// blocked wait returns at once. Thread-safe.
    void request(StopReason reason = StopReason::Operator);
    /// True once request() was called.
    bool requested() const { return m_requested.load(std::memory_order_acquire); }
    /// The reason given by the first request(); None while not requested.
    StopReason reason() const;
    /// Installs a callback that interrupts the owner's waits (e.g. Transport::wake); called at once if the
    /// flag is already set. Pass an empty function to remove it.
    void set_waker(std::function<void()> waker);

  private:
    std::atomic<bool> m_requested{false};
    mutable std::mutex m_mutex;
    StopReason m_reason = StopReason::None;
    std::function<void()> m_waker;
};

} // namespace pipeline::core
