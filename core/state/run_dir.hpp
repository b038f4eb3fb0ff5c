#pragma once
// The run directory: the ledger, lock files, stop sentinels and run checkpoints. Mode 0700.

#include <filesystem>

#include "core/api/run_state.hpp"

namespace pipeline::core {

/// Names of the control files inside a run directory.
class RunDir {
  public:
    explicit RunDir(std::filesystem::path root) : m_root(std::move(root)) {}

    /// Creates the folder (mode 0700) and its checkpoints/ subfolder if missing; throws core::Error naming
    /// the path on failure (exit 1, also when they exist but this user cannot write them), and as
    /// check_existing() when they exist but are not private.
    void create() const;

    /// Refuses (core::Error, exit 2, naming the folder and its mode) a run directory or checkpoints/ folder
    /// that exists but is not owned by the effective user or that group or others may write to. A missing
    /// folder is fine (nothing ran yet).
    void check_existing() const;

    const std::filesystem::path& root() const { return m_root; }
    std::filesystem::path ledger() const { return m_root / "ledger.json"; }
    std::filesystem::path ledger_lock() const { return m_root / "ledger.lock"; }
    /// Held (flock) by the live run of the phase for the whole run.
    std::filesystem::path slot_lock(const std::string& phase) const;
    /// Written by `pipeline stop`; holds the run id it targets.
    std::filesystem::path stop_sentinel(const std::string& phase) const;
    /// The file name of a phase's stop sentinel ("ITEM_EQUIPMENT.stop").
    static std::string stop_sentinel_name(const std::string& phase);
    std::filesystem::path checkpoints() const { return m_root / "checkpoints"; }
    /// The pacing state every process of the run directory shares (core/state/pace_file.hpp).
    std::filesystem::path pace() const { return m_root / "pace"; }

  private:
    std::filesystem::path m_root;
};

} // namespace pipeline::core
