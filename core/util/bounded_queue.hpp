#pragma once
// A blocking FIFO with a capacity in values and in bytes, between a phase's network thread and its writer
// thread: the byte bound keeps memory flat whether answers are 1 KB or 1 MB.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <utility>

namespace pipeline::core {

/// Multi-producer, multi-consumer; close() ends it for both sides.
template <typename T> class BoundedQueue {
  public:
    /// Holds at most `capacity` values and, beyond the first value, at most `byte_capacity` bytes.
    explicit BoundedQueue(std::size_t capacity, std::size_t byte_capacity = SIZE_MAX)
        : m_capacity(capacity), m_byte_capacity(byte_capacity) {}

    /// Blocks while full (by count, or by bytes: a value of `bytes` would pass the byte capacity; an empty
    /// queue always takes one); returns false (dropping the value) once the queue is closed.
    bool push(T value, std::size_t bytes = 0) {
        std::unique_lock lock(m_mutex);
        m_not_full.wait(lock, [&] {
            return m_closed || (m_items.size() < m_capacity &&
                                (m_items.empty() || m_bytes + bytes <= m_byte_capacity));
        });
        if (m_closed) {
            return false;
        }
        m_bytes += bytes;
        m_items.push_back({std::move(value), bytes});
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
        T value = std::move(m_items.front().first);
        m_bytes -= m_items.front().second;
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
    std::size_t m_byte_capacity;
    std::size_t m_bytes = 0; // sum of the queued values' sizes
    mutable std::mutex m_mutex;
    std::condition_variable m_not_empty;
    std::condition_variable m_not_full;
    std::deque<std::pair<T, std::size_t>> m_items;
    bool m_closed = false;
};

} // namespace pipeline::core
