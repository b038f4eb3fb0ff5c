#pragma once
// Graceful stop: a per-phase atomic flag, set by a sentinel file bound to a run id (watched with inotify,
// or polled where inotify cannot be had) or by SIGINT/SIGTERM.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/api/phase.hpp"
#include "core/state/run_dir.hpp"
#include "core/util/stop_flag.hpp"

namespace pipeline::core {

/// Watches the run directory for stop sentinels on a thread of its own. A sentinel for a watched phase
/// that names the phase's current run id sets that phase's flag; any other sentinel is ignored.
class StopWatcher {
  public:
    /// Starts watching `run_dir` (inotify; falls back to polling every 100 ms, logged once, when inotify
    /// fails or PIPELINE_STOP_POLL=1 is set).
    explicit StopWatcher(RunDir run_dir);
    ~StopWatcher();
    StopWatcher(const StopWatcher&) = delete;
    StopWatcher& operator=(const StopWatcher&) = delete;

    /// Binds `flag` to stops of `phase` naming `run_id`, and checks the sentinel already present.
    void watch(Phase phase, const std::string& run_id, StopFlag& flag);
    /// Forgets the phase (its run ended).
    void unwatch(Phase phase);
    /// True when the watcher fell back to polling.
    bool polling() const { return m_polling; }

  private:
    struct Binding {
        std::string run_id;
        StopFlag* flag;
    };
    void loop();
    void check(Phase phase);

    RunDir m_run_dir;
    std::mutex m_mutex;
    std::map<Phase, Binding> m_bindings;
    int m_inotify_fd = -1;
    int m_wake_fd = -1;
    bool m_polling = false;
    std::atomic<bool> m_quit{false};
    std::thread m_thread;
};

/// Reads the run id a sentinel file names (trimmed); empty when absent or unreadable.
std::string read_stop_sentinel(const std::filesystem::path& path);

/// Routes SIGINT and SIGTERM to stop flags: the first signal requests a stop of every registered flag; a
/// second SIGINT ends the process at once (exit 130). Blocks both signals in the calling thread, so create
/// it in main before any other thread starts.
class SignalStopper {
  public:
    SignalStopper();
    ~SignalStopper();
    SignalStopper(const SignalStopper&) = delete;
    SignalStopper& operator=(const SignalStopper&) = delete;

    /// Adds a flag to stop on the first signal (set at once if a signal already came).
    void add(StopFlag& flag);
    /// Removes a flag added before.
    void remove(StopFlag& flag);

  private:
    void loop();
    std::mutex m_mutex;
    std::vector<StopFlag*> m_flags;
    bool m_signalled = false;
    int m_wake_fd = -1;
    std::thread m_thread;
};

} // namespace pipeline::core
