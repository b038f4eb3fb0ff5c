#pragma once
// --metrics-file / metrics_file: the Prometheus textfile of `run`, replaced atomically every few seconds, at
// every phase end and when the run ends, covering every configured phase (the ledger for those this process
// does not run).

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/config/phase_def.hpp"

#include "core/state/ledger.hpp"
#include "core/state/run_dir.hpp"

namespace pipeline::app {

/// Writes the metrics file from a thread of its own until finish() or destruction.
class MetricsFile {
  public:
    /// Remembers the newest successes the ledger and checkpoints know of, writes the file once and starts
    /// the thread. Write failures are logged (once until a write succeeds again), never thrown: metrics must
    /// not fail a harvest.
    MetricsFile(std::filesystem::path path, core::RunDir run_dir, const std::vector<core::PhaseDef>& phases,
                std::chrono::milliseconds interval = std::chrono::milliseconds(2000));
    ~MetricsFile();
    MetricsFile(const MetricsFile&) = delete;
    MetricsFile& operator=(const MetricsFile&) = delete;

    /// Records a phase's live progress (any thread); a terminal state triggers a write at once.
    void update(const core::LedgerEntry& entry);

    /// Stops the thread and writes the final file. Idempotent.
    void finish();

  private:
    void loop();
    void write();
    void failed(const std::string& problem);

    std::filesystem::path m_path;
    core::RunDir m_run_dir;
    std::chrono::milliseconds m_interval;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::vector<std::string> m_phases; // the configured phases, in phase order
    std::map<std::string, core::LedgerEntry, std::less<>> m_live;
    std::map<std::string, std::int64_t, std::less<>> m_last_success;
    bool m_pending = false;
    bool m_quit = false;
    std::mutex m_write_mutex;
    bool m_failing = false; // guarded by m_write_mutex
    std::thread m_thread;
};

} // namespace pipeline::app
