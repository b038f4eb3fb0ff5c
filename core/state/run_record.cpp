#include "core/state/run_record.hpp"

#include "core/state/stop_sentinel.hpp"
#include "core/util/time_util.hpp"

namespace pipeline::core {

namespace {
std::string now_text() { return format_utc(std::chrono::system_clock::now()); }
} // namespace

RunRecord::RunRecord(RunDir run_dir, const std::string& phase)
    : m_run_dir(std::move(run_dir)), m_ledger(m_run_dir), m_phase(phase) {
    m_entry.phase = phase;
}

void RunRecord::start(const RunStart& start) {
    m_entry = m_ledger.update(m_phase, [&](LedgerEntry& e) {
        clear_stop_request(m_run_dir, m_phase);
        e = LedgerEntry{};
        e.phase = m_phase;
        e.state = RunState::Running;
        e.run_id = start.run_id;
        e.date = start.date;
        e.pid = start.pid;
        e.pid_start_ticks = start.pid_start_ticks;
        e.started_at = start.started_at;
        e.updated_at = now_text();
        e.progress = start.progress;
        e.sink = start.sink;
        return true;
    });
}

void RunRecord::progress(const Progress& progress, const std::string& upstream_run_id) {
    m_entry.progress = progress;
    m_entry.upstream_run_id = upstream_run_id;
    const std::string run_id = m_entry.run_id;
    m_entry = m_ledger.update(m_phase, [&](LedgerEntry& e) {
        if (e.run_id != run_id) {
            return false;
        }
        e.progress = progress;
        e.upstream_run_id = upstream_run_id;
        e.updated_at = now_text();
        return true;
    });
}

void RunRecord::finish(RunState state, const Progress& progress, const std::optional<std::string>& error,
                       StopReason stop_reason) {
    m_entry.state = state;
    m_entry.stop_reason = state == RunState::Stopped ? stop_reason : StopReason::None;
    m_entry.progress = progress;
    m_entry.error = error;
    m_entry.updated_at = m_entry.finished_at = now_text();
    const LedgerEntry finished = m_entry;
    m_entry = m_ledger.update(m_phase, [&](LedgerEntry& e) {
        if (e.run_id != finished.run_id) {
            return false;
        }
        clear_stop_request(m_run_dir, m_phase, finished.run_id);
        e.state = finished.state;
        e.progress = finished.progress;
        e.error = finished.error;
        e.stop_reason = finished.stop_reason;
        e.updated_at = finished.updated_at;
        e.finished_at = finished.finished_at;
        return true;
    });
}

} // namespace pipeline::core
