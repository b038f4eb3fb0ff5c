#pragma once
// One run's entry in the ledger, owned by that run: it takes the phase's entry over at the start, records
// progress while the run goes, and records how it ended. Every write is a whole-ledger replacement under the
// ledger lock (ledger.hpp); a write for a run that no longer owns the entry is dropped.

#include <optional>
#include <string>

#include "core/api/run_state.hpp"
#include "core/state/ledger.hpp"
#include "core/state/run_dir.hpp"

namespace pipeline::core {

/// What the ledger is told about a run when it starts.
struct RunStart {
    std::string run_id;
    std::string date;
    std::string started_at;
    pid_t pid = 0;
    std::uint64_t pid_start_ticks = 0;
    std::string sink; ///< where the snapshot goes (no secrets)
    Progress progress;
};

/// The ledger entry of one run of one phase.
class RunRecord {
  public:
    RunRecord(RunDir run_dir, const std::string& phase);

    /// Takes the phase's entry over with a RUNNING entry for this run. Under the same lock, a stop sentinel
    /// left for an earlier run is removed before the new run id is published, so that a stop can only ever
    /// name the run it saw. Throws core::Error naming the ledger on I/O failure.
    void start(const RunStart& start);

    /// Records progress and the upstream run. Throws core::Error on I/O failure.
    void progress(const Progress& progress, const std::string& upstream_run_id);

    /// Records the terminal state, error and stop reason (kept only for STOPPED), and removes a stop sentinel
    /// naming this run (the run is over, so the stop can no longer apply). Throws core::Error on I/O failure;
    /// the entry() is updated all the same.
    void finish(RunState state, const Progress& progress, const std::optional<std::string>& error,
                StopReason stop_reason = StopReason::None);

    /// The entry as this run last wrote it, with the latest progress given.
    const LedgerEntry& entry() const { return m_entry; }

    /// Sets the progress of entry() without writing the ledger (for frequent live views).
    void set_progress(const Progress& progress) { m_entry.progress = progress; }

  private:
    RunDir m_run_dir;
    Ledger m_ledger;
    std::string m_phase;
    LedgerEntry m_entry;
};

} // namespace pipeline::core
