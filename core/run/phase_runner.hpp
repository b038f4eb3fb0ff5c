#pragma once
// The driver every phase shares: take over the slot's ledger entry, open the upstream snapshot, loop over
// items (check stop, fetch, write), commit chunks with a checkpoint each, publish the manifest, finish.

#include <functional>
#include <memory>
#include <string>

#include "core/api/run_state.hpp"
#include "core/config/config.hpp"
#include "core/fetch/fetcher.hpp"
#include "core/fetch/in_flight_budget.hpp"
#include "core/fetch/rate_limiter.hpp"
#include "core/fetch/transport.hpp"
#include "core/run/item_list.hpp"
#include "core/snapshot/sink.hpp"
#include "core/state/ledger.hpp"
#include "core/state/quota.hpp"
#include "core/state/run_dir.hpp"
#include "core/state/stop_signal.hpp"

namespace pipeline::core {

/// What a phase run needs from the process around it. Shared by phases running side by side.
struct PhaseEnvironment {
    const Config* config = nullptr;
    RunDir run_dir{"."};
    StopWatcher* watcher = nullptr;
    RateLimiter* limiter = nullptr;                            ///< shared: the API's limit is per key
    /// Shared: the requests in flight of the whole process (null: api.concurrency for this phase alone).
    InFlightBudget* budget = nullptr;
    std::function<std::unique_ptr<Transport>()> make_transport; ///< one per phase run
    std::function<std::unique_ptr<Sink>()> make_sink;           ///< one per phase run
    ItemListCache* item_lists = nullptr; ///< shared: sibling phases hold one copy of their item list; may be null
    DailyQuota* quota = nullptr; ///< shared: the daily call budget of the key; null when api.daily_quota is 0
    /// Called (from the phase's thread) whenever the phase's progress changes; may be empty.
    std::function<void(const LedgerEntry&)> on_progress;
};

/// How a phase run ended.
struct PhaseOutcome {
    std::string phase;
    RunState state = RunState::Failed;
    std::string run_id;
    std::string error;
};

/// Runs the phase `def` (one of env.config's phases, which must outlive the run) for `date` to a terminal
/// state (COMPLETED, STOPPED or FAILED), recorded in the ledger, the checkpoint and the manifest. The caller
/// holds the phase's slot. With `resume`, continues the newest
/// resumable run; throws core::Error (exit 2) when there is none. Other failures end the run FAILED and are
/// reported in the outcome, not thrown.
PhaseOutcome run_phase(const PhaseEnvironment& env, const PhaseDef& def, const std::string& date, bool resume,
                       StopFlag& stop);

/// A new run id: "<UTC yyyymmddThhmmssZ>-<6 hex>", sortable by start time.
std::string new_run_id();

} // namespace pipeline::core
