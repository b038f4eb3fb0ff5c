#include "app/run_command.hpp"

#include <filesystem>
#include <algorithm>
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

using core::Phase;
using core::RunState;

CLI::App* add_run_command(CLI::App& app, RunOptions& options) {
    CLI::App* run = app.add_subcommand("run", "Harvest one phase, or all four in order");
    run->add_option("phase", options.phase,
                    "RANKING_FETCH, OCID_LOOKUP, CHARACTER_BASIC, ITEM_EQUIPMENT or all (case-insensitive)")
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

    core::PhaseOutcome run(Phase phase) {
        bool resume_this = resume;
        if (resume && all) {
            // `run all --resume`: resume what was interrupted, keep what completed, start what never ran.
            const std::optional<core::Checkpoint> latest = core::find_latest(env.run_dir, phase, date);
            if (latest && latest->state == RunState::Completed) {
                const core::ScopedLogContext context(std::string(core::phase_name(phase)), latest->run_id);
                spdlog::info("{}: run {} already COMPLETED for {}; kept", core::phase_name(phase),
                             latest->run_id, date);
                return core::PhaseOutcome{phase, RunState::Completed, latest->run_id, ""};
            }
            resume_this = core::find_resumable(env.run_dir, phase, date).has_value();
        }
        core::StopFlag stop;
        const core::SignalStopper::Registration registration = signals.add(stop);
        const core::ScopedLogContext context(std::string(core::phase_name(phase)), "");
        return core::run_phase(env, phase, date, resume_this, stop);
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

} // namespace

int run_command(const GlobalOptions& global, const RunOptions& options) {
    // Before any thread starts, so that every thread inherits SIGINT/SIGTERM blocked.
    core::SignalStopper signals;
    const core::Config config = load_config(global);
    const std::vector<Phase> phases = parse_phase_list(options.phase);
    const std::string date = options.date.empty() ? core::format_date(core::api_yesterday(core::calendar_now()))
                                                  : options.date;
    if (const std::optional<std::string> problem = core::check_api_date(date, core::calendar_now())) {
        throw core::usage_error(*problem);
    }
    const std::string api_key = core::secret_from_env(config.api.key_env, "API key");
    auto make_sink = sinks::sink_factory(config);

    const core::RunDir run_dir(config.run_dir);
    run_dir.create();
    // Every slot is taken before anything runs, so that a busy phase fails the command at once (exit 4); each
    // is released as soon as its phase ends, so that a stopped phase can be resumed while the others go on.
    std::map<Phase, core::FileLock> slots;
    for (Phase phase : phases) {
        slots.emplace(phase, core::take_slot(run_dir, phase));
    }

    core::StopWatcher watcher(run_dir);
    // The pace is shared three ways (docs/pacing.md): the key's rate limit by every process of the run
    // directory (the pace file), the in-flight budget and the connections by every phase of this process.
    core::RateLimiter limiter(config.api.rate_limit_per_sec, std::make_unique<core::PaceFile>(run_dir));
    core::InFlightBudget budget(core::InFlightBudget::Settings{
        static_cast<std::size_t>(config.api.concurrency), config.api.rate_limit_per_sec,
        static_cast<std::size_t>(config.api.max_connections)});
    core::PhaseEnvironment env;
    env.config = &config;
    env.run_dir = run_dir;
    env.watcher = &watcher;
    env.limiter = &limiter;
    env.budget = &budget;
    core::ItemListCache item_lists;
    env.item_lists = &item_lists;
    env.make_sink = make_sink;
    // Every phase and process sharing the run directory draws on one budget per key and API-calendar day.
    std::optional<core::DailyQuota> quota;
    if (config.api.daily_quota > 0) {
        quota.emplace(run_dir, core::key_fingerprint(api_key), config.api.daily_quota);
        env.quota = &*quota;
    }
    core::CurlTransportOptions transport;
    transport.max_connections = static_cast<std::size_t>(core::in_flight_cap(config.api));
    transport.timeout = std::chrono::milliseconds(config.api.timeout_ms);
    transport.headers = {{"x-nxopen-api-key", api_key}, {"accept", "application/json"}};
    transport.max_body_bytes = static_cast<std::size_t>(config.api.max_body_mb) * 1024 * 1024;
    transport.ca_file = config.api.ca_file.string();
    core::TransportPool connections(std::make_unique<core::CurlTransport>(std::move(transport)));
    env.make_transport = [&connections] { return connections.client(); };

    // Operator-facing views of the phases' progress: the live block on a terminal, retry summaries in the
    // log, the Prometheus file. Each is fed from the phases' threads through on_progress.
    RetrySummary retry_summary;
    std::optional<ProgressDisplay> display;
    if (Console::instance().interactive() && !global.quiet) {
        display.emplace(Console::instance());
    }
    const std::filesystem::path metrics_path =
        options.metrics_file.empty() ? config.metrics_file : std::filesystem::path(options.metrics_file);
    std::optional<MetricsFile> metrics;
    if (!metrics_path.empty()) {
        metrics.emplace(metrics_path, run_dir);
    }
    env.on_progress = [&](const core::LedgerEntry& entry) {
        retry_summary.update(entry);
        if (display) {
            display->update(entry);
        }
        if (metrics) {
            metrics->update(entry);
        }
    };

    Runner runner{env, signals, date, options.resume, phases.size() > 1};
    std::mutex slots_mutex;
    auto run_and_release = [&](Phase phase) {
        core::PhaseOutcome outcome = runner.run(phase);
        const std::lock_guard lock(slots_mutex);
        slots.erase(phase);
        return outcome;
    };
    std::vector<core::PhaseOutcome> outcomes;
    for (const std::vector<Phase>& wave : core::run_waves(phases)) {
        if (!outcomes.empty()) {
            const auto unfinished = std::ranges::find_if(
                outcomes, [](const core::PhaseOutcome& o) { return o.state != RunState::Completed; });
            if (unfinished != outcomes.end()) {
                spdlog::warn("{} ended {}: the phases after it are not started", core::phase_name(unfinished->phase),
                             core::state_name(unfinished->state));
                break;
            }
        }
        std::vector<std::future<core::PhaseOutcome>> side_by_side;
        for (std::size_t i = 1; i < wave.size(); ++i) {
            side_by_side.push_back(std::async(std::launch::async, run_and_release, wave[i]));
        }
        outcomes.push_back(run_and_release(wave.front()));
        for (std::future<core::PhaseOutcome>& other : side_by_side) {
            outcomes.push_back(other.get());
        }
    }
    display.reset();
    if (metrics) {
        metrics->finish();
    }
    return exit_code_of(outcomes);
}

} // namespace pipeline::app
