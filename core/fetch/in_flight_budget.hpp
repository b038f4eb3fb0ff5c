#pragma once
// How many requests the whole process keeps in flight, shared by every phase running in it: a fixed number
// (api.concurrency: N), or (auto) enough to reach the rate limit at the answer times measured, by Little's
// law: in flight = rate x answer time, with headroom, never above api.max_connections (docs/pacing.md).

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>

namespace pipeline::core {

/// The median of recent answer times: the last k_samples answers, recomputed every k_every answers or
/// k_period, whichever comes first. Not thread-safe.
class AnswerTimes {
  public:
    using TimePoint = std::chrono::steady_clock::time_point;
    static constexpr std::size_t k_samples = 255;
    static constexpr std::size_t k_every = 100;
    static constexpr std::chrono::milliseconds k_period{250};

    /// Adds one answer time taken at `now`; returns true when the median was recomputed.
    bool add(std::chrono::nanoseconds answer_time, TimePoint now);
    /// The median as last recomputed; nullopt before the first answer.
    std::optional<std::chrono::microseconds> median() const { return m_median; }

  private:
    std::array<std::uint32_t, k_samples> m_samples{}; ///< microseconds, a ring
    std::size_t m_count = 0;                          ///< samples held (up to k_samples)
    std::size_t m_next = 0;                           ///< where the next sample goes
    std::size_t m_since = 0;                          ///< samples since the median was recomputed
    TimePoint m_computed_at{};
    std::optional<std::chrono::microseconds> m_median;
};

/// The process's in-flight budget. Thread-safe: every phase's fetcher draws a place (through its Lease) before
/// it starts a request and gives it back when the answer is in. Places go to waiting fetchers in the order
/// they asked, so phases running side by side share the budget evenly.
class InFlightBudget {
  public:
    using Clock = std::chrono::steady_clock;
    using TimePoint = Clock::time_point;

    /// What the budget aims at.
    struct Settings {
        std::size_t concurrency = 0;       ///< a fixed number of places; 0: auto
        double rate_per_sec = 0;           ///< auto: the rate to reach
        std::size_t max_connections = 256; ///< auto: never above
    };

    /// A budget as `settings` say; auto starts as if answers took 100 ms.
    explicit InFlightBudget(Settings settings);
    InFlightBudget(const InFlightBudget&) = delete;
    InFlightBudget& operator=(const InFlightBudget&) = delete;

    /// One fetcher's hold on the budget. take() and give_back() are called from the fetcher's thread; `wake`
    /// is called (from whichever thread frees a place, under the budget's lock: it must not call back into
    /// the budget) when a place is granted to this lease while it waits.
    class Lease {
      public:
        Lease(InFlightBudget& budget, std::function<void()> wake);
        /// Gives back every place it holds and leaves the line.
        ~Lease();
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;

        /// Takes one place: true when one is free now or was granted while waiting; otherwise false, and the
        /// lease joins the line (once) until wake() says a place was granted.
        bool take();
        /// Gives one taken place back (the request ended, or it was never started).
        void give_back();
        /// Leaves the line and gives back a place granted but not taken (the fetcher is stopping).
        void withdraw();

      private:
        friend class InFlightBudget;
        InFlightBudget& m_budget;
        std::function<void()> m_wake;
        std::size_t m_held = 0;    ///< places counted against the budget for this lease
        std::size_t m_granted = 0; ///< of those, granted while waiting and not taken yet
        bool m_waiting = false;
    };

    /// Records one answer time (from start to the finished transfer); in auto mode the target follows the
    /// median of recent ones.
    void record_answer(std::chrono::nanoseconds answer_time, TimePoint now);

    /// Requests the process may have in flight now.
    std::size_t target() const { return m_target.load(std::memory_order_relaxed); }
    /// Places taken now, across every lease.
    std::size_t in_use() const;
    /// The most the target can ever be (the fixed number, or max_connections): bounds queues sized by it.
    std::size_t limit() const { return m_max; }
    /// True for `concurrency: auto`.
    bool adaptive() const { return m_rate > 0; }
    /// The target auto mode picks for a median answer time (Little's law with headroom, capped).
    std::size_t target_for(std::chrono::microseconds median) const;

  private:
    void grant_locked(); ///< hands free places to waiting leases, first come first served

    mutable std::mutex m_mutex;
    double m_rate;     ///< 0: fixed
    std::size_t m_max; ///< never above
    std::atomic<std::size_t> m_target;
    std::size_t m_in_use = 0;
    std::deque<Lease*> m_waiting;
    AnswerTimes m_times;
};

} // namespace pipeline::core
