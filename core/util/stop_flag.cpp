#include "core/util/stop_flag.hpp"

#include <utility>

namespace pipeline::core {

void StopFlag::request() {
    m_requested.store(true, std::memory_order_release);
    const std::lock_guard lock(m_mutex);
    if (m_waker) {
        m_waker();
    }
}

void StopFlag::set_waker(std::function<void()> waker) {
    const std::lock_guard lock(m_mutex);
    m_waker = std::move(waker);
    if (m_waker && requested()) {
        m_waker();
    }
}

} // namespace pipeline::core
