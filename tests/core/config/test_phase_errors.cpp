// pipeline.yaml's `phases:` map (docs/contract.md §1), broken: every rule a definition breaks is a usage
// error (exit 2) "file:line: ..." naming the key, at the exact line of a multi-line file.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/util/error.hpp"

using pipeline::core::Config;
using pipeline::core::Error;
using pipeline::core::ExitCode;
using pipeline::core::parse_config;

using Strings = std::vector<std::string>;

namespace {

const std::filesystem::path k_source = "/etc/harvest/pipeline.yaml";

// The message parse_config throws for `text`; fails the test when it does not throw a usage error.
std::string config_error(const std::string& text) {
    try {
        parse_config(text, k_source);
    } catch (const Error& e) {
        CHECK(e.code() == ExitCode::Usage);
        return e.what();
    }
    FAIL_CHECK("no error for:\n" << text);
    return {};
}

// A config error: the message starts "<file>:<line>: " and holds each fragment.
struct Broken {
    std::string what;
    std::string text;
    int line;
    Strings fragments;
};

void check_broken(const Broken& broken) {
    CAPTURE(broken.what);
    CAPTURE(broken.text);
    const std::string message = config_error(broken.text);
    CAPTURE(message);
    CHECK(message.starts_with(k_source.string() + ":" + std::to_string(broken.line) + ": "));
    for (const std::string& fragment : broken.fragments) {
        CHECK_MESSAGE(message.find(fragment) != std::string::npos, fragment);
    }
}

// A good RANKING_FETCH (lines 2-6 after "phases:" on line 1).
const std::string k_ranking = R"(phases:
  RANKING_FETCH:
    path: /r
    query: {page: "{page}"}
    pages: 2
    rows: ranking
)";

} // namespace

TEST_CASE("the rules of phases and upstreams: each error names the file, the line and the key") {
    const std::vector<Broken> cases = {
        {"unknown upstream",
         R"(phases:
  RANKING_FETCH:
    path: /r
    query: {page: "{page}"}
    pages: 2
  OCID_LOOKUP:
    upstream: RANKING
    path: /id
    query: {character_name: "{character_name}"}
)",
         7,
         {"'phases.OCID_LOOKUP.upstream'", "'RANKING'", "not a phase of this file"}},

        {"a cycle of two",
         R"(phases:
  A:
    upstream: B
    path: /a
    query: {x: "{x}"}
  B:
    upstream: A
    path: /b
    query: {y: "{y}"}
)",
         3,
         {"'phases.A.upstream'", "cycle", "A -> B -> A"}},

        {"a self-cycle",
         R"(phases:
  A:
    upstream: A
    path: /a
    query: {x: "{x}"}
)",
         3,
         {"'phases.A.upstream'", "cycle", "A -> A"}},

        {"a phase leading into a cycle it is not part of",
         R"(phases:
  C:
    upstream: A
    path: /c
    query: {z: "{z}"}
  A:
    upstream: B
    path: /a
    query: {x: "{x}"}
  B:
    upstream: A
    path: /b
    query: {y: "{y}"}
)",
         7,
         {"'phases.A.upstream'", "A -> B -> A"}},

        {"neither upstream nor pages",
         R"(phases:
  RANKING_FETCH:
    path: /r
    query: {date: "{date}"}
)",
         2,
         {"'phases.RANKING_FETCH'", "neither 'upstream' nor 'pages'"}},

        {"rows without pages",
         k_ranking + R"(  OCID_LOOKUP:
    upstream: RANKING_FETCH
    path: /id
    query: {character_name: "{character_name}"}
    rows: list
)",
         11,
         {"'phases.OCID_LOOKUP.rows'", "needs 'pages'"}},

        {"{page} in the query without pages",
         k_ranking + R"(  OCID_LOOKUP:
    upstream: RANKING_FETCH
    path: /id
    query: {character_name: "{character_name}", page: "{page}"}
)",
         10,
         {"'phases.OCID_LOOKUP'", "{page}", "no 'pages'"}},

        {"{page} in the path without pages",
         k_ranking + R"(  OCID_LOOKUP:
    upstream: RANKING_FETCH
    path: /id/{character_name}/{page}
)",
         9,
         {"'phases.OCID_LOOKUP'", "{page}", "no 'pages'"}},

        {"pages without {page}",
         R"(phases:
  RANKING_FETCH:
    path: /r
    query: {date: "{date}"}
    pages: 2
)",
         5,
         {"'phases.RANKING_FETCH.pages'", "{page}"}},

        {"an empty list value",
         R"(phases:
  RANKING_FETCH:
    path: /r
    query: {page: "{page}", grade: []}
    pages: 2
)",
         4,
         {"'phases.RANKING_FETCH.query.grade'", "empty list"}},

        {"reuse_days with {date} in the query",
         k_ranking + R"(  OCID_LOOKUP:
    upstream: RANKING_FETCH
    path: /id
    query: {character_name: "{character_name}", date: "{date}"}
    reuse_days: 7
)",
         11,
         {"'phases.OCID_LOOKUP.reuse_days'", "{date}"}},

        {"reuse_days with {date} in the path",
         k_ranking + R"(  OCID_LOOKUP:
    reuse_days: 3
    upstream: RANKING_FETCH
    path: /id/{date}/{character_name}
)",
         8,
         {"'phases.OCID_LOOKUP.reuse_days'", "{date}"}},

        {"a field placeholder without upstream",
         R"(phases:
  RANKING_FETCH:
    path: /r
    query: {page: "{page}", name: "{character_name}"}
    pages: 2
)",
         2,
         {"'phases.RANKING_FETCH'", "{character_name}", "no 'upstream'"}},

        {"an upstream none of whose fields is named",
         k_ranking + R"(  OCID_LOOKUP:
    upstream: RANKING_FETCH
    path: /id
    query: {date: "{date}"}
)",
         8,
         {"'phases.OCID_LOOKUP'", "RANKING_FETCH", "names none of its fields"}},

        {"record together with rows",
         R"(phases:
  RANKING_FETCH:
    path: /r
    query: {page: "{page}"}
    pages: 2
    rows: ranking
    record: merge
)",
         7,
         {"'phases.RANKING_FETCH.record'", "'rows'"}},

        {"an unknown record shape",
         k_ranking + R"(  OCID_LOOKUP:
    upstream: RANKING_FETCH
    path: /id
    query: {character_name: "{character_name}"}
    record: join
)",
         11,
         {"'phases.OCID_LOOKUP.record'", "'wrap' or 'merge'", "'join'"}},

        {"no path",
         R"(phases:
  RANKING_FETCH:
    query: {page: "{page}"}
    pages: 2
)",
         2,
         {"'phases.RANKING_FETCH'", "no 'path'"}},

        {"a path without the leading slash",
         R"(phases:
  RANKING_FETCH:
    path: r/{page}
    pages: 2
)",
         3,
         {"'phases.RANKING_FETCH.path'", "'/'"}},

        {"a placeholder that is not closed",
         R"(phases:
  RANKING_FETCH:
    path: /r
    query: {page: "{page"}
    pages: 2
)",
         4,
         {"'phases.RANKING_FETCH.query.page'", "not closed"}},

        {"pages out of range",
         R"(phases:
  RANKING_FETCH:
    path: /r
    query: {page: "{page}"}
    pages: 0
)",
         5,
         {"'phases.RANKING_FETCH.pages'"}},

        {"a query that is not a mapping",
         R"(phases:
  RANKING_FETCH:
    path: /r
    query: [page]
    pages: 2
)",
         4,
         {"'phases.RANKING_FETCH.query'", "mapping"}},

        {"a query value that is a mapping",
         R"(phases:
  RANKING_FETCH:
    path: /r/{page}
    query: {x: {a: 1}}
    pages: 2
)",
         4,
         {"'phases.RANKING_FETCH.query.x'"}},
    };
    for (const Broken& broken : cases) {
        check_broken(broken);
    }
}

TEST_CASE("a phase name is an upper-case letter, then up to 31 upper-case letters, digits or '_'") {
    const auto with_name = [](const std::string& name) {
        return "run_dir: ./run\nphases:\n  " + name +
               ":\n    path: /r\n    query: {page: \"{page}\"}\n    pages: 2\n";
    };
    for (const std::string& bad : Strings{"character_stat", "Character_Stat", "1STAT", "_STAT", "STAT-2",
                                          "STAT 2", std::string(33, 'A')}) {
        check_broken({"bad name " + bad, with_name(bad), 3, {"'" + bad + "' is not a phase name"}});
    }
    // 32 characters, digits and '_' are fine.
    for (const std::string& good : Strings{std::string(32, 'A'), "X", "STAT_2"}) {
        CAPTURE(good);
        const Config config = parse_config(with_name(good), k_source);
        REQUIRE(config.phases.size() == 1);
        CHECK(config.phases.front().name == good);
    }
}

TEST_CASE("an unknown key under a phase suggests the closest one") {
    check_broken({"upsteam",
                  k_ranking + R"(  OCID_LOOKUP:
    upsteam: RANKING_FETCH
    path: /id
    query: {character_name: "{character_name}"}
)",
                  8,
                  {"unknown key 'upsteam' under 'phases.OCID_LOOKUP' (did you mean 'upstream'?)"}});
    check_broken({"page",
                  R"(phases:
  RANKING_FETCH:
    path: /r
    query: {page: "{page}"}
    page: 2
)",
                  5,
                  {"unknown key 'page' under 'phases.RANKING_FETCH' (did you mean 'pages'?)"}});
    const std::string far = config_error(R"(phases:
  RANKING_FETCH:
    path: /r
    query: {page: "{page}"}
    pages: 2
    something_else_entirely: 1
)");
    CHECK(far.starts_with(k_source.string() +
                          ":6: unknown key 'something_else_entirely' under 'phases.RANKING_FETCH'"));
    CHECK(far.find("did you mean") == std::string::npos);
}

TEST_CASE("ranking: together with phases: is an error at the ranking key, in either order") {
    check_broken({"ranking first",
                  "run_dir: ./run\nranking:\n  pages: 3\n" + k_ranking,
                  2,
                  {"'ranking'", "'phases'"}});
    check_broken({"ranking after", k_ranking + "ranking:\n  pages: 3\n", 7, {"'ranking'", "'phases'"}});
}

TEST_CASE("phases: that is empty or not a mapping is an error naming it") {
    check_broken({"a list", "run_dir: ./run\nphases: [RANKING_FETCH]\n", 2, {"'phases'"}});
    check_broken({"an empty map", "run_dir: ./run\nphases: {}\n", 2, {"'phases'"}});
    check_broken(
        {"a phase that is not a mapping", "phases:\n  RANKING_FETCH: 5\n", 2, {"'phases.RANKING_FETCH'"}});
    // A phase with nothing under it (the line yaml-cpp gives an empty value is not pinned here).
    const std::string empty = config_error("phases:\n  RANKING_FETCH:\n");
    CHECK(empty.starts_with(k_source.string() + ":"));
    CHECK(empty.find("'phases.RANKING_FETCH'") != std::string::npos);
}

TEST_CASE("a phase defined twice is an error at the second definition") {
    check_broken({"twice",
                  k_ranking + R"(  OCID_LOOKUP:
    upstream: RANKING_FETCH
    path: /id
    query: {character_name: "{character_name}"}
  RANKING_FETCH:
    path: /r2
    query: {page: "{page}"}
    pages: 1
)",
                  11,
                  {"phase 'RANKING_FETCH' is defined twice"}});
}

// B's walk for cycles would reach A's unknown upstream: every upstream is checked before any walk (found by
// tests/fuzz/fuzz_config.cpp).
TEST_CASE("an unknown upstream further up the chain of a phase written earlier is named, not followed") {
    check_broken({"unknown upstream of an upstream",
                  R"(phases:
  B:
    upstream: A
    path: /b/{x}
  A:
    upstream: NOPE
    path: /a/{y}
)",
                  6,
                  {"'phases.A.upstream'", "'NOPE'", "not a phase of this file"}});
}
