#include "app/status_command.hpp"

#include <unistd.h>

#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/ledger.hpp"
#include "core/time_util.hpp"

namespace pipeline::app {

using core::LedgerEntry;

CLI::App* add_status_command(CLI::App& app, StatusOptions& options) {
    CLI::App* status = app.add_subcommand("status", "Show the state and progress of each phase's latest run");
    status->add_option("phase", options.phase, "Show one phase in detail");
    status->add_flag("--json", options.json, "Print the ledger as JSON (stable, for scripts)");
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

std::string or_dash(const std::string& text) { return text.empty() ? "-" : text; }

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

void print_table(const std::vector<LedgerEntry>& entries, bool tty) {
    std::printf("%-16s %-10s %-24s %-10s %-13s %-9s %-6s %s\n", "PHASE", "STATE", "RUN ID", "DATE", "ITEMS",
                "RECORDS", "CHUNKS", "UPDATED");
    for (const LedgerEntry& e : entries) {
        const std::string state = std::string(core::state_name(e.state)) + (e.stop_requested && e.state == core::RunState::Running ? "*" : "");
        const std::string items = e.state == core::RunState::Idle
                                      ? "-"
                                      : std::to_string(e.progress.items_done) + "/" +
                                            std::to_string(e.progress.items_total);
        std::printf("%-16s %s%-10s%s %-24s %-10s %-13s %-9llu %-6llu %s\n", std::string(core::phase_name(e.phase)).c_str(),
                    tty ? colour(e.state) : "", state.c_str(), tty ? "\033[0m" : "", or_dash(e.run_id).c_str(),
                    or_dash(e.date).c_str(), items.c_str(), static_cast<unsigned long long>(e.progress.records),
                    static_cast<unsigned long long>(e.progress.chunks),
                    e.state == core::RunState::Idle ? "-" : age(e.updated_at).c_str());
        if (e.error) {
            std::printf("  error: %s\n", e.error->c_str());
        }
    }
    if (std::ranges::any_of(entries, [](const LedgerEntry& e) { return e.stop_requested && e.state == core::RunState::Running; })) {
        std::printf("* stop requested\n");
    }
}

void print_detail(const LedgerEntry& e) {
    const core::Progress& p = e.progress;
    std::printf("phase:           %s\n", std::string(core::phase_name(e.phase)).c_str());
    std::printf("state:           %s\n", std::string(core::state_name(e.state)).c_str());
    std::printf("run id:          %s\n", or_dash(e.run_id).c_str());
    std::printf("date:            %s\n", or_dash(e.date).c_str());
    std::printf("pid:             %s\n", e.pid == 0 ? "-" : std::to_string(e.pid).c_str());
    std::printf("started:         %s (%s)\n", or_dash(e.started_at).c_str(), age(e.started_at).c_str());
    std::printf("updated:         %s (%s)\n", or_dash(e.updated_at).c_str(), age(e.updated_at).c_str());
    std::printf("finished:        %s\n", or_dash(e.finished_at).c_str());
    std::printf("stop requested:  %s\n", e.stop_requested ? "yes" : "no");
    std::printf("upstream run:    %s\n", or_dash(e.upstream_run_id).c_str());
    std::printf("sink:            %s\n", or_dash(e.sink).c_str());
    std::printf("items:           %llu of %llu done, %llu rejected\n", static_cast<unsigned long long>(p.items_done),
                static_cast<unsigned long long>(p.items_total), static_cast<unsigned long long>(p.rejected));
    std::printf("checkpoint:      %llu records in %llu committed chunks\n",
                static_cast<unsigned long long>(p.records), static_cast<unsigned long long>(p.chunks));
    std::printf("requests:        %llu (%llu retries: %llu rate-limited, %llu server error, %llu data preparing, "
                "%llu transport, %llu bad body)\n",
                static_cast<unsigned long long>(p.requests), static_cast<unsigned long long>(p.retries),
                static_cast<unsigned long long>(p.retries_rate_limited),
                static_cast<unsigned long long>(p.retries_server),
                static_cast<unsigned long long>(p.retries_preparing),
                static_cast<unsigned long long>(p.retries_transport),
                static_cast<unsigned long long>(p.retries_bad_body));
    std::printf("error:           %s\n", e.error ? e.error->c_str() : "-");
}

} // namespace

int status_command(const GlobalOptions& global, const StatusOptions& options) {
    std::optional<core::Phase> only;
    if (!options.phase.empty()) {
        only = core::parse_phase(options.phase);
        if (!only) {
            throw core::usage_error(core::invalid_phase_message(options.phase));
        }
    }
    const core::Config config = load_config(global);
    const core::RunDir run_dir(config.run_dir);
    const core::LedgerEntries raw = core::Ledger(run_dir).read();
    std::vector<LedgerEntry> entries;
    for (const LedgerEntry& entry : raw) {
        if (!only || entry.phase == *only) {
            entries.push_back(core::effective_entry(entry));
        }
    }
    if (options.json) {
        nlohmann::json phases = nlohmann::json::array();
        for (const LedgerEntry& entry : entries) {
            phases.push_back(core::entry_to_json(entry));
        }
        std::cout << nlohmann::json{{"run_dir", run_dir.root().string()}, {"phases", phases}}.dump() << std::endl;
    } else if (only) {
        print_detail(entries.front());
    } else {
        print_table(entries, ::isatty(STDOUT_FILENO) == 1);
    }
    return 0;
}

} // namespace pipeline::app
