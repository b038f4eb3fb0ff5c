// Typed reading of state-file fields: every error names the file and the field.

#include <doctest/doctest.h>

#include <string>

#include "core/util/error.hpp"
#include "core/util/json_fields.hpp"

using nlohmann::json;
using pipeline::core::JsonFields;

namespace {
std::string error_of(const auto& action) {
    try {
        action();
    } catch (const pipeline::core::Error& e) {
        CHECK(e.code() == pipeline::core::ExitCode::Failed);
        return e.what();
    }
    FAIL("no error");
    return "";
}
} // namespace

TEST_CASE("JsonFields reads typed fields with defaults for missing and null") {
    const json j = json::parse(R"({"s":"x","n":7,"b":true,"z":null,"o":{"k":1},"a":[1]})");
    const JsonFields f(j, "f.json");
    CHECK(f.string("s") == "x");
    CHECK(f.string_or("z", "d") == "d");
    CHECK(f.string_or("missing", "d") == "d");
    CHECK_FALSE(f.optional_string("z").has_value());
    CHECK(f.uint("n") == 7);
    CHECK(f.uint_or("missing", 3) == 3);
    CHECK(f.boolean_or("b", false));
    CHECK(f.optional_object("o")->uint("k") == 1);
    CHECK_FALSE(f.optional_object("z").has_value());
    CHECK(f.array("a").size() == 1);
}

TEST_CASE("JsonFields names file and field on a wrong type, a float, a negative or an out-of-range number") {
    const json j = json::parse(R"({"pid":1e30,"neg":-1,"big":5000000,"s":5,"p":{"items_done":"many"}})");
    const JsonFields f(j, "run/ledger.json", "phases[2]");
    std::string message = error_of([&] { f.uint("pid", 4194304); });
    CHECK(message.find("run/ledger.json: field 'phases[2].pid'") == 0);
    CHECK(message.find("expected an integer") != std::string::npos);
    CHECK(message.find("json.exception") == std::string::npos);
    CHECK(error_of([&] { f.uint("neg"); }).find("'phases[2].neg'") != std::string::npos);
    CHECK(error_of([&] { f.uint("big", 4194304); }).find("5000000") != std::string::npos);
    CHECK(error_of([&] { f.string("s"); }).find("expected a string, got the integer 5") != std::string::npos);
    CHECK(error_of([&] { f.string("missing"); }).find("missing") != std::string::npos);
    CHECK(error_of([&] { f.optional_object("p")->uint("items_done"); }).find("'phases[2].p.items_done'") !=
          std::string::npos);
    CHECK(error_of([&] { f.array("s"); }).find("expected an array") != std::string::npos);
    CHECK(error_of([&] {
              JsonFields(json::array(), "x.json");
          }).find("x.json: the file: expected a JSON object") == 0);
}

TEST_CASE("json_excerpt escapes control characters and cuts long values") {
    CHECK(pipeline::core::json_excerpt(json("a\x1b]0;t\x07")).find('\x1b') == std::string::npos);
    CHECK(pipeline::core::json_excerpt(json(std::string(500, 'x'))).size() < 80);
}
