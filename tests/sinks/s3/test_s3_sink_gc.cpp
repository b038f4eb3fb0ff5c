// What gc needs of S3Sink, against s3rver (suite "s3"): batched DeleteObjects past one request's 1000 keys,
// and reading an object in pieces.
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "sinks/s3/s3_sink.hpp"

using pipeline::sinks::S3Sink;
using pipeline::sinks::S3SinkOptions;

namespace {

S3SinkOptions gc_options(const std::string& name) {
    const char* dir = std::getenv("PIPELINE_S3_DIR");
    REQUIRE_MESSAGE(dir != nullptr, "PIPELINE_S3_DIR is not set: run through ctest (-R s3)");
    std::ifstream in(std::string(dir) + "/port");
    int port = 0;
    in >> port;
    REQUIRE(port > 0);
    S3SinkOptions options;
    options.endpoint = "http://127.0.0.1:" + std::to_string(port);
    options.bucket = "snapshots";
    options.prefix = "unit/" + name + "-" + std::to_string(std::random_device{}());
    options.access_key = "S3RVER";
    options.secret_key = "S3RVER";
    return options;
}

} // namespace

TEST_SUITE("s3") {
    TEST_CASE("remove_many deletes more keys than one DeleteObjects request takes, leaving the others") {
        S3Sink sink(gc_options("remove-many"));
        std::vector<std::string> doomed;
        for (int i = 0; i < 1003; ++i) {
            doomed.push_back("2026-01-01/RANKING_FETCH/r/part-" + std::to_string(i) + ".jsonl");
            sink.put(doomed.back(), "{}\n");
        }
        sink.put("2026-01-02/keep.json", "{}");
        sink.remove_many(doomed);
        CHECK(sink.list("2026-01-01/").empty());
        CHECK(sink.list("") == std::vector<std::string>{"2026-01-02/keep.json"});
        sink.remove_many({"2026-01-01/absent"}); // absent keys are no error
        CHECK(sink.stale_temporaries("").empty()); // s3rver lists no uploads
    }

    TEST_CASE("read streams an object; a missing one is false") {
        S3Sink sink(gc_options("read"));
        sink.put("a/b", "hello");
        std::string got;
        CHECK(sink.read("a/b", [&got](std::string_view piece) { got += piece; }));
        CHECK(got == "hello");
        CHECK_FALSE(sink.read("a/missing", [](std::string_view) {}));
    }
}
