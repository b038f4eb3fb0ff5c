#include "core/util/time_util.hpp"

#include <cstdio>
#include <cstdlib>

namespace pipeline::core {

using namespace std::chrono;

std::string format_utc(SystemTime time) {
    const sys_seconds secs = floor<seconds>(time);
    const sys_days day = floor<days>(secs);
    const year_month_day ymd{day};
    const hh_mm_ss<seconds> hms{secs - day};
    char text[32];
    std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ", static_cast<int>(ymd.year()),
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                  static_cast<long>(hms.seconds().count()));
    return text;
}

std::optional<SystemTime> parse_utc(std::string_view text) {
    if (text.size() != 20 || text[10] != 'T' || text[19] != 'Z') {
        return std::nullopt;
    }
    const std::optional<year_month_day> ymd = parse_date(text.substr(0, 10));
    // "hh:mm:ss" with exactly two digits each (sscanf's %2d would take signs, spaces and hour 99).
    const auto two_digits = [&](std::size_t pos) {
        const char a = text[pos];
        const char b = text[pos + 1];
        return (a >= '0' && a <= '9' && b >= '0' && b <= '9') ? (a - '0') * 10 + (b - '0') : -1;
    };
    const int h = two_digits(11);
    const int m = two_digits(14);
    const int s = two_digits(17);
    if (!ymd || text[13] != ':' || text[16] != ':' || h < 0 || h > 23 || m < 0 || m > 59 || s < 0 || s > 59) {
        return std::nullopt;
    }
    return sys_days{*ymd} + hours{h} + minutes{m} + seconds{s};
}

std::optional<year_month_day> parse_date(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') {
        return std::nullopt;
    }
    for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
        if (text[i] < '0' || text[i] > '9') {
            return std::nullopt;
        }
    }
    auto number = [&](std::size_t pos, std::size_t len) {
        int value = 0;
        for (std::size_t i = pos; i < pos + len; ++i) {
            value = value * 10 + (text[i] - '0');
        }
        return value;
    };
    const year_month_day ymd{year{number(0, 4)}, month{static_cast<unsigned>(number(5, 2))},
                             day{static_cast<unsigned>(number(8, 2))}};
    if (!ymd.ok()) {
        return std::nullopt;
    }
    return ymd;
}

std::string format_date(year_month_day date) {
    char text[16];
    std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
    return text;
}

year_month_day api_today(SystemTime now) {
    return year_month_day{floor<days>(now + hours{9})};
}

SystemTime calendar_now() {
    if (const char* fixed = std::getenv("PIPELINE_TEST_NOW"); fixed != nullptr && *fixed != '\0') {
        if (const std::optional<SystemTime> parsed = parse_utc(fixed)) {
            return *parsed;
        }
    }
    return system_clock::now();
}

year_month_day api_yesterday(SystemTime now) {
    const sys_days seoul_today = floor<days>(now + hours{9});
    return year_month_day{seoul_today - days{1}};
}

std::optional<std::string> check_api_date(std::string_view text, SystemTime now) {
    const std::optional<year_month_day> date = parse_date(text);
    if (!date) {
        return "invalid --date '" + std::string(text) + "': expected YYYY-MM-DD";
    }
    if (sys_days{*date} < sys_days{k_first_api_date}) {
        return "--date " + std::string(text) + " is before " + format_date(k_first_api_date) +
               ", the first date the API serves";
    }
    const year_month_day latest = api_yesterday(now);
    if (sys_days{*date} > sys_days{latest}) {
        return "--date " + std::string(text) + " is not served yet: the latest date is " + format_date(latest) +
               " (yesterday in Asia/Seoul)";
    }
    return std::nullopt;
}

} // namespace pipeline::core
