#pragma once
// A run's checkpoint: after each chunk commit, exactly which input items are done, which chunks hold them,
// and which items the API refused. Kept in <run_dir>/checkpoints/, replaced whole by rename.

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/api/run_state.hpp"
#include "core/config/config.hpp"
#include "core/snapshot/snapshot.hpp"
#include "core/state/ledger.hpp"

namespace pipeline::core {

/// Which items of an input list are done, stored as ranges.
class DoneSet {
  public:
    void resize(std::size_t items) {
        m_done.resize(items, false);
        m_prefix = std::min(m_prefix, items);
        m_end = std::min(m_end, items);
    }
    void add(std::size_t item);
    bool contains(std::size_t item) const { return item < m_done.size() && m_done[item]; }
    std::size_t count() const { return m_count; }
    std::size_t size() const { return m_done.size(); }
    /// [[first, last], ...] inclusive ranges.
    std::vector<std::pair<std::size_t, std::size_t>> ranges() const;

  private:
    std::vector<bool> m_done;
    std::size_t m_count = 0;
    // Items are done mostly in order: [0, m_prefix) are all done and nothing at or past m_end is, so ranges(),
    // written at every chunk commit, scans only the window between them, not the whole list.
    std::size_t m_prefix = 0;
    std::size_t m_end = 0;
};

/// The state of one run, as committed.
struct Checkpoint {
    std::string phase;
    std::string date;
    std::string run_id;
    RunState state = RunState::Running;
    std::string started_at;
    pid_t pid = 0;
    std::uint64_t pid_start_ticks = 0;
    Compression compression = Compression::Gzip;
    std::string upstream_run_id;
    DoneSet done;
    std::vector<ChunkEntry> chunks;
    std::vector<RejectedItem> rejects;
    std::uint64_t records = 0;
    Progress counters; ///< requests and retries spent so far, carried over on resume
    std::optional<std::string> error;
};

/// <run_dir>/checkpoints/<date>.<PHASE>.<run_id>.json
std::filesystem::path checkpoint_path(const RunDir& run_dir, const std::string& date, const std::string& phase,
                                      const std::string& run_id);

/// A checkpoint file found in the run directory, with what its name says.
struct CheckpointFile {
    std::string date;
    std::string phase;
    std::string run_id;
    std::filesystem::path path;
};

/// The checkpoint files of the run directory (temporaries and other files skipped), of one phase when
/// `phase` is given, of one date when `date` is non-empty. In no particular order.
std::vector<CheckpointFile> list_checkpoints(const RunDir& run_dir, const std::string& phase = {},
                                             const std::string& date = {});

/// Replaces the checkpoint file whole; throws core::Error naming the path on failure.
void save_checkpoint(const RunDir& run_dir, const Checkpoint& checkpoint);

/// The most input items a checkpoint may list (a ranking of 200-entry pages has a few million at most).
inline constexpr std::uint64_t k_max_checkpoint_items = 100'000'000;

/// Loads a checkpoint file; throws core::Error naming the path and field when it is unreadable or malformed:
/// a wrong type, a pid or item number out of range, done ranges not ascending inside items_total, a run id or
/// chunk name not of the form pipeline writes, or contents that do not match the file's name.
Checkpoint load_checkpoint(const std::filesystem::path& path);

/// The newest run of `phase` on `date` in any state (by start time); nullopt when it never ran.
std::optional<Checkpoint> find_latest(const RunDir& run_dir, const std::string& phase, const std::string& date);

/// The newest run of `phase` on `date` that may be resumed: STOPPED, FAILED, or RUNNING with its process
/// gone. nullopt when there is none.
std::optional<Checkpoint> find_resumable(const RunDir& run_dir, const std::string& phase, const std::string& date);

} // namespace pipeline::core
