// The fetch loop against FakeTransport: delivery, the concurrency bound, retries, Retry-After, failures,
// rejects, and stops (while a retry waits and while requests are in flight).

#include <doctest/doctest.h>

#include <chrono>
#include <future>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/api/api_errors.hpp"
#include "core/fetch/fetcher.hpp"
#include "fakes/fake_transport.hpp"

using namespace std::chrono_literals;
using pipeline::core::FetchCounters;
using pipeline::core::FetchedItem;
using pipeline::core::Fetcher;
using pipeline::core::FetchEnd;
using pipeline::core::FetchFailure;
using pipeline::core::FetchSettings;
using pipeline::core::FetchTask;
using pipeline::core::RateLimiter;
using pipeline::core::RetryClass;
using pipeline::core::StopReason;
using pipeline::core::StopFlag;
using pipeline::core::TransportError;
using pipeline::tests::api_error;
using pipeline::tests::FakeTransport;
using pipeline::tests::ok_answer;
using pipeline::tests::transport_failure;
using Clock = std::chrono::steady_clock;

namespace {

std::string url_of(std::size_t item) { return "http://api.test/item?n=" + std::to_string(item); }
std::string body_of(std::size_t item) { return R"({"item":)" + std::to_string(item) + R"(,"name":"캐릭터"})"; }

// A fetcher over `items` tasks, with fast backoff and a limiter that never gets in the way.
struct Harness {
    explicit Harness(std::size_t items, std::size_t concurrency = 4, int max_attempts = 5) : m_items(items) {
        settings.concurrency = concurrency;
        settings.max_attempts = max_attempts;
        settings.backoff_base = 1ms;
        settings.backoff_max = 5ms;
        settings.classify = pipeline::core::classify_answer; // the API's error table, as phases use it
    }
    // Every item answers 200 with its body unless scripted otherwise before.
    void answer_all_ok() {
        transport.set_script([](const std::string& url) {
            const std::size_t item = std::stoul(url.substr(url.find("n=") + 2));
            return std::vector{ok_answer(body_of(item))};
        });
    }
    FetchEnd run() {
        Fetcher fetcher(transport, limiter, settings, stop, counters);
        std::size_t next = 0;
        return fetcher.run(
            [&]() -> std::optional<FetchTask> {
                if (next == m_items) {
                    return std::nullopt;
                }
                const std::size_t item = next++;
                return FetchTask{item, url_of(item)};
            },
            [&](FetchedItem&& item) {
                ++deliveries[item.index];
                delivered[item.index] = std::move(item);
            });
    }
    // run() on another thread, for tests that act while it runs.
    std::future<FetchEnd> run_async() {
        return std::async(std::launch::async, [this] { return run(); });
    }

    FakeTransport transport;
    RateLimiter limiter{100000};
    FetchSettings settings;
    StopFlag stop;
    FetchCounters counters;
    std::map<std::size_t, FetchedItem> delivered;
    std::map<std::size_t, int> deliveries;

  private:
    std::size_t m_items;
};

} // namespace

TEST_CASE("every item is delivered exactly once with its exact body") {
    Harness h(50);
    h.answer_all_ok();
    CHECK(h.run() == FetchEnd::Finished);
    REQUIRE(h.delivered.size() == 50);
    for (std::size_t i = 0; i < 50; ++i) {
        CAPTURE(i);
        CHECK(h.deliveries[i] == 1);
        CHECK(h.delivered[i].index == i);
        CHECK_FALSE(h.delivered[i].rejected);
        CHECK(h.delivered[i].http_status == 200);
        CHECK(h.delivered[i].body == body_of(i));
    }
    CHECK(h.transport.start_count() == 50);
    CHECK(h.counters.requests == 50);
    CHECK(h.counters.retries == 0);
    CHECK(h.transport.unscripted() == 0);
}

TEST_CASE("an empty task list finishes at once without a request") {
    Harness h(0);
    CHECK(h.run() == FetchEnd::Finished);
    CHECK(h.transport.start_count() == 0);
}

TEST_CASE("never more than concurrency requests are in flight") {
    constexpr std::size_t k_items = 30;
    Harness h(k_items, 3);
    h.answer_all_ok();
    h.transport.hold_all(true);
    std::future<FetchEnd> end = h.run_async();
    // With every answer held, the fetcher fills its window and waits.
    REQUIRE(h.transport.wait_for_held(3, 5s));
    // Release answers one at a time; each frees exactly one slot.
    for (std::size_t released = 0; released < k_items; ++released) {
        REQUIRE(h.transport.wait_for_held(1, 5s));
        h.transport.release(1);
    }
    REQUIRE(end.wait_for(10s) == std::future_status::ready);
    CHECK(end.get() == FetchEnd::Finished);
    CHECK(h.transport.max_in_flight() == 3);
    CHECK(h.delivered.size() == k_items);
}

TEST_CASE("a 500 is retried, the 200 that follows is delivered, and each retry is counted by its class") {
    Harness h(10);
    h.transport.add(url_of(4), {api_error(500, "OPENAPI00001"), ok_answer(body_of(4))});
    h.transport.add(url_of(7), {api_error(503, "OPENAPI00011"), api_error(500, "OPENAPI00001"),
                                ok_answer(body_of(7))});
    h.answer_all_ok();
    CHECK(h.run() == FetchEnd::Finished);
    CHECK(h.delivered.size() == 10);
    CHECK(h.deliveries[4] == 1);
    CHECK(h.delivered[4].body == body_of(4));
    CHECK(h.delivered[7].body == body_of(7));
    CHECK(h.transport.start_times(url_of(4)).size() == 2);
    CHECK(h.transport.start_times(url_of(7)).size() == 3);
    CHECK(h.counters.requests == 13);
    CHECK(h.counters.retries == 3);
    CHECK(h.counters.retries_of(RetryClass::ServerError) == 2);
    CHECK(h.counters.retries_of(RetryClass::Maintenance) == 1);
    CHECK(h.counters.retries_of(RetryClass::RateLimited) == 0);
}

TEST_CASE("each retry class is counted on its own") {
    Harness h(6);
    h.transport.add(url_of(0), {transport_failure(TransportError::Timeout), ok_answer(body_of(0))});
    h.transport.add(url_of(1), {transport_failure(TransportError::Reset), ok_answer(body_of(1))});
    h.transport.add(url_of(2), {ok_answer(R"({"item":2,"trunc)"), ok_answer(body_of(2))});
    h.transport.add(url_of(3), {api_error(400, "OPENAPI00009"), ok_answer(body_of(3))});
    h.transport.add(url_of(4), {api_error(429, "OPENAPI00007"), ok_answer(body_of(4))});
    h.transport.add(url_of(5), {transport_failure(TransportError::Truncated), ok_answer(body_of(5))});
    CHECK(h.run() == FetchEnd::Finished);
    for (std::size_t i = 0; i < 6; ++i) {
        CHECK(h.delivered[i].body == body_of(i));
    }
    CHECK(h.counters.retries == 6);
    CHECK(h.counters.retries_of(RetryClass::Transport) == 2);
    CHECK(h.counters.retries_of(RetryClass::BadBody) == 2);
    CHECK(h.counters.retries_of(RetryClass::DataPreparing) == 1);
    CHECK(h.counters.retries_of(RetryClass::RateLimited) == 1);
    CHECK(h.counters.retries_of(RetryClass::ServerError) == 0);
}

TEST_CASE("a 429 with Retry-After 1 is not retried before a second has passed") {
    Harness h(3);
    h.transport.add(url_of(1), {api_error(429, "OPENAPI00007", "1"), ok_answer(body_of(1))});
    h.answer_all_ok();
    const Clock::time_point began = Clock::now();
    CHECK(h.run() == FetchEnd::Finished);
    CHECK(Clock::now() - began < 10s);
    const std::vector<Clock::time_point> starts = h.transport.start_times(url_of(1));
    REQUIRE(starts.size() == 2);
    CHECK(starts[1] - starts[0] >= 1s);
    CHECK(h.delivered[1].body == body_of(1));
    CHECK(h.counters.retries_of(RetryClass::RateLimited) == 1);
}

TEST_CASE("an item that keeps failing ends the run with FetchFailure naming its URL after max_attempts") {
    Harness h(5, 2, 3);
    h.transport.add(url_of(2), {api_error(500, "OPENAPI00001")});
    h.answer_all_ok();
    try {
        h.run();
        FAIL("no FetchFailure");
    } catch (const FetchFailure& e) {
        const std::string message = e.what();
        CHECK(message.find(url_of(2)) != std::string::npos);
        CHECK(message.find("3 attempts") != std::string::npos);
        CHECK(message.find("OPENAPI00001") != std::string::npos);
        CHECK(e.code() == pipeline::core::ExitCode::Failed);
    }
    CHECK(h.transport.start_times(url_of(2)).size() == 3);
    CHECK(h.deliveries.count(2) == 0);
}

TEST_CASE("an invalid key fails at once and no further request starts") {
    SUBCASE("one at a time") {
        Harness h(20, 1);
        h.transport.add(url_of(0), {api_error(400, "OPENAPI00005")});
        h.answer_all_ok();
        CHECK_THROWS_AS(h.run(), FetchFailure);
        CHECK(h.transport.start_count() == 1);
        CHECK(h.delivered.empty());
    }
    SUBCASE("with a full window") {
        Harness h(40, 4);
        h.transport.add(url_of(1), {api_error(400, "OPENAPI00005")});
        h.answer_all_ok();
        try {
            h.run();
            FAIL("no FetchFailure");
        } catch (const FetchFailure& e) {
            CHECK(std::string(e.what()).find("OPENAPI00005") != std::string::npos);
        }
        // Only the first window went out; nothing started once the fatal answer was seen.
        CHECK(h.transport.start_count() <= 4);
        CHECK(h.transport.start_times(url_of(1)).size() == 1);
    }
    SUBCASE("forbidden") {
        Harness h(20, 1);
        h.transport.add(url_of(3), {api_error(403, "OPENAPI00002")});
        h.answer_all_ok();
        CHECK_THROWS_AS(h.run(), FetchFailure);
        CHECK(h.transport.start_count() == 4);
        CHECK(h.delivered.size() == 3);
    }
}

TEST_CASE("a refused item is delivered as rejected with the API's error name and is not retried") {
    Harness h(8);
    h.transport.add(url_of(3), {api_error(400, "OPENAPI00003")});
    h.transport.add(url_of(5), {api_error(400, "OPENAPI00004")});
    h.answer_all_ok();
    CHECK(h.run() == FetchEnd::Finished);
    REQUIRE(h.delivered.size() == 8);
    CHECK(h.delivered[3].rejected);
    CHECK(h.delivered[3].error_name == "OPENAPI00003");
    CHECK(h.delivered[3].http_status == 400);
    CHECK(h.delivered[3].body.empty());
    CHECK(h.delivered[3].message.find("scripted OPENAPI00003") != std::string::npos);
    CHECK(h.delivered[5].rejected);
    CHECK(h.delivered[5].error_name == "OPENAPI00004");
    CHECK_FALSE(h.delivered[4].rejected);
    CHECK(h.transport.start_times(url_of(3)).size() == 1);
    CHECK(h.counters.retries == 0);
}

TEST_CASE("a stop while a retry waits out a 30 s Retry-After returns Stopped promptly, starting nothing") {
    Harness h(1);
    h.transport.add(url_of(0), {api_error(429, "OPENAPI00007", "30"), ok_answer(body_of(0))});
    std::future<FetchEnd> end = h.run_async();
    // The 429 came back and was handled: the fetcher now waits for the retry.
    REQUIRE(h.transport.wait_until_idle(5s));
    const Clock::time_point stopped_at = Clock::now();
    h.stop.request();
    REQUIRE(end.wait_for(5s) == std::future_status::ready);
    CHECK(end.get() == FetchEnd::Stopped);
    CHECK(Clock::now() - stopped_at < 5s);
    CHECK(h.transport.start_count() == 1);
    for (const FakeTransport::Start& start : h.transport.starts()) {
        CHECK(start.at < stopped_at);
    }
    CHECK(h.delivered.empty());
}

TEST_CASE("a stop while requests are in flight waits for them, delivers them, and returns Stopped") {
    Harness h(20, 4);
    h.answer_all_ok();
    h.transport.hold_all(true);
    std::future<FetchEnd> end = h.run_async();
    REQUIRE(h.transport.wait_for_held(4, 5s));
    h.stop.request();
    // The fetcher must not give up on the four requests out there.
    CHECK(end.wait_for(0ms) == std::future_status::timeout);
    h.transport.release();
    REQUIRE(end.wait_for(5s) == std::future_status::ready);
    CHECK(end.get() == FetchEnd::Stopped);
    CHECK(h.transport.start_count() == 4);
    REQUIRE(h.delivered.size() == 4);
    for (const auto& [item, fetched] : h.delivered) {
        CHECK(fetched.body == body_of(item));
        CHECK(h.deliveries[item] == 1);
    }
}

TEST_CASE("a stop requested before run starts nothing") {
    Harness h(5);
    h.answer_all_ok();
    h.stop.request();
    CHECK(h.run() == FetchEnd::Stopped);
    CHECK(h.transport.start_count() == 0);
}

TEST_CASE("a Retry-After past max_wait stops at once with rate_limited instead of sleeping through it") {
    Harness h(3, 1);
    h.settings.max_wait = 2s;
    h.transport.add(url_of(0), {api_error(429, "OPENAPI00007", "86400"), ok_answer(body_of(0))});
    h.answer_all_ok();
    const Clock::time_point began = Clock::now();
    CHECK(h.run() == FetchEnd::Stopped);
    CHECK(Clock::now() - began < 2s);
    CHECK(h.stop.reason() == StopReason::RateLimited);
    CHECK(h.transport.start_count() == 1);
    CHECK(h.counters.retries_of(RetryClass::RateLimited) == 1);
    CHECK(h.delivered.empty());
}

TEST_CASE("any answer asking to wait past max_wait stops at once with its reason, sleeping through nothing") {
    using pipeline::tests::FakeAnswer;
    struct Case {
        const char* what;
        FakeAnswer answer;
        RetryClass retry_class;
        StopReason reason;
    };
    const std::vector<Case> cases = {
        {"a load balancer's HTML 503",
         FakeAnswer{503, "<html><body>Service Unavailable</body></html>", "3600"}, RetryClass::ServerError,
         StopReason::Unavailable},
        {"the API's server error", api_error(500, "OPENAPI00001", "3600"), RetryClass::ServerError,
         StopReason::Unavailable},
        {"an unknown error name", api_error(400, "OPENAPI00099", "3600"), RetryClass::UnknownError,
         StopReason::Unavailable},
        {"a proxy's 502 with a Retry-After date years away",
         FakeAnswer{502, "bad gateway", "Fri, 31 Dec 2100 23:59:59 GMT"}, RetryClass::ServerError,
         StopReason::Unavailable},
        {"a 429", api_error(429, "OPENAPI00007", "3600"), RetryClass::RateLimited, StopReason::RateLimited},
        {"API maintenance", api_error(503, "OPENAPI00011", "3600"), RetryClass::Maintenance,
         StopReason::Maintenance},
    };
    for (const Case& c : cases) {
        CAPTURE(c.what);
        Harness h(3, 1);
        h.settings.max_wait = 2s;
        h.transport.add(url_of(0), {c.answer, ok_answer(body_of(0))});
        h.answer_all_ok();
        const Clock::time_point began = Clock::now();
        CHECK(h.run() == FetchEnd::Stopped); // a wait of an hour would hold run() for an hour
        CHECK(Clock::now() - began < 2s);
        CHECK(h.stop.reason() == c.reason);
        CHECK(h.transport.start_count() == 1);
        CHECK(h.counters.retries_of(c.retry_class) == 1);
        CHECK(h.delivered.empty());
    }
}

TEST_CASE("Retry-Afters within max_wait are waited and add up per item; past the total: unavailable") {
    Harness h(1, 1);
    h.settings.max_wait = 1500ms;
    h.transport.add(url_of(0), {api_error(500, "OPENAPI00001", "1"), api_error(500, "OPENAPI00001", "1"),
                                ok_answer(body_of(0))});
    const Clock::time_point began = Clock::now();
    CHECK(h.run() == FetchEnd::Stopped);
    CHECK(Clock::now() - began < 1500ms); // the second second was never waited
    CHECK(h.stop.reason() == StopReason::Unavailable);
    const std::vector<Clock::time_point> starts = h.transport.start_times(url_of(0));
    REQUIRE(starts.size() == 2);
    CHECK(starts[1] - starts[0] >= 1s);
    CHECK(h.counters.retries_of(RetryClass::ServerError) == 2);
}

TEST_CASE("a short Retry-After on a 5xx is waited out and the item is still limited by max_attempts") {
    Harness h(1, 1, 2);
    h.transport.add(url_of(0), {api_error(500, "OPENAPI00001", "0")});
    CHECK_THROWS_AS(h.run(), FetchFailure);
    CHECK(h.transport.start_count() == 2);
    CHECK(h.stop.reason() == StopReason::None);
}

TEST_CASE("our own backoff never sleeps longer than max_wait either") {
    Harness h(1, 1, 4);
    h.settings.backoff_base = 20s;
    h.settings.backoff_max = 60s;
    h.settings.max_wait = 50ms;
    const pipeline::tests::FakeAnswer bad_gateway{502, "<html>bad gateway</html>", std::nullopt};
    h.transport.add(url_of(0), {transport_failure(TransportError::Timeout), api_error(500, "OPENAPI00001"),
                                bad_gateway, ok_answer(body_of(0))});
    const Clock::time_point began = Clock::now();
    CHECK(h.run() == FetchEnd::Finished);
    CHECK(Clock::now() - began < 5s);
    const std::vector<Clock::time_point> starts = h.transport.start_times(url_of(0));
    REQUIRE(starts.size() == 4);
    for (std::size_t i = 1; i < starts.size(); ++i) {
        CAPTURE(i);
        CHECK(starts[i] - starts[i - 1] < 1s);
    }
    CHECK(h.delivered[0].body == body_of(0));
}

TEST_CASE("waits the API asks for are not limited by max_attempts but by max_wait") {
    SUBCASE("maintenance that ends is waited out, however many answers it takes") {
        Harness h(2, 1, 2);
        h.transport.add(url_of(1), {api_error(400, "OPENAPI00010"), api_error(503, "OPENAPI00011"),
                                    api_error(400, "OPENAPI00010"), ok_answer(body_of(1))});
        h.answer_all_ok();
        CHECK(h.run() == FetchEnd::Finished);
        CHECK(h.delivered[1].body == body_of(1));
        CHECK(h.counters.retries_of(RetryClass::Maintenance) == 3);
        CHECK(h.stop.reason() == StopReason::None);
    }
    SUBCASE("maintenance that does not end stops with maintenance") {
        Harness h(1, 1, 2);
        h.settings.max_wait = 40ms;
        h.settings.backoff_base = 10ms;
        h.settings.backoff_max = 10ms;
        h.transport.add(url_of(0), {api_error(400, "OPENAPI00010")});
        CHECK(h.run() == FetchEnd::Stopped);
        CHECK(h.stop.reason() == StopReason::Maintenance);
        CHECK(h.transport.start_count() > 2);
        CHECK(h.counters.retries_of(RetryClass::Maintenance) == h.transport.start_count());
    }
    SUBCASE("data that stays in preparation stops with not_ready") {
        Harness h(1, 1, 2);
        h.settings.max_wait = 40ms;
        h.settings.backoff_base = 10ms;
        h.settings.backoff_max = 10ms;
        h.transport.add(url_of(0), {api_error(400, "OPENAPI00009")});
        CHECK(h.run() == FetchEnd::Stopped);
        CHECK(h.stop.reason() == StopReason::NotReady);
    }
}

TEST_CASE("an unknown error name is retried up to max_attempts, then fails naming it") {
    Harness h(1, 1, 3);
    h.transport.add(url_of(0), {api_error(400, "OPENAPI00099")});
    try {
        h.run();
        FAIL("no FetchFailure");
    } catch (const FetchFailure& e) {
        CHECK(std::string(e.what()).find("OPENAPI00099") != std::string::npos);
    }
    CHECK(h.transport.start_count() == 3);
    CHECK(h.counters.retries_of(RetryClass::UnknownError) == 2);
}

TEST_CASE("before_send refusing a request stops the loop with its reason, sending nothing more") {
    Harness h(20, 4);
    h.answer_all_ok();
    int allowed = 7;
    h.settings.before_send = [&allowed] { return allowed-- > 0 ? StopReason::None : StopReason::Quota; };
    CHECK(h.run() == FetchEnd::Stopped);
    CHECK(h.stop.reason() == StopReason::Quota);
    CHECK(h.transport.start_count() == 7);
    CHECK(h.counters.requests == 7);
    CHECK(h.delivered.size() == 7);
}

TEST_CASE("the first stop reason sticks") {
    StopFlag flag;
    CHECK(flag.reason() == StopReason::None);
    flag.request(StopReason::Signal);
    flag.request(StopReason::Quota);
    CHECK(flag.requested());
    CHECK(flag.reason() == StopReason::Signal);
}
