#include "core/state/slot.hpp"

#include "core/state/ledger.hpp"
#include "core/util/error.hpp"

namespace pipeline::core {

FileLock take_slot(const RunDir& run_dir, Phase phase) {
    if (std::optional<FileLock> lock = FileLock::try_acquire(run_dir.slot_lock(phase))) {
        return std::move(*lock);
    }
    const LedgerEntry holder = Ledger(run_dir).read()[static_cast<std::size_t>(phase)];
    std::string who = "another process";
    if (holder.state == RunState::Running) {
        who = "pid " + std::to_string(holder.pid) + ", run " + holder.run_id + " for " + holder.date;
    }
    throw Error(ExitCode::SlotBusy, std::string(phase_name(phase)) + " is already running (" + who +
                                        "); stop it with 'pipeline stop " + std::string(phase_name(phase)) +
                                        "' or wait for it to finish");
}

} // namespace pipeline::core
