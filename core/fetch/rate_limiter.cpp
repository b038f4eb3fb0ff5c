#include "core/fetch/rate_limiter.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>

#include <spdlog/spdlog.h>

namespace pipeline::core {

using namespace std::chrono;

namespace {
constexpr double k_slowdown = 0.8;          // pace multiplier on each 429
constexpr double k_min_share = 0.25;        // never slower than this share of the configured rate
constexpr double k_recovery_per_sec = 0.05; // share of the rate regained per second without a 429
constexpr std::int64_t k_bucket_ns = 1'000'000;
// The window counted spans this many buckets back, and its own: a second and 5 ms. The API counts a call when
// it arrives; sends spaced exactly a second apart could land in one of its seconds when they take a few
// milliseconds longer to arrive than the calls around them. The margin costs 0.5 % of the rate.
constexpr std::int64_t k_window_buckets = 1005;
constexpr std::int64_t k_ring = static_cast<std::int64_t>(PaceState::k_buckets);
// Another caller may have passed a later time than ours (ours may have been read before a stall of this
// thread): a field this far past the limits is not theirs but a corrupt file (or one from before a reboot,
// when CLOCK_MONOTONIC started again).
constexpr std::int64_t k_slack_ns = 5'000'000'000;
constexpr std::int64_t k_max_ahead_ns = duration_cast<nanoseconds>(RateLimiter::k_max_ahead).count();

std::int64_t interval_ns(double rate) {
    return static_cast<std::int64_t>(1e9 / rate);
}
std::int64_t to_ns(RateLimiter::TimePoint t) {
    return duration_cast<nanoseconds>(t.time_since_epoch()).count();
}
RateLimiter::TimePoint from_ns(std::int64_t ns) {
    return RateLimiter::TimePoint(nanoseconds(ns));
}
std::int64_t bucket_of(std::int64_t ns) {
    return ns / k_bucket_ns;
}

// Sends booked in millisecond `k`: zero for one not booked yet or already overwritten by the ring.
std::uint32_t bucket_count(const PaceState& state, std::int64_t k) {
    if (k > state.head_bucket || k <= state.head_bucket - k_ring) {
        return 0;
    }
    return state.buckets[static_cast<std::size_t>(k & (k_ring - 1))];
}
} // namespace

PaceState& LocalPace::lock() {
    m_mutex.lock();
    return m_state;
}

void LocalPace::unlock() {
    m_mutex.unlock();
}

// The store's lock for one call, with the sequence bumped around an update: a writer killed between the two
// bumps leaves an odd sequence, which the next user takes for a half-written state. A process is killed between
// two of its instructions, so only the compiler's order matters: signal fences keep the bumps around the update
// (the lock, an flock system call, orders memory between processes).
class RateLimiter::Locked {
  public:
    explicit Locked(PaceStore& store) : m_store(store), m_state(store.lock()) {}
    ~Locked() { m_store.unlock(); }
    Locked(const Locked&) = delete;
    Locked& operator=(const Locked&) = delete;
    PaceState& state() { return m_state; }
    void begin_update() {
        ++m_state.sequence;
        std::atomic_signal_fence(std::memory_order_seq_cst);
    }
    void end_update() {
        std::atomic_signal_fence(std::memory_order_seq_cst);
        ++m_state.sequence;
    }

  private:
    PaceStore& m_store;
    PaceState& m_state;
};

RateLimiter::RateLimiter(double rate_per_sec, int burst)
    : RateLimiter(rate_per_sec, std::make_unique<LocalPace>(), burst) {}

RateLimiter::RateLimiter(double rate_per_sec, std::unique_ptr<PaceStore> store, int burst)
    : m_rate(rate_per_sec),
      m_window_limit(std::max<std::uint32_t>(1, static_cast<std::uint32_t>(std::floor(rate_per_sec)))),
      m_store(std::move(store)) {
    const int effective_burst = burst > 0 ? burst : std::max(1, static_cast<int>(rate_per_sec * 0.02));
    m_tolerance_ns = interval_ns(rate_per_sec) * (effective_burst - 1);
}

double RateLimiter::share_at(const PaceState& state, std::int64_t now) const {
    if (!(state.slowdown > 0)) {
        return 1.0;
    }
    const double seconds = static_cast<double>(std::max<std::int64_t>(0, now - state.slowed_at)) / 1e9;
    return std::clamp(1.0 - state.slowdown + k_recovery_per_sec * seconds, k_min_share, 1.0);
}

void RateLimiter::check(PaceState& state, std::int64_t now) const {
    const std::int64_t slowest_interval = interval_ns(m_rate * k_min_share);
    const char* problem = nullptr;
    if ((state.sequence & 1U) != 0) {
        problem = "an update was cut short (a process died while writing)";
    } else if (state.theoretical_arrival > now + k_max_ahead_ns + slowest_interval + k_slack_ns ||
               state.last_send > now + k_max_ahead_ns + k_slack_ns ||
               state.hold_until > now + k_max_ahead_ns + k_slack_ns || state.slowed_at > now + k_slack_ns) {
        problem = "times lie further ahead than pipeline ever books (a reboot, or a damaged file)";
    } else if (!(state.slowdown >= 0 && state.slowdown <= 1 - k_min_share) ||
               state.head_bucket != bucket_of(state.last_send)) {
        problem = "fields out of range";
    }
    if (problem == nullptr) {
        return;
    }
    spdlog::warn("rate limiter: pacing state reset: {}", problem);
    const std::uint64_t sequence = state.sequence | 1U;
    state.sequence = sequence;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    state.theoretical_arrival = 0;
    state.hold_until = 0;
    state.last_send = 0;
    state.slowed_at = 0;
    state.slowdown = 0;
    state.head_bucket = 0;
    std::fill(std::begin(state.buckets), std::end(state.buckets), 0U);
    std::atomic_signal_fence(std::memory_order_seq_cst);
    state.sequence = sequence + 1;
}

std::int64_t RateLimiter::next_send(const PaceState& state, std::int64_t now) const {
    std::int64_t at =
        std::max({now, m_local_hold, state.hold_until, state.theoretical_arrival - m_tolerance_ns,
                  state.last_send}); // never before a send time already booked: sends stay in order
    // The window: the sends booked in the second (and margin) up to the send time, counted per millisecond. The
    // span counted reaches further back than a second, so the cap holds in every window of a second.
    std::int64_t k = bucket_of(at);
    std::uint64_t in_window = 0;
    for (std::int64_t b = k - k_window_buckets; b <= k; ++b) {
        in_window += bucket_count(state, b);
    }
    while (in_window >= m_window_limit) {
        // The oldest millisecond must leave the window first.
        in_window -= bucket_count(state, k - k_window_buckets);
        ++k;
        in_window += bucket_count(state, k);
        at = std::max(at, k * k_bucket_ns);
    }
    return at;
}

void RateLimiter::book(PaceState& state, std::int64_t at) const {
    const std::int64_t k = bucket_of(at);
    if (k > state.head_bucket) {
        const std::int64_t cleared = std::min(k - state.head_bucket, k_ring);
        for (std::int64_t i = 1; i <= cleared; ++i) {
            state.buckets[static_cast<std::size_t>((state.head_bucket + i) & (k_ring - 1))] = 0;
        }
        state.head_bucket = k;
    }
    ++state.buckets[static_cast<std::size_t>(k & (k_ring - 1))];
    state.last_send = std::max(state.last_send, at);
    state.head_bucket = bucket_of(state.last_send);
    state.theoretical_arrival =
        std::max(state.theoretical_arrival, at) + interval_ns(m_rate * share_at(state, at));
}

std::optional<RateLimiter::TimePoint> RateLimiter::try_acquire(TimePoint now) {
    Locked locked(*m_store);
    const std::int64_t t = to_ns(now);
    m_last_now = std::max(m_last_now, t);
    check(locked.state(), t);
    const std::int64_t at = next_send(locked.state(), t);
    if (at > t) {
        return from_ns(at);
    }
    locked.begin_update();
    book(locked.state(), t);
    locked.end_update();
    return std::nullopt;
}

RateLimiter::Booking RateLimiter::reserve(TimePoint now) {
    Locked locked(*m_store);
    const std::int64_t t = to_ns(now);
    m_last_now = std::max(m_last_now, t);
    check(locked.state(), t);
    const std::int64_t at = next_send(locked.state(), t);
    if (at - t > k_max_ahead_ns) {
        return Booking{from_ns(at), false};
    }
    locked.begin_update();
    book(locked.state(), at);
    locked.end_update();
    return Booking{from_ns(at), true};
}

void RateLimiter::on_rate_limited(TimePoint now, std::optional<milliseconds> retry_after) {
    Locked locked(*m_store);
    const std::int64_t t = to_ns(now);
    m_last_now = std::max(m_last_now, t);
    PaceState& state = locked.state();
    check(state, t);
    locked.begin_update();
    const std::int64_t at = std::max(t, state.slowed_at);
    state.slowdown = 1.0 - std::max(k_min_share, share_at(state, at) * k_slowdown);
    state.slowed_at = at;
    if (retry_after) {
        const std::int64_t wait = duration_cast<nanoseconds>(*retry_after).count();
        m_local_hold = std::max(m_local_hold, t + wait);
        state.hold_until = std::max(state.hold_until, t + std::min(wait, k_max_ahead_ns));
    }
    locked.end_update();
}

double RateLimiter::current_rate() const {
    Locked locked(*m_store);
    return m_rate * share_at(locked.state(), m_last_now);
}

} // namespace pipeline::core
