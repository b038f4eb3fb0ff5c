#pragma once
// The run ledger: one entry per phase in <run_dir>/ledger.json, replaced whole under a lock.

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "core/api/phase.hpp"
#include "core/state/run_dir.hpp"

namespace pipeline::core {

/// Counters of a run (docs/contract.md §5 "progress", plus retries split by class).
struct Progress {
    std::uint64_t items_done = 0;
    std::uint64_t items_total = 0;
    std::uint64_t records = 0;
    std::uint64_t chunks = 0;
    std::uint64_t requests = 0;
    std::uint64_t retries = 0;
    std::uint64_t rejected = 0;
    std::uint64_t retries_rate_limited = 0; ///< 429
    std::uint64_t retries_server = 0;       ///< 5xx
    std::uint64_t retries_preparing = 0;    ///< OPENAPI00009
    std::uint64_t retries_transport = 0;    ///< timeouts, resets, refused connections
    std::uint64_t retries_bad_body = 0;     ///< truncated or unparsable bodies
};

/// One retry class of Progress: its key in JSON and metrics, its short label in logs, and its counter.
struct RetryClassField {
    std::string_view key;
    std::string_view label;
    std::uint64_t Progress::*count;
};

/// Every retry class of Progress, in a fixed order: the one list the ledger, metrics and logs iterate.
inline constexpr std::array<RetryClassField, 5> k_retry_class_fields = {{
    {"rate_limited", "429", &Progress::retries_rate_limited},
    {"server_error", "5xx", &Progress::retries_server},
    {"data_preparing", "data preparing", &Progress::retries_preparing},
    {"transport", "transport", &Progress::retries_transport},
    {"bad_body", "bad body", &Progress::retries_bad_body},
}};

/// A phase's latest run as the ledger records it.
struct LedgerEntry {
    Phase phase = Phase::RankingFetch;
    RunState state = RunState::Idle;
    std::string run_id;
    std::string date;
    pid_t pid = 0;
    std::uint64_t pid_start_ticks = 0; ///< with pid, identifies the worker process
    std::string started_at;
    std::string updated_at;
    std::string finished_at;
    bool stop_requested = false;
    Progress progress;
    std::optional<std::string> error;
    std::string upstream_run_id;
    std::string sink; ///< where the snapshot goes (no secrets)
};

/// The entries of all four phases, in phase order.
using LedgerEntries = std::array<LedgerEntry, 4>;

class JsonFields;

/// The largest pid a state file may hold (Linux's PID_MAX_LIMIT); a larger or non-integer pid is refused.
inline constexpr std::uint64_t k_max_pid = 4194304;

/// The "progress" object of docs/contract.md §5 (with "retries_by_class"), and back (missing fields are zero).
nlohmann::json progress_to_json(const Progress& progress);
/// Reads a "progress" object; throws core::Error naming the file and field of a wrong type.
Progress progress_from_json(const JsonFields& fields);
/// As above, for an object without a file (errors name "progress").
Progress progress_from_json(const nlohmann::json& json);

/// Converts an entry to the JSON object of docs/contract.md §5 (plus extra fields).
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
    LedgerEntry update(Phase phase, const std::function<bool(LedgerEntry&)>& change);

  private:
    RunDir m_run_dir;
};

} // namespace pipeline::core
