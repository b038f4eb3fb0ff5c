#pragma once
// A blocking FIFO with a capacity, between a phase's network thread and its writer thread.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

namespace pipeline::core {

/// Multi-producer, multi-consumer; close() ends it for both sides.
template <typename T> class BoundedQueue {
  public:
    explicit BoundedQueue(std::size_t capacity) : m_capacity(capacity) {}

    /// Blocks while full; returns false (dropping the value) once the queue is closed.
    bool push(T value) {
        std::unique_lock lock(m_mutex);
        m_not_full.wait(lock, [&] { return m_closed || m_items.size() < m_capacity; });
        if (m_closed) {
            return false;
        }
        m_items.push_back(std::move(value));
        m_not_empty.notify_one();
        return true;
    }

    /// Waits up to `timeout` for a value. nullopt on timeout or when closed and drained (see closed()).
    std::optional<T> pop(std::chrono::milliseconds timeout) {
        std::unique_lock lock(m_mutex);
        m_not_empty.wait_for(lock, timeout, [&] { return m_closed || !m_items.empty(); });
        if (m_items.empty()) {
            return std::nullopt;
        }
        T value = std::move(m_items.front());
        m_items.pop_front();
        m_not_full.notify_one();
        return value;
    }

    /// No more pushes; pending values can still be popped.
    void close() {
        const std::lock_guard lock(m_mutex);
        m_closed = true;
        m_not_empty.notify_all();
        m_not_full.notify_all();
    }

    /// True when closed and nothing is left to pop.
    bool drained() const {
        const std::lock_guard lock(m_mutex);
        return m_closed && m_items.empty();
    }

  private:
    std::size_t m_capacity;
    mutable std::mutex m_mutex;
    std::condition_variable m_not_empty;
    std::condition_variable m_not_full;
    std::deque<T> m_items;
    bool m_closed = false;
};

} // namespace pipeline::core
