// The shared text helpers.

#include <doctest/doctest.h>

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

TEST_CASE("trim and to_lower") {
    CHECK(trim("  \t x y \r\n") == "x y");
    CHECK(trim(" \t").empty());
    CHECK(to_lower("Retry-After") == "retry-after");
}

TEST_CASE("duration_text reads as seconds, minutes or hours") {
    CHECK(duration_text(42.2) == "42s");
    CHECK(duration_text(187) == "3m07s");
    CHECK(duration_text(7500) == "2h05m");
}
