// ScopedTimer: waiting adds wall time but next to no CPU time; work adds CPU time.

#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "core/util/time_spent.hpp"

using namespace std::chrono;
using pipeline::core::ScopedTimer;
using pipeline::core::TimeSpent;

TEST_CASE("a scoped timer tells waiting from working") {
    TimeSpent waiting;
    {
        const ScopedTimer timer(waiting);
        std::this_thread::sleep_for(milliseconds(50)); // the thing measured, not a synchronisation
    }
    CHECK(waiting.wall >= milliseconds(50));
    CHECK(waiting.cpu < milliseconds(25));

    TimeSpent working;
    {
        const ScopedTimer timer(working);
        volatile unsigned long sink = 0;
        const steady_clock::time_point until = steady_clock::now() + milliseconds(30);
        while (steady_clock::now() < until) {
            sink = sink + 1;
        }
    }
    CHECK(working.cpu > milliseconds(0));
    CHECK(working.wall >= milliseconds(30));

    // Times add up over several scopes.
    const TimeSpent before = working;
    { const ScopedTimer timer(working); }
    CHECK(working.wall >= before.wall);
    CHECK(working.cpu >= before.cpu);
}
