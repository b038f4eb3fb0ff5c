#include "core/state/checkpoint.hpp"

#include <functional>

#include <nlohmann/json.hpp>

#include "core/util/atomic_file.hpp"
#include "core/util/error.hpp"
#include "core/util/process.hpp"

namespace pipeline::core {

using nlohmann::json;

void DoneSet::add(std::size_t item) {
    if (item >= m_done.size()) {
        m_done.resize(item + 1, false);
    }
    if (!m_done[item]) {
        m_done[item] = true;
        ++m_count;
    }
}

std::vector<std::pair<std::size_t, std::size_t>> DoneSet::ranges() const {
    std::vector<std::pair<std::size_t, std::size_t>> result;
    for (std::size_t i = 0; i < m_done.size(); ++i) {
        if (!m_done[i]) {
            continue;
        }
        if (!result.empty() && result.back().second + 1 == i) {
            result.back().second = i;
        } else {
            result.emplace_back(i, i);
        }
    }
    return result;
}

std::filesystem::path checkpoint_path(const RunDir& run_dir, const std::string& date, Phase phase,
                                      const std::string& run_id) {
    return run_dir.checkpoints() / (date + "." + std::string(phase_name(phase)) + "." + run_id + ".json");
}

std::vector<CheckpointFile> list_checkpoints(const RunDir& run_dir, std::optional<Phase> phase,
                                             const std::string& date) {
    std::vector<CheckpointFile> files;
    std::error_code ec;
    for (const auto& file : std::filesystem::directory_iterator(run_dir.checkpoints(), ec)) {
        // <date>.<PHASE>.<run_id>.json; run ids hold no '.', so the name splits unambiguously.
        const std::string name = file.path().filename().string();
        if (!name.ends_with(".json") || is_temporary_name(name)) {
            continue;
        }
        const std::size_t first = name.find('.');
        const std::size_t second = first == std::string::npos ? first : name.find('.', first + 1);
        if (second == std::string::npos) {
            continue;
        }
        const std::optional<Phase> named = parse_phase(name.substr(first + 1, second - first - 1));
        CheckpointFile entry{name.substr(0, first), named.value_or(Phase::RankingFetch),
                             name.substr(second + 1, name.size() - second - 1 - 5), file.path()};
        if (!named || (phase && *named != *phase) || (!date.empty() && entry.date != date)) {
            continue;
        }
        files.push_back(std::move(entry));
    }
    return files;
}

void save_checkpoint(const RunDir& run_dir, const Checkpoint& c) {
    json chunks = json::array();
    for (const ChunkEntry& chunk : c.chunks) {
        chunks.push_back(chunk_entry_to_json(chunk));
    }
    json rejects = json::array();
    for (const RejectedItem& r : c.rejects) {
        rejects.push_back(
            {{"item", r.index}, {"key", r.key}, {"status", r.status}, {"error", r.error}, {"message", r.message}});
    }
    json done = json::array();
    for (const auto& [first, last] : c.done.ranges()) {
        done.push_back({first, last});
    }
    const json j{{"phase", phase_name(c.phase)},
                 {"date", c.date},
                 {"run_id", c.run_id},
                 {"state", state_name(c.state)},
                 {"started_at", c.started_at},
                 {"pid", c.pid},
                 {"pid_start_ticks", c.pid_start_ticks},
                 {"compression", compression_name(c.compression)},
                 {"upstream_run_id", c.upstream_run_id},
                 {"items_total", c.done.size()},
                 {"done", done},
                 {"chunks", chunks},
                 {"rejects", rejects},
                 {"records", c.records},
                 {"counters", progress_to_json(c.counters)},
                 {"error", c.error ? json(*c.error) : json(nullptr)}};
    write_file_atomically(checkpoint_path(run_dir, c.date, c.phase, c.run_id), j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n");
}

Checkpoint load_checkpoint(const std::filesystem::path& path) {
    const json j = json::parse(read_file(path), nullptr, false);
    try {
        Checkpoint c;
        c.phase = parse_phase(j.at("phase").get<std::string>()).value();
        c.date = j.at("date").get<std::string>();
        c.run_id = j.at("run_id").get<std::string>();
        c.state = parse_state(j.at("state").get<std::string>()).value();
        c.started_at = j.at("started_at").get<std::string>();
        c.pid = j.at("pid").get<pid_t>();
        c.pid_start_ticks = j.at("pid_start_ticks").get<std::uint64_t>();
        const std::string compression = j.at("compression").get<std::string>();
        c.compression = parse_compression(compression).value(); // unknown: malformed, never silently gzip
        c.upstream_run_id = j.at("upstream_run_id").get<std::string>();
        c.done.resize(j.at("items_total").get<std::size_t>());
        for (const json& range : j.at("done")) {
            for (std::size_t i = range.at(0).get<std::size_t>(); i <= range.at(1).get<std::size_t>(); ++i) {
                c.done.add(i);
            }
        }
        for (const json& chunk : j.at("chunks")) {
            c.chunks.push_back(chunk_entry_from_json(chunk));
        }
        for (const json& r : j.at("rejects")) {
            c.rejects.push_back({r.at("item").get<std::size_t>(), r.at("key").get<std::string>(),
                                 r.at("status").get<long>(), r.at("error").get<std::string>(),
                                 r.at("message").get<std::string>()});
        }
        c.records = j.at("records").get<std::uint64_t>();
        if (const auto counters = j.find("counters"); counters != j.end() && counters->is_object()) {
            c.counters = progress_from_json(*counters);
        }
        if (j.contains("error") && j["error"].is_string()) {
            c.error = j["error"].get<std::string>();
        }
        return c;
    } catch (const std::exception& e) {
        throw Error(ExitCode::Failed, path.string() + ": unreadable checkpoint: " + e.what());
    }
}

namespace {
// The newest checkpoint of phase/date for which `wanted` holds.
std::optional<Checkpoint> find_newest(const RunDir& run_dir, Phase phase, const std::string& date,
                                      const std::function<bool(const Checkpoint&)>& wanted) {
    std::optional<Checkpoint> newest;
    for (const CheckpointFile& file : list_checkpoints(run_dir, phase, date)) {
        Checkpoint c = load_checkpoint(file.path);
        if (wanted(c) && (!newest || std::tie(c.started_at, c.run_id) > std::tie(newest->started_at, newest->run_id))) {
            newest = std::move(c);
        }
    }
    return newest;
}
} // namespace

std::optional<Checkpoint> find_latest(const RunDir& run_dir, Phase phase, const std::string& date) {
    return find_newest(run_dir, phase, date, [](const Checkpoint&) { return true; });
}

std::optional<Checkpoint> find_resumable(const RunDir& run_dir, Phase phase, const std::string& date) {
    return find_newest(run_dir, phase, date, [](const Checkpoint& c) {
        const bool dead_running = c.state == RunState::Running && !process_is_alive(c.pid, c.pid_start_ticks);
        return c.state == RunState::Stopped || c.state == RunState::Failed || dead_running;
    });
}

} // namespace pipeline::core
