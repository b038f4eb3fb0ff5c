// The shared text helpers.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/util/text.hpp"

using pipeline::core::duration_text;
using pipeline::core::percent_encode;
using pipeline::core::to_lower;
using pipeline::core::trim;

TEST_CASE("percent_encode encodes a Korean name and reserved characters, keeping unreserved ones") {
    CHECK(percent_encode("아델") == "%EC%95%84%EB%8D%B8");
    CHECK(percent_encode("a b+c/~._-&=?%") == "a%20b%2Bc%2F~._-%26%3D%3F%25");
    CHECK(percent_encode("Abc019") == "Abc019");
    CHECK(percent_encode("").empty());
}

TEST_CASE("percent_encode keeps '/' only when asked (S3 keys)") {
    CHECK(percent_encode("2026-11-22/RANKING_FETCH/a b", true) == "2026-11-22/RANKING_FETCH/a%20b");
    CHECK(percent_encode("a/b", false) == "a%2Fb");
}

TEST_CASE("trim, to_lower and to_upper") {
    CHECK(trim("  \t x y \r\n") == "x y");
    CHECK(trim(" \t").empty());
    CHECK(to_lower("Retry-After") == "retry-after");
    CHECK(pipeline::core::to_upper("item_Equipment-2") == "ITEM_EQUIPMENT-2");
    CHECK(pipeline::core::to_upper("아델") == "아델"); // ASCII only
}

TEST_CASE("a phase name is [A-Z][A-Z0-9_]{0,31}: it becomes file names and sink keys") {
    using pipeline::core::is_phase_name;
    for (const std::string& good : std::vector<std::string>{"A", "RANKING_FETCH", "CHARACTER_STAT", "STAT_2", "A_", std::string(32, 'Z')}) {
        CAPTURE(good);
        CHECK(is_phase_name(good));
    }
    for (const std::string& bad : std::vector<std::string>{"", "ranking_fetch", "Ranking", "1STAT", "_STAT", "STAT-2", "STAT 2", "STAT.2",
                                  "../X", "X/Y", "아델", std::string(33, 'Z'), std::string("A\0B", 3)}) {
        CAPTURE(bad);
        CHECK_FALSE(is_phase_name(bad));
    }
}

TEST_CASE("duration_text reads as seconds, minutes or hours") {
    CHECK(duration_text(42.2) == "42s");
    CHECK(duration_text(187) == "3m07s");
    CHECK(duration_text(7500) == "2h05m");
}

TEST_CASE("escape_controls shows control characters as escapes and keeps UTF-8 text") {
    using pipeline::core::escape_controls;
    // The terminal-title attack of issue 13: OSC 0 ; title BEL must come out as plain text.
    CHECK(escape_controls("bad\x1b]0;pwned\x07 end") == "bad\\x1b]0;pwned\\x07 end");
    CHECK(escape_controls("line1\nline2\r\tx") == "line1\\nline2\\r\\tx");
    CHECK(escape_controls(std::string("nul\0x", 5)) == "nul\\x00x");
    CHECK(escape_controls("del\x7f") == "del\\x7f");
    CHECK(escape_controls("아델 Zakum ok") == "아델 Zakum ok");
    // C1 CSI (U+009B) and a bidi override (U+202E) are escaped; invalid UTF-8 bytes too.
    CHECK(escape_controls("a\xc2\x9b"
                          "31mb") == "a\\u009b31mb");
    CHECK(escape_controls("x\xe2\x80\xaey") == "x\\u202ey");
    CHECK(escape_controls("bad\xff\xc3(") == "bad\\xff\\xc3(");
    CHECK(escape_controls("\xe0\x80\x80") == "\\xe0\\x80\\x80"); // overlong
    CHECK(escape_controls("").empty());
    // Idempotent on its own output: a message escaped twice reads the same.
    const std::string once = escape_controls("a\x1b[2Jb");
    CHECK(escape_controls(once) == once);
}
