#include "core/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace pipeline::core {

using namespace std::chrono;

namespace {
constexpr double k_slowdown = 0.8;       // pace multiplier on each 429
constexpr double k_min_share = 0.25;     // never slower than this share of the configured rate
constexpr double k_recovery_per_sec = 0.05; // share of the rate regained per second without a 429

nanoseconds interval(double rate) { return nanoseconds(static_cast<std::int64_t>(1e9 / rate)); }
} // namespace

RateLimiter::RateLimiter(double rate_per_sec, int burst)
    : m_rate(rate_per_sec), m_current_rate(rate_per_sec),
      m_window_limit(std::max<std::size_t>(1, static_cast<std::size_t>(std::floor(rate_per_sec)))) {
    const int effective_burst = burst > 0 ? burst : std::max(1, static_cast<int>(rate_per_sec * 0.02));
    m_tolerance = interval(rate_per_sec) * (effective_burst - 1);
}

void RateLimiter::recover(TimePoint now) {
    if (m_current_rate < m_rate && now > m_last_adjust) {
        const double seconds = duration<double>(now - m_last_adjust).count();
        m_current_rate = std::min(m_rate, m_current_rate + m_rate * k_recovery_per_sec * seconds);
    }
    m_last_adjust = now;
}

std::optional<RateLimiter::TimePoint> RateLimiter::try_acquire(TimePoint now) {
    const std::lock_guard lock(m_mutex);
    if (now < m_hold_until) {
        return m_hold_until;
    }
    recover(now);
    while (!m_window.empty() && m_window.front() <= now - seconds(1)) {
        m_window.pop_front();
    }
    const TimePoint arrival = std::max(m_theoretical_arrival, now);
    if (arrival - m_tolerance > now) {
        return arrival - m_tolerance;
    }
    if (m_window.size() >= m_window_limit) {
        // The oldest send leaves the window one second after it went out.
        return m_window.front() + seconds(1) + nanoseconds(1);
    }
    m_theoretical_arrival = arrival + interval(m_current_rate);
    m_window.push_back(now);
    return std::nullopt;
}

void RateLimiter::on_rate_limited(TimePoint now, std::optional<milliseconds> retry_after) {
    const std::lock_guard lock(m_mutex);
    recover(now);
    m_current_rate = std::max(m_rate * k_min_share, m_current_rate * k_slowdown);
    if (retry_after) {
        m_hold_until = std::max(m_hold_until, now + *retry_after);
    }
}

double RateLimiter::current_rate() const {
    const std::lock_guard lock(m_mutex);
    return m_current_rate;
}

} // namespace pipeline::core
