#include "app/run_command.hpp"

#include <filesystem>
#include <algorithm>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>

#include <spdlog/spdlog.h>

#include "app/console.hpp"
#include "app/metrics_file.hpp"
#include "app/progress_display.hpp"
#include "app/retry_summary.hpp"
#include "core/fetch/curl_transport.hpp"
#include "core/fetch/in_flight_budget.hpp"
#include "core/fetch/transport_pool.hpp"
#include "core/run/phase_runner.hpp"
#include "core/state/checkpoint.hpp"
#include "core/state/pace_file.hpp"
#include "core/state/slot.hpp"
#include "core/state/stop_signal.hpp"
#include "core/util/error.hpp"
#include "core/util/log_context.hpp"
#include "core/util/time_util.hpp"
#include "sinks/sink_factory.hpp"

namespace pipeline::app {

using core::RunState;

CLI::App* add_run_command(CLI::App& app, RunOptions& options) {
    CLI::App* run = app.add_subcommand("run", "Harvest one phase, or all of them in order");
    run->add_option("phase", options.phase,
                    "A phase of the config (pipeline.yaml's phases:, by default RANKING_FETCH, OCID_LOOKUP, "
                    "CHARACTER_BASIC, ITEM_EQUIPMENT) or all (case-insensitive)")
        ->required();
    run->add_option("--date", options.date, "Snapshot date YYYY-MM-DD (default: yesterday in Asia/Seoul)");
    run->add_flag(
        "--resume", options.resume,
        "Continue the newest STOPPED or FAILED run of the phase and date under its run id (default: off, "
        "a new run)");
    run->add_option("--metrics-file", options.metrics_file,
                    "Write Prometheus metrics of all phases here (atomically, every 2 s and at the end), for "
                    "node_exporter's textfile collector (default: metrics_file from the config, else none)");
    run->footer(
        "On a terminal a live progress line per running phase is drawn on stderr (not with -q).\n"
        "SIGINT or SIGTERM stops every phase of the process gracefully (exit 3).\n"
        "Exit codes: 0 all COMPLETED, 1 a phase FAILED, 2 usage or config error, 3 a phase STOPPED,\n"
        "4 the phase is already running.\n"
        "Example: pipeline run all --date 2026-11-22 --metrics-file /var/lib/node_exporter/pipeline.prom");
    return run;
}

namespace {

struct Runner {
    const core::PhaseEnvironment& env;
    core::SignalStopper& signals;
    std::string date;
    bool resume;
    bool all;

    core::PhaseOutcome run(const core::PhaseDef& def) {
        bool resume_this = resume;
        if (resume && all) {
            // `run all --resume`: resume what was interrupted, keep what completed, start what never ran.
            const std::optional<core::Checkpoint> latest = core::find_latest(env.run_dir, def.name, date);
            if (latest && latest->state == RunState::Completed) {
                const core::ScopedLogContext context(def.name, latest->run_id);
                spdlog::info("{}: run {} already COMPLETED for {}; kept", def.name, latest->run_id, date);
                return core::PhaseOutcome{def.name, RunState::Completed, latest->run_id, ""};
            }
            resume_this = core::find_resumable(env.run_dir, def.name, date).has_value();
        }
        core::StopFlag stop;
        const core::SignalStopper::Registration registration = signals.add(stop);
        const core::ScopedLogContext context(def.name, "");
        return core::run_phase(env, def, date, resume_this, stop);
    }
};

int exit_code_of(const std::vector<core::PhaseOutcome>& outcomes) {
    bool stopped = false;
    for (const core::PhaseOutcome& outcome : outcomes) {
        if (outcome.state == RunState::Failed) {
            return static_cast<int>(core::ExitCode::Failed);
        }
        stopped = stopped || outcome.state == RunState::Stopped;
    }
    return static_cast<int>(stopped ? core::ExitCode::Stopped : core::ExitCode::Ok);
}

// The process's one HTTP transport, which every phase's client of the TransportPool shares (docs/pacing.md).
std::unique_ptr<core::Transport> make_transport(const core::Config& config, const std::string& api_key) {
    core::CurlTransportOptions transport;
    transport.max_connections = static_cast<std::size_t>(core::in_flight_cap(config.api));
    transport.timeout = std::chrono::milliseconds(config.api.timeout_ms);
    transport.headers = {{"x-nxopen-api-key", api_key}, {"accept", "application/json"}};
    transport.max_body_bytes = static_cast<std::size_t>(config.api.max_body_mb) * 1024 * 1024;
    transport.ca_file = config.api.ca_file.string();
    return std::make_unique<core::CurlTransport>(std::move(transport));
}

// Operator-facing views of the phases' progress: the live block on a terminal, retry summaries in the log,
// the Prometheus file. Each is fed from the phases' threads through on_progress.
struct ProgressViews {
    RetrySummary retry_summary;
    std::optional<ProgressDisplay> display;
    std::optional<MetricsFile> metrics;

    ProgressViews(const GlobalOptions& global, const std::filesystem::path& metrics_path,
                  const core::RunDir& run_dir, const core::Config& config) {
        if (Console::instance().interactive() && !global.quiet) {
            display.emplace(Console::instance());
        }
        if (!metrics_path.empty()) {
            metrics.emplace(metrics_path, run_dir, config.phases);
        }
    }
    void update(const core::LedgerEntry& entry) {
        retry_summary.update(entry);
        if (display) {
            display->update(entry);
        }
        if (metrics) {
            metrics->update(entry);
        }
    }
    void finish() {
        display.reset();
        if (metrics) {
            metrics->finish();
        }
    }
};

// The upstream of `def` among the phases of this command that did not complete, if any.
const core::PhaseOutcome* unfinished_upstream(const core::PhaseDef& def, const std::vector<core::PhaseOutcome>& outcomes) {
    const auto up = std::ranges::find(outcomes, def.upstream, &core::PhaseOutcome::phase);
    return up != outcomes.end() && up->state != RunState::Completed ? &*up : nullptr;
}

// Runs the waves one after the other, the phases of a wave side by side. A phase whose upstream did not
// complete in this command is not started (nor, in turn, what reads it).
std::vector<core::PhaseOutcome> run_in_waves(const core::Config& config, const std::vector<std::string>& phases,
                                             const std::function<core::PhaseOutcome(const core::PhaseDef&)>& run) {
    std::vector<core::PhaseOutcome> outcomes;
    for (const std::vector<std::string>& wave : core::run_waves(config.phases, phases)) {
        std::vector<std::future<core::PhaseOutcome>> side_by_side;
        for (const std::string& name : wave) {
            const core::PhaseDef& def = *core::find_phase(config.phases, name);
            if (const core::PhaseOutcome* up = unfinished_upstream(def, outcomes)) {
                spdlog::warn("{} ended {}: {} is not started", up->phase, core::state_name(up->state), def.name);
                outcomes.push_back(core::PhaseOutcome{def.name, up->state, "", "its upstream did not complete"});
                continue;
            }
            side_by_side.push_back(std::async(std::launch::async, run, std::cref(def)));
        }
        for (std::future<core::PhaseOutcome>& outcome : side_by_side) {
            outcomes.push_back(outcome.get());
        }
    }
    return outcomes;
}

} // namespace

int run_command(const GlobalOptions& global, const RunOptions& options) {
    // Before any thread starts, so that every thread inherits SIGINT/SIGTERM blocked.
    core::SignalStopper signals;
    const core::Config config = load_config(global);
    const std::vector<std::string> phases = parse_phase_list(config, options.phase);
    const std::string date = resolve_date(options.date);
    const std::string api_key = core::secret_from_env(config.api.key_env, "API key");

    const core::RunDir run_dir(config.run_dir);
    run_dir.create();
    // Every slot is taken before anything runs, so that a busy phase fails the command at once (exit 4); each
    // is released as soon as its phase ends, so that a stopped phase can be resumed while the others go on.
    std::map<std::string, core::FileLock, std::less<>> slots;
    for (const std::string& phase : phases) {
        slots.emplace(phase, core::take_slot(run_dir, phase));
    }

    core::StopWatcher watcher(run_dir);
    // The pace is shared three ways (docs/pacing.md): the key's rate limit by every process of the run
    // directory (the pace file), the in-flight budget and the connections by every phase of this process.
    core::RateLimiter limiter(config.api.rate_limit_per_sec, std::make_unique<core::PaceFile>(run_dir));
    core::InFlightBudget budget(core::InFlightBudget::Settings{
        static_cast<std::size_t>(config.api.concurrency), config.api.rate_limit_per_sec,
        static_cast<std::size_t>(config.api.max_connections)});
    core::TransportPool connections(make_transport(config, api_key));
    core::ItemListCache item_lists;
    core::PhaseEnvironment env;
    env.config = &config;
    env.run_dir = run_dir;
    env.watcher = &watcher;
    env.limiter = &limiter;
    env.budget = &budget;
    env.item_lists = &item_lists;
    env.make_sink = sinks::sink_factory(config);
    env.make_transport = [&connections] { return connections.client(); };
    // Every phase and process sharing the run directory draws on one budget per key and API-calendar day.
    std::optional<core::DailyQuota> quota;
    if (config.api.daily_quota > 0) {
        // Claimed a tenth of a second's calls at a time (one fsync each), and never more than a thousandth of
        // the budget, which is what a crash may cost it.
        const auto batch = static_cast<std::uint64_t>(
            std::min(config.api.rate_limit_per_sec / 10, static_cast<double>(config.api.daily_quota) / 1000));
        quota.emplace(run_dir, core::key_fingerprint(api_key), config.api.daily_quota, batch);
        env.quota = &*quota;
    }
    ProgressViews views(global, options.metrics_file.empty() ? config.metrics_file : std::filesystem::path(options.metrics_file),
                        run_dir, config);
    env.on_progress = [&views](const core::LedgerEntry& entry) { views.update(entry); };

    Runner runner{env, signals, date, options.resume, phases.size() > 1};
    std::mutex slots_mutex;
    const std::vector<core::PhaseOutcome> outcomes = run_in_waves(config, phases, [&](const core::PhaseDef& def) {
        core::PhaseOutcome outcome = runner.run(def);
        const std::lock_guard lock(slots_mutex);
        slots.erase(def.name);
        return outcome;
    });
    views.finish();
    return exit_code_of(outcomes);
}

} // namespace pipeline::app
