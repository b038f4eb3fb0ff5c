// CurlTransport and compressed answers, against a real cpp-httplib server on 127.0.0.1: every request asks
// for gzip, bodies arrive decompressed, api.max_body_mb counts decompressed bytes (a gzip bomb is cut off
// with bounded memory), and a body that does not decode is a bad body to retry (docs/live-api.md).

#include <doctest/doctest.h>
#include <httplib.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "core/fetch/curl_transport.hpp"
#include "core/fetch/fetch_outcome.hpp"
#include "fakes/test_server.hpp"

using namespace std::chrono_literals;
using pipeline::core::Classified;
using pipeline::core::classify;
using pipeline::core::CurlTransport;
using pipeline::core::CurlTransportOptions;
using pipeline::core::Outcome;
using pipeline::core::RetryClass;
using pipeline::core::TransportError;
using pipeline::core::TransportResult;
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

// Default options with a body cap (0: none).
CurlTransportOptions capped(std::size_t max_body_bytes) {
    CurlTransportOptions options;
    options.max_body_bytes = max_body_bytes;
    return options;
}

// Raw deflate of `data` into `out`, flushed with `flush`; `stream` keeps its window between calls.
void deflate_into(z_stream& stream, std::string_view data, int flush, std::string& out) {
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    char buffer[65536];
    do {
        stream.next_out = reinterpret_cast<Bytef*>(buffer);
        stream.avail_out = sizeof buffer;
        const int rc = deflate(&stream, flush);
        REQUIRE((rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR));
        out.append(buffer, sizeof buffer - stream.avail_out);
    } while (stream.avail_out == 0);
}

std::string gzip_header() {
    return std::string("\x1f\x8b\x08\0\0\0\0\0\0\x03", 10);
}

std::string gzip_trailer(uLong crc, std::uint64_t size) {
    std::string out;
    for (int i = 0; i < 4; ++i) {
        out += static_cast<char>((crc >> (8 * i)) & 0xFF);
    }
    for (int i = 0; i < 4; ++i) {
        out += static_cast<char>((size >> (8 * i)) & 0xFF); // ISIZE: the size modulo 2^32
    }
    return out;
}

// One gzip member of `data` at `level` (0: stored, so the compressed form is a little larger).
std::string gzip(std::string_view data, int level = 6) {
    z_stream stream{};
    REQUIRE(deflateInit2(&stream, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string out = gzip_header();
    deflate_into(stream, data, Z_FINISH, out);
    deflateEnd(&stream);
    const uLong crc = crc32(crc32(0, nullptr, 0), reinterpret_cast<const Bytef*>(data.data()),
                            static_cast<uInt>(data.size()));
    return out + gzip_trailer(crc, data.size());
}

// A valid gzip member that inflates to `mebibytes` MiB of zeros, built in milliseconds: after a sync flush,
// deflating the next MiB of zeros gives the same bytes each time (the window holds only zeros), so the middle
// is one compressed MiB repeated. About 1 KB a MiB: 1 GiB is about 1 MB.
std::string gzip_bomb(std::size_t mebibytes) {
    REQUIRE(mebibytes >= 2);
    const std::string zeros(1 << 20, '\0');
    z_stream stream{};
    REQUIRE(deflateInit2(&stream, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) == Z_OK);
    std::string first;
    std::string repeated;
    std::string again;
    std::string last;
    deflate_into(stream, zeros, Z_SYNC_FLUSH, first);
    deflate_into(stream, zeros, Z_SYNC_FLUSH, repeated);
    deflate_into(stream, zeros, Z_SYNC_FLUSH, again);
    REQUIRE(again == repeated);
    deflate_into(stream, {}, Z_FINISH, last);
    deflateEnd(&stream);
    std::string out = gzip_header() + first;
    out.reserve(out.size() + (mebibytes - 1) * repeated.size() + last.size() + 8);
    for (std::size_t i = 1; i < mebibytes; ++i) {
        out += repeated;
    }
    const uLong mib_crc = crc32(crc32(0, nullptr, 0), reinterpret_cast<const Bytef*>(zeros.data()),
                                static_cast<uInt>(zeros.size()));
    uLong crc = mib_crc;
    for (std::size_t i = 1; i < mebibytes; ++i) {
        crc = crc32_combine(crc, mib_crc, static_cast<z_off_t>(zeros.size()));
    }
    return out + last + gzip_trailer(crc, static_cast<std::uint64_t>(mebibytes) << 20);
}

// Inflates a gzip member whole (for checking the test's own bombs at a small size).
std::string gunzip(std::string_view data) {
    z_stream stream{};
    REQUIRE(inflateInit2(&stream, 31) == Z_OK);
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    std::string out;
    char buffer[65536];
    int rc = Z_OK;
    while (rc == Z_OK) {
        stream.next_out = reinterpret_cast<Bytef*>(buffer);
        stream.avail_out = sizeof buffer;
        rc = inflate(&stream, Z_NO_FLUSH);
        out.append(buffer, sizeof buffer - stream.avail_out);
    }
    inflateEnd(&stream);
    REQUIRE(rc == Z_STREAM_END);
    return out;
}

// The peak resident size of this process (VmHWM) in bytes, after reset_peak_memory(); nullopt without /proc.
std::optional<std::size_t> peak_memory() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with("VmHWM:")) {
            return static_cast<std::size_t>(std::stoull(line.substr(6))) * 1024;
        }
    }
    return std::nullopt;
}

// Makes the peak resident size start again from the current one (Linux: "5" into clear_refs).
bool reset_peak_memory() {
    std::ofstream clear("/proc/self/clear_refs");
    clear << "5";
    clear.flush();
    return clear.good();
}

} // namespace

TEST_CASE("CurlTransport: requests ask for gzip (never br); gzip and deflate answers arrive decompressed") {
    TestServer srv;
    std::mutex mutex;
    std::vector<std::string> accepted;
    std::string plain = R"({"ranking":[)";
    for (int i = 0; i < 2000; ++i) {
        plain +=
            (i == 0 ? "" : ",") + std::string(R"({"character_name":"캐릭터)") + std::to_string(i) + R"("})";
    }
    plain += "]}";
    const std::string compressed = gzip(plain);
    REQUIRE(compressed.size() < plain.size() / 4);
    srv.server.Get("/gzip", [&](const httplib::Request& req, httplib::Response& res) {
        {
            std::lock_guard lock(mutex);
            accepted.push_back(req.get_header_value("Accept-Encoding"));
        }
        // A type httplib leaves alone, so that these exact bytes are what goes over the wire.
        res.set_header("Content-Encoding", "gzip");
        res.set_content(compressed, "application/octet-stream");
    });
    srv.server.Get("/deflate", [&](const httplib::Request&, httplib::Response& res) {
        uLongf size = compressBound(static_cast<uLong>(plain.size()));
        std::string zlib_stream(size, '\0');
        REQUIRE(compress2(reinterpret_cast<Bytef*>(zlib_stream.data()), &size,
                          reinterpret_cast<const Bytef*>(plain.data()), static_cast<uLong>(plain.size()),
                          6) == Z_OK);
        zlib_stream.resize(size);
        res.set_header("Content-Encoding", "deflate");
        res.set_content(zlib_stream, "application/octet-stream");
    });
    srv.server.Get("/auto", [&](const httplib::Request&, httplib::Response& res) {
        res.set_content(plain, "application/json"); // httplib gzips this itself for a client that accepts it
    });
    srv.start();

    // The cap is on the decompressed size: exactly at it is fine.
    CurlTransport transport(capped(plain.size()));
    transport.start(1, srv.url("/gzip"));
    transport.start(2, srv.url("/deflate"));
    transport.start(3, srv.url("/auto"));
    auto results = collect(transport, 3);
    REQUIRE(results.size() == 3);
    for (const TransportResult& result : results) {
        CAPTURE(result.tag);
        CHECK(result.error == TransportError::None);
        CHECK(result.status == 200);
        CHECK(result.body == plain);
    }
    std::lock_guard lock(mutex);
    REQUIRE(accepted.size() == 1);
    CHECK(accepted[0].find("gzip") != std::string::npos);
    CHECK(accepted[0].find("br") == std::string::npos);
}

TEST_CASE("CurlTransport: a compressed answer is judged by what it inflates to, not by its Content-Length") {
    TestServer srv;
    constexpr std::size_t k_cap = 1024 * 1024;
    // Random bytes do not compress: stored, the gzip is a little larger than the cap, its contents are not.
    std::string fits(k_cap - 64, '\0');
    std::mt19937 random(42);
    for (char& c : fits) {
        c = static_cast<char>(random() & 0xFF);
    }
    const std::string stored = gzip(fits, 0);
    REQUIRE(stored.size() > k_cap);
    srv.server.Get("/stored", [&](const httplib::Request&, httplib::Response& res) {
        res.set_header("Content-Encoding", "gzip");
        res.set_content(stored, "application/octet-stream");
    });
    srv.start();

    CurlTransport transport(capped(k_cap));
    transport.start(1, srv.url("/stored"));
    auto results = collect(transport, 1);
    REQUIRE(results.size() == 1);
    CHECK(results[0].error == TransportError::None);
    CHECK(results[0].body == fits);
}

TEST_CASE("CurlTransport: a gzip bomb (1 MB inflating to 1 GiB) is cut off at the cap with bounded memory") {
    // The bomb is a valid gzip, checked at a size we can afford to inflate.
    CHECK(gunzip(gzip_bomb(8)) == std::string(8 << 20, '\0'));
    const std::string bomb = gzip_bomb(1024);
    CHECK(bomb.size() < 2 * 1024 * 1024);
    TestServer srv;
    srv.server.Get("/bomb", [&](const httplib::Request&, httplib::Response& res) {
        res.set_header("Content-Encoding", "gzip");
        res.set_content(bomb, "application/octet-stream");
    });
    srv.start();

    constexpr std::size_t k_cap = 16 * 1024 * 1024;
    CurlTransport transport(capped(k_cap));
    const std::optional<std::size_t> before = peak_memory();
    const bool measured = before && reset_peak_memory();
    const std::size_t resident = measured ? peak_memory().value_or(0) : 0;
    const auto began = std::chrono::steady_clock::now();
    transport.start(1, srv.url("/bomb"));
    auto results = collect(transport, 1);
    REQUIRE(results.size() == 1);
    CHECK(results[0].error == TransportError::TooLarge);
    CHECK(results[0].body.size() <= k_cap);
    CHECK(results[0].error_message.find("api.max_body_mb (16 MB decompressed)") != std::string::npos);
    // Inflating the whole GiB would take seconds; the cut comes after 16 MB.
    CHECK(std::chrono::steady_clock::now() - began < 10s);
    if (measured) {
        // At most the cap's buffer plus the libraries' own: far from the 1 GiB it inflates to.
        const std::size_t peak = peak_memory().value_or(0);
        CHECK(peak - std::min(peak, resident) < k_cap + 32 * 1024 * 1024);
    } else {
        MESSAGE("peak memory not measured: /proc/self/clear_refs is not writable here");
    }
    const Classified verdict = classify(results[0], {});
    CHECK(verdict.outcome == Outcome::RetryLater);
    CHECK(verdict.error_name == "TOO_LARGE");
}

TEST_CASE(
    "CurlTransport: a body whose Content-Encoding does not decode is BadEncoding, retried as a bad body") {
    TestServer srv;
    srv.server.Get("/garbage", [](const httplib::Request&, httplib::Response& res) {
        res.set_header("Content-Encoding", "gzip");
        res.set_content("this is not gzip at all, just text that says it is", "application/octet-stream");
    });
    srv.server.Get("/unknown", [](const httplib::Request&, httplib::Response& res) {
        res.set_header("Content-Encoding", "x-pipeline-unknown");
        res.set_content("{}", "application/octet-stream");
    });
    srv.start();

    CurlTransport transport(capped(0));
    transport.start(1, srv.url("/garbage"));
    transport.start(2, srv.url("/unknown"));
    auto results = collect(transport, 2);
    REQUIRE(results.size() == 2);
    for (const TransportResult& result : results) {
        CAPTURE(result.tag);
        CHECK(result.error == TransportError::BadEncoding);
        CHECK(result.status == 0);
        CHECK_FALSE(result.error_message.empty());
        const Classified verdict = classify(result, {});
        CHECK(verdict.outcome == Outcome::RetryLater);
        CHECK(verdict.retry_class == RetryClass::BadBody);
    }
}
