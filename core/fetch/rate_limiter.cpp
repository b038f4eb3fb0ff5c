#include "core/fetch/rate_limiter.hpp"

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
    m_last_adjust = std::max(m_last_adjust, now); // callers may pass slightly older times
}

RateLimiter::TimePoint RateLimiter::next_slot(TimePoint now) const {
    TimePoint slot = std::max({now, m_hold_until, m_theoretical_arrival - m_tolerance});
    if (!m_window.empty()) {
        slot = std::max(slot, m_window.back()); // never before a slot already booked: sends stay in order
    }
    if (m_window.size() >= m_window_limit) {
        // Sends are kept in time order: the one `limit` sends back must leave the window first.
        slot = std::max(slot, m_window[m_window.size() - m_window_limit] + seconds(1));
    }
    return slot;
}

void RateLimiter::book(TimePoint slot) {
    while (!m_window.empty() && m_window.front() <= slot - seconds(1)) {
        m_window.pop_front();
    }
    m_theoretical_arrival = std::max(m_theoretical_arrival, slot) + interval(m_current_rate);
    m_window.push_back(slot);
}

std::optional<RateLimiter::TimePoint> RateLimiter::try_acquire(TimePoint now) {
    const std::lock_guard lock(m_mutex);
    recover(now);
    const TimePoint slot = next_slot(now);
    if (slot > now) {
        return slot;
    }
    book(now);
    return std::nullopt;
}

RateLimiter::TimePoint RateLimiter::reserve(TimePoint now) {
    const std::lock_guard lock(m_mutex);
    recover(now);
    const TimePoint slot = next_slot(now);
    book(slot);
    return slot;
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
