#pragma once
// The stop protocol's file: <run_dir>/<PHASE>.stop names the one run a stop is meant for. `pipeline stop`
// writes it under the ledger lock, the worker's StopWatcher reads it, the run's end (or the next run's start)
// clears it. See docs/contract.md, "Stop".

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/api/run_state.hpp"
#include "core/state/run_dir.hpp"

namespace pipeline::core {

/// Under the ledger lock: when the phase's latest run is live, writes its sentinel naming that run id, marks
/// the entry stop_requested and returns the run id; nullopt when no run of the phase is live. Because the lock
/// is held, the run cannot end and another start in between: the sentinel names exactly the run seen live.
/// Throws core::Error naming the file when the sentinel or the ledger cannot be written.
std::optional<std::string> request_stop(const RunDir& run_dir, const std::string& phase);

/// The run id the phase's sentinel names (trimmed); empty when there is none, it cannot be read, or it is not
/// a run id of the form pipeline generates (then warned about once).
std::string read_stop_request(const RunDir& run_dir, const std::string& phase);

/// Removes the phase's sentinel when it names `run_id`, or whatever it names when `run_id` is empty. Call it
/// under the ledger lock (RunRecord does). Never throws: a sentinel that cannot be removed names a run that is
/// over, which the watcher ignores.
void clear_stop_request(const RunDir& run_dir, const std::string& phase, std::string_view run_id = {});

/// The phase whose sentinel has this file name ("ITEM_EQUIPMENT.stop"); nullopt for other files.
std::optional<std::string> phase_of_stop_file(std::string_view file_name);

/// Blocks until `done()` is true or `timeout` passes, re-checking whenever a file in the run directory is
/// replaced (inotify), and at least every 200 ms. Returns done()'s last value.
bool wait_for_run_dir(const RunDir& run_dir, std::chrono::milliseconds timeout, const std::function<bool()>& done);

} // namespace pipeline::core
