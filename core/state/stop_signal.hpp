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
#include <utility>
#include <vector>

#include "core/api/run_state.hpp"
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

    /// A binding of one phase's run to its flag; destroying it unbinds the phase, on every exit path.
    class Watch {
      public:
        Watch(StopWatcher& watcher, const std::string& phase) : m_watcher(&watcher), m_phase(phase) {}
        ~Watch() {
            if (m_watcher != nullptr) {
                m_watcher->unwatch(m_phase);
            }
        }
        Watch(Watch&& other) noexcept : m_watcher(std::exchange(other.m_watcher, nullptr)), m_phase(other.m_phase) {}
        Watch(const Watch&) = delete;
        Watch& operator=(const Watch&) = delete;
        Watch& operator=(Watch&&) = delete;

      private:
        StopWatcher* m_watcher;
        std::string m_phase;
    };

    /// Binds `flag` to stops of `phase` naming `run_id` until the returned Watch is destroyed, and checks the
    /// sentinel already present.
    [[nodiscard]] Watch watch(const std::string& phase, const std::string& run_id, StopFlag& flag);
    /// True while a run of `phase` is bound to a flag.
    bool watching(const std::string& phase) const;

  private:
    struct Binding {
        std::string run_id;
        StopFlag* flag;
    };
    void unwatch(const std::string& phase);
    void loop();
    void check(const std::string& phase);
    void check_all();

    RunDir m_run_dir;
    mutable std::mutex m_mutex;
    std::map<std::string, Binding, std::less<>> m_bindings; // by phase name
    int m_inotify_fd = -1;
    int m_wake_fd = -1;
    bool m_polling = false;
    std::atomic<bool> m_quit{false};
    std::thread m_thread;
};


/// Routes SIGINT and SIGTERM to stop flags: the first signal requests a stop of every registered flag; a
/// second SIGINT ends the process at once (exit 130). Blocks both signals in the calling thread, so create
/// it in main before any other thread starts.
class SignalStopper {
  public:
    SignalStopper();
    ~SignalStopper();
    SignalStopper(const SignalStopper&) = delete;
    SignalStopper& operator=(const SignalStopper&) = delete;

    /// A flag's registration; destroying it removes the flag, on every exit path.
    class Registration {
      public:
        Registration(SignalStopper& stopper, StopFlag& flag) : m_stopper(&stopper), m_flag(&flag) {}
        ~Registration() {
            if (m_stopper != nullptr) {
                m_stopper->remove(*m_flag);
            }
        }
        Registration(Registration&& other) noexcept
            : m_stopper(std::exchange(other.m_stopper, nullptr)), m_flag(other.m_flag) {}
        Registration(const Registration&) = delete;
        Registration& operator=(const Registration&) = delete;
        Registration& operator=(Registration&&) = delete;

      private:
        SignalStopper* m_stopper;
        StopFlag* m_flag;
    };

    /// Stops `flag` on the first signal (at once if a signal already came) until the Registration is destroyed.
    [[nodiscard]] Registration add(StopFlag& flag);

  private:
    void remove(StopFlag& flag);
    void loop();
    std::mutex m_mutex;
    std::vector<StopFlag*> m_flags;
    bool m_signalled = false;
    int m_wake_fd = -1;
    std::thread m_thread;
};

} // namespace pipeline::core
