// The in-flight budget: never more places taken than the target, places handed to waiting fetchers in the order
// they asked (fair between phases), the auto target following the measured answer times, and two fetchers on
// one budget staying within it together.

#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <string>
#include <vector>

#include "core/fetch/fetcher.hpp"
#include "core/fetch/in_flight_budget.hpp"
#include "fakes/fake_transport.hpp"

using namespace std::chrono_literals;
using pipeline::core::AnswerTimes;
using pipeline::core::InFlightBudget;
using Lease = pipeline::core::InFlightBudget::Lease;
using Clock = std::chrono::steady_clock;

namespace {

const Clock::time_point k_start = Clock::time_point{} + 1000h;

// Feeds `count` answers of `answer_time`, 1 ms apart; returns the time after the last.
Clock::time_point feed(InFlightBudget& budget, std::chrono::milliseconds answer_time, int count,
                       Clock::time_point now) {
    for (int i = 0; i < count; ++i) {
        now += 1ms;
        budget.record_answer(answer_time, now);
    }
    return now;
}

} // namespace

TEST_CASE("a fixed budget never lets more places be taken than it has") {
    InFlightBudget budget(InFlightBudget::Settings{3});
    int wakes = 0;
    Lease lease(budget, [&] { ++wakes; });
    CHECK(lease.take());
    CHECK(lease.take());
    CHECK(lease.take());
    CHECK_FALSE(lease.take());
    CHECK(budget.in_use() == 3);
    CHECK(budget.target() == 3);
    lease.give_back(); // the lease waits in line: the place goes to it
    CHECK(wakes == 1);
    CHECK(budget.in_use() == 3);
    CHECK(lease.take());
    CHECK_FALSE(lease.take());
    // Answer times do not move a fixed budget.
    feed(budget, 400ms, 500, k_start);
    CHECK(budget.target() == 3);
}

TEST_CASE("waiting leases get freed places in the order they asked, so two phases share evenly") {
    InFlightBudget budget(InFlightBudget::Settings{4});
    std::array<int, 2> wakes{};
    Lease first(budget, [&] { ++wakes[0]; });
    Lease second(budget, [&] { ++wakes[1]; });
    // The first phase starts alone and takes everything.
    std::array<int, 2> held{};
    while (first.take()) {
        ++held[0];
    }
    CHECK(held[0] == 4);
    CHECK_FALSE(second.take());
    // Every answer frees a place; each phase asks again as soon as it can. Over many answers each gets half.
    std::array<int, 2> started{};
    for (int answer = 0; answer < 1000; ++answer) {
        const std::size_t done = held[0] >= held[1] ? 0 : 1; // the busier phase's request answers
        (done == 0 ? first : second).give_back();
        --held[done];
        for (std::size_t phase : {std::size_t{0}, std::size_t{1}}) {
            Lease& lease = phase == 0 ? first : second;
            while (lease.take()) {
                ++held[phase];
                ++started[phase];
            }
        }
        REQUIRE(budget.in_use() <= budget.target());
        REQUIRE(held[0] + held[1] == 4);
    }
    CHECK(started[0] == doctest::Approx(500).epsilon(0.02));
    CHECK(started[1] == doctest::Approx(500).epsilon(0.02));
    CHECK(wakes[1] > 0);
}

TEST_CASE("a lease that goes away gives back its places and leaves the line") {
    InFlightBudget budget(InFlightBudget::Settings{2});
    int woken = 0;
    Lease waiting(budget, [&] { ++woken; });
    {
        Lease gone(budget, {});
        CHECK(gone.take());
        CHECK(gone.take());
        CHECK_FALSE(waiting.take());
        Lease also_waiting(budget, {});
        CHECK_FALSE(also_waiting.take());
    } // both go: the places of the first reach `waiting`, the second's place in line is dropped
    CHECK(woken == 1);
    CHECK(waiting.take());
    CHECK(waiting.take());
    CHECK(budget.in_use() == 2);
    waiting.withdraw();
    CHECK(budget.in_use() == 2); // withdraw returns only places granted and not taken
}

TEST_CASE("auto keeps rate x answer time in flight, with headroom, and follows the answer times") {
    InFlightBudget budget(InFlightBudget::Settings{0, 500, 256});
    CHECK(budget.adaptive());
    // Before any answer: as if answers took 100 ms (500 x 0.1 x 1.25 + 4).
    CHECK(budget.target() == 67);
    Clock::time_point now = feed(budget, 150ms, 300, k_start);
    CHECK(budget.target() == 98); // 500 x 0.15 x 1.25 = 93.75 -> 94, + 4
    now = feed(budget, 20ms, 300, now);
    CHECK(budget.target() == 17);
    now = feed(budget, 400ms, 300, now);
    CHECK(budget.target() == 254);
    now = feed(budget, 2000ms, 300, now);
    CHECK(budget.target() == 256); // never above max_connections
    CHECK(budget.limit() == 256);
    // The median, not the mean: a few very slow answers do not move it.
    now = feed(budget, 10000ms, 10, now);
    feed(budget, 100ms, 290, now);
    CHECK(budget.target() == 67);
}

TEST_CASE("the auto target is recomputed every 100 answers or 250 ms, whichever comes first") {
    InFlightBudget budget(InFlightBudget::Settings{0, 100, 256});
    Clock::time_point now = k_start;
    budget.record_answer(1000ms, now); // the first answer sets the median at once
    CHECK(budget.target() == 129);     // 100 x 1 x 1.25 + 4
    // Faster answers arrive slowly: the median follows after 250 ms even with few of them.
    for (int i = 0; i < 3; ++i) {
        now += 100ms;
        budget.record_answer(200ms, now);
    }
    CHECK(budget.target() == 29); // the median of {1000, 200, 200, 200}: 200 ms -> 25 + 4
}

TEST_CASE("a higher target hands its new places to waiting leases at once") {
    InFlightBudget budget(InFlightBudget::Settings{0, 100, 64});
    Clock::time_point now = feed(budget, 10ms, 200, k_start); // 100 x 0.01 x 1.25 -> 2, + 4 = 6
    REQUIRE(budget.target() == 6);
    int wakes = 0;
    Lease lease(budget, [&] { ++wakes; });
    int taken = 0;
    while (lease.take()) {
        ++taken;
    }
    CHECK(taken == 6);
    feed(budget, 200ms, 300, now); // 25 + 4 = 29
    CHECK(budget.target() == 29);
    CHECK(wakes == 1); // one place in line, one grant; the rest is taken when it asks again
    int more = 0;
    while (lease.take()) {
        ++more;
    }
    CHECK(more == 23);
    CHECK(budget.in_use() == 29);
}

TEST_CASE("AnswerTimes gives the median of the recent answers") {
    AnswerTimes times;
    CHECK_FALSE(times.median().has_value());
    CHECK(times.add(30ms, k_start));
    REQUIRE(times.median().has_value());
    CHECK(*times.median() == 30ms);
    Clock::time_point now = k_start;
    for (int i = 0; i < 1000; ++i) {
        now += 1ms;
        times.add(std::chrono::milliseconds(i % 2 == 0 ? 10 : 50), now);
    }
    CHECK((*times.median() == 10ms || *times.median() == 50ms));
}

TEST_CASE("two fetchers drawing on one budget never have more in flight together than it allows") {
    using pipeline::core::FetchCounters;
    using pipeline::core::FetchedItem;
    using pipeline::core::FetchEnd;
    using pipeline::core::Fetcher;
    using pipeline::core::FetchSettings;
    using pipeline::core::FetchTask;
    using pipeline::core::RateLimiter;
    using pipeline::core::StopFlag;
    using pipeline::tests::FakeTransport;
    using pipeline::tests::ok_answer;

    constexpr std::size_t k_budget = 5;
    constexpr std::size_t k_items = 300;
    InFlightBudget budget(InFlightBudget::Settings{k_budget});
    RateLimiter limiter(100000);
    std::atomic<std::size_t> most_in_use{0};
    struct Phase {
        FakeTransport transport;
        StopFlag stop;
        FetchCounters counters;
        std::size_t delivered = 0;
    };
    std::array<Phase, 2> phases;
    std::vector<std::future<FetchEnd>> runs;
    for (Phase& phase : phases) {
        phase.transport.set_script([](const std::string&) { return std::vector{ok_answer(R"({"ok":1})")}; });
        phase.transport.on_start([&](std::size_t, const std::string&) {
            const std::size_t in_use = budget.in_use();
            std::size_t seen = most_in_use.load();
            while (in_use > seen && !most_in_use.compare_exchange_weak(seen, in_use)) {
            }
        });
        runs.push_back(std::async(std::launch::async, [&] {
            FetchSettings settings;
            settings.budget = &budget;
            Fetcher fetcher(phase.transport, limiter, settings, phase.stop, phase.counters);
            std::size_t next = 0;
            return fetcher.run(
                [&]() -> std::optional<FetchTask> {
                    if (next == k_items) {
                        return std::nullopt;
                    }
                    const std::size_t item = next++;
                    return FetchTask{item, "http://api.test/item?n=" + std::to_string(item)};
                },
                [&](FetchedItem&&) { ++phase.delivered; });
        }));
    }
    for (std::future<FetchEnd>& run : runs) {
        CHECK(run.get() == FetchEnd::Finished);
    }
    for (const Phase& phase : phases) {
        CHECK(phase.delivered == k_items);
        CHECK(phase.transport.max_in_flight() <= k_budget);
        CHECK(phase.counters.in_flight == 0);
    }
    CHECK(most_in_use.load() <= k_budget);
    CHECK(budget.in_use() == 0);
}
