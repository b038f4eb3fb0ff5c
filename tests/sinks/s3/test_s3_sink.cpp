// S3Sink against s3rver (suite "s3": ctest starts it, see scripts/s3rver.sh) and against scripted
// httplib servers for the retry policy (suite "s3-offline").

#include <doctest/doctest.h>
#include <httplib.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <string>
#include <thread>

#include "core/util/error.hpp"
#include "sinks/s3/s3_sink.hpp"

using namespace std::chrono_literals;
using pipeline::core::Error;
using pipeline::sinks::S3Sink;
using pipeline::sinks::S3SinkOptions;

namespace {

constexpr const char* k_secret = "S3RVER";

/// The endpoint the S3 tests write to: the signature-checking front before s3rver that ctest started
/// (PIPELINE_S3_FRONT_DIR/port; see scripts/s3front.sh and scripts/s3rver.sh).
std::string s3rver_endpoint() {
    const char* dir = std::getenv("PIPELINE_S3_FRONT_DIR");
    REQUIRE_MESSAGE(dir != nullptr, "PIPELINE_S3_FRONT_DIR is not set: run through ctest (-R s3), or start "
                                    "scripts/s3rver.sh start DIR, scripts/s3front.sh start FRONT DIR and "
                                    "export PIPELINE_S3_FRONT_DIR=FRONT");
    std::ifstream in(std::string(dir) + "/port");
    int port = 0;
    in >> port;
    REQUIRE_MESSAGE(port > 0, "no front port in " << dir << "/port: is it running (scripts/s3front.sh start)?");
    return "http://127.0.0.1:" + std::to_string(port);
}

/// A prefix no other test run uses, so runs against the same server do not see each other's objects.
std::string unique_prefix(const std::string& name) {
    static std::mt19937_64 random(std::random_device{}());
    return "unit/" + name + "-" + std::to_string(random());
}

S3SinkOptions s3rver_options(const std::string& name) {
    S3SinkOptions options;
    options.endpoint = s3rver_endpoint();
    options.bucket = "snapshots";
    options.prefix = unique_prefix(name);
    options.access_key = "S3RVER";
    options.secret_key = k_secret;
    options.max_attempts = 3;
    options.backoff_base = 5ms;
    options.backoff_max = 50ms;
    return options;
}

std::string message_of(const std::function<void()>& action) {
    try {
        action();
    } catch (const Error& error) {
        return error.what();
    }
    FAIL("expected a core::Error");
    return {};
}

std::string random_bytes(std::size_t size) {
    std::mt19937_64 random(42);
    std::string out(size, '\0');
    for (char& c : out) {
        c = static_cast<char>(random() & 0xFF);
    }
    return out;
}

/// An httplib server on an OS-chosen port, for scripted answers.
class ScriptedServer {
  public:
    explicit ScriptedServer(httplib::Server::Handler handler) {
        server.Get(".*", handler);
        server.Put(".*", handler);
        server.Post(".*", handler);
        server.Delete(".*", handler);
        m_port = server.bind_to_any_port("127.0.0.1");
        m_thread = std::thread([this] { server.listen_after_bind(); });
        while (!server.is_running()) {
            std::this_thread::sleep_for(1ms);
        }
    }
    ~ScriptedServer() {
        server.stop();
        m_thread.join();
    }
    std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(m_port); }
    httplib::Server server;

  private:
    int m_port = 0;
    std::thread m_thread;
};

S3SinkOptions scripted_options(const std::string& endpoint) {
    S3SinkOptions options;
    options.endpoint = endpoint;
    options.bucket = "b";
    options.prefix = "p";
    options.access_key = "AK";
    options.secret_key = "very-secret-value";
    options.max_attempts = 4;
    options.backoff_base = 1ms;
    options.backoff_max = 5ms;
    return options;
}

} // namespace

TEST_SUITE("s3") {
    TEST_CASE("put, get, list and remove round-trip under the prefix") {
        S3SinkOptions options = s3rver_options("roundtrip");
        S3Sink sink(options);
        CHECK(sink.describe() == "s3://snapshots/" + options.prefix);
        sink.put("2026-11-22/RANKING_FETCH/r1/part-00001.jsonl", "one\n");
        sink.put("2026-11-22/RANKING_FETCH/r1/_manifest.json", "{}");
        sink.put("2026-11-22/OCID_LOOKUP/r2/a b&c'd+e.txt", "odd name");
        sink.put("empty", "");

        CHECK(sink.get("2026-11-22/RANKING_FETCH/r1/part-00001.jsonl") ==
              std::optional<std::string>("one\n"));
        CHECK(sink.get("2026-11-22/OCID_LOOKUP/r2/a b&c'd+e.txt") == std::optional<std::string>("odd name"));
        CHECK(sink.get("empty") == std::optional<std::string>(""));
        CHECK(sink.list("") == std::vector<std::string>{"2026-11-22/OCID_LOOKUP/r2/a b&c'd+e.txt",
                                                        "2026-11-22/RANKING_FETCH/r1/_manifest.json",
                                                        "2026-11-22/RANKING_FETCH/r1/part-00001.jsonl",
                                                        "empty"});
        CHECK(sink.list("2026-11-22/RANKING_FETCH/") ==
              std::vector<std::string>{"2026-11-22/RANKING_FETCH/r1/_manifest.json",
                                       "2026-11-22/RANKING_FETCH/r1/part-00001.jsonl"});
        CHECK(sink.list("nothing/here/").empty());

        sink.put("2026-11-22/RANKING_FETCH/r1/_manifest.json", "{\"v\":2}"); // replaces
        CHECK(sink.get("2026-11-22/RANKING_FETCH/r1/_manifest.json") ==
              std::optional<std::string>("{\"v\":2}"));
        sink.remove("2026-11-22/RANKING_FETCH/r1/_manifest.json");
        sink.remove("2026-11-22/RANKING_FETCH/r1/_manifest.json"); // absent: no error
        CHECK_FALSE(sink.get("2026-11-22/RANKING_FETCH/r1/_manifest.json").has_value());
        CHECK(sink.list("2026-11-22/RANKING_FETCH/") ==
              std::vector<std::string>{"2026-11-22/RANKING_FETCH/r1/part-00001.jsonl"});
        sink.clean_temporaries("2026-11-22/RANKING_FETCH/r1/"); // s3rver cannot list uploads: best effort
    }

    TEST_CASE("a sink whose prefix is another's prefix does not see the other's keys") {
        S3SinkOptions options = s3rver_options("nested");
        S3Sink outer(options);
        options.prefix += "/inner/";
        S3Sink inner(options);
        inner.put("k", "v");
        CHECK(outer.list("") == std::vector<std::string>{"inner/k"});
        CHECK(inner.list("") == std::vector<std::string>{"k"});
    }

    TEST_CASE("get of a missing key is nullopt") {
        S3Sink sink(s3rver_options("missing"));
        CHECK_FALSE(sink.get("no/such/key").has_value());
    }

    TEST_CASE("list follows continuation tokens past max-keys") {
        S3SinkOptions options = s3rver_options("pages");
        options.max_keys = 3;
        S3Sink sink(options);
        std::vector<std::string> expected;
        for (int i = 0; i < 11; ++i) {
            const std::string key = "d/part-" + std::to_string(10000 + i) + ".jsonl";
            sink.put(key, std::to_string(i));
            expected.push_back(key);
        }
        CHECK(sink.list("d/") == expected);
        CHECK(sink.list("d/part-1000") == std::vector<std::string>(expected.begin(), expected.begin() + 10));
    }

    TEST_CASE("an object above the threshold goes up in parts and reads back byte-identical") {
        S3SinkOptions options = s3rver_options("multipart");
        options.multipart_threshold_bytes = 5u << 20;
        options.part_size_bytes = 5u << 20;
        S3Sink sink(options);
        const std::string data = random_bytes((11u << 20) + 12345); // 3 parts: 5 MiB, 5 MiB, the rest
        sink.put("big.bin", data);
        const std::optional<std::string> back = sink.get("big.bin");
        REQUIRE(back.has_value());
        CHECK(back->size() == data.size());
        CHECK(*back == data);
        CHECK(sink.list("") == std::vector<std::string>{"big.bin"});
    }

    TEST_CASE("a streamed object goes up part by part as it grows, and only appears when committed") {
        S3SinkOptions options = s3rver_options("streamed");
        options.part_size_bytes = 5u << 20;
        S3Sink sink(options);
        const std::string data = random_bytes((11u << 20) + 4321);
        {
            std::unique_ptr<pipeline::core::SinkObject> object = sink.open("chunk.bin");
            for (std::size_t at = 0; at < data.size(); at += 700000) {
                object->write(std::string_view(data).substr(at, 700000));
            }
            CHECK(sink.list("") == std::vector<std::string>{}); // parts uploaded, object not visible yet
            object->commit();
        }
        const std::optional<std::string> back = sink.get("chunk.bin");
        REQUIRE(back.has_value());
        CHECK(*back == data);
        // A small object is one PUT; an uncommitted one never appears.
        std::unique_ptr<pipeline::core::SinkObject> small = sink.open("small.bin");
        small->write("hello");
        small->commit();
        CHECK(sink.get("small.bin") == std::optional<std::string>("hello"));
        {
            std::unique_ptr<pipeline::core::SinkObject> dropped = sink.open("dropped.bin");
            dropped->write(data);
        }
        CHECK(sink.list("") == std::vector<std::string>{"chunk.bin", "small.bin"});
    }

    TEST_CASE("a streamed object destroyed before commit aborts its multipart upload") {
        std::mutex mutex;
        std::vector<std::string> seen;
        ScriptedServer server([&](const httplib::Request& request, httplib::Response& response) {
            const std::lock_guard lock(mutex);
            seen.push_back(request.method + " " + request.target);
            if (request.method == "POST") {
                response.set_content("<InitiateMultipartUploadResult><UploadId>u1</UploadId>"
                                     "</InitiateMultipartUploadResult>",
                                     "application/xml");
            } else if (request.method == "PUT") {
                response.set_header("ETag", "\"e1\"");
            } else {
                response.status = 204;
            }
        });
        S3SinkOptions options = scripted_options(server.endpoint());
        options.part_size_bytes = 8;
        S3Sink sink(options);
        {
            std::unique_ptr<pipeline::core::SinkObject> object = sink.open("o");
            object->write("0123456789");
        }
        CHECK(seen == std::vector<std::string>{"POST /b/p/o?uploads=", "PUT /b/p/o?partNumber=1&uploadId=u1",
                                               "DELETE /b/p/o?uploadId=u1"});
    }

    TEST_CASE("a wrong access key fails at once, naming the code, bucket and endpoint but not the secret") {
        S3SinkOptions options = s3rver_options("badkey");
        options.access_key = "NOT-A-KEY";
        options.secret_key = "do-not-print-this-secret";
        S3Sink sink(options);
        const std::string message = message_of([&] { sink.put("x", "y"); });
        CHECK(message.find("InvalidAccessKeyId") != std::string::npos);
        CHECK(message.find("s3://snapshots/" + options.prefix + "/x") != std::string::npos);
        CHECK(message.find(options.endpoint) != std::string::npos);
        CHECK(message.find("do-not-print-this-secret") == std::string::npos);
        CHECK(message.find("attempts") == std::string::npos); // not retried
        CHECK(message_of([&] { sink.list(""); }).find("InvalidAccessKeyId") != std::string::npos);
    }

    TEST_CASE("a wrong secret fails at once with SignatureDoesNotMatch, never naming the secret") {
        // The front recomputes every signature with botocore: s3rver alone would accept this one.
        S3SinkOptions options = s3rver_options("badsecret");
        options.secret_key = "wrong-secret-do-not-print";
        S3Sink sink(options);
        for (const std::function<void()>& action : std::vector<std::function<void()>>{
                 [&] { sink.put("x", "y"); }, [&] { (void)sink.get("x"); }, [&] { (void)sink.list(""); }}) {
            const std::string message = message_of(action);
            CHECK(message.find("SignatureDoesNotMatch") != std::string::npos);
            CHECK(message.find(options.endpoint) != std::string::npos);
            CHECK(message.find("wrong-secret-do-not-print") == std::string::npos);
            CHECK(message.find("attempts") == std::string::npos); // not retried
        }
        // The right secret, with keys that need encoding in the signed path and query, passes the check.
        S3Sink good(s3rver_options("goodsecret"));
        good.put("a b/c+d=e&f~g.json", "v");
        CHECK(good.get("a b/c+d=e&f~g.json") == std::optional<std::string>("v"));
        CHECK(good.list("a b/") == std::vector<std::string>{"a b/c+d=e&f~g.json"});
    }

    TEST_CASE("a missing bucket is NoSuchBucket, also for get and list") {
        S3SinkOptions options = s3rver_options("nobucket");
        options.bucket = "no-such-bucket";
        S3Sink sink(options);
        for (const std::function<void()>& action : std::vector<std::function<void()>>{
                 [&] { sink.put("x", "y"); }, [&] { (void)sink.get("x"); }, [&] { (void)sink.list(""); }}) {
            const std::string message = message_of(action);
            CHECK(message.find("NoSuchBucket") != std::string::npos);
            CHECK(message.find("s3://no-such-bucket/") != std::string::npos);
        }
    }
}

TEST_SUITE("s3-offline") {
    TEST_CASE("an unreachable endpoint fails after the retries, naming the endpoint") {
        // A bound socket that never listens: connections to its port are refused, and no one else gets it.
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        REQUIRE(fd >= 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
        socklen_t length = sizeof address;
        REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0);
        const std::string endpoint = "http://127.0.0.1:" + std::to_string(ntohs(address.sin_port));

        S3Sink sink(scripted_options(endpoint));
        const std::string message = message_of([&] { (void)sink.get("k"); });
        ::close(fd);
        CHECK(message.find("S3 GET s3://b/p/k at " + endpoint + ": cannot connect: ") == 0);
        CHECK(message.find("after 4 attempts") != std::string::npos);
    }

    TEST_CASE("5xx and SlowDown are retried; the request then succeeds") {
        std::atomic<int> calls{0};
        ScriptedServer server([&](const httplib::Request& request, httplib::Response& response) {
            const int n = ++calls;
            CHECK(request.has_header("x-amz-content-sha256"));
            CHECK(request.get_header_value("authorization").starts_with("AWS4-HMAC-SHA256"));
            if (n == 1) {
                response.status = 503;
                response.set_content("<Error><Code>SlowDown</Code><Message>Reduce</Message></Error>",
                                     "application/xml");
            } else if (n == 2) {
                response.status = 500;
                response.set_content("<Error><Code>InternalError</Code></Error>", "application/xml");
            } else {
                response.set_content("payload", "application/octet-stream");
            }
        });
        S3Sink sink(scripted_options(server.endpoint()));
        CHECK(sink.get("k") == std::optional<std::string>("payload"));
        CHECK(calls == 3);
    }

    TEST_CASE("AccessDenied fails at once with the server's code and message") {
        std::atomic<int> calls{0};
        ScriptedServer server([&](const httplib::Request&, httplib::Response& response) {
            ++calls;
            response.status = 403;
            response.set_content(
                "<Error><Code>AccessDenied</Code><Message>Access &amp; Denied</Message></Error>",
                "application/xml");
        });
        S3Sink sink(scripted_options(server.endpoint()));
        const std::string message = message_of([&] { sink.put("dir/k", "v"); });
        CHECK(message == "S3 PUT s3://b/p/dir/k at " + server.endpoint() + ": AccessDenied: Access & Denied");
        CHECK(calls == 1);
    }

    TEST_CASE("retries stop at max_attempts and say so") {
        std::atomic<int> calls{0};
        ScriptedServer server([&](const httplib::Request&, httplib::Response& response) {
            ++calls;
            response.status = 502;
        });
        S3Sink sink(scripted_options(server.endpoint()));
        const std::string message = message_of([&] { (void)sink.list(""); });
        CHECK(message ==
              "S3 GET s3://b/p/ at " + server.endpoint() + ": HTTP 502 (gave up after 4 attempts)");
        CHECK(calls == 4);
    }

    TEST_CASE("a failed part aborts the multipart upload and the object never appears") {
        std::mutex mutex;
        std::vector<std::string> seen;
        ScriptedServer server([&](const httplib::Request& request, httplib::Response& response) {
            const std::lock_guard lock(mutex);
            seen.push_back(request.method + " " + request.target);
            if (request.method == "POST") {
                response.set_content("<InitiateMultipartUploadResult><UploadId>u/1</UploadId>"
                                     "</InitiateMultipartUploadResult>",
                                     "application/xml");
            } else if (request.method == "PUT" && request.target.find("partNumber=2") != std::string::npos) {
                response.status = 400;
                response.set_content("<Error><Code>EntityTooSmall</Code></Error>", "application/xml");
            } else if (request.method == "PUT") {
                response.set_header("ETag", "\"e1\"");
            } else {
                response.status = 204;
            }
        });
        S3SinkOptions options = scripted_options(server.endpoint());
        options.multipart_threshold_bytes = 10;
        options.part_size_bytes = 8;
        S3Sink sink(options);
        const std::string message = message_of([&] { sink.put("o", "0123456789abcdef-"); });
        CHECK(message.find("S3 PUT s3://b/p/o at ") == 0);
        CHECK(message.find("EntityTooSmall") != std::string::npos);
        CHECK(seen == std::vector<std::string>{
                          "POST /b/p/o?uploads=", "PUT /b/p/o?partNumber=1&uploadId=u%2F1",
                          "PUT /b/p/o?partNumber=2&uploadId=u%2F1", "DELETE /b/p/o?uploadId=u%2F1"});
    }

    TEST_CASE("list decodes XML entities and sends a canonical query") {
        ScriptedServer server([&](const httplib::Request& request, httplib::Response& response) {
            CHECK(request.target == "/b?list-type=2&max-keys=1000&prefix=p%2Fx%20y%2F");
            response.set_content("<ListBucketResult><IsTruncated>false</IsTruncated>"
                                 "<Contents><Key>p/x y/b&amp;c&#x41;&#66;</Key></Contents>"
                                 "<Contents><Key>p/x y/a</Key></Contents></ListBucketResult>",
                                 "application/xml");
        });
        S3Sink sink(scripted_options(server.endpoint()));
        CHECK(sink.list("x y/") == std::vector<std::string>{"x y/a", "x y/b&cAB"});
    }

    TEST_CASE("a lost answer to CompleteMultipartUpload is success when HEAD finds the object complete") {
        // The first completion reaches the server, which makes the object and then fails to answer (500);
        // the retry then meets NoSuchUpload, as on AWS. Part ETags are MD5s, so the AWS ETag is predictable.
        const std::string part_etag = "\"0123456789abcdef0123456789abcdef\"";
        for (const std::string head_etag : {"\"1852b2d43eebfbf285c3cb38129804d4-3\"", "\"5d41402abc4b2a76b9719d911017c592\""}) {
            CAPTURE(head_etag);
            std::mutex mutex;
            std::vector<std::string> seen;
            int completions = 0;
            ScriptedServer server([&](const httplib::Request& request, httplib::Response& response) {
                const std::lock_guard lock(mutex);
                seen.push_back(request.method + " " + request.path);
                if (request.method == "POST" && request.has_param("uploads")) {
                    response.set_content("<InitiateMultipartUploadResult><UploadId>u1</UploadId>"
                                         "</InitiateMultipartUploadResult>",
                                         "application/xml");
                } else if (request.method == "PUT") {
                    response.set_header("ETag", part_etag);
                } else if (request.method == "POST") {
                    response.status = ++completions == 1 ? 500 : 404;
                    response.set_content(completions == 1 ? "<Error><Code>InternalError</Code></Error>"
                                                          : "<Error><Code>NoSuchUpload</Code></Error>",
                                         "application/xml");
                } else if (request.method == "HEAD") {
                    response.set_header("ETag", head_etag);
                    response.set_content(std::string(17, 'x'), "application/octet-stream");
                } else {
                    response.status = 204;
                }
            });
            S3SinkOptions options = scripted_options(server.endpoint());
            options.multipart_threshold_bytes = 10;
            options.part_size_bytes = 8;
            S3Sink sink(options);
            sink.put("o", "0123456789abcdef-");
            CHECK(completions == 2);
            CHECK(seen.back() == "HEAD /b/p/o");
            CHECK(std::ranges::count(seen, std::string("DELETE /b/p/o")) == 0);
        }
    }

    TEST_CASE("NoSuchUpload on completion fails when the object is missing, short or has another ETag") {
        const std::string part_etag = "\"0123456789abcdef0123456789abcdef\"";
        const struct {
            int head_status;
            std::size_t head_size;
            std::string head_etag;
        } cases[] = {{404, 0, ""}, {200, 16, "\"x\""}, {200, 17, "\"ffffffffffffffffffffffffffffffff-3\""}};
        for (const auto& c : cases) {
            CAPTURE(c.head_status);
            CAPTURE(c.head_size);
            ScriptedServer server([&](const httplib::Request& request, httplib::Response& response) {
                if (request.method == "POST" && request.has_param("uploads")) {
                    response.set_content("<InitiateMultipartUploadResult><UploadId>u1</UploadId>"
                                         "</InitiateMultipartUploadResult>",
                                         "application/xml");
                } else if (request.method == "PUT") {
                    response.set_header("ETag", part_etag);
                } else if (request.method == "POST") {
                    response.status = 404;
                    response.set_content("<Error><Code>NoSuchUpload</Code></Error>", "application/xml");
                } else if (request.method == "HEAD") {
                    response.status = c.head_status;
                    response.set_header("ETag", c.head_etag);
                    response.set_content(std::string(c.head_size, 'x'), "application/octet-stream");
                } else {
                    response.status = 204;
                }
            });
            S3SinkOptions options = scripted_options(server.endpoint());
            options.multipart_threshold_bytes = 10;
            options.part_size_bytes = 8;
            S3Sink sink(options);
            const std::string message = message_of([&] { sink.put("o", "0123456789abcdef-"); });
            CHECK(message.find("S3 POST s3://b/p/o at ") == 0);
            CHECK(message.find("NoSuchUpload") != std::string::npos);
        }
    }

    TEST_CASE("a server that repeats a continuation token ends the listing with an error naming it") {
        std::atomic<int> calls{0};
        ScriptedServer server([&](const httplib::Request&, httplib::Response& response) {
            // Without the check the sink would list forever; the 403 after many pages ends such a run.
            if (++calls > 20) {
                response.status = 403;
                response.set_content("<Error><Code>AccessDenied</Code></Error>", "application/xml");
                return;
            }
            response.set_content("<ListBucketResult><IsTruncated>true</IsTruncated>"
                                 "<NextContinuationToken>same-token</NextContinuationToken>"
                                 "<Contents><Key>p/a</Key></Contents></ListBucketResult>",
                                 "application/xml");
        });
        S3Sink sink(scripted_options(server.endpoint()));
        const std::string message = message_of([&] { (void)sink.list(""); });
        CHECK(message.find("S3 GET s3://b/p/ at " + server.endpoint()) == 0);
        CHECK(message.find("repeated the continuation token 'same-token'") != std::string::npos);
        CHECK(calls == 2);
    }
}
