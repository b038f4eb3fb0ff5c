#include "core/fetch/backoff.hpp"

#include <algorithm>

namespace pipeline::core {

Backoff::Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max)
    : m_base(base), m_max(max),
      m_state(static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) | 1U) {}

std::chrono::milliseconds Backoff::next(int attempt) {
    const std::int64_t cap = std::max<std::int64_t>(
        0, std::min<std::int64_t>(m_max.count(), m_base.count() << std::clamp(attempt - 1, 0, 20)));
    m_state ^= m_state << 13;
    m_state ^= m_state >> 7;
    m_state ^= m_state << 17;
    return std::chrono::milliseconds(static_cast<std::int64_t>(m_state % static_cast<std::uint64_t>(cap + 1)));
}

} // namespace pipeline::core
