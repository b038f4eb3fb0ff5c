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
            delta.retries_rate_limited = p.retries_rate_limited - window.base.retries_rate_limited;
            delta.retries_server = p.retries_server - window.base.retries_server;
            delta.retries_preparing = p.retries_preparing - window.base.retries_preparing;
            delta.retries_transport = p.retries_transport - window.base.retries_transport;
            delta.retries_bad_body = p.retries_bad_body - window.base.retries_bad_body;
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
    const std::array<std::pair<const char*, std::uint64_t>, 5> classes = {
        {{"429", d.retries_rate_limited},
         {"5xx", d.retries_server},
         {"data preparing", d.retries_preparing},
         {"transport", d.retries_transport},
         {"bad body", d.retries_bad_body}}};
    std::string causes;
    for (const auto& [name, count] : classes) {
        if (count > 0) {
            causes += (causes.empty() ? "" : ", ") + std::string(name) + ": " + std::to_string(count);
        }
    }
    spdlog::info("{}: {} {} in the last {} s ({})", core::phase_name(entry.phase), d.retries,
                 d.retries == 1 ? "retry" : "retries", std::max<long long>(1, std::lround(report->second)),
                 causes);
}

} // namespace pipeline::app
