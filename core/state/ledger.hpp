#pragma once
// The run ledger: one entry per phase in <run_dir>/ledger.json, replaced whole under a lock.

#include <sys/types.h>

#include <vector>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "core/api/run_state.hpp"
#include "core/fetch/retry_class.hpp"
#include "core/state/run_dir.hpp"
#include "core/util/stop_reason.hpp"

namespace pipeline::core {

/// Counters of a run (the "progress" object of docs/contract.md, plus retries split by class and empty
/// answers).
struct Progress {
    std::uint64_t items_done = 0;
    std::uint64_t items_total = 0;
    std::uint64_t records = 0;
    std::uint64_t chunks = 0;
    std::uint64_t requests = 0;
    std::uint64_t retries = 0;
    std::uint64_t rejected = 0;
    std::uint64_t empty = 0;       ///< committed records whose answer was empty (all fields but date null)
    std::uint64_t reused = 0;      ///< items copied from an earlier date's snapshot instead of fetched (reuse_days)
    RetryCounts retries_by_class{}; ///< indexed by RetryClass; keys and labels in k_retry_classes
    // Gauges of the pace (docs/pacing.md), as of the latest update: not summed over resumed runs.
    std::uint64_t in_flight = 0;        ///< this phase's requests in flight
    std::uint64_t in_flight_target = 0; ///< requests the whole process may have in flight
    std::uint64_t answer_ms_p50 = 0;    ///< median time of this phase's recent answers, ms
};

/// A phase's latest run as the ledger records it.
struct LedgerEntry {
    std::string phase;
    RunState state = RunState::Idle;
    std::string run_id;
    std::string date;
    pid_t pid = 0;
    std::uint64_t pid_start_ticks = 0; ///< with pid, identifies the worker process
    std::string started_at;
    std::string updated_at;
    std::string finished_at;
    bool stop_requested = false;
    StopReason stop_reason = StopReason::None; ///< why it ended STOPPED; None in any other state
    Progress progress;
    std::optional<std::string> error;
    std::string upstream_run_id;
    std::string sink; ///< where the snapshot goes (no secrets)
};

/// The ledger's entries, in the order the file holds them: every phase that ever ran in this run directory,
/// configured now or not (a phase that never ran has none).
using LedgerEntries = std::vector<LedgerEntry>;

/// The entry of `phase` in `entries`; an IDLE one when there is none.
LedgerEntry entry_of(const LedgerEntries& entries, const std::string& phase);

class JsonFields;

/// The largest pid a state file may hold (Linux's PID_MAX_LIMIT); a larger or non-integer pid is refused.
inline constexpr std::uint64_t k_max_pid = 4194304;

/// The "progress" object of docs/contract.md §5 (with "retries_by_class" keyed by k_retry_classes, "empty",
/// and the pace: "in_flight", "in_flight_target", "answer_ms_p50").
nlohmann::json progress_to_json(const Progress& progress);
/// Reads a "progress" object; throws core::Error naming the file and field of a wrong type.
Progress progress_from_json(const JsonFields& fields);

/// Converts an entry to the JSON object status --json prints (plus extra fields); "stop_reason" is null
/// unless the state is STOPPED.
nlohmann::json entry_to_json(const LedgerEntry& entry);

/// An entry as status shows it: RUNNING with its process gone becomes FAILED with an error naming the pid.
LedgerEntry effective_entry(const LedgerEntry& entry);

/// Reads and updates <run_dir>/ledger.json.
class Ledger {
  public:
    explicit Ledger(RunDir run_dir) : m_run_dir(std::move(run_dir)) {}

    /// Reads the ledger without taking the lock (the file is only ever replaced whole). A missing file
    /// means every phase IDLE. Throws core::Error (exit 1) naming the file and field when the file cannot be
    /// read or parsed, a field has the wrong type or range, or a run id or date has not the form pipeline
    /// writes.
    LedgerEntries read() const;

    /// Under the ledger lock: reads, lets `change` edit the phase's entry, and replaces the file whole
    /// (temporary, fsync, rename) unless `change` returns false. Returns the entry after the change.
    /// Throws core::Error naming the path on I/O failure.
    LedgerEntry update(const std::string& phase, const std::function<bool(LedgerEntry&)>& change);

  private:
    RunDir m_run_dir;
};

} // namespace pipeline::core
