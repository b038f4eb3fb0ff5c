#pragma once
// Retries are summarised, not logged one by one: at most one info line per phase every interval while
// retries happen ("ITEM_EQUIPMENT: 37 retries in the last 10 s (429: 30, 5xx: 7)"), and one for the rest
// when the phase ends.

#include <chrono>
#include <map>
#include <mutex>

#include "core/state/ledger.hpp"

namespace pipeline::app {

/// Turns the phases' progress stream into periodic retry summaries. Thread-safe.
class RetrySummary {
  public:
    explicit RetrySummary(std::chrono::seconds interval = std::chrono::seconds(10)) : m_interval(interval) {}

    /// Feeds a phase's progress (from the phase's thread, so the line carries its log context); logs a
    /// summary when the interval has passed (or the run ended) and retries happened since the last one.
    void update(const core::LedgerEntry& entry);

  private:
    struct Window {
        std::string run_id;
        std::chrono::steady_clock::time_point start;
        core::Progress base;
    };

    std::chrono::seconds m_interval;
    std::mutex m_mutex;
    std::map<std::string, Window, std::less<>> m_windows;
};

} // namespace pipeline::app
