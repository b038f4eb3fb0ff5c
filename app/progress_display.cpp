#include "app/progress_display.hpp"

#include <cstdio>
#include <vector>

#include "core/util/text.hpp"

namespace pipeline::app {

using namespace std::chrono;

namespace {

// Rates are measured over this much recent history: long enough to be steady, short enough to follow a
// change of pace (a rate limit starting, a slow endpoint).
constexpr seconds k_rate_window{10};
constexpr std::size_t k_bar_width = 20;

} // namespace

ProgressDisplay::ProgressDisplay(Console& console, milliseconds interval)
    : m_console(console), m_interval(interval), m_thread([this] { loop(); }) {}

ProgressDisplay::~ProgressDisplay() {
    {
        const std::lock_guard lock(m_mutex);
        m_quit = true;
    }
    m_wake.notify_all();
    m_thread.join();
    m_console.set_block({});
}

void ProgressDisplay::update(const core::LedgerEntry& entry) {
    const std::lock_guard lock(m_mutex);
    if (core::is_terminal(entry.state)) {
        m_rows.erase(entry.phase);
        draw_locked(); // at once: the phase's end is logged next, and its line must not linger below that
        return;
    }
    Row& row = m_rows[entry.phase];
    if (row.entry.run_id != entry.run_id) {
        row.samples.clear();
    }
    row.entry = entry;
    const steady_clock::time_point now = steady_clock::now();
    row.samples.push_back({now, entry.progress.items_done, entry.progress.requests});
    while (row.samples.size() > 2 && now - row.samples.front().at > k_rate_window) {
        row.samples.pop_front();
    }
}

std::string ProgressDisplay::render(const Row& row) {
    const core::Progress& p = row.entry.progress;
    double items_per_second = 0;
    double requests_per_second = 0;
    bool have_rate = false;
    if (row.samples.size() >= 2) {
        const Sample& first = row.samples.front();
        const Sample& last = row.samples.back();
        const double span = duration<double>(last.at - first.at).count();
        if (span >= 0.5) {
            items_per_second = static_cast<double>(last.items_done - first.items_done) / span;
            requests_per_second = static_cast<double>(last.requests - first.requests) / span;
            have_rate = true;
        }
    }
    const double share =
        p.items_total == 0 ? 0.0 : static_cast<double>(p.items_done) / static_cast<double>(p.items_total);
    const std::size_t filled = static_cast<std::size_t>(share * k_bar_width);
    const std::string bar =
        std::string(filled, '#') + std::string(k_bar_width - std::min(filled, k_bar_width), '.');
    std::string eta = "--";
    if (p.items_total > 0 && p.items_done >= p.items_total) {
        eta = "0s";
    } else if (have_rate && items_per_second > 0) {
        eta = core::duration_text(static_cast<double>(p.items_total - p.items_done) / items_per_second);
    }
    // In flight against the process's target, and the median answer time: a slow API shows here first.
    const std::string answer_time = p.requests == 0 ? "--" : std::to_string(p.answer_ms_p50) + " ms";
    char text[320];
    std::snprintf(
        text, sizeof text,
        "%-15s [%s] %5.1f%%  %llu/%llu items  %llu records  %s req/s  in flight %llu/%llu  answer %s  "
        "%llu retries  ETA %s",
        row.entry.phase.c_str(), bar.c_str(), share * 100,
        static_cast<unsigned long long>(p.items_done), static_cast<unsigned long long>(p.items_total),
        static_cast<unsigned long long>(p.records),
        have_rate ? std::to_string(static_cast<long long>(requests_per_second + 0.5)).c_str() : "--",
        static_cast<unsigned long long>(p.in_flight), static_cast<unsigned long long>(p.in_flight_target),
        answer_time.c_str(), static_cast<unsigned long long>(p.retries), eta.c_str());
    return text;
}

// Drawn under our lock so that a frame can never be older than the rows: the lock order is always ours,
// then the Console's (log lines take only the Console's).
void ProgressDisplay::draw_locked() {
    std::vector<std::string> lines;
    for (const auto& [phase, row] : m_rows) {
        lines.push_back(render(row));
    }
    m_console.set_block(std::move(lines));
}

void ProgressDisplay::loop() {
    std::unique_lock lock(m_mutex);
    while (!m_quit) {
        draw_locked();
        m_wake.wait_for(lock, m_interval, [this] { return m_quit; });
    }
}

} // namespace pipeline::app
