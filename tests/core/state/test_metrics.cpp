// Prometheus rendering: every sample line parses, every family has HELP and TYPE before its samples, every
// configured phase (the built-in four and phases only a config defines) appears with the expected values, and
// durations and last-success times come from the timestamps.

#include <doctest/doctest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/config/phase_def.hpp"
#include "core/state/metrics.hpp"
#include "core/util/time_util.hpp"

using pipeline::core::completed_at_unix;
using pipeline::core::LedgerEntry;
using pipeline::core::parse_utc;
using pipeline::core::PhaseMetrics;
using pipeline::core::render_metrics;
using pipeline::core::run_duration_seconds;
using pipeline::core::RunState;

namespace {

struct Sample {
    std::string name;
    std::map<std::string, std::string> labels;
    double value = 0;
};

// A strict reader of the text format: comments are "# HELP name text" or "# TYPE name gauge"; every sample is
// `name{label="value",...} number` (or without braces) and comes after its family's TYPE line.
std::vector<Sample> parse(const std::string& text, std::map<std::string, std::string>& types) {
    static const std::regex sample_re(
        R"re(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([^}]*)\})? (-?[0-9]+(\.[0-9]+)?)$)re");
    static const std::regex label_re(R"re(^([a-zA-Z_][a-zA-Z0-9_]*)="([^"\\]*)"$)re");
    std::vector<Sample> samples;
    std::set<std::string> helped;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        INFO("line: " << line);
        if (line.starts_with("# HELP ")) {
            const std::string rest = line.substr(7);
            const std::string name = rest.substr(0, rest.find(' '));
            CHECK(helped.insert(name).second);
            continue;
        }
        if (line.starts_with("# TYPE ")) {
            std::istringstream words(line.substr(7));
            std::string name;
            std::string type;
            words >> name >> type;
            CHECK(helped.contains(name));
            CHECK(types.emplace(name, type).second);
            continue;
        }
        std::smatch m;
        REQUIRE(std::regex_match(line, m, sample_re));
        Sample sample{m[1].str(), {}, std::stod(m[4].str())};
        REQUIRE(types.contains(sample.name));
        if (m[3].matched) {
            std::stringstream labels(m[3].str());
            std::string pair;
            while (std::getline(labels, pair, ',')) {
                std::smatch lm;
                REQUIRE(std::regex_match(pair, lm, label_re));
                sample.labels[lm[1].str()] = lm[2].str();
            }
        }
        samples.push_back(std::move(sample));
    }
    CHECK(text.ends_with("\n"));
    return samples;
}

double value_of(const std::vector<Sample>& samples, const std::string& name,
                const std::map<std::string, std::string>& labels) {
    for (const Sample& s : samples) {
        if (s.name == name && s.labels == labels) {
            return s.value;
        }
    }
    FAIL("no sample " << name);
    return -1;
}

// The phases of a config: the built-in four, then two only a config defines.
std::vector<std::string> configured_phases() {
    std::vector<std::string> names;
    for (const pipeline::core::PhaseDef& def : pipeline::core::builtin_phases(5)) {
        names.push_back(def.name);
    }
    names.emplace_back("CHARACTER_SKILL");
    names.emplace_back("GUILD_RANKING");
    return names;
}

std::vector<PhaseMetrics> example() {
    std::vector<PhaseMetrics> phases;
    for (const std::string& phase : configured_phases()) {
        PhaseMetrics m;
        m.entry.phase = phase;
        phases.push_back(m);
    }
    LedgerEntry& done = phases[0].entry;
    done.state = RunState::Completed;
    done.run_id = "20261123T010000Z-abcdef";
    done.started_at = "2026-11-23T01:00:00Z";
    done.finished_at = "2026-11-23T01:02:30Z";
    done.progress.items_done = 10;
    done.progress.items_total = 10;
    done.progress.records = 2000;
    done.progress.requests = 13;
    done.progress.retries = 3;
    done.progress.retries_by_class[static_cast<std::size_t>(pipeline::core::RetryClass::RateLimited)] = 2;
    done.progress.retries_by_class[static_cast<std::size_t>(pipeline::core::RetryClass::ServerError)] = 1;
    phases[0].last_success_unix = completed_at_unix(done);
    LedgerEntry& running = phases[3].entry;
    running.state = RunState::Running;
    running.started_at = "2026-11-23T01:00:00Z";
    running.stop_requested = true;
    running.progress.rejected = 4;
    phases[3].last_success_unix = 1'790'000'000;
    LedgerEntry& stopped = phases[2].entry;
    stopped.state = RunState::Stopped;
    stopped.stop_reason = pipeline::core::StopReason::Quota;
    stopped.started_at = "2026-11-23T01:00:00Z";
    stopped.finished_at = "2026-11-23T01:01:00Z";
    stopped.progress.empty = 5;
    LedgerEntry& skill = phases[4].entry;
    skill.state = RunState::Completed;
    skill.started_at = "2026-11-23T01:00:00Z";
    skill.finished_at = "2026-11-23T01:00:10Z";
    skill.progress.records = 600;
    skill.progress.items_total = 600;
    phases[4].last_success_unix = completed_at_unix(skill);
    return phases;
}

} // namespace

TEST_CASE("the rendered text parses, and every family is a pipeline_ gauge with HELP and TYPE") {
    std::map<std::string, std::string> types;
    const std::vector<Sample> samples =
        parse(render_metrics(example(), *parse_utc("2026-11-23T01:05:00Z")), types);
    const std::set<std::string> expected = {"pipeline_phase_state",
                                            "pipeline_phase_stop_requested",
                                            "pipeline_phase_items_done",
                                            "pipeline_phase_items_planned",
                                            "pipeline_phase_records",
                                            "pipeline_phase_chunks",
                                            "pipeline_phase_requests",
                                            "pipeline_phase_retries",
                                            "pipeline_phase_rejected",
                                            "pipeline_phase_empty",
                                            "pipeline_phase_stop_reason",
                                            "pipeline_phase_duration_seconds",
                                            "pipeline_phase_last_success_timestamp_seconds",
                                            "pipeline_metrics_updated_timestamp_seconds"};
    std::set<std::string> names;
    for (const auto& [name, type] : types) {
        names.insert(name);
        CHECK(type == "gauge");
    }
    CHECK(names == expected);
    for (const std::string& name : configured_phases()) {
        CAPTURE(name);
        CHECK(value_of(samples, "pipeline_phase_records", {{"phase", name}}) >= 0);
        int states_set = 0;
        for (const char* state : {"IDLE", "RUNNING", "COMPLETED", "FAILED", "STOPPED"}) {
            states_set += static_cast<int>(
                value_of(samples, "pipeline_phase_state", {{"phase", name}, {"state", state}}));
        }
        CHECK(states_set == 1);
    }
}

TEST_CASE("values come from the entries") {
    std::map<std::string, std::string> types;
    const std::vector<Sample> samples =
        parse(render_metrics(example(), *parse_utc("2026-11-23T01:05:00Z")), types);
    CHECK(value_of(samples, "pipeline_phase_state", {{"phase", "RANKING_FETCH"}, {"state", "COMPLETED"}}) ==
          1);
    CHECK(value_of(samples, "pipeline_phase_state", {{"phase", "OCID_LOOKUP"}, {"state", "IDLE"}}) == 1);
    // Phases only the config defines are rendered like the built-in ones.
    CHECK(value_of(samples, "pipeline_phase_state", {{"phase", "CHARACTER_SKILL"}, {"state", "COMPLETED"}}) == 1);
    CHECK(value_of(samples, "pipeline_phase_records", {{"phase", "CHARACTER_SKILL"}}) == 600);
    CHECK(value_of(samples, "pipeline_phase_items_planned", {{"phase", "CHARACTER_SKILL"}}) == 600);
    CHECK(value_of(samples, "pipeline_phase_duration_seconds", {{"phase", "CHARACTER_SKILL"}}) == 10);
    CHECK(value_of(samples, "pipeline_phase_state", {{"phase", "GUILD_RANKING"}, {"state", "IDLE"}}) == 1);
    CHECK(value_of(samples, "pipeline_phase_records", {{"phase", "RANKING_FETCH"}}) == 2000);
    CHECK(value_of(samples, "pipeline_phase_requests", {{"phase", "RANKING_FETCH"}}) == 13);
    CHECK(value_of(samples, "pipeline_phase_retries",
                   {{"phase", "RANKING_FETCH"}, {"class", "rate_limited"}}) == 2);
    CHECK(value_of(samples, "pipeline_phase_retries",
                   {{"phase", "RANKING_FETCH"}, {"class", "server_error"}}) == 1);
    CHECK(value_of(samples, "pipeline_phase_retries", {{"phase", "RANKING_FETCH"}, {"class", "transport"}}) ==
          0);
    CHECK(value_of(samples, "pipeline_phase_duration_seconds", {{"phase", "RANKING_FETCH"}}) == 150);
    CHECK(value_of(samples, "pipeline_phase_duration_seconds", {{"phase", "ITEM_EQUIPMENT"}}) == 300);
    CHECK(value_of(samples, "pipeline_phase_duration_seconds", {{"phase", "OCID_LOOKUP"}}) == 0);
    CHECK(value_of(samples, "pipeline_phase_stop_requested", {{"phase", "ITEM_EQUIPMENT"}}) == 1);
    CHECK(value_of(samples, "pipeline_phase_rejected", {{"phase", "ITEM_EQUIPMENT"}}) == 4);
    CHECK(value_of(samples, "pipeline_phase_last_success_timestamp_seconds", {{"phase", "RANKING_FETCH"}}) ==
          static_cast<double>(*completed_at_unix(example()[0].entry)));
    CHECK(value_of(samples, "pipeline_phase_last_success_timestamp_seconds", {{"phase", "ITEM_EQUIPMENT"}}) ==
          1'790'000'000);
    // A phase that never succeeded has no sample rather than a misleading 0.
    for (const Sample& s : samples) {
        CHECK_FALSE((s.name == "pipeline_phase_last_success_timestamp_seconds" &&
                     s.labels.at("phase") == "OCID_LOOKUP"));
    }
}

TEST_CASE("durations and success times from timestamps") {
    LedgerEntry e;
    CHECK(run_duration_seconds(e, *parse_utc("2026-11-23T01:00:00Z")) == 0);
    e.state = RunState::Failed;
    e.started_at = "2026-11-23T01:00:00Z";
    e.finished_at = "2026-11-23T01:00:42Z";
    CHECK(run_duration_seconds(e, *parse_utc("2026-11-24T00:00:00Z")) == 42);
    CHECK_FALSE(completed_at_unix(e).has_value());
    e.state = RunState::Completed;
    REQUIRE(completed_at_unix(e).has_value());
    CHECK(*completed_at_unix(e) == 1'795'395'642);
    e.finished_at = "not a time";
    CHECK_FALSE(completed_at_unix(e).has_value());
    CHECK(run_duration_seconds(e, *parse_utc("2026-11-24T00:00:00Z")) == 0);
}

TEST_CASE("the stop reason of a STOPPED run is 1 for its reason and 0 for the others, and all 0 otherwise") {
    std::map<std::string, std::string> types;
    const std::vector<Sample> samples =
        parse(render_metrics(example(), *parse_utc("2026-11-23T01:05:00Z")), types);
    for (const auto& info : pipeline::core::k_stop_reasons) {
        const std::string reason(info.key);
        CAPTURE(reason);
        CHECK(value_of(samples, "pipeline_phase_stop_reason", {{"phase", "CHARACTER_BASIC"}, {"reason", reason}}) ==
              (reason == "quota" ? 1 : 0));
        CHECK(value_of(samples, "pipeline_phase_stop_reason", {{"phase", "ITEM_EQUIPMENT"}, {"reason", reason}}) == 0);
    }
    CHECK(value_of(samples, "pipeline_phase_empty", {{"phase", "CHARACTER_BASIC"}}) == 5);
}
