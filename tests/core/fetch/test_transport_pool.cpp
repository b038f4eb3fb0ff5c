// TransportPool over a FakeTransport: each client gets its own answers under its own tags, a wake reaches
// only its client, and the answers of a client that is gone are dropped.

#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "core/fetch/transport_pool.hpp"
#include "fakes/fake_transport.hpp"

using namespace std::chrono_literals;
using pipeline::core::Transport;
using pipeline::core::TransportPool;
using pipeline::core::TransportResult;
using pipeline::tests::FakeTransport;
using pipeline::tests::ok_answer;
using pipeline::tests::TransportRef;

namespace {

// Polls until `count` results came back or five seconds passed.
std::vector<TransportResult> collect(Transport& client, std::size_t count) {
    std::vector<TransportResult> results;
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (results.size() < count && std::chrono::steady_clock::now() < deadline) {
        for (TransportResult& result : client.poll(100ms)) {
            results.push_back(std::move(result));
        }
    }
    return results;
}

} // namespace

TEST_CASE("two clients of one pool each get their own answers under their own tags") {
    FakeTransport fake;
    fake.set_script([](const std::string& url) { return std::vector{ok_answer("body of " + url)}; });
    TransportPool pool(std::make_unique<TransportRef>(fake));
    std::unique_ptr<Transport> first = pool.client();
    std::unique_ptr<Transport> second = pool.client();
    for (std::uint64_t tag = 1; tag <= 20; ++tag) {
        first->start(tag, "/a/" + std::to_string(tag));
        second->start(tag, "/b/" + std::to_string(tag));
    }
    for (auto [client, prefix] : {std::pair{first.get(), "/a/"}, std::pair{second.get(), "/b/"}}) {
        const std::vector<TransportResult> results = collect(*client, 20);
        REQUIRE(results.size() == 20);
        for (const TransportResult& result : results) {
            CHECK(result.body == "body of " + std::string(prefix) + std::to_string(result.tag));
        }
        CHECK(client->in_flight() == 0);
    }
    CHECK(fake.start_count() == 40); // one inner transport served both
}

TEST_CASE("a client's wake() ends only its own poll") {
    FakeTransport fake;
    TransportPool pool(std::make_unique<TransportRef>(fake));
    std::unique_ptr<Transport> first = pool.client();
    std::unique_ptr<Transport> second = pool.client();
    first->wake();
    const auto started = std::chrono::steady_clock::now();
    CHECK(first->poll(5s).empty());
    CHECK(std::chrono::steady_clock::now() - started < 2s);
    const auto waited_from = std::chrono::steady_clock::now();
    CHECK(second->poll(50ms).empty());
    CHECK(std::chrono::steady_clock::now() - waited_from >= 45ms);
}

TEST_CASE("the answers of a client that is gone are dropped, and the others still flow") {
    FakeTransport fake;
    fake.set_script([](const std::string& url) { return std::vector{ok_answer(url)}; });
    fake.hold_all(true);
    TransportPool pool(std::make_unique<TransportRef>(fake));
    std::unique_ptr<Transport> survivor = pool.client();
    {
        std::unique_ptr<Transport> gone = pool.client();
        gone->start(1, "/gone");
        REQUIRE(fake.wait_for_held(1, 5s));
    }
    survivor->start(7, "/kept");
    REQUIRE(fake.wait_for_held(2, 5s));
    fake.release();
    const std::vector<TransportResult> results = collect(*survivor, 1);
    REQUIRE(results.size() == 1);
    CHECK(results[0].tag == 7);
    CHECK(results[0].body == "/kept");
    CHECK(survivor->poll(100ms).empty());
}
