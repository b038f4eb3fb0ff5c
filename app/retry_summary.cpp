#include "app/retry_summary.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <utility>

#include <spdlog/spdlog.h>

namespace pipeline::app {

using namespace std::chrono;

void RetrySummary::update(const core::LedgerEntry& entry) {
    const steady_clock::time_point now = steady_clock::now();
    const bool ended = core::is_terminal(entry.state);
    std::optional<std::pair<core::Progress, double>> report; // retries since the window began, its length
    {
        const std::lock_guard lock(m_mutex);
        auto it = m_windows.find(entry.phase);
        if (it == m_windows.end() || it->second.run_id != entry.run_id) {
            // The first report of a run: counters carried over by a resume are not new retries.
            m_windows[entry.phase] = Window{entry.run_id, now, entry.progress};
            return;
        }
        Window& window = it->second;
        if (!ended && now - window.start < m_interval) {
            return;
        }
        if (entry.progress.retries > window.base.retries) {
            core::Progress delta;
            const core::Progress& p = entry.progress;
            delta.retries = p.retries - window.base.retries;
            for (std::size_t i = 0; i < core::k_retry_class_count; ++i) {
                delta.retries_by_class[i] = p.retries_by_class[i] - window.base.retries_by_class[i];
            }
            report.emplace(delta, duration<double>(now - window.start).count());
        }
        window.start = now;
        window.base = entry.progress;
        if (ended) {
            m_windows.erase(it);
        }
    }
    if (!report) {
        return;
    }
    const core::Progress& d = report->first;
    std::string causes;
    for (const core::RetryClassInfo& info : core::k_retry_classes) {
        const std::uint64_t count = d.retries_by_class[static_cast<std::size_t>(info.retry_class)];
        if (count > 0) {
            causes += (causes.empty() ? "" : ", ") + std::string(info.label) + ": " + std::to_string(count);
        }
    }
    spdlog::info("{}: {} {} in the last {} s ({})", entry.phase, d.retries,
                 d.retries == 1 ? "retry" : "retries", std::max<long long>(1, std::lround(report->second)),
                 causes);
}

} // namespace pipeline::app
