// Timestamps and dates: UTC formatting, strict parsing, the API's calendar (Asia/Seoul) and date checks.

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "core/util/time_util.hpp"

using namespace std::chrono;
using namespace std::chrono_literals;
using pipeline::core::api_yesterday;
using pipeline::core::check_api_date;
using pipeline::core::format_date;
using pipeline::core::format_utc;
using pipeline::core::parse_date;
using pipeline::core::parse_utc;
using pipeline::core::SystemTime;

namespace {
SystemTime utc(int y, unsigned m, unsigned d, int h, int min, int s) {
    return sys_days{year{y} / month{m} / day{d}} + hours{h} + minutes{min} + seconds{s};
}
} // namespace

TEST_CASE("format_utc writes whole seconds in UTC and parse_utc reads it back") {
    const SystemTime t = utc(2026, 11, 23, 1, 2, 3);
    CHECK(format_utc(t) == "2026-11-23T01:02:03Z");
    CHECK(format_utc(t + 999ms) == "2026-11-23T01:02:03Z");
    CHECK(parse_utc("2026-11-23T01:02:03Z") == t);
    CHECK(parse_utc(format_utc(utc(2024, 2, 29, 23, 59, 59))) == utc(2024, 2, 29, 23, 59, 59));
    CHECK(format_utc(utc(1999, 1, 1, 0, 0, 0)) == "1999-01-01T00:00:00Z");
}

TEST_CASE("parse_utc refuses anything format_utc would not write") {
    for (const std::string bad : {"", "2026-11-23", "2026-11-23 01:02:03Z", "2026-11-23T01:02:03", "2026-11-23T01:02:03+09",
                            "2026-02-30T01:02:03Z", "2026-11-23T24:00:00Z", "2026-11-23T23:60:00Z",
                            "2026-11-23T23:59:60Z", "2026-11-23T1a:02:03Z", "2026-11-23T+1:02:03Z",
                            "2026-11-23T01-02-03Z", "2026-11-23T 1:02:03Z"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_utc(bad).has_value());
    }
}

TEST_CASE("parse_date accepts only real YYYY-MM-DD dates") {
    CHECK(parse_date("2026-11-22") == year_month_day{year{2026}, November, day{22}});
    CHECK(parse_date("2024-02-29").has_value());
    for (const std::string bad : {"2026-02-29", "2026-13-01", "2026-00-10", "2026-11-31", "2026-1-05", "2026/11/22",
                            " 2026-11-22", "2026-11-22 ", "26-11-22", "yesterday", ""}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_date(bad).has_value());
    }
    CHECK(format_date(year_month_day{year{2026}, January, day{5}}) == "2026-01-05");
}

TEST_CASE("api_yesterday turns at midnight in Seoul, which is 15:00 UTC") {
    CHECK(format_date(api_yesterday(utc(2026, 11, 22, 14, 59, 59))) == "2026-11-21");
    CHECK(format_date(api_yesterday(utc(2026, 11, 22, 15, 0, 0))) == "2026-11-22");
    CHECK(format_date(api_yesterday(utc(2026, 11, 22, 0, 0, 0))) == "2026-11-21");
    // Across a year boundary: 2026-12-31T15:00Z is already 2027-01-01 in Seoul.
    CHECK(format_date(api_yesterday(utc(2026, 12, 31, 14, 59, 59))) == "2026-12-30");
    CHECK(format_date(api_yesterday(utc(2026, 12, 31, 15, 0, 0))) == "2026-12-31");
    CHECK(format_date(api_yesterday(utc(2024, 3, 1, 15, 0, 0))) == "2024-03-01");
    CHECK(format_date(api_yesterday(utc(2024, 3, 1, 14, 0, 0))) == "2024-02-29");
}

TEST_CASE("check_api_date accepts the served range and says what is wrong otherwise") {
    const SystemTime now = utc(2026, 11, 22, 16, 0, 0); // 2026-11-23 01:00 in Seoul
    CHECK_FALSE(check_api_date("2026-11-22", now).has_value());
    CHECK_FALSE(check_api_date("2023-12-21", now).has_value());
    CHECK_FALSE(check_api_date("2025-06-30", now).has_value());

    const std::optional<std::string> malformed = check_api_date("2026-11-31", now);
    REQUIRE(malformed.has_value());
    CHECK(malformed->find("2026-11-31") != std::string::npos);
    CHECK(malformed->find("YYYY-MM-DD") != std::string::npos);

    const std::optional<std::string> early = check_api_date("2023-12-20", now);
    REQUIRE(early.has_value());
    CHECK(early->find("2023-12-20") != std::string::npos);
    CHECK(early->find("2023-12-21") != std::string::npos);

    const std::optional<std::string> today = check_api_date("2026-11-23", now);
    REQUIRE(today.has_value());
    CHECK(today->find("2026-11-23") != std::string::npos);
    CHECK(today->find("2026-11-22") != std::string::npos); // the latest date it may use
    CHECK(today->find("Asia/Seoul") != std::string::npos);

    // An hour earlier it is still 2026-11-22 in Seoul, so 2026-11-22 is not served yet.
    CHECK(check_api_date("2026-11-22", utc(2026, 11, 22, 14, 0, 0)).has_value());
}
