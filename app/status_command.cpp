#include "app/status_command.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config/phase_def.hpp"
#include "core/state/checkpoint.hpp"
#include "core/state/ledger.hpp"
#include "core/state/metrics.hpp"
#include "core/state/quota.hpp"
#include "core/util/error.hpp"
#include "core/util/text.hpp"
#include "core/util/time_util.hpp"

namespace pipeline::app {

using core::LedgerEntry;

CLI::App* add_status_command(CLI::App& app, StatusOptions& options) {
    CLI::App* status = app.add_subcommand("status", "Show the state and progress of each phase's latest run");
    status->add_option(
        "phase", options.phase,
        "Show one phase in detail: checkpoint, upstream run, last error, stop requested (default: "
        "a table of all four)");
    status->add_flag(
        "--json", options.json,
        "Print the ledger as JSON, the stable format for scripts (default: a table for people; colour "
        "only on a terminal without NO_COLOR)");
    status->footer("A RUNNING phase whose process is gone is shown FAILED.\n"
                   "Exit codes: 0 printed, 1 the ledger could not be read, 2 usage error.\n"
                   "Example: pipeline status --json");
    return status;
}

namespace {

std::string age(const std::string& timestamp) {
    const std::optional<core::SystemTime> when = core::parse_utc(timestamp);
    if (!when) {
        return "-";
    }
    const auto seconds =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - *when).count();
    if (seconds < 60) {
        return std::to_string(std::max<long long>(seconds, 0)) + "s ago";
    }
    if (seconds < 3600) {
        return std::to_string(seconds / 60) + "m ago";
    }
    if (seconds < 86400) {
        return std::to_string(seconds / 3600) + "h ago";
    }
    return std::to_string(seconds / 86400) + "d ago";
}

std::string or_dash(const std::string& text) {
    return text.empty() ? "-" : text;
}

// "2026-11-23T01:00:00Z (3m ago)", or "-".
std::string with_age(const std::string& timestamp) {
    return timestamp.empty() ? "-" : timestamp + " (" + age(timestamp) + ")";
}

std::string number(std::uint64_t value) {
    return std::to_string(value);
}

// Colour only for people: stdout is a terminal and NO_COLOR (https://no-color.org) is unset or empty.
bool use_colour() {
    const char* no_colour = std::getenv("NO_COLOR");
    return ::isatty(STDOUT_FILENO) == 1 && (no_colour == nullptr || *no_colour == '\0');
}

const char* colour(core::RunState state) {
    switch (state) {
    case core::RunState::Running:
        return "\033[36m";
    case core::RunState::Completed:
        return "\033[32m";
    case core::RunState::Failed:
        return "\033[31m";
    case core::RunState::Stopped:
        return "\033[33m";
    case core::RunState::Idle:
        break;
    }
    return "";
}

// The entry with every text that came from a file or the network escaped for the terminal: an error message
// holding ESC ] 0 ; ... BEL is shown as text, not acted on.
LedgerEntry printable(const LedgerEntry& e) {
    LedgerEntry shown = e;
    for (std::string* text : {&shown.run_id, &shown.date, &shown.started_at, &shown.updated_at,
                              &shown.finished_at, &shown.upstream_run_id, &shown.sink}) {
        *text = core::escape_controls(*text);
    }
    if (shown.error) {
        shown.error = core::escape_controls(*shown.error);
    }
    return shown;
}

bool stopping(const LedgerEntry& e) {
    return e.stop_requested && e.state == core::RunState::Running;
}

// One row of the table, as cells; the state cell is coloured separately so that widths count visible text.
std::vector<std::string> row_of(const LedgerEntry& e) {
    const bool idle = e.state == core::RunState::Idle;
    const core::Progress& p = e.progress;
    std::string when = "-";
    if (!idle) {
        when = core::is_terminal(e.state) && !e.finished_at.empty() ? "finished " + age(e.finished_at)
                                                                    : "updated " + age(e.updated_at);
    }
    return {e.phase,
            std::string(core::state_name(e.state)) + (stopping(e) ? "*" : ""),
            or_dash(e.run_id),
            or_dash(e.date),
            idle ? "-" : number(p.items_done) + "/" + number(p.items_total),
            idle ? "-" : number(p.records),
            idle ? "-" : number(p.chunks),
            idle ? "-" : number(p.retries),
            idle ? "-" : core::duration_text(core::run_duration_seconds(e, std::chrono::system_clock::now())),
            when};
}

// "quota (the daily call budget (api.daily_quota) is spent)".
std::string stop_reason_text(core::StopReason reason) {
    for (const core::StopReasonInfo& info : core::k_stop_reasons) {
        if (info.reason == reason) {
            return std::string(info.key) + " (" + std::string(info.meaning) + ")";
        }
    }
    return "-";
}

// Today's use of the daily call budget, for the key the config names when it is set (else every key's).
std::optional<core::QuotaUse> quota_use(const core::Config& config, const core::RunDir& run_dir) {
    if (config.api.daily_quota == 0) {
        return std::nullopt;
    }
    const char* key = std::getenv(config.api.key_env.c_str());
    const std::string fingerprint = key != nullptr && *key != '\0' ? core::key_fingerprint(key) : std::string();
    return core::read_quota(run_dir, fingerprint, config.api.daily_quota);
}

void print_table(const std::vector<LedgerEntry>& entries, bool colour_on) {
    const std::vector<std::string> header = {"PHASE",   "STATE",  "RUN ID",  "DATE",     "ITEMS",      "RECORDS",
                                             "CHUNKS", "RETRIES", "DURATION", "LAST CHANGE"};
    std::vector<std::vector<std::string>> rows;
    for (const LedgerEntry& e : entries) {
        rows.push_back(row_of(e));
    }
    std::vector<std::size_t> widths(header.size());
    for (std::size_t c = 0; c < header.size(); ++c) {
        widths[c] = header[c].size();
        for (const std::vector<std::string>& row : rows) {
            widths[c] = std::max(widths[c], row[c].size());
        }
    }
    auto print_row = [&](const std::vector<std::string>& cells, const char* state_colour) {
        std::string line;
        for (std::size_t c = 0; c < cells.size(); ++c) {
            const bool last = c + 1 == cells.size();
            std::string cell = cells[c];
            if (!last) {
                cell += std::string(widths[c] - cells[c].size() + 2, ' ');
            }
            if (c == 1 && state_colour != nullptr && *state_colour != '\0') {
                const std::size_t text = cells[c].size();
                cell = std::string(state_colour) + cell.substr(0, text) + "\033[0m" + cell.substr(text);
            }
            line += cell;
        }
        std::printf("%s\n", line.c_str());
    };
    print_row(header, nullptr);
    for (std::size_t i = 0; i < entries.size(); ++i) {
        print_row(rows[i], colour_on ? colour(entries[i].state) : nullptr);
        if (entries[i].error) {
            std::printf("  error: %s\n", entries[i].error->c_str());
        }
        if (entries[i].state == core::RunState::Stopped && entries[i].stop_reason != core::StopReason::None) {
            std::printf("  stopped: %s\n", stop_reason_text(entries[i].stop_reason).c_str());
        }
    }
    if (std::ranges::any_of(entries, stopping)) {
        std::printf("* stop requested: the phase ends at its next page or chunk boundary\n");
    }
}

void print_detail(const core::RunDir& run_dir, const LedgerEntry& e, const core::PhaseDef* def, bool colour_on) {
    const core::Progress& p = e.progress;
    // The checkpoint knows what the ledger does not: the upstream run read, and what is committed for good.
    std::optional<core::Checkpoint> checkpoint;
    std::filesystem::path checkpoint_file;
    std::string checkpoint_problem;
    if (!e.run_id.empty()) {
        checkpoint_file = core::checkpoint_path(run_dir, e.date, e.phase, e.run_id);
        if (std::filesystem::exists(checkpoint_file)) {
            try {
                checkpoint = core::load_checkpoint(checkpoint_file);
            } catch (const std::exception& error) {
                checkpoint_problem = core::escape_controls(error.what());
            }
        } else {
            checkpoint_problem = "none yet (nothing committed)";
        }
    }
    const std::string state = std::string(core::state_name(e.state));
    std::printf("phase:           %s\n", e.phase.c_str());
    std::printf("state:           %s%s%s\n", colour_on ? colour(e.state) : "", state.c_str(),
                colour_on && *colour(e.state) != '\0' ? "\033[0m" : "");
    std::printf("run id:          %s\n", or_dash(e.run_id).c_str());
    std::printf("date:            %s\n", or_dash(e.date).c_str());
    std::printf("pid:             %s\n", e.pid == 0 ? "-" : std::to_string(e.pid).c_str());
    std::printf("started:         %s\n", with_age(e.started_at).c_str());
    std::printf("updated:         %s\n", with_age(e.updated_at).c_str());
    std::printf("finished:        %s\n", with_age(e.finished_at).c_str());
    if (e.state != core::RunState::Idle) {
        std::printf("duration:        %s\n",
                    core::duration_text(core::run_duration_seconds(e, std::chrono::system_clock::now())).c_str());
    }
    std::printf("stop requested:  %s\n", e.stop_requested ? "yes" : "no");
    if (e.state == core::RunState::Stopped) {
        std::printf("stop reason:     %s\n", stop_reason_text(e.stop_reason).c_str());
    }
    std::string upstream = "-";
    const std::string upstream_run = checkpoint ? checkpoint->upstream_run_id : e.upstream_run_id;
    if (def == nullptr) {
        upstream = or_dash(upstream_run) + " (the phase is no longer configured)";
    } else if (!def->upstream.empty()) {
        upstream = def->upstream + " " + or_dash(upstream_run);
    }
    std::printf("upstream run:    %s\n", upstream.c_str());
    std::printf("sink:            %s\n", or_dash(e.sink).c_str());
    std::printf("items:           %llu of %llu done, %llu rejected\n",
                static_cast<unsigned long long>(p.items_done), static_cast<unsigned long long>(p.items_total),
                static_cast<unsigned long long>(p.rejected));
    if (checkpoint) {
        std::printf("checkpoint:      %s\n",
                    core::escape_controls(checkpoint_file.lexically_normal().string()).c_str());
        std::printf("                 %llu items, %llu records in %llu chunks committed%s\n",
                    static_cast<unsigned long long>(checkpoint->done.count()),
                    static_cast<unsigned long long>(checkpoint->records),
                    static_cast<unsigned long long>(checkpoint->chunks.size()),
                    checkpoint->chunks.empty() ? "" : (", last " + checkpoint->chunks.back().name).c_str());
    } else {
        std::printf("checkpoint:      %s\n", checkpoint_problem.empty() ? "-" : checkpoint_problem.c_str());
    }
    std::string by_class;
    for (const core::RetryClassInfo& info : core::k_retry_classes) {
        by_class += ", " + std::to_string(p.retries_by_class[static_cast<std::size_t>(info.retry_class)]) + " " +
                    std::string(info.label);
    }
    std::printf("requests:        %llu (%llu retries%s)\n", static_cast<unsigned long long>(p.requests),
                static_cast<unsigned long long>(p.retries), by_class.empty() ? "" : (":" + by_class.substr(1)).c_str());
    std::printf("empty answers:   %llu\n", static_cast<unsigned long long>(p.empty));
    std::printf("reused:          %llu (copied from an earlier date's snapshot)\n",
                static_cast<unsigned long long>(p.reused));
    if (p.requests > 0) {
        // The pace (docs/pacing.md): as of the last ledger update of a running phase, the last one of a
        // finished one.
        std::printf("in flight:       %llu (the process's target: %llu)\n",
                    static_cast<unsigned long long>(p.in_flight),
                    static_cast<unsigned long long>(p.in_flight_target));
        std::printf("answer time:     %llu ms (median of recent answers)\n",
                    static_cast<unsigned long long>(p.answer_ms_p50));
    }
    std::printf("last error:      %s\n", e.error ? e.error->c_str() : "-");
    if (e.state == core::RunState::Stopped || e.state == core::RunState::Failed) {
        std::printf("resume with:     pipeline run %s --date %s --resume\n",
                    e.phase.c_str(), e.date.c_str());
    }
}

// The phases to show: every configured one in phase order, or the one asked for, which may also be a phase
// no longer configured that the ledger still holds.
std::vector<std::string> shown_phases(const core::Config& config, const core::LedgerEntries& ledger,
                                      const std::string& asked) {
    std::vector<std::string> phases;
    if (asked.empty()) {
        for (const core::PhaseDef& def : config.phases) {
            phases.push_back(def.name);
        }
    } else if (const core::PhaseDef* def = core::find_phase(config.phases, asked)) {
        phases.push_back(def->name);
    } else if (std::ranges::find(ledger, core::to_upper(asked), &LedgerEntry::phase) != ledger.end()) {
        phases.push_back(core::to_upper(asked));
    } else {
        throw core::usage_error(core::invalid_phase_message(config.phases, asked));
    }
    return phases;
}

} // namespace

int status_command(const GlobalOptions& global, const StatusOptions& options) {
    const core::Config config = load_config(global);
    const core::RunDir run_dir(config.run_dir);
    const core::LedgerEntries raw = core::Ledger(run_dir).read();
    std::vector<LedgerEntry> entries;
    for (const std::string& phase : shown_phases(config, raw, options.phase)) {
        entries.push_back(core::effective_entry(core::entry_of(raw, phase)));
    }
    const std::optional<core::QuotaUse> quota = quota_use(config, run_dir);
    if (options.json) {
        nlohmann::json phases = nlohmann::json::array();
        for (const LedgerEntry& entry : entries) {
            phases.push_back(core::entry_to_json(entry));
        }
        // JSON escapes control characters itself; bytes that are not UTF-8 are replaced rather than thrown
        // on.
        nlohmann::json out{{"run_dir", run_dir.root().string()}, {"phases", phases}};
        if (quota) {
            out["quota"] = {{"day", quota->day}, {"used", quota->used}, {"limit", quota->limit}};
        }
        std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << std::endl;
    } else {
        std::vector<LedgerEntry> shown;
        for (const LedgerEntry& entry : entries) {
            shown.push_back(printable(entry));
        }
        if (!options.phase.empty()) {
            print_detail(run_dir, shown.front(), core::find_phase(config.phases, shown.front().phase), use_colour());
        } else {
            print_table(shown, use_colour());
        }
        if (quota) {
            std::printf("quota: %llu of %llu calls used today (%s, Asia/Seoul), %llu left\n",
                        static_cast<unsigned long long>(quota->used), static_cast<unsigned long long>(quota->limit),
                        quota->day.c_str(), static_cast<unsigned long long>(quota->remaining()));
        }
    }
    return 0;
}

} // namespace pipeline::app
