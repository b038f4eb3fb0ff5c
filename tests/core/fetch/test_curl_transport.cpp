// CurlTransport against a real cpp-httplib server on 127.0.0.1.

#include <doctest/doctest.h>
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/fetch/curl_transport.hpp"
#include "fakes/test_server.hpp"

using namespace std::chrono_literals;
using pipeline::core::CurlTransport;
using pipeline::core::CurlTransportOptions;
using pipeline::core::TransportError;
using pipeline::core::TransportResult;
using pipeline::tests::RefusingPort;
using pipeline::tests::TestServer;

namespace {

/// Polls until `count` results arrived (or a generous deadline passes).
std::vector<TransportResult> collect(CurlTransport& transport, std::size_t count) {
    std::vector<TransportResult> all;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (all.size() < count && std::chrono::steady_clock::now() < deadline) {
        for (auto& result : transport.poll(500ms)) {
            all.push_back(std::move(result));
        }
    }
    return all;
}

CurlTransportOptions transport_options(std::size_t max_connections = 32,
                                       std::chrono::milliseconds timeout = 10s,
                                       std::vector<std::pair<std::string, std::string>> headers = {}) {
    CurlTransportOptions options;
    options.max_connections = max_connections;
    options.timeout = timeout;
    options.headers = std::move(headers);
    return options;
}

std::string item_body(int n) {
    // ~13 KB like the real API answers, distinct per item.
    std::string body = "item-" + std::to_string(n) + ":";
    body.append(13000, static_cast<char>('a' + n % 26));
    return body;
}

} // namespace

TEST_CASE("CurlTransport: 100 requests with 16 in flight return the right bodies and tags") {
    TestServer srv;
    std::mutex mutex;
    std::set<std::string> api_keys;
    srv.server.Get(R"(/item/(\d+))", [&](const httplib::Request& req, httplib::Response& res) {
        {
            std::lock_guard lock(mutex);
            api_keys.insert(req.get_header_value("x-nxopen-api-key"));
        }
        res.set_content(item_body(std::stoi(req.matches[1].str())), "application/json");
    });
    srv.start();

    CurlTransport transport(transport_options(16, 10s, {{"x-nxopen-api-key", "secret-key-123"}}));
    constexpr int k_total = 100;
    constexpr std::size_t k_parallel = 16;
    int next = 0;
    std::map<std::uint64_t, TransportResult> results;
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    while (results.size() < k_total && std::chrono::steady_clock::now() < deadline) {
        while (next < k_total && transport.in_flight() < k_parallel) {
            transport.start(1000 + next, srv.url("/item/" + std::to_string(next)));
            ++next;
        }
        CHECK(transport.in_flight() <= k_parallel);
        for (auto& result : transport.poll(1s)) {
            results.emplace(result.tag, std::move(result));
        }
    }
    REQUIRE(results.size() == k_total);
    CHECK(transport.in_flight() == 0);
    for (int i = 0; i < k_total; ++i) {
        const auto it = results.find(1000 + i);
        REQUIRE(it != results.end());
        CHECK(it->second.error == TransportError::None);
        CHECK(it->second.status == 200);
        CHECK(it->second.body == item_body(i));
        CHECK_FALSE(it->second.retry_after.has_value());
    }
    std::lock_guard lock(mutex);
    CHECK(api_keys == std::set<std::string>{"secret-key-123"});
}

TEST_CASE("CurlTransport: multi-megabyte body and non-200 status") {
    TestServer srv;
    std::string big(5 * 1024 * 1024 + 7, 'x');
    for (std::size_t i = 0; i < big.size(); i += 4096) {
        big[i] = static_cast<char>('0' + (i / 4096) % 10);
    }
    srv.server.Get(
        "/big", [&](const httplib::Request&, httplib::Response& res) { res.set_content(big, "text/plain"); });
    srv.server.Get("/missing", [](const httplib::Request&, httplib::Response& res) {
        res.status = 404;
        res.set_content("{\"error\":1}", "application/json");
    });
    srv.start();

    CurlTransport transport(transport_options());
    transport.start(1, srv.url("/big"));
    transport.start(2, srv.url("/missing"));
    auto results = collect(transport, 2);
    REQUIRE(results.size() == 2);
    std::sort(results.begin(), results.end(), [](const auto& a, const auto& b) { return a.tag < b.tag; });
    CHECK(results[0].error == TransportError::None);
    CHECK(results[0].status == 200);
    CHECK(results[0].body == big);
    CHECK(results[1].error == TransportError::None);
    CHECK(results[1].status == 404);
    CHECK(results[1].body == "{\"error\":1}");
}

TEST_CASE("CurlTransport: Retry-After is captured case-insensitively and trimmed") {
    TestServer srv;
    srv.server.Get("/limited", [](const httplib::Request&, httplib::Response& res) {
        res.status = 429;
        res.set_header("rEtRy-AfTeR", "120  ");
        res.set_content("slow down", "text/plain");
    });
    srv.server.Get("/fine", [](const httplib::Request&, httplib::Response& res) {
        res.set_content("ok", "text/plain");
    });
    srv.start();

    CurlTransport transport(transport_options(1));
    transport.start(1, srv.url("/limited"));
    auto first = collect(transport, 1);
    REQUIRE(first.size() == 1);
    CHECK(first[0].status == 429);
    REQUIRE(first[0].retry_after.has_value());
    CHECK(*first[0].retry_after == "120");
    CHECK(first[0].body == "slow down");

    // The same (reused) handle must not carry the header over into the next response.
    transport.start(2, srv.url("/fine"));
    auto second = collect(transport, 1);
    REQUIRE(second.size() == 1);
    CHECK(second[0].status == 200);
    CHECK_FALSE(second[0].retry_after.has_value());
}

TEST_CASE("CurlTransport: connection refused maps to Connect and leaks no header value") {
    RefusingPort refusing;
    CurlTransport transport(transport_options(32, 10s, {{"x-nxopen-api-key", "very-secret-value"}}));
    transport.start(7, refusing.url());
    CHECK(transport.in_flight() == 1);
    auto results = collect(transport, 1);
    REQUIRE(results.size() == 1);
    CHECK(results[0].tag == 7);
    CHECK(results[0].error == TransportError::Connect);
    CHECK(results[0].status == 0);
    CHECK_FALSE(results[0].error_message.empty());
    CHECK(results[0].error_message.find("very-secret-value") == std::string::npos);
    CHECK(transport.in_flight() == 0);
}

TEST_CASE("CurlTransport: a server slower than the timeout gives Timeout") {
    TestServer srv;
    srv.server.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
        std::this_thread::sleep_for(1s);
        res.set_content("late", "text/plain");
    });
    srv.start();

    CurlTransport transport(transport_options(32, 200ms));
    transport.start(3, srv.url("/slow"));
    auto results = collect(transport, 1);
    REQUIRE(results.size() == 1);
    CHECK(results[0].error == TransportError::Timeout);
    CHECK(results[0].status == 0);
}

TEST_CASE("CurlTransport: a body shorter than its Content-Length gives Truncated") {
    TestServer srv;
    srv.server.Get("/cut", [](const httplib::Request&, httplib::Response& res) {
        res.set_content_provider(1000, "application/json",
                                 [](std::size_t, std::size_t, httplib::DataSink& sink) {
                                     const std::string half(500, 'h');
                                     sink.write(half.data(), half.size());
                                     return false; // httplib then closes the connection
                                 });
    });
    srv.start();

    CurlTransport transport(transport_options());
    transport.start(4, srv.url("/cut"));
    auto results = collect(transport, 1);
    REQUIRE(results.size() == 1);
    CHECK(results[0].error == TransportError::Truncated);
    CHECK(results[0].status == 0);
}

TEST_CASE("CurlTransport: wake() ends a waiting poll promptly") {
    CurlTransport transport(transport_options());
    SUBCASE("from another thread while idle") {
        std::thread waker([&] {
            std::this_thread::sleep_for(100ms);
            transport.wake();
        });
        const auto begin = std::chrono::steady_clock::now();
        const auto results = transport.poll(10s);
        const auto elapsed = std::chrono::steady_clock::now() - begin;
        waker.join();
        CHECK(results.empty());
        CHECK(elapsed < 2s);
    }
    SUBCASE("called before poll, it ends the next poll") {
        transport.wake();
        const auto begin = std::chrono::steady_clock::now();
        transport.poll(10s);
        CHECK(std::chrono::steady_clock::now() - begin < 2s);
    }
    SUBCASE("while a transfer is in flight") {
        TestServer srv;
        srv.server.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
            std::this_thread::sleep_for(1500ms);
            res.set_content("late", "text/plain");
        });
        srv.start();
        // Declared after the server so that its keep-alive connection closes before the server stops.
        CurlTransport busy(transport_options());
        busy.start(1, srv.url("/slow"));
        std::thread waker([&] {
            std::this_thread::sleep_for(100ms);
            busy.wake();
        });
        const auto begin = std::chrono::steady_clock::now();
        const auto results = busy.poll(10s);
        const auto elapsed = std::chrono::steady_clock::now() - begin;
        waker.join();
        CHECK(results.empty());
        CHECK(elapsed < 1s);
        CHECK(busy.in_flight() == 1);
        auto finished = collect(busy, 1); // and the transfer still completes normally
        REQUIRE(finished.size() == 1);
        CHECK(finished[0].body == "late");
    }
}

TEST_CASE("CurlTransport: a poll with nothing to do waits for its timeout") {
    CurlTransport transport(transport_options());
    const auto begin = std::chrono::steady_clock::now();
    CHECK(transport.poll(150ms).empty());
    CHECK(std::chrono::steady_clock::now() - begin >= 140ms);
}

TEST_CASE("CurlTransport: sequential requests reuse keep-alive connections") {
    TestServer srv;
    std::mutex mutex;
    std::set<int> ports;
    srv.server.Get("/ping", [&](const httplib::Request& req, httplib::Response& res) {
        {
            std::lock_guard lock(mutex);
            ports.insert(req.remote_port);
        }
        res.set_content("pong", "text/plain");
    });
    srv.start();

    CurlTransport transport(transport_options(4));
    for (int i = 0; i < 50; ++i) {
        transport.start(static_cast<std::uint64_t>(i), srv.url("/ping"));
        auto results = collect(transport, 1);
        REQUIRE(results.size() == 1);
        CHECK(results[0].body == "pong");
    }
    std::lock_guard lock(mutex);
    CHECK(ports.size() <= 2);
}

TEST_CASE("CurlTransport: transfers beyond max_connections queue without eating their timeout") {
    TestServer srv;
    srv.server.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
        std::this_thread::sleep_for(150ms);
        res.set_content("done", "text/plain");
    });
    srv.start();

    // Run one at a time, the third finishes ~450 ms after start(): past the timeout had its
    // queueing time counted.
    CurlTransport transport(transport_options(1, 400ms));
    for (std::uint64_t tag = 0; tag < 3; ++tag) {
        transport.start(tag, srv.url("/slow"));
    }
    CHECK(transport.in_flight() == 3);
    const auto results = collect(transport, 3);
    REQUIRE(results.size() == 3);
    for (const auto& result : results) {
        CHECK(result.error == TransportError::None);
        CHECK(result.body == "done");
    }
    CHECK(transport.in_flight() == 0);
}

TEST_CASE("CurlTransport: destruction with transfers in flight is clean") {
    TestServer srv;
    srv.server.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
        std::this_thread::sleep_for(300ms);
        res.set_content("late", "text/plain");
    });
    srv.start();
    {
        CurlTransport transport(transport_options());
        for (int i = 0; i < 4; ++i) {
            transport.start(static_cast<std::uint64_t>(i), srv.url("/slow"));
        }
        transport.poll(50ms);
        CHECK(transport.in_flight() == 4);
    }
}

TEST_CASE("CurlTransport: a body past max_body_bytes is cut off (announced or streamed), a smaller one is kept") {
    TestServer srv;
    const std::string fits(1024 * 1024, 'f');
    const std::string announced(3 * 1024 * 1024, 'a');
    srv.server.Get("/fits", [&](const httplib::Request&, httplib::Response& res) { res.set_content(fits, "text/plain"); });
    // Not a type httplib compresses: the Content-Length announces the body's own size.
    srv.server.Get("/announced", [&](const httplib::Request&, httplib::Response& res) {
        res.set_content(announced, "application/octet-stream");
    });
    srv.server.Get("/streamed", [](const httplib::Request&, httplib::Response& res) {
        // Chunked, no Content-Length: only the write callback can stop it. Never ends on its own.
        res.set_chunked_content_provider("text/plain", [](std::size_t, httplib::DataSink& sink) {
            static const std::string block(64 * 1024, 's');
            return sink.write(block.data(), block.size());
        });
    });
    srv.start();

    CurlTransportOptions options = transport_options();
    options.max_body_bytes = 2 * 1024 * 1024;
    CurlTransport transport(options);
    transport.start(1, srv.url("/fits"));
    transport.start(2, srv.url("/announced"));
    transport.start(3, srv.url("/streamed"));
    auto results = collect(transport, 3);
    REQUIRE(results.size() == 3);
    std::sort(results.begin(), results.end(), [](const auto& a, const auto& b) { return a.tag < b.tag; });
    CHECK(results[0].error == TransportError::None);
    CHECK(results[0].body == fits);
    for (std::size_t i = 1; i < 3; ++i) {
        CAPTURE(i);
        CHECK(results[i].error == TransportError::TooLarge);
        CHECK(results[i].body.empty());
        CHECK(results[i].error_message.find("api.max_body_mb") != std::string::npos);
    }
}
