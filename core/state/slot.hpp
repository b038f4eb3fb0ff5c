#pragma once
// One live run per phase across processes: the phase's slot is an flock held for the run's life.

#include "core/api/run_state.hpp"
#include "core/state/run_dir.hpp"
#include "core/util/file_lock.hpp"

namespace pipeline::core {

/// Takes the slot of `phase` without waiting. Throws core::Error (exit 4) naming the holder's pid and run id
/// when a live run holds it.
FileLock take_slot(const RunDir& run_dir, const std::string& phase);

} // namespace pipeline::core
