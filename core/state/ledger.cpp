#include "core/state/ledger.hpp"

#include <cerrno>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/util/atomic_file.hpp"
#include "core/util/error.hpp"
#include "core/util/file_lock.hpp"
#include "core/util/process.hpp"

namespace pipeline::core {

using nlohmann::json;

namespace {

json nullable(const std::string& text) { return text.empty() ? json(nullptr) : json(text); }

std::string string_or_empty(const json& j, const char* key) {
    const auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

LedgerEntry entry_from_json(Phase phase, const json& j) {
    LedgerEntry e;
    e.phase = phase;
    e.state = parse_state(j.value("state", "IDLE")).value_or(RunState::Idle);
    e.run_id = string_or_empty(j, "run_id");
    e.date = string_or_empty(j, "date");
    e.pid = j.value("pid", json(0)).is_number() ? j.value("pid", 0) : 0;
    e.pid_start_ticks = j.value("pid_start_ticks", std::uint64_t{0});
    e.started_at = string_or_empty(j, "started_at");
    e.updated_at = string_or_empty(j, "updated_at");
    e.finished_at = string_or_empty(j, "finished_at");
    e.stop_requested = j.value("stop_requested", false);
    if (const auto it = j.find("progress"); it != j.end() && it->is_object()) {
        e.progress = progress_from_json(*it);
    }
    if (const auto it = j.find("error"); it != j.end() && it->is_string()) {
        e.error = it->get<std::string>();
    }
    e.upstream_run_id = string_or_empty(j, "upstream_run_id");
    e.sink = string_or_empty(j, "sink");
    return e;
}

LedgerEntries parse_ledger(const std::string& text, const std::filesystem::path& path) {
    LedgerEntries entries;
    for (Phase phase : k_all_phases) {
        entries[static_cast<std::size_t>(phase)].phase = phase;
    }
    json root;
    try {
        root = json::parse(text);
    } catch (const json::exception& e) {
        throw Error(ExitCode::Failed, path.string() + ": the ledger is not valid JSON: " + e.what());
    }
    const auto phases = root.find("phases");
    if (!root.is_object() || phases == root.end() || !phases->is_array()) {
        throw Error(ExitCode::Failed, path.string() + ": the ledger has no 'phases' list");
    }
    for (const json& item : *phases) {
        const std::optional<Phase> phase = parse_phase(item.value("phase", ""));
        if (phase) {
            entries[static_cast<std::size_t>(*phase)] = entry_from_json(*phase, item);
        }
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
    for (const RetryClassField& field : k_retry_class_fields) {
        by_class[std::string(field.key)] = p.*field.count;
    }
    return json{{"items_done", p.items_done}, {"items_total", p.items_total}, {"records", p.records},
                {"chunks", p.chunks},         {"requests", p.requests},       {"retries", p.retries},
                {"rejected", p.rejected},     {"retries_by_class", by_class}};
}

Progress progress_from_json(const json& j) {
    Progress p;
    p.items_done = j.value("items_done", std::uint64_t{0});
    p.items_total = j.value("items_total", std::uint64_t{0});
    p.records = j.value("records", std::uint64_t{0});
    p.chunks = j.value("chunks", std::uint64_t{0});
    p.requests = j.value("requests", std::uint64_t{0});
    p.retries = j.value("retries", std::uint64_t{0});
    p.rejected = j.value("rejected", std::uint64_t{0});
    if (const auto by_class = j.find("retries_by_class"); by_class != j.end() && by_class->is_object()) {
        for (const RetryClassField& field : k_retry_class_fields) {
            p.*field.count = by_class->value(std::string(field.key), std::uint64_t{0});
        }
    }
    return p;
}

json entry_to_json(const LedgerEntry& e) {
    return json{{"phase", phase_name(e.phase)},
                {"state", state_name(e.state)},
                {"run_id", nullable(e.run_id)},
                {"date", nullable(e.date)},
                {"pid", e.pid == 0 ? json(nullptr) : json(e.pid)},
                {"pid_start_ticks", e.pid_start_ticks},
                {"started_at", nullable(e.started_at)},
                {"updated_at", nullable(e.updated_at)},
                {"finished_at", nullable(e.finished_at)},
                {"stop_requested", e.stop_requested},
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
                 "'pipeline run " + std::string(phase_name(entry.phase)) + " --resume'";
    return dead;
}

LedgerEntries Ledger::read() const {
    std::error_code ec;
    if (!std::filesystem::exists(m_run_dir.ledger(), ec)) {
        return parse_ledger(R"({"phases": []})", m_run_dir.ledger());
    }
    return parse_ledger(read_file(m_run_dir.ledger()), m_run_dir.ledger());
}

LedgerEntry Ledger::update(Phase phase, const std::function<bool(LedgerEntry&)>& change) {
    const FileLock lock = FileLock::acquire(m_run_dir.ledger_lock());
    LedgerEntries entries = read();
    LedgerEntry& entry = entries[static_cast<std::size_t>(phase)];
    if (change(entry)) {
        write_file_atomically(m_run_dir.ledger(), serialise(m_run_dir, entries));
    }
    return entry;
}

} // namespace pipeline::core
