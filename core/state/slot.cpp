#include "core/state/slot.hpp"

#include "core/state/ledger.hpp"
#include "core/util/error.hpp"

namespace pipeline::core {

FileLock take_slot(const RunDir& run_dir, const std::string& phase) {
    if (std::optional<FileLock> lock = FileLock::try_acquire(run_dir.slot_lock(phase))) {
        return std::move(*lock);
    }
    const LedgerEntry holder = entry_of(Ledger(run_dir).read(), phase);
    std::string who = "another process";
    if (holder.state == RunState::Running) {
        who = "pid " + std::to_string(holder.pid) + ", run " + holder.run_id + " for " + holder.date;
    }
    throw Error(ExitCode::SlotBusy, phase + " is already running (" + who +
                                        "); stop it with 'pipeline stop " + phase +
                                        "' or wait for it to finish");
}

} // namespace pipeline::core
