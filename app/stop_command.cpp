#include "app/stop_command.hpp"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <chrono>
#include <iostream>

#include <spdlog/spdlog.h>

#include "core/state/ledger.hpp"
#include "core/util/atomic_file.hpp"
#include "core/util/error.hpp"

namespace pipeline::app {

using namespace std::chrono;
using core::Phase;

CLI::App* add_stop_command(CLI::App& app, StopOptions& options) {
    CLI::App* stop = app.add_subcommand("stop", "Stop a running phase gracefully at its next page or chunk boundary");
    stop->add_option("phase", options.phase, "A phase name or all (case-insensitive)")->required();
    stop->add_flag("--wait", options.wait, "Return only when the phase has reached a terminal state");
    stop->add_option("--timeout", options.timeout_seconds, "With --wait: give up after this many seconds (exit 5)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    stop->footer("Prints 'STOP_REQUESTED <PHASE> <run_id>' or 'NOT_RUNNING <PHASE>' per phase.\n"
                 "Exit codes: 0 requested or not running, 1 the sentinel could not be written, 2 usage error,\n"
                 "5 --wait timed out.\n"
                 "Example: pipeline stop ITEM_EQUIPMENT --wait --timeout 60");
    return stop;
}

namespace {

struct Requested {
    Phase phase;
    std::string run_id;
};

// True once the run is over: a terminal state, another run in the slot, or its process gone.
bool has_ended(const core::LedgerEntries& entries, const Requested& request) {
    const core::LedgerEntry entry = core::effective_entry(entries[static_cast<std::size_t>(request.phase)]);
    return entry.run_id != request.run_id || core::is_terminal(entry.state);
}

// Waits for every requested run to end, woken by ledger replacements (inotify) with a slow poll as backstop.
bool wait_for_end(const core::RunDir& run_dir, const std::vector<Requested>& requests, duration<double> timeout) {
    const int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd >= 0) {
        ::inotify_add_watch(fd, run_dir.root().c_str(), IN_MOVED_TO | IN_CLOSE_WRITE);
    }
    const auto deadline = steady_clock::now() + duration_cast<steady_clock::duration>(timeout);
    const core::Ledger ledger(run_dir);
    bool ended = false;
    while (true) {
        const core::LedgerEntries entries = ledger.read();
        ended = std::ranges::all_of(requests, [&](const Requested& r) { return has_ended(entries, r); });
        const auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
        if (ended || left.count() <= 0) {
            break;
        }
        pollfd pfd{fd, POLLIN, 0};
        if (::poll(&pfd, fd >= 0 ? 1 : 0, static_cast<int>(std::min<std::int64_t>(left.count(), 200))) > 0) {
            char buffer[4096];
            while (::read(fd, buffer, sizeof buffer) > 0) {
            }
        }
    }
    if (fd >= 0) {
        ::close(fd);
    }
    return ended;
}

} // namespace

int stop_command(const GlobalOptions& global, const StopOptions& options) {
    const std::vector<Phase> phases = parse_phase_list(options.phase);
    const core::Config config = load_config(global);
    const core::RunDir run_dir(config.run_dir);
    std::vector<Requested> requested;
    for (Phase phase : phases) {
        std::string run_id;
        if (std::filesystem::exists(run_dir.ledger())) {
            try {
                // Under the ledger lock, so that the run cannot finish and a new one start in between: the
                // sentinel names exactly the run that is live now.
                core::Ledger(run_dir).update(phase, [&](core::LedgerEntry& e) {
                    if (core::effective_entry(e).state != core::RunState::Running) {
                        return false;
                    }
                    core::write_file_atomically(run_dir.stop_sentinel(phase), e.run_id + "\n");
                    run_id = e.run_id;
                    e.stop_requested = true;
                    return true;
                });
            } catch (const core::Error& e) {
                throw core::Error(core::ExitCode::Failed, "could not request a stop of " +
                                                              std::string(core::phase_name(phase)) + ": " + e.what());
            }
        }
        if (run_id.empty()) {
            std::cout << "NOT_RUNNING " << core::phase_name(phase) << std::endl;
        } else {
            std::cout << "STOP_REQUESTED " << core::phase_name(phase) << " " << run_id << std::endl;
            requested.push_back({phase, run_id});
        }
    }
    if (options.wait && !requested.empty() &&
        !wait_for_end(run_dir, requested, duration<double>(options.timeout_seconds))) {
        spdlog::error("timed out after {} s waiting for the stopped phase(s) to finish", options.timeout_seconds);
        return static_cast<int>(core::ExitCode::WaitTimeout);
    }
    return 0;
}

} // namespace pipeline::app
