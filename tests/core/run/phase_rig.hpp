#pragma once
// The fixture of the run_phase tests: a phase environment over FakeTransport and MemorySink with a real
// StopWatcher and RunDir in a temp folder, a scripted fake API, and the checks every finished run must pass.

#include <doctest/doctest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/config/phase_def.hpp"
#include "core/run/phase_runner.hpp"
#include "core/state/checkpoint.hpp"
#include "core/util/text.hpp"
#include "fakes/fake_transport.hpp"
#include "fakes/memory_sink.hpp"
#include "fakes/snapshot_builder.hpp"
#include "fakes/temp_dir.hpp"

namespace pipeline::tests {

inline const std::string k_rig_base = "http://api.test";
inline const std::string k_rig_date = "2026-11-22";

inline std::string character_name(int rank) {
    return "캐릭터" + std::to_string(rank);
}

inline std::string basic_body(const std::string& name) {
    return "{\n  \"date\": \"2026-11-22T00:00+09:00\",\n  \"character_name\": \"" + name +
           "\",\n  \"character_level\": 285\n}";
}

// The requests of the built-in four, spelled out as docs/contract.md §1 gives them.
inline std::string ranking_url(int page) {
    return k_rig_base + "/maplestory/v1/ranking/overall?date=" + k_rig_date + "&page=" + std::to_string(page);
}
inline std::string id_url(const std::string& name) {
    return k_rig_base + "/maplestory/v1/id?character_name=" + core::percent_encode(name);
}
inline std::string basic_url(const std::string& ocid) {
    return k_rig_base + "/maplestory/v1/character/basic?ocid=" + ocid + "&date=" + k_rig_date;
}

/// A phase environment over shared fakes, with its own run directory. Logging is quieted while it lives.
/// The fake API answers the built-in four: ranking pages of 10 (the last name of a page comes again first on
/// the next one), an ocid per name, a basic record per ocid; `extra` may answer other URLs first.
struct Rig {
    Rig() : run_dir(dir / "run") {
        run_dir.create();
        watcher = std::make_unique<core::StopWatcher>(run_dir);
        config.api.base_url = k_rig_base;
        config.api.concurrency = 4;
        config.api.max_attempts = 3;
        config.api.backoff_base_ms = 1;
        config.api.backoff_max_ms = 5;
        config.phases = core::builtin_phases(3);
        config.chunk_records = 7;
        env.config = &config;
        env.run_dir = run_dir;
        env.watcher = watcher.get();
        env.limiter = &limiter;
        env.make_transport = [this] { return std::make_unique<TransportRef>(transport); };
        env.make_sink = [this] { return std::make_unique<SinkRef>(sink); };
        env.on_progress = [this](const core::LedgerEntry& entry) { progress_reports.push_back(entry); };
        previous_level = spdlog::get_level();
        spdlog::set_level(spdlog::level::off);
        transport.set_script([this](const std::string& url) { return answer(url); });
    }
    ~Rig() { spdlog::set_level(previous_level); }
    Rig(const Rig&) = delete;
    Rig& operator=(const Rig&) = delete;

    std::vector<FakeAnswer> answer(const std::string& url) {
        if (extra) {
            if (std::vector<FakeAnswer> answers = extra(url); !answers.empty()) {
                return answers;
            }
        }
        for (int page = 1; page <= def("RANKING_FETCH").pages; ++page) {
            if (url == ranking_url(page)) {
                std::string body = R"({"ranking":[)";
                for (int i = 0; i < 10; ++i) {
                    const int rank = (page - 1) * 10 + i + 1;
                    const int name_rank = (i == 0 && page > 1) ? rank - 1 : rank;
                    body += (i ? "," : "") + ranking_record(rank, character_name(name_rank));
                }
                return {ok_answer(body + "]}")};
            }
        }
        for (int rank = 1; rank <= 200; ++rank) {
            const std::string name = character_name(rank);
            if (url == id_url(name)) {
                return {ok_answer(R"({"ocid":")" + ocid_for(name) + R"("})")};
            }
            if (url == basic_url(ocid_for(name))) {
                return {ok_answer(basic_body(name))};
            }
        }
        return {}; // unscripted: a transport failure
    }

    /// Publishes a COMPLETED RANKING_FETCH snapshot naming characters 1..count directly (no fetching), with
    /// `more` records after them.
    std::string publish_ranking(int count, const std::vector<std::string>& more = {}) {
        SnapshotSpec spec;
        spec.phase = "RANKING_FETCH";
        spec.date = k_rig_date;
        spec.run_id = "20261122T230000Z-000001";
        spec.chunks.emplace_back();
        for (int rank = 1; rank <= count; ++rank) {
            spec.chunks.back().push_back(ranking_record(rank, character_name(rank)));
        }
        spec.chunks.back().insert(spec.chunks.back().end(), more.begin(), more.end());
        publish_snapshot(sink, spec);
        return spec.run_id;
    }

    /// Publishes a COMPLETED OCID_LOOKUP snapshot of characters 1..count directly.
    std::string publish_ocids(int count) {
        SnapshotSpec spec;
        spec.phase = "OCID_LOOKUP";
        spec.date = k_rig_date;
        spec.run_id = "20261122T233000Z-000002";
        spec.chunks.emplace_back();
        for (int rank = 1; rank <= count; ++rank) {
            spec.chunks.back().push_back(ocid_record(character_name(rank)));
        }
        publish_snapshot(sink, spec);
        return spec.run_id;
    }

    /// The configured phase `name` (a reference into `config`, which outlives every run).
    const core::PhaseDef& def(const std::string& name) const {
        const core::PhaseDef* found = core::find_phase(config.phases, name);
        REQUIRE(found != nullptr);
        return *found;
    }

    core::PhaseOutcome run(const std::string& phase, bool resume = false) {
        core::StopFlag stop;
        return run(phase, stop, resume);
    }
    core::PhaseOutcome run(const std::string& phase, core::StopFlag& stop, bool resume = false) {
        return core::run_phase(env, def(phase), k_rig_date, resume, stop);
    }
    core::LedgerEntry ledger_entry(const std::string& phase) const {
        return core::entry_of(core::Ledger(run_dir).read(), phase);
    }
    core::Manifest manifest(const std::string& phase, const std::string& run_id) {
        const std::optional<core::Manifest> m = core::read_manifest(sink, phase, k_rig_date, run_id);
        REQUIRE(m.has_value());
        return *m;
    }
    /// The records of a snapshot as the sink holds them, in order.
    std::vector<std::string> lines(const core::Manifest& m) {
        std::vector<std::string> out;
        core::for_each_record(sink, m, [&](std::string_view line) { out.emplace_back(line); });
        return out;
    }
    std::vector<nlohmann::json> records(const core::Manifest& m) {
        std::vector<nlohmann::json> out;
        for (const std::string& line : lines(m)) {
            out.push_back(nlohmann::json::parse(line));
        }
        return out;
    }
    /// The lines of a run's _rejects.jsonl, parsed; empty when it has none.
    std::vector<nlohmann::json> rejects(const std::string& phase, const std::string& run_id) {
        std::vector<nlohmann::json> out;
        const std::optional<std::string> text =
            sink.get(core::run_prefix(k_rig_date, phase, run_id) + std::string(core::k_rejects_name));
        std::size_t at = 0;
        while (text && at < text->size()) {
            const std::size_t end = text->find('\n', at);
            out.push_back(nlohmann::json::parse(text->substr(at, end - at)));
            at = end == std::string::npos ? text->size() : end + 1;
        }
        return out;
    }

    TempDir dir;
    core::RunDir run_dir;
    core::Config config;
    std::unique_ptr<core::StopWatcher> watcher;
    core::RateLimiter limiter{100000};
    FakeTransport transport;
    MemorySink sink;
    core::PhaseEnvironment env;
    std::vector<core::LedgerEntry> progress_reports;
    spdlog::level::level_enum previous_level;
    /// Answers URLs before the built-in script (empty answers: not this one). Set before the first run.
    std::function<std::vector<FakeAnswer>(const std::string& url)> extra;
};

/// Checks what every finished run must show: outcome, ledger entry, manifest and checkpoint agree.
inline core::Manifest check_finished(Rig& rig, const core::PhaseOutcome& outcome, const std::string& phase,
                                     core::RunState state, std::uint64_t records) {
    CHECK(outcome.phase == phase);
    CHECK(outcome.state == state);
    const core::LedgerEntry entry = rig.ledger_entry(phase);
    CHECK(entry.phase == phase);
    CHECK(entry.state == state);
    CHECK(entry.run_id == outcome.run_id);
    CHECK(entry.date == k_rig_date);
    CHECK(entry.progress.records == records);
    CHECK_FALSE(entry.finished_at.empty());
    const core::Manifest m = rig.manifest(phase, outcome.run_id);
    CHECK(m.phase == phase);
    CHECK(m.state == state);
    CHECK(m.records == records);
    CHECK(m.upstream_phase == rig.def(phase).upstream);
    std::uint64_t in_chunks = 0;
    for (const auto& chunk : m.chunks) {
        in_chunks += chunk.records;
    }
    CHECK(in_chunks == records);
    CHECK(entry.progress.chunks == m.chunks.size());
    const auto checkpoint =
        core::load_checkpoint(core::checkpoint_path(rig.run_dir, k_rig_date, phase, outcome.run_id));
    CHECK(checkpoint.phase == phase);
    CHECK(checkpoint.state == state);
    CHECK(checkpoint.records == records);
    return m;
}

} // namespace pipeline::tests
