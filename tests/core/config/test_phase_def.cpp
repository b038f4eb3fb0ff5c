// Phases as data (core/config/phase_def): the built-in four, lookups by name, placeholders, phase order.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/config/phase_def.hpp"
#include "core/util/text.hpp"

using pipeline::core::builtin_phases;
using pipeline::core::collect_fields;
using pipeline::core::find_phase;
using pipeline::core::has_placeholder;
using pipeline::core::in_phase_order;
using pipeline::core::PhaseDef;
using pipeline::core::RecordShape;
using pipeline::core::run_waves;

using Strings = std::vector<std::string>;

namespace {

PhaseDef named(std::string name, std::string upstream) {
    PhaseDef def;
    def.name = std::move(name);
    def.upstream = std::move(upstream);
    return def;
}

Strings names_of(const std::vector<PhaseDef>& phases) {
    Strings names;
    for (const PhaseDef& def : phases) {
        names.push_back(def.name);
    }
    return names;
}

} // namespace

TEST_CASE("the built-in four: names, upstreams in phase order, requests and record shapes") {
    const std::vector<PhaseDef> phases = builtin_phases(7);
    REQUIRE(names_of(phases) == Strings{"RANKING_FETCH", "OCID_LOOKUP", "CHARACTER_BASIC", "ITEM_EQUIPMENT"});
    for (std::size_t i = 0; i < phases.size(); ++i) {
        CAPTURE(phases[i].name);
        CHECK(phases[i].line == 0); // built in
        CHECK(pipeline::core::is_phase_name(phases[i].name));
        if (!phases[i].upstream.empty()) {
            const PhaseDef* up = find_phase(phases, phases[i].upstream);
            REQUIRE(up != nullptr);
            CHECK(up < &phases[i]); // an upstream comes earlier
            CHECK_FALSE(phases[i].fields.empty());
        }
    }
    const PhaseDef& ranking = phases[0];
    CHECK(ranking.upstream.empty());
    CHECK(ranking.pages == 7);
    CHECK(ranking.rows == "ranking");
    CHECK(ranking.fields.empty());
    const PhaseDef& ocid = phases[1];
    CHECK(ocid.upstream == "RANKING_FETCH");
    CHECK(ocid.expect == "ocid");
    CHECK(ocid.record == RecordShape::Merge);
    CHECK(ocid.fields == Strings{"character_name"});
    for (const PhaseDef* detail : {&phases[2], &phases[3]}) {
        CHECK(detail->upstream == "OCID_LOOKUP");
        CHECK(detail->record == RecordShape::Wrap);
        CHECK(detail->fields == Strings{"ocid"});
        REQUIRE(detail->query.size() == 2);
        CHECK(detail->query[0].key == "ocid");
        CHECK(detail->query[1].key == "date");
        CHECK(detail->combinations() == 1);
    }
    CHECK(builtin_phases(1).front().pages == 1);
}

TEST_CASE("find_phase is case-insensitive; the invalid-name message lists the configured phases in order") {
    const std::vector<PhaseDef> phases = builtin_phases(5);
    REQUIRE(find_phase(phases, "item_equipment") != nullptr);
    CHECK(find_phase(phases, "item_equipment")->name == "ITEM_EQUIPMENT");
    CHECK(find_phase(phases, "Ocid_Lookup") == &phases[1]);
    CHECK(find_phase(phases, "ITEMS") == nullptr);
    CHECK(find_phase(phases, "") == nullptr);
    CHECK(pipeline::core::invalid_phase_message(phases, "x") ==
          "INVALID_PHASE: x (expected one of RANKING_FETCH, OCID_LOOKUP, CHARACTER_BASIC, ITEM_EQUIPMENT)");
    // A control character in the name is shown escaped, never sent to the terminal.
    CHECK(pipeline::core::invalid_phase_message({named("A", "")}, "a\x1b[2J") ==
          "INVALID_PHASE: a\\x1b[2J (expected one of A)");
}

TEST_CASE("collect_fields lists the upstream fields a template names, once each, in order") {
    Strings fields;
    CHECK(collect_fields("/guild/{world_name}/{guild_name}", fields));
    CHECK(fields == Strings{"world_name", "guild_name"});
    CHECK(collect_fields("{guild_name}-{date}-{page}-{ocid}", fields)); // date and page are not fields
    CHECK(fields == Strings{"world_name", "guild_name", "ocid"});
    CHECK(collect_fields("no placeholder", fields));
    CHECK(fields.size() == 3);
    Strings bad;
    CHECK_FALSE(collect_fields("{}", bad));
    CHECK_FALSE(collect_fields("{open", bad));
    CHECK_FALSE(collect_fields("{a{b}", bad));
    CHECK(has_placeholder("/x/{page}", "page"));
    CHECK_FALSE(has_placeholder("/x/page", "page"));
    CHECK_FALSE(has_placeholder("{pages}", "page"));
}

TEST_CASE("in_phase_order: each phase after its upstream, otherwise the order given") {
    const std::vector<PhaseDef> ordered = in_phase_order(
        {named("D", "C"), named("A", ""), named("C", "B"), named("E", "A"), named("B", "A"), named("F", "")});
    CHECK(names_of(ordered) == Strings{"A", "E", "B", "C", "D", "F"});
    // Already in order: unchanged.
    const std::vector<PhaseDef> builtin = builtin_phases(5);
    CHECK(names_of(in_phase_order(builtin)) == names_of(builtin));
}

TEST_CASE("run waves of the built-in four: the two detail phases side by side after OCID_LOOKUP") {
    const std::vector<PhaseDef> phases = builtin_phases(5);
    using W = std::vector<Strings>;
    CHECK(run_waves(phases, names_of(phases)) ==
          W{{"RANKING_FETCH"}, {"OCID_LOOKUP"}, {"CHARACTER_BASIC", "ITEM_EQUIPMENT"}});
    CHECK(run_waves(phases, {"ITEM_EQUIPMENT"}) == W{{"ITEM_EQUIPMENT"}});
    CHECK(run_waves(phases, {"OCID_LOOKUP", "ITEM_EQUIPMENT"}) == W{{"OCID_LOOKUP"}, {"ITEM_EQUIPMENT"}});
    CHECK(run_waves(phases, {"CHARACTER_BASIC", "ITEM_EQUIPMENT"}) ==
          W{{"CHARACTER_BASIC", "ITEM_EQUIPMENT"}});
    CHECK(run_waves(phases, {"RANKING_FETCH", "CHARACTER_BASIC"}) == W{{"RANKING_FETCH", "CHARACTER_BASIC"}});
}
