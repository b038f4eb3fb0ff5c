// Empty answers: every field null or empty except date.

#include <doctest/doctest.h>

#include "core/api/empty_answer.hpp"

using pipeline::core::is_empty_answer;

TEST_CASE("an answer with nothing but a date is empty; any value, or no object, is not") {
    CHECK(is_empty_answer(R"({"date":"2026-11-22T00:00+09:00","character_name":null,"world_name":null})"));
    CHECK(is_empty_answer(R"({"date":"x","item_equipment":[],"title":null,"preset_no":null,"gender":"","o":{}})"));
    CHECK(is_empty_answer(R"({"date":null})"));
    CHECK_FALSE(is_empty_answer(R"({"date":"x","character_name":"메이플1"})"));
    CHECK_FALSE(is_empty_answer(R"({"date":"x","preset_no":1})"));
    CHECK_FALSE(is_empty_answer(R"({"date":"x","item_equipment":[{}]})"));
    CHECK_FALSE(is_empty_answer(R"({"date":"x","flag":false})"));
    CHECK_FALSE(is_empty_answer("[]"));
    CHECK_FALSE(is_empty_answer("{"));
}
