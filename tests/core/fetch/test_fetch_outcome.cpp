// Classification by HTTP alone (no API knowledge), the retry class table, and Retry-After parsing.

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>

#include "core/fetch/fetch_outcome.hpp"

using namespace std::chrono;
using namespace std::chrono_literals;
using pipeline::core::Classified;
using pipeline::core::classify;
using pipeline::core::k_retry_classes;
using pipeline::core::Outcome;
using pipeline::core::parse_retry_after;
using pipeline::core::retry_class_info;
using pipeline::core::RetryClass;
using pipeline::core::StopReason;
using pipeline::core::SystemTime;
using pipeline::core::TransportError;
using pipeline::core::TransportResult;

namespace {

// 2026-11-23T01:00:00Z, a Monday.
const SystemTime k_now = sys_days{year{2026} / November / day{23}} + 1h;

TransportResult http(long status, std::string body, std::optional<std::string> retry_after = std::nullopt) {
    return TransportResult{7, status, std::move(body), std::move(retry_after), TransportError::None, ""};
}

} // namespace

TEST_CASE("HTTP alone: 429 and 5xx are retried, other errors are fatal, whatever the body names") {
    CHECK(classify(http(429, ""), k_now).retry_class == RetryClass::RateLimited);
    CHECK(classify(http(502, "<html>"), k_now).retry_class == RetryClass::ServerError);
    CHECK(classify(http(408, ""), k_now).retry_class == RetryClass::Transport);
    // The API's names are core/api's business: by HTTP alone a 400 is a wrong request.
    const Classified preparing = classify(http(400, R"({"error":{"name":"OPENAPI00009"}})"), k_now);
    CHECK(preparing.outcome == Outcome::Fatal);
    CHECK(preparing.error_name == "HTTP400");
    CHECK(classify(http(200, "{}"), k_now).outcome == Outcome::Ok);
    const Classified waited = classify(http(503, "", "7"), k_now);
    REQUIRE(waited.retry_after.has_value());
    CHECK(*waited.retry_after == 7000ms);
}

TEST_CASE("a body that cannot be decompressed, or was cut off at the size cap, is a bad body to retry") {
    for (const TransportError error : {TransportError::BadEncoding, TransportError::TooLarge}) {
        CAPTURE(static_cast<int>(error));
        const TransportResult result{7, 0, "", std::nullopt, error, "curl's reason"};
        const Classified verdict = classify(result, k_now);
        CHECK(verdict.outcome == Outcome::RetryLater);
        CHECK(verdict.retry_class == RetryClass::BadBody);
        CHECK(verdict.message == "curl's reason");
    }
    CHECK(classify(TransportResult{7, 0, "", std::nullopt, TransportError::BadEncoding, ""}, k_now).error_name ==
          "BAD_ENCODING");
}

TEST_CASE("the retry class table: keys kept from the ledger's first format, waits that stop with a reason") {
    CHECK(retry_class_info(RetryClass::RateLimited).key == "rate_limited");
    CHECK(retry_class_info(RetryClass::ServerError).key == "server_error");
    CHECK(retry_class_info(RetryClass::DataPreparing).key == "data_preparing");
    CHECK(retry_class_info(RetryClass::Transport).key == "transport");
    CHECK(retry_class_info(RetryClass::BadBody).key == "bad_body");
    CHECK(retry_class_info(RetryClass::Maintenance).key == "maintenance");
    CHECK(retry_class_info(RetryClass::RateLimited).wait_stop == StopReason::RateLimited);
    CHECK(retry_class_info(RetryClass::DataPreparing).wait_stop == StopReason::NotReady);
    CHECK(retry_class_info(RetryClass::Maintenance).wait_stop == StopReason::Maintenance);
    CHECK(retry_class_info(RetryClass::ServerError).wait_stop == StopReason::None);
    for (std::size_t i = 0; i < k_retry_classes.size(); ++i) {
        for (std::size_t j = i + 1; j < k_retry_classes.size(); ++j) {
            CHECK(k_retry_classes[i].key != k_retry_classes[j].key);
        }
    }
}

TEST_CASE("parse_retry_after reads delay-seconds, HTTP dates, and refuses garbage") {
    CHECK(parse_retry_after("120", k_now) == milliseconds(120000));
    CHECK(parse_retry_after(" 3 ", k_now) == milliseconds(3000));
    CHECK(parse_retry_after("0", k_now) == milliseconds(0));
    CHECK(parse_retry_after("86400", k_now) == milliseconds(hours(24)));
    // An HTTP date in the future: the time until then.
    CHECK(parse_retry_after("Mon, 23 Nov 2026 01:02:00 GMT", k_now) == milliseconds(120000));
    CHECK(parse_retry_after("Tue, 24 Nov 2026 01:00:00 GMT", k_now) == milliseconds(hours(24)));
    // An HTTP date in the past (or now): retry at once.
    CHECK(parse_retry_after("Sun, 22 Nov 2026 23:59:59 GMT", k_now) == milliseconds(0));
    CHECK(parse_retry_after("Mon, 23 Nov 2026 01:00:00 GMT", k_now) == milliseconds(0));
    // Garbage.
    for (const std::string garbage : {"", "   ", "soon", "-5", "1.5", "12s", "Mon, 23 Nov 2026", "23 Nov 2026 01:00:00 GMT",
                                "Mon, 23 Nov 2026 01:02:00 GMT trailing"}) {
        CAPTURE(garbage);
        CHECK_FALSE(parse_retry_after(garbage, k_now).has_value());
    }
    // Absurdly long delays are clamped rather than overflowing.
    const std::optional<milliseconds> huge = parse_retry_after("99999999999999999999", k_now);
    REQUIRE(huge.has_value());
    CHECK(*huge > milliseconds(0));
}

TEST_CASE("an HTTP date centuries away gives zero or the longest delay, without overflow") {
    // Found by tests/fuzz/fuzz_retry_after.cpp: "Fri, 31 Dec  999 23:59:59 GMT" overflowed system_clock's
    // nanoseconds (undefined behaviour).
    CHECK(parse_retry_after("Fri, 31 Dec  999 23:59:59 GMT", k_now) == milliseconds(0));
    CHECK(parse_retry_after("Thu, 01 Jan 1000 00:00:00 GMT", k_now) == milliseconds(0));
    CHECK(parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", k_now) == milliseconds(hours(24 * 365)));
    CHECK(parse_retry_after("Sun, 06 Nov 2094 08:49:37 GMT", k_now) == milliseconds(hours(24 * 365)));
    CHECK(parse_retry_after("Wed, 23 Nov 2026 02:00:00 GMT", k_now) == milliseconds(hours(1)));
}

TEST_CASE("an error object whose name or message is not a string is classified by its status, not thrown") {
    // json::value threw type_error for {"error":{"name":1}}; tests/fuzz/fuzz_classify.cpp guards this now.
    for (const std::string body : {R"({"error":{"name":1,"message":"m"}})", R"({"error":{"name":"OPENAPI00004","message":[1]}})",
                                   R"({"error":{"name":null,"message":{}}})"}) {
        CAPTURE(body);
        Classified c;
        CHECK_NOTHROW(c = classify(http(500, body), k_now));
        CHECK(c.outcome == Outcome::RetryLater);
        CHECK(c.retry_class == RetryClass::ServerError);
    }
}
