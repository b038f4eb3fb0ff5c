#include "core/state/checkpoint.hpp"

#include <algorithm>
#include <functional>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/util/atomic_file.hpp"
#include "core/util/error.hpp"
#include "core/util/json_fields.hpp"
#include "core/util/process.hpp"
#include "core/util/run_id.hpp"
#include "core/util/text.hpp"
#include "core/util/time_util.hpp"

namespace pipeline::core {

using nlohmann::json;

void DoneSet::add(std::size_t item) {
    if (item >= m_done.size()) {
        m_done.resize(item + 1, false);
    }
    if (!m_done[item]) {
        m_done[item] = true;
        ++m_count;
        m_end = std::max(m_end, item + 1);
        while (m_prefix < m_done.size() && m_done[m_prefix]) {
            ++m_prefix;
        }
    }
}

std::vector<std::pair<std::size_t, std::size_t>> DoneSet::ranges() const {
    std::vector<std::pair<std::size_t, std::size_t>> result;
    if (m_prefix > 0) {
        result.emplace_back(0, m_prefix - 1);
    }
    for (std::size_t i = m_prefix; i < m_end; ++i) {
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

std::filesystem::path checkpoint_path(const RunDir& run_dir, const std::string& date, const std::string& phase,
                                      const std::string& run_id) {
    return run_dir.checkpoints() / (date + "." + phase + "." + run_id + ".json");
}

std::vector<CheckpointFile> list_checkpoints(const RunDir& run_dir, const std::string& phase,
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
        CheckpointFile entry{name.substr(0, first), name.substr(first + 1, second - first - 1),
                             name.substr(second + 1, name.size() - second - 1 - 5), file.path()};
        // A file whose name holds no phase name or run id of pipeline's form was not written by pipeline:
        // callers build paths from them, so it is never listed.
        if (!is_phase_name(entry.phase) || !is_run_id(entry.run_id) || (!phase.empty() && entry.phase != phase) ||
            (!date.empty() && entry.date != date)) {
            continue;
        }
        files.push_back(std::move(entry));
    }
    return files;
}

namespace {

// Appends `text` as a JSON string: chunk names and digests are plain ASCII and are copied as they are;
// anything else goes through nlohmann's serializer, which escapes it.
void append_json_string(std::string& out, const std::string& text) {
    const bool plain =
        std::ranges::all_of(text, [](char ch) { return ch >= 0x20 && ch < 0x7f && ch != '"' && ch != '\\'; });
    if (!plain) {
        out += json(text).dump(-1, ' ', false, json::error_handler_t::replace);
        return;
    }
    out += '"';
    out += text;
    out += '"';
}

// The chunk list grows by one entry a commit and is written again at every commit: it is appended as text,
// not built as a JSON tree, so that the thousandth commit of a run costs about what the first one does. The
// fields are those of chunk_entry_to_json (core/snapshot), which load_checkpoint reads back.
void append_chunks(std::string& out, const std::vector<ChunkEntry>& chunks) {
    out += '[';
    for (std::size_t i = 0; i < chunks.size(); ++i) {
        const ChunkEntry& chunk = chunks[i];
        out += i == 0 ? "{\"name\":" : ",{\"name\":";
        append_json_string(out, chunk.name);
        out += ",\"records\":" + std::to_string(chunk.records) + ",\"bytes\":" + std::to_string(chunk.bytes) +
               ",\"sha256\":";
        append_json_string(out, chunk.sha256);
        out += '}';
    }
    out += ']';
}

} // namespace

void save_checkpoint(const RunDir& run_dir, const Checkpoint& c) {
    json rejects = json::array();
    for (const RejectedItem& r : c.rejects) {
        rejects.push_back(
            {{"item", r.index}, {"key", r.key}, {"status", r.status}, {"error", r.error}, {"message", r.message}});
    }
    json done = json::array();
    for (const auto& [first, last] : c.done.ranges()) {
        done.push_back({first, last});
    }
    const json j{{"phase", c.phase},
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
                 {"rejects", rejects},
                 {"records", c.records},
                 {"counters", progress_to_json(c.counters)},
                 {"error", c.error ? json(*c.error) : json(nullptr)}};
    std::string text = j.dump(-1, ' ', false, json::error_handler_t::replace);
    text.pop_back(); // the object's closing brace: the chunk list goes in last
    text.reserve(text.size() + c.chunks.size() * 128 + 16);
    text += ",\"chunks\":";
    append_chunks(text, c.chunks);
    text += "}\n";
    write_file_atomically(checkpoint_path(run_dir, c.date, c.phase, c.run_id), text);
}

namespace {

// Inclusive [first, last] ranges, ascending and disjoint, inside [0, items_total): reading them costs at most
// items_total steps, whatever the file says.
void read_done_ranges(const JsonFields& j, std::size_t items_total, DoneSet& done) {
    const json& ranges = j.array("done");
    std::optional<std::size_t> previous_last;
    for (std::size_t i = 0; i < ranges.size(); ++i) {
        const json& range = ranges[i];
        const std::string field = "done[" + std::to_string(i) + "]";
        if (!range.is_array() || range.size() != 2 || !range[0].is_number_unsigned() ||
            !range[1].is_number_unsigned()) {
            j.fail(field, "expected [first, last] item numbers, got " + json_excerpt(range));
        }
        const std::uint64_t first = range[0].get<std::uint64_t>();
        const std::uint64_t last = range[1].get<std::uint64_t>();
        if (first > last || last >= items_total || (previous_last && first <= *previous_last)) {
            j.fail(field,
                   "range " + json_excerpt(range) + " is not ascending and inside 0.." +
                       (items_total == 0 ? std::string("(no items)") : std::to_string(items_total - 1)));
        }
        for (std::size_t item = first; item <= last; ++item) {
            done.add(item);
        }
        previous_last = last;
    }
}

} // namespace

Checkpoint load_checkpoint(const std::filesystem::path& path) {
    const json j = json::parse(read_file(path), nullptr, false);
    if (j.is_discarded()) {
        throw Error(ExitCode::Failed, path.string() + ": unreadable checkpoint: not valid JSON");
    }
    const JsonFields fields(j, path.string());
    Checkpoint c;
    c.phase = fields.string("phase", 64);
    if (!is_phase_name(c.phase)) {
        fields.fail("phase", "'" + escape_controls(c.phase) + "' is not a phase name");
    }
    c.date = fields.string("date", 64);
    if (!parse_date(c.date)) {
        fields.fail("date", "'" + escape_controls(c.date) + "' is not a date YYYY-MM-DD", ExitCode::Usage);
    }
    c.run_id = fields.run_id("run_id", true);
    // The file name is how runs are found: a file claiming another run than its name is refused.
    const std::filesystem::path expected =
        checkpoint_path(RunDir(path.parent_path()), c.date, c.phase, c.run_id);
    if (path.filename() != expected.filename()) {
        throw Error(ExitCode::Usage, path.string() + ": refused checkpoint: it describes " +
                                         expected.filename().string() + ", not the run its file name says");
    }
    const std::string state = fields.string("state", 32);
    const std::optional<RunState> parsed_state = parse_state(state);
    if (!parsed_state) {
        fields.fail("state", "unknown state '" + escape_controls(state) + "'");
    }
    c.state = *parsed_state;
    c.started_at = fields.string("started_at", 64);
    c.pid = static_cast<pid_t>(fields.uint("pid", k_max_pid));
    c.pid_start_ticks = fields.uint("pid_start_ticks");
    const std::string compression = fields.string("compression", 16);
    const std::optional<Compression> parsed_compression = parse_compression(compression);
    if (!parsed_compression) { // never silently gzip
        fields.fail("compression", "expected gzip, zstd or none, got '" + escape_controls(compression) + "'");
    }
    c.compression = *parsed_compression;
    c.upstream_run_id = fields.run_id("upstream_run_id", false);
    const std::size_t items_total = fields.uint("items_total", k_max_checkpoint_items);
    c.done.resize(items_total);
    read_done_ranges(fields, items_total, c.done);
    const json& chunks = fields.array("chunks");
    for (std::size_t i = 0; i < chunks.size(); ++i) {
        c.chunks.push_back(chunk_entry_from_json(fields.element("chunks", chunks[i], i)));
    }
    const json& rejects = fields.array("rejects");
    for (std::size_t i = 0; i < rejects.size(); ++i) {
        const JsonFields r = fields.element("rejects", rejects[i], i);
        RejectedItem item;
        item.index = r.uint("item", items_total == 0 ? 0 : items_total - 1);
        item.key = r.string("key");
        item.status = static_cast<long>(r.uint("status", 999));
        item.error = r.string("error");
        item.message = r.string("message", 65536);
        c.rejects.push_back(std::move(item));
    }
    c.records = fields.uint("records");
    if (const std::optional<JsonFields> counters = fields.optional_object("counters")) {
        c.counters = progress_from_json(*counters);
    }
    c.error = fields.optional_string("error");
    return c;
}

namespace {
// The newest checkpoint of phase/date for which `wanted` holds. An unreadable file is skipped with a warning
// when a good one is found (an old corrupt run must not block every later one); when none is, the first
// error is thrown, so that a resume never silently starts over.
std::optional<Checkpoint> find_newest(const RunDir& run_dir, const std::string& phase, const std::string& date,
                                      const std::function<bool(const Checkpoint&)>& wanted) {
    std::optional<Checkpoint> newest;
    std::vector<Error> problems;
    for (const CheckpointFile& file : list_checkpoints(run_dir, phase, date)) {
        std::optional<Checkpoint> loaded;
        try {
            loaded = load_checkpoint(file.path);
        } catch (const Error& e) {
            problems.push_back(e);
            continue;
        }
        Checkpoint& c = *loaded;
        if (wanted(c) && (!newest || std::tie(c.started_at, c.run_id) > std::tie(newest->started_at, newest->run_id))) {
            newest = std::move(c);
        }
    }
    if (!problems.empty()) {
        if (!newest) {
            throw problems.front();
        }
        for (const Error& problem : problems) {
            spdlog::warn("skipping checkpoint: {}", problem.what());
        }
    }
    return newest;
}
} // namespace

std::optional<Checkpoint> find_latest(const RunDir& run_dir, const std::string& phase, const std::string& date) {
    return find_newest(run_dir, phase, date, [](const Checkpoint&) { return true; });
}

std::optional<Checkpoint> find_resumable(const RunDir& run_dir, const std::string& phase, const std::string& date) {
    return find_newest(run_dir, phase, date, [](const Checkpoint& c) {
        const bool dead_running = c.state == RunState::Running && !process_is_alive(c.pid, c.pid_start_ticks);
        return c.state == RunState::Stopped || c.state == RunState::Failed || dead_running;
    });
}

} // namespace pipeline::core
