#pragma once
// The live progress block of `run` on a terminal: one line per running phase (items done/total, records,
// requests/s, requests in flight against the process's target, median answer time, retries, ETA), redrawn by
// a thread of its own a few times a second from a snapshot that the phases' progress callbacks fill.

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "app/console.hpp"
#include "core/state/ledger.hpp"

namespace pipeline::app {

/// Draws the block through a Console until destroyed; the destructor erases it.
class ProgressDisplay {
  public:
    /// Starts the drawing thread (redraws every `interval`).
    explicit ProgressDisplay(Console& console,
                             std::chrono::milliseconds interval = std::chrono::milliseconds(250));
    ~ProgressDisplay();
    ProgressDisplay(const ProgressDisplay&) = delete;
    ProgressDisplay& operator=(const ProgressDisplay&) = delete;

    /// Records a phase's progress (any thread); a terminal state removes the phase's line.
    void update(const core::LedgerEntry& entry);

  private:
    struct Sample {
        std::chrono::steady_clock::time_point at;
        std::uint64_t items_done = 0;
        std::uint64_t requests = 0;
    };
    struct Row {
        core::LedgerEntry entry;
        std::deque<Sample> samples; // the last few seconds, for rates
    };

    void loop();
    void draw_locked();
    static std::string render(const Row& row);

    Console& m_console;
    std::chrono::milliseconds m_interval;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::map<std::string, Row, std::less<>> m_rows;
    bool m_quit = false;
    std::thread m_thread;
};

} // namespace pipeline::app
