// RateLimiter on a fake clock: no one-second window over the limit, the long-run rate on target, the hold and
// slow-down after a 429, and the state shared by several limiters (as processes share the pace file): the
// rate shared, a damaged state reset, and nothing booked far ahead.

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "core/fetch/rate_limiter.hpp"

using namespace std::chrono_literals;
using pipeline::core::PaceState;
using pipeline::core::PaceStore;
using pipeline::core::RateLimiter;
using TimePoint = RateLimiter::TimePoint;

namespace {

// An arbitrary start far from the clock's epoch.
const TimePoint k_start = TimePoint{} + 1000h;

// Acquires greedily from `now` until `end`: sends whenever allowed, else jumps to the time returned.
// Returns the send times and leaves `now` at `end`.
std::vector<TimePoint> acquire_greedily(RateLimiter& limiter, TimePoint& now, TimePoint end) {
    std::vector<TimePoint> sends;
    std::size_t refusals = 0;
    while (now < end) {
        const std::optional<TimePoint> later = limiter.try_acquire(now);
        if (!later) {
            sends.push_back(now);
            continue;
        }
        // A refusal must name a time in the future, or a greedy caller would spin.
        if (*later <= now || ++refusals > 10'000'000) {
            FAIL("try_acquire refused without naming a later time");
        }
        now = *later;
    }
    now = end;
    return sends;
}

// The most sends any half-open window [t, t + 1s) holds, checking the window that starts at each send.
std::size_t busiest_second(const std::vector<TimePoint>& sends) {
    std::size_t most = 0;
    std::size_t last = 0;
    for (std::size_t first = 0; first < sends.size(); ++first) {
        last = std::max(last, first);
        while (last < sends.size() && sends[last] < sends[first] + 1s) {
            ++last;
        }
        most = std::max(most, last - first);
    }
    return most;
}

std::size_t sends_between(const std::vector<TimePoint>& sends, TimePoint from, TimePoint to) {
    std::size_t count = 0;
    for (const TimePoint t : sends) {
        count += (t >= from && t < to) ? 1 : 0;
    }
    return count;
}

} // namespace

TEST_CASE("no one-second window holds more than the rate and the long-run rate is on target") {
    for (const double rate : {7.0, 95.0, 500.0, 2000.0}) {
        CAPTURE(rate);
        RateLimiter limiter(rate);
        TimePoint now = k_start;
        const std::vector<TimePoint> sends = acquire_greedily(limiter, now, k_start + 10s);
        CHECK(busiest_second(sends) <= static_cast<std::size_t>(rate));
        const double achieved = static_cast<double>(sends.size()) / 10.0;
        CHECK(achieved >= rate * 0.97);
        CHECK(achieved <= rate * 1.03);
        // Sends are spread out, not bunched at the start of each second.
        CHECK(sends_between(sends, k_start + 5s, k_start + 5500ms) >= static_cast<std::size_t>(rate * 0.45));
    }
}

TEST_CASE("an explicit burst lets that many requests go back to back and no more") {
    RateLimiter limiter(100, 5);
    const TimePoint now = k_start;
    for (int i = 0; i < 5; ++i) {
        CHECK_FALSE(limiter.try_acquire(now).has_value());
    }
    const std::optional<TimePoint> later = limiter.try_acquire(now);
    REQUIRE(later.has_value());
    CHECK(*later > now);
    CHECK(*later <= now + 10ms);
}

TEST_CASE("a refused request takes nothing") {
    RateLimiter limiter(10, 1);
    CHECK_FALSE(limiter.try_acquire(k_start).has_value());
    const std::optional<TimePoint> first = limiter.try_acquire(k_start);
    REQUIRE(first.has_value());
    // Asking again at the same instant gives the same answer: the refusal reserved nothing.
    CHECK(limiter.try_acquire(k_start) == first);
    CHECK_FALSE(limiter.try_acquire(*first).has_value());
}

TEST_CASE("after a 429 with Retry-After nothing is granted before it, and the pace drops then recovers") {
    constexpr double k_rate = 500;
    RateLimiter limiter(k_rate);
    TimePoint now = k_start;
    acquire_greedily(limiter, now, k_start + 2s);
    CHECK(limiter.current_rate() == doctest::Approx(k_rate));

    const TimePoint limited_at = now;
    limiter.on_rate_limited(limited_at, 2000ms);
    CHECK(limiter.current_rate() < k_rate);

    // Every instant of the hold is refused, and the answer points at the end of the hold (or later).
    for (const auto offset : {0ms, 1ms, 500ms, 1999ms}) {
        const std::optional<TimePoint> later = limiter.try_acquire(limited_at + offset);
        REQUIRE(later.has_value());
        CHECK(*later >= limited_at + 2s);
    }

    const std::vector<TimePoint> sends = acquire_greedily(limiter, now, limited_at + 30s);
    REQUIRE_FALSE(sends.empty());
    CHECK(sends.front() >= limited_at + 2s);
    CHECK(busiest_second(sends) <= static_cast<std::size_t>(k_rate));

    // Slower just after the hold than before the 429...
    const std::size_t first_second = sends_between(sends, limited_at + 2s, limited_at + 3s);
    CHECK(first_second < static_cast<std::size_t>(k_rate * 0.97));
    // ...and back to the full rate once no 429 came for a while.
    const std::size_t late_second = sends_between(sends, limited_at + 28s, limited_at + 29s);
    CHECK(late_second >= static_cast<std::size_t>(k_rate * 0.97));
    CHECK(limiter.current_rate() == doctest::Approx(k_rate));
}

TEST_CASE("repeated 429s slow the pace to a floor, never to a standstill") {
    RateLimiter limiter(400);
    TimePoint now = k_start;
    double previous = limiter.current_rate();
    for (int i = 0; i < 30; ++i) {
        limiter.on_rate_limited(now, std::nullopt);
        CHECK(limiter.current_rate() <= previous);
        CHECK(limiter.current_rate() > 0);
        previous = limiter.current_rate();
    }
    CHECK(limiter.current_rate() < 400 * 0.5);
    // Without Retry-After there is no hold: requests still flow, only slower.
    const std::vector<TimePoint> sends = acquire_greedily(limiter, now, k_start + 1s);
    CHECK_FALSE(sends.empty());
    CHECK(sends.size() < 400 * 0.6);
}

TEST_CASE("a later, shorter Retry-After does not cut an earlier hold short") {
    RateLimiter limiter(50);
    limiter.on_rate_limited(k_start, 5000ms);
    limiter.on_rate_limited(k_start + 1s, 1000ms);
    const std::optional<TimePoint> later = limiter.try_acquire(k_start + 3s);
    REQUIRE(later.has_value());
    CHECK(*later >= k_start + 5s);
}

TEST_CASE("reserved send times keep every one-second window within the rate and serve callers in turn") {
    constexpr double k_rate = 200;
    RateLimiter limiter(k_rate);
    // Two callers each book a send time, wait for it, and book again: neither can get ahead of the other.
    std::vector<TimePoint> sends;
    std::array<std::size_t, 2> served{};
    std::array<TimePoint, 2> ready{k_start, k_start};
    while (sends.size() < 2000) {
        // The caller ready first asks first (on a tie, the one served less: the limiter cannot tell them apart).
        const std::size_t caller =
            ready[0] != ready[1] ? (ready[0] < ready[1] ? 0 : 1) : (served[0] <= served[1] ? 0 : 1);
        const RateLimiter::Booking booking = limiter.reserve(ready[caller]);
        REQUIRE(booking.booked);
        const TimePoint at = booking.at;
        CHECK(at >= ready[caller]);
        CHECK((sends.empty() || at >= sends.back()));
        sends.push_back(at);
        ready[caller] = at;
        ++served[caller];
    }
    CHECK(busiest_second(sends) <= static_cast<std::size_t>(k_rate));
    const double seconds = std::chrono::duration<double>(sends.back() - sends.front()).count();
    CHECK(static_cast<double>(sends.size() - 1) / seconds == doctest::Approx(k_rate).epsilon(0.03));
    CHECK(served[0] == doctest::Approx(static_cast<double>(served[1])).epsilon(0.02));
}

TEST_CASE("a reservation during a Retry-After hold lands after the hold") {
    RateLimiter limiter(100);
    limiter.on_rate_limited(k_start, std::chrono::milliseconds(1500));
    // More than a second away: nothing is booked, and the answer says when to ask again.
    const RateLimiter::Booking far = limiter.reserve(k_start + 10ms);
    CHECK_FALSE(far.booked);
    CHECK(far.at >= k_start + 1500ms);
    const RateLimiter::Booking near = limiter.reserve(k_start + 1000ms);
    CHECK(near.booked);
    CHECK(near.at >= k_start + 1500ms);
}

namespace {

// One PaceState that several limiters use, as processes share the pace file (core/state/pace_file.hpp, whose
// own tests use the file).
struct SharedState {
    std::mutex mutex;
    PaceState state{};
};

class SharedStore final : public PaceStore {
  public:
    explicit SharedStore(SharedState& shared) : m_shared(shared) {}
    PaceState& lock() override {
        m_shared.mutex.lock();
        return m_shared.state;
    }
    void unlock() override { m_shared.mutex.unlock(); }

  private:
    SharedState& m_shared;
};

std::int64_t ns(TimePoint t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

RateLimiter shared_limiter(SharedState& shared, double rate) {
    return RateLimiter(rate, std::make_unique<SharedStore>(shared));
}

// Callers that each book a send time, wait for it and book again, the one ready first asking first; returns every
// send in time order and how many each caller made.
struct Sends {
    std::vector<TimePoint> all;
    std::vector<std::size_t> per_caller;
};
Sends book_in_turn(std::vector<RateLimiter*> callers, TimePoint start, TimePoint end) {
    Sends sends{{}, std::vector<std::size_t>(callers.size())};
    std::vector<TimePoint> ready(callers.size(), start);
    for (;;) {
        std::size_t caller = 0;
        for (std::size_t c = 1; c < callers.size(); ++c) {
            if (ready[c] < ready[caller] ||
                (ready[c] == ready[caller] && sends.per_caller[c] < sends.per_caller[caller])) {
                caller = c;
            }
        }
        if (ready[caller] >= end) {
            return sends;
        }
        const RateLimiter::Booking booking = callers[caller]->reserve(ready[caller]);
        ready[caller] = booking.at;
        if (booking.booked && booking.at < end) {
            sends.all.push_back(booking.at);
            ++sends.per_caller[caller];
        }
    }
}

} // namespace

TEST_CASE("limiters sharing one state (two processes) never exceed the rate together and share it evenly") {
    constexpr double k_rate = 500;
    SharedState shared;
    RateLimiter first = shared_limiter(shared, k_rate);
    RateLimiter second = shared_limiter(shared, k_rate);
    const Sends both = book_in_turn({&first, &second}, k_start, k_start + 10s);
    CHECK(busiest_second(both.all) <= static_cast<std::size_t>(k_rate));
    CHECK(static_cast<double>(both.all.size()) / 10.0 >= k_rate * 0.97);
    CHECK(static_cast<double>(both.per_caller[0]) ==
          doctest::Approx(static_cast<double>(both.per_caller[1])).epsilon(0.02));

    // Greedy callers too, taking whatever is free the moment they ask, alternating.
    TimePoint now = k_start + 20s;
    std::vector<TimePoint> greedy;
    while (now < k_start + 25s) {
        for (RateLimiter* limiter : {&first, &second}) {
            if (const std::optional<TimePoint> later = limiter->try_acquire(now)) {
                now = std::max(now, *later);
            } else {
                greedy.push_back(now);
            }
        }
    }
    CHECK(busiest_second(greedy) <= static_cast<std::size_t>(k_rate));
    CHECK(static_cast<double>(greedy.size()) / 5.0 >= k_rate * 0.97);
}

TEST_CASE("one limiter alone on a shared state gets the whole rate") {
    SharedState shared;
    RateLimiter alone = shared_limiter(shared, 200);
    const Sends sends = book_in_turn({&alone}, k_start, k_start + 10s);
    CHECK(busiest_second(sends.all) <= 200);
    CHECK(static_cast<double>(sends.all.size()) / 10.0 >= 200 * 0.97);
}

TEST_CASE("a holder that booked ahead and died blocks nobody for more than a second") {
    SharedState shared;
    {
        RateLimiter killed = shared_limiter(shared, 100);
        for (int i = 0; i < 10'000; ++i) {
            killed.reserve(k_start); // a runaway caller: only what lies within a second is booked
        }
    } // gone without a word, as a process killed with -9
    RateLimiter survivor = shared_limiter(shared, 100);
    const RateLimiter::Booking booking = survivor.reserve(k_start);
    CHECK(booking.at <= k_start + RateLimiter::k_max_ahead + 20ms);
    CHECK(survivor.reserve(booking.at).booked);
}

TEST_CASE("a half-written or impossible shared state is reset, not trusted") {
    SharedState shared;
    RateLimiter limiter = shared_limiter(shared, 100);
    SUBCASE("a writer died mid-update") {
        shared.state.sequence = 7;
        shared.state.theoretical_arrival = ns(k_start + 900ms);
        shared.state.last_send = ns(k_start + 900ms);
    }
    SUBCASE("times an hour ahead (a reboot, or a damaged file)") {
        shared.state.theoretical_arrival = ns(k_start + 1h);
        shared.state.hold_until = ns(k_start + 1h);
    }
    SUBCASE("fields out of range") {
        shared.state.slowdown = 42.0;
        shared.state.head_bucket = -5;
        std::fill(std::begin(shared.state.buckets), std::end(shared.state.buckets), 0xffffffffU);
    }
    const RateLimiter::Booking booking = limiter.reserve(k_start);
    CHECK(booking.booked);
    CHECK(booking.at == k_start);
    CHECK(shared.state.sequence % 2 == 0);
    CHECK(limiter.current_rate() == doctest::Approx(100));
}

TEST_CASE("a 429 slows every limiter of the state, and holds the others for at most a second") {
    SharedState shared;
    RateLimiter limited = shared_limiter(shared, 100);
    RateLimiter other = shared_limiter(shared, 100);
    limited.on_rate_limited(k_start, 5000ms);
    // The other process waits a second, then goes on at the lowered pace...
    const RateLimiter::Booking held = other.reserve(k_start);
    CHECK(held.booked);
    CHECK(held.at >= k_start + 1s - 1ms);
    CHECK(held.at <= k_start + 1s);
    CHECK(other.current_rate() < 100);
    // ...while the one that got the 429 keeps the whole Retry-After.
    const RateLimiter::Booking own = limited.reserve(k_start + 2s);
    CHECK_FALSE(own.booked);
    CHECK(own.at >= k_start + 5s);
}
