#include "core/util/stop_flag.hpp"

#include <utility>

namespace pipeline::core {

void StopFlag::request(StopReason reason) {
    const std::lock_guard lock(m_mutex);
    if (m_reason == StopReason::None) {
        m_reason = reason;
    }
    m_requested.store(true, std::memory_order_release);
    if (m_waker) {
        m_waker();
    }
}

StopReason StopFlag::reason() const {
    const std::lock_guard lock(m_mutex);
    return m_reason;
}

void StopFlag::set_waker(std::function<void()> waker) {
    const std::lock_guard lock(m_mutex);
    m_waker = std::move(waker);
    if (m_waker && requested()) {
        m_waker();
    }
}

} // namespace pipeline::core
