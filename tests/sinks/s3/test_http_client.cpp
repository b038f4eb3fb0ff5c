// HttpClient (the S3 sink's blocking client) against a real cpp-httplib server on 127.0.0.1.

#include <doctest/doctest.h>
#include <httplib.h>

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fakes/test_server.hpp"
#include "sinks/s3/http_client.hpp"

using namespace std::chrono_literals;
using pipeline::core::TransportError;
using pipeline::sinks::AwsSigning;
using pipeline::sinks::HttpClient;
using pipeline::sinks::HttpRequest;
using pipeline::tests::RefusingPort;
using pipeline::tests::TestServer;

namespace {

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

} // namespace
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
