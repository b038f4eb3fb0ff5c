#pragma once
// Prometheus text exposition (format 0.0.4) of the phases' latest runs, for node_exporter's textfile
// collector.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/state/ledger.hpp"
#include "core/util/time_util.hpp"

namespace pipeline::core {

/// What the metrics say about one phase.
struct PhaseMetrics {
    LedgerEntry entry;                             ///< the latest run (as status shows it)
    std::optional<std::int64_t> last_success_unix; ///< finished_at of the newest COMPLETED run, if known
};

/// Seconds from started_at to finished_at (to `now` while RUNNING); 0 for IDLE or unparsable timestamps.
double run_duration_seconds(const LedgerEntry& entry, SystemTime now);

/// finished_at of a COMPLETED entry as unix seconds; nullopt for any other state or a malformed timestamp.
std::optional<std::int64_t> completed_at_unix(const LedgerEntry& entry);

/// Renders every `pipeline_*` metric with its # HELP and # TYPE lines, one sample per phase (label
/// phase="ITEM_EQUIPMENT"), in the order given. Never fails.
std::string render_metrics(const std::vector<PhaseMetrics>& phases, SystemTime now);

} // namespace pipeline::core
