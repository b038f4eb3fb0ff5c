#include "core/state/ledger.hpp"

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/util/atomic_file.hpp"
#include "core/util/error.hpp"
#include "core/util/file_lock.hpp"
#include "core/util/json_fields.hpp"
#include "core/util/process.hpp"
#include "core/util/text.hpp"
#include "core/util/time_util.hpp"

namespace pipeline::core {

using nlohmann::json;

namespace {

json nullable(const std::string& text) { return text.empty() ? json(nullptr) : json(text); }

// Dates name folders and keys too.
std::string checked_date(const JsonFields& fields, std::string_view key) {
    std::string date = fields.string_or(std::string(key), "", 64);
    if (!date.empty() && !parse_date(date)) {
        fields.fail(key, "'" + escape_controls(date) + "' is not a date YYYY-MM-DD", ExitCode::Usage);
    }
    return date;
}

LedgerEntry entry_from_json(const std::string& phase, const JsonFields& j) {
    LedgerEntry e;
    e.phase = phase;
    const std::string state = j.string_or("state", "IDLE", 32);
    const std::optional<RunState> parsed = parse_state(state);
    if (!parsed) {
        j.fail("state", "unknown state '" + escape_controls(state) + "'");
    }
    e.state = *parsed;
    e.run_id = j.run_id("run_id", false);
    e.date = checked_date(j, "date");
    e.pid = static_cast<pid_t>(j.uint_or("pid", 0, k_max_pid));
    e.pid_start_ticks = j.uint_or("pid_start_ticks", 0);
    e.started_at = j.string_or("started_at", "", 64);
    e.updated_at = j.string_or("updated_at", "", 64);
    e.finished_at = j.string_or("finished_at", "", 64);
    e.stop_requested = j.boolean_or("stop_requested", false);
    if (const std::optional<std::string> reason = j.optional_string("stop_reason")) {
        e.stop_reason = parse_stop_reason(*reason).value_or(StopReason::None);
    }
    if (const std::optional<JsonFields> progress = j.optional_object("progress")) {
        e.progress = progress_from_json(*progress);
    }
    e.error = j.optional_string("error");
    e.upstream_run_id = j.run_id("upstream_run_id", false);
    e.sink = j.string_or("sink", "");
    return e;
}

LedgerEntries parse_ledger(const std::string& text, const std::filesystem::path& path) {
    LedgerEntries entries;
    const json root = json::parse(text, nullptr, false);
    if (root.is_discarded()) {
        throw Error(ExitCode::Failed,
                    path.string() + ": the ledger is not valid JSON (fix or remove the file)");
    }
    const JsonFields fields(root, path.string());
    const json& phases = fields.array("phases");
    for (std::size_t i = 0; i < phases.size(); ++i) {
        const JsonFields item = fields.element("phases", phases[i], i);
        const std::string name = item.string("phase", 64);
        if (!is_phase_name(name)) {
            item.fail("phase", "'" + escape_controls(name) + "' is not a phase name");
        }
        if (std::ranges::any_of(entries, [&](const LedgerEntry& e) { return e.phase == name; })) {
            item.fail("phase", "phase " + name + " is listed twice");
        }
        entries.push_back(entry_from_json(name, item));
    }
    return entries;
}

std::string serialise(const RunDir& run_dir, const LedgerEntries& entries) {
    json phases = json::array();
    for (const LedgerEntry& entry : entries) {
        phases.push_back(entry_to_json(entry));
    }
    return json{{"run_dir", run_dir.root().string()}, {"version", 1}, {"phases", phases}}.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

} // namespace

json progress_to_json(const Progress& p) {
    json by_class = json::object();
    for (const RetryClassInfo& info : k_retry_classes) {
        by_class[std::string(info.key)] = p.retries_by_class[static_cast<std::size_t>(info.retry_class)];
    }
    return json{{"items_done", p.items_done}, {"items_total", p.items_total}, {"records", p.records},
                {"chunks", p.chunks},         {"requests", p.requests},       {"retries", p.retries},
                {"rejected", p.rejected},     {"empty", p.empty},             {"reused", p.reused},
                {"retries_by_class", by_class}, {"in_flight", p.in_flight},
                {"in_flight_target", p.in_flight_target}, {"answer_ms_p50", p.answer_ms_p50}};
}

Progress progress_from_json(const JsonFields& j) {
    Progress p;
    p.items_done = j.uint_or("items_done", 0);
    p.items_total = j.uint_or("items_total", 0);
    p.records = j.uint_or("records", 0);
    p.chunks = j.uint_or("chunks", 0);
    p.requests = j.uint_or("requests", 0);
    p.retries = j.uint_or("retries", 0);
    p.rejected = j.uint_or("rejected", 0);
    p.empty = j.uint_or("empty", 0);
    p.reused = j.uint_or("reused", 0);
    p.in_flight = j.uint_or("in_flight", 0);
    p.in_flight_target = j.uint_or("in_flight_target", 0);
    p.answer_ms_p50 = j.uint_or("answer_ms_p50", 0);
    if (const std::optional<JsonFields> by_class = j.optional_object("retries_by_class")) {
        for (const RetryClassInfo& info : k_retry_classes) {
            p.retries_by_class[static_cast<std::size_t>(info.retry_class)] = by_class->uint_or(info.key, 0);
        }
    }
    return p;
}


json entry_to_json(const LedgerEntry& e) {
    return json{{"phase", e.phase},
                {"state", state_name(e.state)},
                {"run_id", nullable(e.run_id)},
                {"date", nullable(e.date)},
                {"pid", e.pid == 0 ? json(nullptr) : json(e.pid)},
                {"pid_start_ticks", e.pid_start_ticks},
                {"started_at", nullable(e.started_at)},
                {"updated_at", nullable(e.updated_at)},
                {"finished_at", nullable(e.finished_at)},
                {"stop_requested", e.stop_requested},
                {"stop_reason", e.state == RunState::Stopped && e.stop_reason != StopReason::None
                                    ? json(stop_reason_key(e.stop_reason))
                                    : json(nullptr)},
                {"progress", progress_to_json(e.progress)},
                {"error", e.error ? json(*e.error) : json(nullptr)},
                {"upstream_run_id", nullable(e.upstream_run_id)},
                {"sink", nullable(e.sink)}};
}

LedgerEntry effective_entry(const LedgerEntry& entry) {
    if (entry.state != RunState::Running || process_is_alive(entry.pid, entry.pid_start_ticks)) {
        return entry;
    }
    LedgerEntry dead = entry;
    dead.state = RunState::Failed;
    dead.error = "the worker process (pid " + std::to_string(entry.pid) +
                 ") is gone: it died without finishing (killed or crashed); resume with "
                 "'pipeline run " + entry.phase + " --resume'";
    return dead;
}

LedgerEntry entry_of(const LedgerEntries& entries, const std::string& phase) {
    const auto found = std::ranges::find(entries, phase, &LedgerEntry::phase);
    if (found != entries.end()) {
        return *found;
    }
    LedgerEntry idle;
    idle.phase = phase;
    return idle;
}

LedgerEntries Ledger::read() const {
    std::error_code ec;
    if (!std::filesystem::exists(m_run_dir.ledger(), ec)) {
        return parse_ledger(R"({"phases": []})", m_run_dir.ledger());
    }
    return parse_ledger(read_file(m_run_dir.ledger()), m_run_dir.ledger());
}

LedgerEntry Ledger::update(const std::string& phase, const std::function<bool(LedgerEntry&)>& change) {
    const FileLock lock = FileLock::acquire(m_run_dir.ledger_lock());
    LedgerEntries entries = read();
    auto found = std::ranges::find(entries, phase, &LedgerEntry::phase);
    if (found == entries.end()) {
        entries.push_back(entry_of(entries, phase));
        found = entries.end() - 1;
    }
    LedgerEntry& entry = *found;
    if (change(entry)) {
        write_file_atomically(m_run_dir.ledger(), serialise(m_run_dir, entries));
    }
    return entry;
}

} // namespace pipeline::core
