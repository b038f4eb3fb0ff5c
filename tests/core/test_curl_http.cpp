// CurlTransport and HttpClient against a real cpp-httplib server on 127.0.0.1.

#include <doctest/doctest.h>
#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

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

#include "core/curl_transport.hpp"
#include "core/http_request.hpp"

using namespace std::chrono_literals;
using pipeline::core::AwsSigning;
using pipeline::core::CurlTransport;
using pipeline::core::CurlTransportOptions;
using pipeline::core::HttpClient;
using pipeline::core::HttpRequest;
using pipeline::core::TransportError;
using pipeline::core::TransportResult;

namespace {

/// An httplib server on an OS-chosen port; register handlers on `server`, then start().
class TestServer {
  public:
    TestServer() {
        // Keep-alive connections each hold a worker thread, so give it more than we have in flight.
        server.new_task_queue = [] { return new httplib::ThreadPool(48); };
        server.set_keep_alive_max_count(1000);
        server.set_tcp_nodelay(true); // else Nagle + delayed ACKs add ~40 ms to every response
    }
    ~TestServer() {
        server.stop();
        if (m_thread.joinable()) {
            m_thread.join();
        }
    }
    TestServer(const TestServer&) = delete;
    TestServer& operator=(const TestServer&) = delete;

    void start() {
        m_port = server.bind_to_any_port("127.0.0.1");
        REQUIRE(m_port > 0);
        m_thread = std::thread([this] { server.listen_after_bind(); });
        // stop() before the listen loop is running would be lost, so wait for it.
        const auto deadline = std::chrono::steady_clock::now() + 5s;
        while (!server.is_running() && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::sleep_for(1ms);
        }
        REQUIRE(server.is_running());
    }
    std::string url(const std::string& path) const {
        return "http://127.0.0.1:" + std::to_string(m_port) + path;
    }

    httplib::Server server;

  private:
    std::thread m_thread;
    int m_port = 0;
};

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

/// A port where nothing listens: bound but not listening, so connects are refused.
class RefusingPort {
  public:
    RefusingPort() {
        m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        addr.sin_port = 0;
        REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        socklen_t len = sizeof addr;
        REQUIRE(::getsockname(m_fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
        m_port = ntohs(addr.sin_port);
    }
    ~RefusingPort() { ::close(m_fd); }
    RefusingPort(const RefusingPort&) = delete;
    RefusingPort& operator=(const RefusingPort&) = delete;
    std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/"; }

  private:
    int m_fd = -1;
    int m_port = 0;
};

CurlTransportOptions transport_options(std::size_t max_connections = 32,
                                       std::chrono::milliseconds timeout = 10s,
                                       std::vector<std::pair<std::string, std::string>> headers = {}) {
    CurlTransportOptions options;
    options.max_connections = max_connections;
    options.timeout = timeout;
    options.headers = std::move(headers);
    return options;
}

HttpRequest make_request(std::string method, std::string url, std::string_view body = {},
                         std::vector<std::pair<std::string, std::string>> headers = {}) {
    HttpRequest request;
    request.method = std::move(method);
    request.url = std::move(url);
    request.body = body;
    request.headers = std::move(headers);
    return request;
}

AwsSigning test_signing(std::string region) {
    AwsSigning signing;
    signing.access_key = "AKID";
    signing.secret_key = "SECRETKEY";
    signing.region = std::move(region);
    return signing;
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

// ---------------------------------------------------------------------------------------------------
// HttpClient

namespace {

struct Recorded {
    std::string method;
    std::string body;
    std::string custom_header;
    std::string authorization;
    std::string content_sha256;
    std::size_t content_sha256_count = 0;
    std::string amz_date;
    int remote_port = 0;
};

} // namespace

TEST_CASE("HttpClient: GET/PUT/POST/DELETE/HEAD round trips") {
    TestServer srv;
    std::mutex mutex;
    std::vector<Recorded> seen;
    const auto record = [&](const httplib::Request& req) {
        std::lock_guard lock(mutex);
        Recorded r;
        r.method = req.method;
        r.body = req.body;
        r.custom_header = req.get_header_value("X-Custom");
        r.remote_port = req.remote_port;
        seen.push_back(std::move(r));
    };
    srv.server.Get("/obj", [&](const httplib::Request& req, httplib::Response& res) {
        record(req);
        res.set_header("X-Answer", "  forty two ");
        res.set_content("object body", "text/plain");
    });
    srv.server.Put("/obj", [&](const httplib::Request& req, httplib::Response& res) {
        record(req);
        res.set_content("stored " + std::to_string(req.body.size()), "text/plain");
    });
    srv.server.Post("/obj", [&](const httplib::Request& req, httplib::Response& res) {
        record(req);
        res.status = 201;
        res.set_content(req.body, "text/plain");
    });
    srv.server.Delete("/obj", [&](const httplib::Request& req, httplib::Response& res) {
        record(req);
        res.status = 204;
    });
    srv.start();

    HttpClient client;
    const std::string big_body(3 * 1024 * 1024 + 11, 'p');

    const HttpRequest get = make_request("GET", srv.url("/obj"), {}, {{"X-Custom", "one"}});
    auto response = client.perform(get);
    CHECK(response.error == TransportError::None);
    CHECK(response.status == 200);
    CHECK(response.body == "object body");
    CHECK(response.headers["x-answer"] == "forty two");
    CHECK(response.headers["content-type"] == "text/plain");

    response = client.perform(make_request("PUT", srv.url("/obj"), big_body, {{"X-Custom", "two"}}));
    CHECK(response.error == TransportError::None);
    CHECK(response.status == 200);
    CHECK(response.body == "stored " + std::to_string(big_body.size()));

    response = client.perform(make_request("POST", srv.url("/obj"), "posted"));
    CHECK(response.status == 201);
    CHECK(response.body == "posted");

    response = client.perform(make_request("DELETE", srv.url("/obj")));
    CHECK(response.error == TransportError::None);
    CHECK(response.status == 204);
    CHECK(response.body.empty());

    response = client.perform(make_request("HEAD", srv.url("/obj")));
    CHECK(response.error == TransportError::None);
    CHECK(response.status == 200);
    CHECK(response.body.empty());
    CHECK(response.headers["content-length"] == "11");

    // The previous request's options must not stick: a GET after a PUT is a GET again.
    response = client.perform(get);
    CHECK(response.status == 200);
    CHECK(response.body == "object body");

    std::lock_guard lock(mutex);
    REQUIRE(seen.size() == 6); // HEAD is served by the GET handler
    CHECK(seen[0].method == "GET");
    CHECK(seen[0].custom_header == "one");
    CHECK(seen[1].method == "PUT");
    CHECK(seen[1].body == big_body);
    CHECK(seen[1].custom_header == "two");
    CHECK(seen[2].method == "POST");
    CHECK(seen[2].body == "posted");
    CHECK(seen[2].custom_header.empty());
    CHECK(seen[3].method == "DELETE");
    CHECK(seen[4].method == "HEAD");
    CHECK(seen[5].method == "GET");
    std::set<int> ports;
    for (const auto& r : seen) {
        ports.insert(r.remote_port);
    }
    CHECK(ports.size() <= 2); // one kept connection
}

TEST_CASE("HttpClient: SigV4 signing sends Authorization and the caller's content hash") {
    TestServer srv;
    std::mutex mutex;
    Recorded seen;
    srv.server.Put("/bucket/key.json", [&](const httplib::Request& req, httplib::Response& res) {
        std::lock_guard lock(mutex);
        seen.body = req.body;
        seen.authorization = req.get_header_value("Authorization");
        seen.content_sha256 = req.get_header_value("x-amz-content-sha256");
        seen.content_sha256_count = req.get_header_value_count("x-amz-content-sha256");
        seen.amz_date = req.get_header_value("x-amz-date");
        res.set_content("", "text/plain");
    });
    srv.start();

    const std::string body = "{\"hello\":\"world\"}";
    // sha256 of the body, precomputed as the S3 sink would.
    const std::string hash = "93a23971a914e5eacbf0a8d25154cda309c3c1c72fbb9914d47c60f3cb681588";
    HttpRequest request =
        make_request("PUT", srv.url("/bucket/key.json"), body, {{"x-amz-content-sha256", hash}});
    request.signing = test_signing("us-east-1");
    HttpClient client;
    const auto response = client.perform(request);
    CHECK(response.error == TransportError::None);
    CHECK(response.status == 200);

    std::lock_guard lock(mutex);
    CHECK(seen.body == body);
    CHECK(seen.authorization.starts_with("AWS4-HMAC-SHA256 Credential=AKID/"));
    CHECK(seen.authorization.find("/us-east-1/s3/aws4_request") != std::string::npos);
    CHECK(seen.authorization.find("x-amz-content-sha256") != std::string::npos); // it is signed
    CHECK(seen.authorization.find("SECRETKEY") == std::string::npos);
    CHECK(seen.content_sha256 == hash);
    CHECK(seen.content_sha256_count == 1);
    CHECK(seen.amz_date.size() == 16);
}

TEST_CASE("HttpClient: network failures are reported, not thrown") {
    HttpClient client;
    SUBCASE("refused") {
        RefusingPort refusing;
        HttpRequest request = make_request("GET", refusing.url(), {}, {{"x-secret", "header-value-xyz"}});
        request.signing = test_signing("eu-west-1");
        const auto response = client.perform(request);
        CHECK(response.error == TransportError::Connect);
        CHECK(response.status == 0);
        CHECK_FALSE(response.error_message.empty());
        CHECK(response.error_message.find("SECRETKEY") == std::string::npos);
        CHECK(response.error_message.find("header-value-xyz") == std::string::npos);
    }
    SUBCASE("timeout") {
        TestServer srv;
        srv.server.Get("/slow", [](const httplib::Request&, httplib::Response& res) {
            std::this_thread::sleep_for(1s);
            res.set_content("late", "text/plain");
        });
        srv.start();
        HttpRequest request = make_request("GET", srv.url("/slow"));
        request.timeout = 200ms;
        const auto response = client.perform(request);
        CHECK(response.error == TransportError::Timeout);
        CHECK(response.status == 0);
    }
}
