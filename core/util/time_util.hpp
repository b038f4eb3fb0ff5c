#pragma once
// Timestamps and calendar dates as the ledger, manifests and the API spell them.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace pipeline::core {

using SystemTime = std::chrono::system_clock::time_point;

/// "2026-11-23T01:00:00Z" (UTC, whole seconds).
std::string format_utc(SystemTime time);

/// Parses format_utc's output; nullopt when malformed.
std::optional<SystemTime> parse_utc(std::string_view text);

/// Parses a strict "YYYY-MM-DD" calendar date; nullopt when malformed or not a real date.
std::optional<std::chrono::year_month_day> parse_date(std::string_view text);

/// "YYYY-MM-DD".
std::string format_date(std::chrono::year_month_day date);

/// Today in the API's calendar (Asia/Seoul, UTC+9, no daylight saving) as seen at `now`.
std::chrono::year_month_day api_today(SystemTime now);

/// The clock of the API calendar: the daily call budget's day and the default --date. Normally the system
/// clock; a test seam: PIPELINE_TEST_NOW=2026-11-23T03:00:00Z (format_utc's form) fixes it, so that tests
/// can cross a day without waiting. Nothing else reads that variable; a malformed value is ignored.
SystemTime calendar_now();

/// Yesterday in the API's calendar (Asia/Seoul, UTC+9, no daylight saving) as seen at `now`.
std::chrono::year_month_day api_yesterday(SystemTime now);

/// The first date the MapleStory Open API serves data for.
inline constexpr std::chrono::year_month_day k_first_api_date{std::chrono::year{2023}, std::chrono::month{12},
                                                              std::chrono::day{21}};

/// Checks that `text` is a date the API can serve (from k_first_api_date to yesterday in Seoul);
/// returns an error message naming the problem, or nullopt when valid.
std::optional<std::string> check_api_date(std::string_view text, SystemTime now);

} // namespace pipeline::core
