#include "app/metrics_file.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/state/checkpoint.hpp"
#include "core/state/metrics.hpp"
#include "core/util/atomic_file.hpp"

namespace pipeline::app {

using namespace std::chrono;

namespace {

// The newest COMPLETED run of `phase` among the checkpoints, for when the ledger's latest run of the phase is
// not a success (a run in progress took its slot). Its checkpoint is last written as the run finishes, so the
// file's time is the finish time. Looks at the newest few runs only.
std::optional<std::int64_t> last_success_from_checkpoints(const core::RunDir& run_dir, const std::string& phase) {
    std::vector<std::pair<std::string, std::filesystem::path>> candidates; // run id, file
    for (const core::CheckpointFile& file : core::list_checkpoints(run_dir, phase)) {
        candidates.emplace_back(file.run_id, file.path);
    }
    std::ranges::sort(candidates, std::greater<>());
    constexpr std::size_t k_max_looked_at = 20;
    for (std::size_t i = 0; i < candidates.size() && i < k_max_looked_at; ++i) {
        try {
            if (core::load_checkpoint(candidates[i].second).state == core::RunState::Completed) {
                const auto written = std::filesystem::last_write_time(candidates[i].second);
                const system_clock::time_point system = file_clock::to_sys(written);
                return duration_cast<seconds>(system.time_since_epoch()).count();
            }
        } catch (const std::exception& e) {
            spdlog::debug("metrics: skipping checkpoint {}: {}", candidates[i].second.string(), e.what());
        }
    }
    return std::nullopt;
}

} // namespace

MetricsFile::MetricsFile(std::filesystem::path path, core::RunDir run_dir, const std::vector<core::PhaseDef>& phases,
                         milliseconds interval)
    : m_path(path.lexically_normal()), m_run_dir(std::move(run_dir)), m_interval(interval) {
    for (const core::PhaseDef& def : phases) {
        m_phases.push_back(def.name);
    }
    try {
        const core::LedgerEntries entries = core::Ledger(m_run_dir).read();
        for (const std::string& phase : m_phases) {
            const core::LedgerEntry entry = core::entry_of(entries, phase);
            std::optional<std::int64_t> success = core::completed_at_unix(entry);
            if (!success) {
                success = last_success_from_checkpoints(m_run_dir, entry.phase);
            }
            if (success) {
                m_last_success[entry.phase] = *success;
            }
        }
    } catch (const std::exception& e) {
        spdlog::warn("metrics: cannot read the ledger: {}", e.what());
    }
    write();
    m_thread = std::thread([this] { loop(); });
}

MetricsFile::~MetricsFile() {
    finish();
}

void MetricsFile::update(const core::LedgerEntry& entry) {
    const std::lock_guard lock(m_mutex);
    m_live[entry.phase] = entry;
    if (const std::optional<std::int64_t> success = core::completed_at_unix(entry)) {
        m_last_success[entry.phase] = *success;
    }
    if (core::is_terminal(entry.state)) {
        m_pending = true;
        m_wake.notify_all();
    }
}

void MetricsFile::finish() {
    {
        const std::lock_guard lock(m_mutex);
        if (m_quit) {
            return;
        }
        m_quit = true;
    }
    m_wake.notify_all();
    if (m_thread.joinable()) {
        m_thread.join();
    }
    write();
}

void MetricsFile::loop() {
    std::unique_lock lock(m_mutex);
    while (!m_quit) {
        m_wake.wait_for(lock, m_interval, [this] { return m_quit || m_pending; });
        if (m_quit) {
            break;
        }
        m_pending = false;
        lock.unlock();
        write();
        lock.lock();
    }
}

void MetricsFile::write() {
    const std::lock_guard write_lock(m_write_mutex);
    std::vector<core::PhaseMetrics> phases;
    try {
        // Other processes may be running the other phases: the ledger has their latest (at most a second
        // old).
        const core::LedgerEntries entries = core::Ledger(m_run_dir).read();
        // Only the snapshot is taken under the lock: the phases' progress callbacks wait on it, and the write
        // below fsyncs.
        const std::lock_guard lock(m_mutex);
        for (const std::string& phase : m_phases) {
            const core::LedgerEntry from_ledger = core::entry_of(entries, phase);
            core::PhaseMetrics metrics;
            const auto live = m_live.find(from_ledger.phase);
            // This process's own snapshot is fresher than the ledger, unless another run took the slot since.
            const bool use_live = live != m_live.end() && live->second.run_id == from_ledger.run_id;
            metrics.entry = use_live ? live->second : core::effective_entry(from_ledger);
            std::optional<std::int64_t> success = core::completed_at_unix(metrics.entry);
            if (const auto known = m_last_success.find(from_ledger.phase); known != m_last_success.end()) {
                success = std::max(success.value_or(0), known->second);
            }
            if (success) {
                m_last_success[from_ledger.phase] = *success;
            }
            metrics.last_success_unix = success;
            phases.push_back(std::move(metrics));
        }
    } catch (const std::exception& e) {
        failed(e.what());
        return;
    }
    try {
        core::write_file_atomically(m_path, core::render_metrics(phases, system_clock::now()));
        if (m_failing) {
            spdlog::info("metrics file {} written again", m_path.string());
            m_failing = false;
        }
    } catch (const std::exception& e) {
        failed(e.what());
    }
}

// Once per spell of failures: the same problem every 2 s would drown the log.
void MetricsFile::failed(const std::string& problem) {
    if (!m_failing) {
        spdlog::warn("metrics file not written (the harvest goes on): {}", problem);
        m_failing = true;
    }
}

} // namespace pipeline::app
