#pragma once
// `pipeline gc --keep-days N`: removes old dated snapshots with their checkpoints, and what killed runs left
// behind, never anything of a RUNNING run (docs/contract.md §2).

#include <chrono>
#include <functional>
#include <string>

#include "core/snapshot/sink.hpp"
#include "core/state/run_dir.hpp"
#include "core/util/time_util.hpp"

namespace pipeline::core {

/// What gc removes and how it reports.
struct GcOptions {
    int keep_days = 0;     ///< dated folders more than this many days before today (API calendar) go
    bool dry_run = false;  ///< report, remove nothing
    SystemTime now = std::chrono::system_clock::now();
    /// Called with one line per thing removed (or that would be), e.g. "REMOVED /srv/data/2026-11-01/...".
    std::function<void(const std::string&)> report = [](const std::string&) {};
    /// Called with a message for each thing that could not be removed.
    std::function<void(const std::string&)> problem = [](const std::string&) {};
};

/// Counts of one gc pass.
struct GcSummary {
    std::size_t removed = 0; ///< things removed (or, with dry_run, that would be)
    std::size_t failed = 0;  ///< things that could not be removed (each passed to `problem`)
    std::size_t kept_running = 0; ///< old runs kept because they are RUNNING
};

/// The oldest date gc keeps: today in the API's calendar (Asia/Seoul) minus `keep_days`.
std::chrono::year_month_day gc_cutoff(SystemTime now, int keep_days);

/// Removes from `sink` every run folder (and stray object) under a date before gc_cutoff(), with the
/// checkpoints in `run_dir` of those dates; removes the stale temporaries of the sink and of the run directory.
/// A run the ledger shows RUNNING (with a live process) is never touched. Failures to remove one thing are
/// reported and counted, and the rest goes on; throws core::Error (exit 1) only when the ledger cannot be read,
/// since then nothing is known to be safe.
GcSummary collect_garbage(Sink& sink, const RunDir& run_dir, const GcOptions& options);

} // namespace pipeline::core
