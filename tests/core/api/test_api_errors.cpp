// The API's error table as classify_answer applies it (docs/live-api.md).

#include <doctest/doctest.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/api/api_errors.hpp"

using namespace std::chrono;
using namespace std::chrono_literals;
using pipeline::core::Classified;
using pipeline::core::classify_answer;
using pipeline::core::find_api_error;
using pipeline::core::k_api_errors;
using pipeline::core::Outcome;
using pipeline::core::RetryClass;
using pipeline::core::SystemTime;
using pipeline::core::TransportError;
using pipeline::core::TransportResult;

namespace {

// 2026-11-23T01:00:00Z, a Monday.
const SystemTime k_now = sys_days{year{2026} / November / day{23}} + 1h;

TransportResult http(long status, std::string body, std::optional<std::string> retry_after = std::nullopt) {
    return TransportResult{7, status, std::move(body), std::move(retry_after), TransportError::None, ""};
}

std::string api_error_body(const std::string& name) {
    return R"({"error":{"name":")" + name + R"(","message":"the API says no"}})";
}

TransportResult failed(TransportError error) {
    return TransportResult{7, 0, "partial", std::nullopt, error, "curl said something"};
}

struct Row {
    std::string what;
    TransportResult result;
    Outcome outcome;
    RetryClass retry_class;
    std::string error_name;
};

} // namespace

TEST_CASE("answers are classified by the API's error table") {
    const std::vector<Row> table = {
        {"200 JSON object", http(200, R"({"ranking":[{"ranking":1}]})"), Outcome::Ok, RetryClass::None, ""},
        {"200 object with surrounding whitespace", http(200, " {\"ocid\":\"ab\"}\n"), Outcome::Ok, RetryClass::None,
         ""},
        {"200 truncated JSON", http(200, R"({"ranking":[{"ranking":1},{"rank)"), Outcome::RetryLater,
         RetryClass::BadBody, "BAD_BODY"},
        {"200 JSON array", http(200, "[1,2]"), Outcome::RetryLater, RetryClass::BadBody, "BAD_BODY"},
        {"200 empty body", http(200, ""), Outcome::RetryLater, RetryClass::BadBody, "BAD_BODY"},
        {"200 HTML", http(200, "<html></html>"), Outcome::RetryLater, RetryClass::BadBody, "BAD_BODY"},
        {"200 object with invalid UTF-8", http(200, "{\"name\":\"\xff\xfe\"}"), Outcome::RetryLater,
         RetryClass::BadBody, "BAD_BODY"},
        {"200 object followed by garbage", http(200, R"({"ocid":"ab"} {"ocid":"cd"})"), Outcome::RetryLater,
         RetryClass::BadBody, "BAD_BODY"},
        {"429 OPENAPI00007", http(429, api_error_body("OPENAPI00007")), Outcome::RetryLater,
         RetryClass::RateLimited, "OPENAPI00007"},
        {"429 without a body", http(429, ""), Outcome::RetryLater, RetryClass::RateLimited, "HTTP429"},
        {"500 OPENAPI00001", http(500, api_error_body("OPENAPI00001")), Outcome::RetryLater,
         RetryClass::ServerError, "OPENAPI00001"},
        {"503 OPENAPI00011", http(503, api_error_body("OPENAPI00011")), Outcome::RetryLater,
         RetryClass::Maintenance, "OPENAPI00011"},
        {"400 OPENAPI00010", http(400, api_error_body("OPENAPI00010")), Outcome::RetryLater,
         RetryClass::Maintenance, "OPENAPI00010"},
        {"400 OPENAPI00006", http(400, api_error_body("OPENAPI00006")), Outcome::Fatal, RetryClass::None,
         "OPENAPI00006"},
        {"400 with an unknown name", http(400, api_error_body("OPENAPI00099")), Outcome::RetryLater,
         RetryClass::UnknownError, "OPENAPI00099"},
        {"200 with an unknown name is still a 200", http(200, api_error_body("OPENAPI00099")), Outcome::Ok,
         RetryClass::None, ""},
        {"400 whose error name is not a string", http(400, R"({"error":{"name":9}})"), Outcome::Fatal,
         RetryClass::None, "HTTP400"},
        {"500 OPENAPI00001 (server error)", http(500, api_error_body("OPENAPI00001")), Outcome::RetryLater,
         RetryClass::ServerError, "OPENAPI00001"},
        {"body cut off at the size cap", failed(TransportError::TooLarge), Outcome::RetryLater,
         RetryClass::BadBody, "TOO_LARGE"},
        {"certificate not trusted", failed(TransportError::Tls), Outcome::Fatal, RetryClass::None, "TLS"},
        {"502 from a proxy", http(502, "<html>Bad Gateway</html>"), Outcome::RetryLater, RetryClass::ServerError,
         "HTTP502"},
        {"400 OPENAPI00009", http(400, api_error_body("OPENAPI00009")), Outcome::RetryLater,
         RetryClass::DataPreparing, "OPENAPI00009"},
        {"400 OPENAPI00003", http(400, api_error_body("OPENAPI00003")), Outcome::RejectItem, RetryClass::None,
         "OPENAPI00003"},
        {"400 OPENAPI00004", http(400, api_error_body("OPENAPI00004")), Outcome::RejectItem, RetryClass::None,
         "OPENAPI00004"},
        {"400 OPENAPI00005", http(400, api_error_body("OPENAPI00005")), Outcome::Fatal, RetryClass::None,
         "OPENAPI00005"},
        {"403 OPENAPI00002", http(403, api_error_body("OPENAPI00002")), Outcome::Fatal, RetryClass::None,
         "OPENAPI00002"},
        {"403 without a body", http(403, ""), Outcome::Fatal, RetryClass::None, "HTTP403"},
        {"404 (wrong base_url)", http(404, "not found"), Outcome::Fatal, RetryClass::None, "HTTP404"},
        {"timeout", failed(TransportError::Timeout), Outcome::RetryLater, RetryClass::Transport, "TIMEOUT"},
        {"connection reset", failed(TransportError::Reset), Outcome::RetryLater, RetryClass::Transport, "RESET"},
        {"connection refused", failed(TransportError::Connect), Outcome::RetryLater, RetryClass::Transport,
         "CONNECT"},
        {"other transport failure", failed(TransportError::Other), Outcome::RetryLater, RetryClass::Transport,
         "TRANSPORT"},
        {"truncated body", failed(TransportError::Truncated), Outcome::RetryLater, RetryClass::BadBody,
         "TRUNCATED"},
    };
    for (const Row& row : table) {
        CAPTURE(row.what);
        const Classified c = classify_answer(row.result, k_now);
        CHECK(c.outcome == row.outcome);
        CHECK(c.retry_class == row.retry_class);
        CHECK(c.error_name == row.error_name);
        if (row.outcome != Outcome::Ok) {
            CHECK_FALSE(c.message.empty());
        }
    }
}

TEST_CASE("messages carry the status and the API's own words, and say what to check for a fatal answer") {
    const Classified reject = classify_answer(http(400, api_error_body("OPENAPI00003")), k_now);
    CHECK(reject.message.find("400") != std::string::npos);
    CHECK(reject.message.find("the API says no") != std::string::npos);
    const Classified bad_key = classify_answer(http(400, api_error_body("OPENAPI00005")), k_now);
    CHECK(bad_key.message.find("API key") != std::string::npos);
    const Classified transport = classify_answer(failed(TransportError::Timeout), k_now);
    CHECK(transport.message == "curl said something");
}

TEST_CASE("a 429 carries its Retry-After, in seconds or as an HTTP date") {
    const Classified seconds = classify_answer(http(429, api_error_body("OPENAPI00007"), "2"), k_now);
    REQUIRE(seconds.retry_after.has_value());
    CHECK(*seconds.retry_after == 2000ms);

    const Classified date = classify_answer(http(429, api_error_body("OPENAPI00007"), "Mon, 23 Nov 2026 01:00:30 GMT"), k_now);
    REQUIRE(date.retry_after.has_value());
    CHECK(*date.retry_after == 30000ms);

    CHECK_FALSE(classify_answer(http(429, ""), k_now).retry_after.has_value());
    CHECK_FALSE(classify_answer(http(429, "", "whenever"), k_now).retry_after.has_value());
}

TEST_CASE("the table holds each documented name once, with the action the docs give it") {
    for (const auto& row : k_api_errors) {
        CAPTURE(row.name);
        CHECK(find_api_error(row.name) == &row);
        CHECK((row.outcome == Outcome::RetryLater) == (row.retry_class != RetryClass::None));
    }
    CHECK(find_api_error("OPENAPI00008") == nullptr);
    CHECK(find_api_error("OPENAPI00010")->retry_class == RetryClass::Maintenance);
    CHECK(find_api_error("OPENAPI00009")->retry_class == RetryClass::DataPreparing);
}

TEST_CASE("an unknown name's message names the code; a TLS failure says to set api.ca_file") {
    const Classified unknown = classify_answer(http(418, api_error_body("OPENAPI00042")), k_now);
    CHECK(unknown.message.find("OPENAPI00042") != std::string::npos);
    CHECK(unknown.message.find("418") != std::string::npos);
    const Classified tls = classify_answer(failed(TransportError::Tls), k_now);
    CHECK(tls.message.find("api.ca_file") != std::string::npos);
}

TEST_CASE("maintenance and data-not-ready answers carry their Retry-After too") {
    const Classified maintenance = classify_answer(http(503, api_error_body("OPENAPI00011"), "120"), k_now);
    REQUIRE(maintenance.retry_after.has_value());
    CHECK(*maintenance.retry_after == 120000ms);
}
