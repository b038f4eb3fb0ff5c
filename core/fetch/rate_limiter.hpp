#pragma once
// A smooth request rate limit: GCRA pacing with a small burst, capped by a sliding one-second window so that
// no one-second window ever holds more than the configured rate. Slows down after a 429.

#include <chrono>
#include <deque>
#include <mutex>
#include <optional>

namespace pipeline::core {

/// Thread-safe; time is passed in, so tests drive it with a fake clock.
class RateLimiter {
  public:
    using Clock = std::chrono::steady_clock;
    using TimePoint = Clock::time_point;

    /// `rate_per_sec` requests per second at most; `burst` requests may go back to back (0: about 2% of the
    /// rate, at least 1).
    explicit RateLimiter(double rate_per_sec, int burst = 0);

    /// Takes one send slot at `now` when the limit allows (returns nullopt); otherwise returns the earliest
    /// time at which a slot may be free, and takes nothing.
    std::optional<TimePoint> try_acquire(TimePoint now);

    /// Books the next send slot and returns its time (now or later): callers are served in the order they
    /// ask, so phases sharing the limiter get equal shares. The slot is taken whether or not it is used.
    TimePoint reserve(TimePoint now);

    /// The API answered 429: hold every send until now + retry_after (if given) and lower the pace; the
    /// pace recovers gradually while no 429 comes.
    void on_rate_limited(TimePoint now, std::optional<std::chrono::milliseconds> retry_after);

    /// The pace in force, in requests per second.
    double current_rate() const;

  private:
    void recover(TimePoint now);
    TimePoint next_slot(TimePoint now) const; ///< the earliest slot at or after now, under every limit
    void book(TimePoint slot);                 ///< records a send at slot (slots are booked in time order)

    mutable std::mutex m_mutex;
    double m_rate;
    double m_current_rate;
    std::chrono::nanoseconds m_tolerance;
    TimePoint m_theoretical_arrival{};
    TimePoint m_hold_until{};
    TimePoint m_last_adjust{};
    std::size_t m_window_limit;
    std::deque<TimePoint> m_window; ///< booked send times, in order, back to one second before the last
};

} // namespace pipeline::core
