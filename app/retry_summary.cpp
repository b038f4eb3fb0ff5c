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
            for (const core::RetryClassField& field : core::k_retry_class_fields) {
                delta.*field.count = p.*field.count - window.base.*field.count;
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
    for (const core::RetryClassField& field : core::k_retry_class_fields) {
        if (d.*field.count > 0) {
            causes += (causes.empty() ? "" : ", ") + std::string(field.label) + ": " + std::to_string(d.*field.count);
        }
    }
    spdlog::info("{}: {} {} in the last {} s ({})", core::phase_name(entry.phase), d.retries,
                 d.retries == 1 ? "retry" : "retries", std::max<long long>(1, std::lround(report->second)),
                 causes);
}

} // namespace pipeline::app
