#pragma once
// A smooth request rate limit: GCRA pacing with a small burst, capped by a sliding one-second window so that
// no one-second window ever holds more than the configured rate. Slows down after a 429 and recovers.
// The state lives in a PaceStore: this process's memory, or the run directory's pace file
// (core/state/pace_file.hpp) that every process of the run directory maps, so that processes sharing a key
// share its limit (docs/pacing.md).

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>

namespace pipeline::core {

/// The pacing state, laid out for a file that several processes map: fixed widths, no pointers. Times are
/// nanoseconds of CLOCK_MONOTONIC (std::chrono::steady_clock), which every process of one boot shares. All
/// zeros is the fresh state; the RateLimiter checks every field before it trusts it.
struct PaceState {
    /// The window's ring: one count of booked sends per millisecond, 1.024 s.
    static constexpr std::size_t k_buckets = 1024;

    char magic[8]; ///< the pace file's header (PaceFile writes and checks it)
    std::uint32_t version;
    std::uint32_t size;
    std::uint64_t sequence; ///< odd while an update is under way: a writer killed mid-update leaves it odd
    std::int64_t theoretical_arrival; ///< GCRA: when the next send is due at the pace in force
    std::int64_t hold_until;          ///< no send before this (a 429's Retry-After, at most a second of it)
    std::int64_t last_send;           ///< the latest send booked: sends are booked in time order
    std::int64_t slowed_at;           ///< when the last 429 lowered the pace
    double slowdown;                  ///< the share of the rate that 429 took away (0: full pace)
    std::int64_t head_bucket;         ///< the millisecond of last_send: the newest bucket of the ring
    std::uint32_t buckets[k_buckets]; ///< sends booked per millisecond, indexed by millisecond % k_buckets
};
static_assert(std::is_trivially_copyable_v<PaceState> && std::is_standard_layout_v<PaceState>);

/// Where a RateLimiter keeps its PaceState. lock() and unlock() bracket every read and update.
class PaceStore {
  public:
    virtual ~PaceStore() = default;
    /// Locks the state against every other user (threads, and processes where it is shared) and returns it.
    /// A store that cannot lock other processes out still locks this process's threads; throws core::Error
    /// only when the state cannot be reached at all.
    virtual PaceState& lock() = 0;
    /// Releases what lock() took.
    virtual void unlock() = 0;
};

/// A PaceStore in this process's memory: the limit is this process's alone.
class LocalPace final : public PaceStore {
  public:
    PaceState& lock() override;
    void unlock() override;

  private:
    std::mutex m_mutex;
    PaceState m_state{};
};

/// Thread-safe; time is passed in, so tests drive it with a fake clock.
class RateLimiter {
  public:
    using Clock = std::chrono::steady_clock;
    using TimePoint = Clock::time_point;

    /// No send time is booked more than this after the time it is asked for, and no 429 holds other processes
    /// back for longer: a process killed at any point leaves nothing that slows the others for longer.
    static constexpr std::chrono::milliseconds k_max_ahead{1000};

    /// What reserve() gives: a booked send time, or (booked false) the time at which to ask again.
    struct Booking {
        TimePoint at;
        bool booked = false;
    };

    /// `rate_per_sec` requests per second at most; `burst` requests may go back to back (0: about 2% of the
    /// rate, at least 1). The state is this process's own.
    explicit RateLimiter(double rate_per_sec, int burst = 0);
    /// As above, with the state in `store` (shared with whoever else uses it).
    RateLimiter(double rate_per_sec, std::unique_ptr<PaceStore> store, int burst = 0);

    /// Takes one send time at `now` when the limit allows (returns nullopt); otherwise returns the earliest
    /// time at which a send time may be free, and takes nothing.
    std::optional<TimePoint> try_acquire(TimePoint now);

    /// Books the next send time and returns its time (now or later): callers are served in the order they
    /// ask, so phases and processes sharing the limit get equal shares. The send time is taken whether or not it
    /// is used. A send time more than k_max_ahead away (a Retry-After hold) is not booked: ask again at its time.
    Booking reserve(TimePoint now);

    /// The API answered 429: hold every send of this process until now + retry_after (if given; the other
    /// processes for at most k_max_ahead of it: they hear of the rest from their own 429s) and lower the pace
    /// of all; the pace recovers gradually while no 429 comes.
    void on_rate_limited(TimePoint now, std::optional<std::chrono::milliseconds> retry_after);

    /// The pace in force at the latest time a caller passed, in requests per second.
    double current_rate() const;

  private:
    class Locked;

    double share_at(const PaceState& state, std::int64_t now) const; ///< of the rate, after recovery
    std::int64_t next_send(const PaceState& state,
                           std::int64_t now) const; ///< the earliest send time under every limit
    void book(PaceState& state,
              std::int64_t at) const; ///< records a send at `at` (send times come in time order)
    void check(PaceState& state, std::int64_t now) const; ///< resets a state that cannot be right

    double m_rate;
    std::int64_t m_tolerance_ns;
    std::uint32_t m_window_limit;
    std::unique_ptr<PaceStore> m_store;
    // This process's own, read and written under the store's lock.
    std::int64_t m_local_hold = 0; ///< the whole of a Retry-After, for this process's sends
    std::int64_t m_last_now = 0;   ///< the latest time a caller passed
};

} // namespace pipeline::core
