#include "core/state/metrics.hpp"

#include <array>
#include <cstdio>
#include <functional>

namespace pipeline::core {

namespace {

constexpr std::array<RunState, 5> k_states = {RunState::Idle, RunState::Running, RunState::Completed,
                                              RunState::Failed, RunState::Stopped};

// Label values here are phase, state and class names: upper/lower-case words, nothing to escape.
std::string labels(const PhaseMetrics& phase, const std::string& extra = "") {
    return "{phase=\"" + phase.entry.phase + "\"" + extra + "}";
}

std::string number(double value) {
    char text[64];
    std::snprintf(text, sizeof text, "%.3f", value);
    return text;
}

std::string number(std::uint64_t value) {
    return std::to_string(value);
}

class Writer {
  public:
    explicit Writer(const std::vector<PhaseMetrics>& phases) : m_phases(phases) {}

    // One gauge family: HELP, TYPE, then one sample per phase.
    void gauge(const std::string& name, const std::string& help,
               const std::function<std::string(const PhaseMetrics&)>& value) {
        header(name, help);
        for (const PhaseMetrics& phase : m_phases) {
            const std::string text = value(phase);
            if (!text.empty()) {
                m_out += name + labels(phase) + " " + text + "\n";
            }
        }
    }

    void header(const std::string& name, const std::string& help) {
        m_out += "# HELP " + name + " " + help + "\n# TYPE " + name + " gauge\n";
    }

    void sample(const std::string& name, const std::string& label_text, const std::string& value) {
        m_out += name + label_text + " " + value + "\n";
    }

    std::string take() { return std::move(m_out); }

  private:
    const std::vector<PhaseMetrics>& m_phases;
    std::string m_out;
};

} // namespace

double run_duration_seconds(const LedgerEntry& entry, SystemTime now) {
    if (entry.state == RunState::Idle) {
        return 0;
    }
    const std::optional<SystemTime> started = parse_utc(entry.started_at);
    const std::optional<SystemTime> finished =
        entry.state == RunState::Running ? std::optional<SystemTime>(now) : parse_utc(entry.finished_at);
    if (!started || !finished || *finished < *started) {
        return 0;
    }
    return std::chrono::duration<double>(*finished - *started).count();
}

std::optional<std::int64_t> completed_at_unix(const LedgerEntry& entry) {
    if (entry.state != RunState::Completed) {
        return std::nullopt;
    }
    const std::optional<SystemTime> finished = parse_utc(entry.finished_at);
    if (!finished) {
        return std::nullopt;
    }
    return std::chrono::duration_cast<std::chrono::seconds>(finished->time_since_epoch()).count();
}

std::string render_metrics(const std::vector<PhaseMetrics>& phases, SystemTime now) {
    Writer w(phases);
    w.header("pipeline_phase_state", "1 if the phase's latest run is in this state, else 0.");
    for (const PhaseMetrics& phase : phases) {
        for (RunState state : k_states) {
            w.sample("pipeline_phase_state",
                     labels(phase, ",state=\"" + std::string(state_name(state)) + "\""),
                     phase.entry.state == state ? "1" : "0");
        }
    }
    w.gauge("pipeline_phase_stop_requested", "1 if a stop was requested for the phase's latest run.",
            [](const PhaseMetrics& p) { return std::string(p.entry.stop_requested ? "1" : "0"); });
    w.header("pipeline_phase_stop_reason",
             "1 if the phase's latest run ended STOPPED for this reason, else 0 (docs/live-api.md).");
    for (const PhaseMetrics& phase : phases) {
        for (const StopReasonInfo& info : k_stop_reasons) {
            const bool this_reason = phase.entry.state == RunState::Stopped && phase.entry.stop_reason == info.reason;
            w.sample("pipeline_phase_stop_reason", labels(phase, ",reason=\"" + std::string(info.key) + "\""),
                     this_reason ? "1" : "0");
        }
    }
    w.gauge("pipeline_phase_items_done", "Input items done (fetched or refused) in the latest run.",
            [](const PhaseMetrics& p) { return number(p.entry.progress.items_done); });
    // Not "_items_total": Prometheus reserves the _total suffix for counters (promtool check metrics).
    w.gauge("pipeline_phase_items_planned", "Input items the latest run has to do.",
            [](const PhaseMetrics& p) { return number(p.entry.progress.items_total); });
    w.gauge("pipeline_phase_records", "Records committed by the latest run.",
            [](const PhaseMetrics& p) { return number(p.entry.progress.records); });
    w.gauge("pipeline_phase_chunks", "Chunks committed by the latest run.",
            [](const PhaseMetrics& p) { return number(p.entry.progress.chunks); });
    w.gauge("pipeline_phase_requests", "API requests sent by the latest run, retries included.",
            [](const PhaseMetrics& p) { return number(p.entry.progress.requests); });

    w.header("pipeline_phase_retries", "API requests of the latest run that were retried, by cause.");
    for (const PhaseMetrics& phase : phases) {
        const Progress& p = phase.entry.progress;
        for (const RetryClassInfo& info : k_retry_classes) {
            w.sample("pipeline_phase_retries", labels(phase, ",class=\"" + std::string(info.key) + "\""),
                     number(p.retries_by_class[static_cast<std::size_t>(info.retry_class)]));
        }
    }
    w.gauge("pipeline_phase_empty", "Committed records of the latest run whose API answer was empty.",
            [](const PhaseMetrics& p) { return number(p.entry.progress.empty); });
    w.gauge("pipeline_phase_reused",
            "Items of the latest run copied from an earlier date's snapshot instead of fetched (reuse_days).",
            [](const PhaseMetrics& p) { return number(p.entry.progress.reused); });
    w.gauge("pipeline_phase_rejected", "Items the API refused for good in the latest run.",
            [](const PhaseMetrics& p) { return number(p.entry.progress.rejected); });
    w.gauge("pipeline_phase_duration_seconds", "Seconds from the latest run's start to its end (or to now).",
            [now](const PhaseMetrics& p) { return number(run_duration_seconds(p.entry, now)); });
    w.gauge("pipeline_phase_last_success_timestamp_seconds",
            "Unix time at which the newest COMPLETED run of the phase finished (absent: none known).",
            [](const PhaseMetrics& p) {
                return p.last_success_unix ? std::to_string(*p.last_success_unix) : std::string();
            });
    w.header("pipeline_metrics_updated_timestamp_seconds", "Unix time at which this file was written.");
    w.sample(
        "pipeline_metrics_updated_timestamp_seconds", "",
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count()));
    return w.take();
}

} // namespace pipeline::core
