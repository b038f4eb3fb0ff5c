#include "app/stop_command.hpp"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>

#include <spdlog/spdlog.h>

#include "core/state/ledger.hpp"
#include "core/state/stop_sentinel.hpp"
#include "core/util/error.hpp"

namespace pipeline::app {

using namespace std::chrono;

namespace {

// --wait waits on a steady_clock deadline: more than a year would overflow its nanoseconds (1e10 s did, and
// timed out at once), and NaN or infinity are no timeout an operator means.
constexpr double k_max_timeout_seconds = 365.0 * 24 * 3600;

std::string check_timeout(const std::string& text) {
    double seconds = 0;
    try {
        std::size_t used = 0;
        seconds = std::stod(text, &used);
        if (used != text.size()) {
            return "--timeout " + text + ": not a number of seconds";
        }
    } catch (const std::exception&) {
        return "--timeout " + text + ": not a number of seconds";
    }
    if (!(seconds > 0 && seconds <= k_max_timeout_seconds)) {
        return "--timeout " + text + ": expected seconds above 0 and at most " +
               std::to_string(static_cast<long long>(k_max_timeout_seconds)) + " (a year)";
    }
    return "";
}

} // namespace

CLI::App* add_stop_command(CLI::App& app, StopOptions& options) {
    CLI::App* stop = app.add_subcommand("stop", "Stop a running phase gracefully at its next page or chunk boundary");
    stop->add_option("phase", options.phase, "A phase name or all (case-insensitive)")->required();
    stop->add_flag("--wait", options.wait, "Return only when the phase has reached a terminal state");
    stop->add_option("--timeout", options.timeout_seconds,
                     "With --wait: give up after this many seconds, at most a year (exit 5)")
        ->check(CLI::Validator(check_timeout, "SECONDS"))
        ->capture_default_str();
    stop->footer("Prints 'STOP_REQUESTED <PHASE> <run_id>' or 'NOT_RUNNING <PHASE>' per phase.\n"
                 "Exit codes: 0 requested or not running, 1 the sentinel could not be written, 2 usage error,\n"
                 "5 --wait timed out.\n"
                 "Example: pipeline stop ITEM_EQUIPMENT --wait --timeout 60");
    return stop;
}

namespace {

struct Requested {
    std::string phase;
    std::string run_id;
};

// True once the run is over: a terminal state, another run in the slot, or its process gone.
bool has_ended(const core::LedgerEntries& entries, const Requested& request) {
    const core::LedgerEntry entry = core::effective_entry(core::entry_of(entries, request.phase));
    return entry.run_id != request.run_id || core::is_terminal(entry.state);
}


} // namespace

int stop_command(const GlobalOptions& global, const StopOptions& options) {
    const core::Config config = load_config(global);
    const std::vector<std::string> phases = parse_phase_list(config, options.phase);
    const core::RunDir run_dir(config.run_dir);
    std::vector<Requested> requested;
    for (const std::string& phase : phases) {
        std::optional<std::string> run_id;
        try {
            run_id = core::request_stop(run_dir, phase);
        } catch (const core::Error& e) {
            throw core::Error(core::ExitCode::Failed, "could not request a stop of " + phase + ": " + e.what());
        }
        if (!run_id) {
            std::cout << "NOT_RUNNING " << phase << std::endl;
        } else {
            std::cout << "STOP_REQUESTED " << phase << " " << *run_id << std::endl;
            requested.push_back({phase, *run_id});
        }
    }
    const core::Ledger ledger(run_dir);
    const auto all_ended = [&] {
        const core::LedgerEntries entries = ledger.read();
        return std::ranges::all_of(requested, [&](const Requested& r) { return has_ended(entries, r); });
    };
    const auto timeout = duration_cast<milliseconds>(duration<double>(options.timeout_seconds));
    if (options.wait && !requested.empty() && !core::wait_for_run_dir(run_dir, timeout, all_ended)) {
        spdlog::error("timed out after {} s waiting for the stopped phase(s) to finish", options.timeout_seconds);
        return static_cast<int>(core::ExitCode::WaitTimeout);
    }
    return 0;
}

} // namespace pipeline::app
