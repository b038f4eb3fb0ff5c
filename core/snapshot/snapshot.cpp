#include "core/snapshot/snapshot.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/snapshot/codec.hpp"
#include "core/snapshot/part_reader.hpp"
#include "core/util/error.hpp"
#include "core/util/json_fields.hpp"
#include "core/util/run_id.hpp"
#include "core/util/text.hpp"
#include "core/util/time_util.hpp"

namespace pipeline::core {

using nlohmann::json;

std::string run_prefix(const std::string& date, const std::string& phase, const std::string& run_id) {
    return date + "/" + phase + "/" + run_id + "/";
}

std::string chunk_name(std::size_t index, Compression compression) {
    char number[16];
    std::snprintf(number, sizeof number, "%05zu", index);
    return "part-" + std::string(number) + std::string(compression_extension(compression));
}

bool is_chunk_name(std::string_view file_name) { return file_name.starts_with("part-"); }

json chunk_entry_to_json(const ChunkEntry& c) {
    return {{"name", c.name}, {"records", c.records}, {"bytes", c.bytes}, {"sha256", c.sha256}};
}

std::string rejects_to_jsonl(const std::vector<RejectedItem>& rejects) {
    std::string lines;
    for (const RejectedItem& r : rejects) {
        lines += json{{"item", r.key}, {"status", r.status == 0 ? json("unusable") : json(r.status)}, {"error", r.error}, {"message", r.message}}.dump(
                     -1, ' ', false, json::error_handler_t::replace) +
                 "\n";
    }
    return lines;
}

json manifest_to_json(const Manifest& m) {
    json chunks = json::array();
    for (const ChunkEntry& c : m.chunks) {
        chunks.push_back(chunk_entry_to_json(c));
    }
    json upstream = nullptr;
    if (!m.upstream_phase.empty()) {
        upstream = {{"phase", m.upstream_phase}, {"run_id", m.upstream_run_id}};
    }
    return json{{"phase", m.phase},
                {"date", m.date},
                {"run_id", m.run_id},
                {"state", state_name(m.state)},
                {"stop_reason", m.state == RunState::Stopped && m.stop_reason != StopReason::None
                                    ? json(stop_reason_key(m.stop_reason))
                                    : json(nullptr)},
                {"records", m.records},
                {"chunks", chunks},
                {"rejected", m.rejected},
                {"reused", m.reused},
                {"started_at", m.started_at},
                {"finished_at", m.finished_at.empty() ? json(nullptr) : json(m.finished_at)},
                {"upstream", upstream}};
}

bool is_published_chunk_name(std::string_view name) {
    if (!name.starts_with("part-")) {
        return false;
    }
    std::size_t digits = 0;
    while (5 + digits < name.size() && name[5 + digits] >= '0' && name[5 + digits] <= '9') {
        ++digits;
    }
    const std::string_view extension = name.substr(5 + digits);
    return digits >= 5 && digits <= 9 &&
           (extension == ".jsonl" || extension == ".jsonl.gz" || extension == ".jsonl.zst");
}

ChunkEntry chunk_entry_from_json(const JsonFields& j) {
    ChunkEntry chunk;
    chunk.name = j.string("name", 64);
    if (!is_published_chunk_name(chunk.name)) {
        j.fail("name",
               "'" + escape_controls(chunk.name) + "' is not a chunk name (part-NNNNN.jsonl[.gz|.zst])");
    }
    chunk.records = j.uint("records");
    chunk.bytes = j.uint("bytes");
    chunk.sha256 = j.string("sha256", 64);
    if (chunk.sha256.size() != 64 ||
        chunk.sha256.find_first_not_of("0123456789abcdef") != std::string::npos) {
        j.fail("sha256", "expected 64 lower-case hex digits, got '" + escape_controls(chunk.sha256) + "'");
    }
    return chunk;
}

Manifest manifest_from_json(const json& j, const std::string& where) {
    const JsonFields fields(j, where);
    Manifest m;
    m.phase = fields.string("phase", 64);
    const std::string state = fields.string("state", 32);
    const std::optional<RunState> parsed_state = parse_state(state);
    if (!is_phase_name(m.phase)) {
        fields.fail("phase", "'" + escape_controls(m.phase) + "' is not a phase name");
    }
    if (!parsed_state) {
        fields.fail("state", "unknown state '" + escape_controls(state) + "'");
    }
    m.state = *parsed_state;
    m.date = fields.string("date", 64);
    if (!parse_date(m.date)) {
        fields.fail("date", "'" + escape_controls(m.date) + "' is not a date YYYY-MM-DD", ExitCode::Usage);
    }
    m.run_id = fields.run_id("run_id", true);
    m.records = fields.uint("records");
    m.rejected = fields.uint_or("rejected", 0);
    m.reused = fields.uint_or("reused", 0);
    if (const std::optional<std::string> reason = fields.optional_string("stop_reason")) {
        m.stop_reason = parse_stop_reason(*reason).value_or(StopReason::None);
    }
    m.started_at = fields.string_or("started_at", "", 64);
    m.finished_at = fields.string_or("finished_at", "", 64);
    const json& chunks = fields.array("chunks");
    for (std::size_t i = 0; i < chunks.size(); ++i) {
        m.chunks.push_back(chunk_entry_from_json(fields.element("chunks", chunks[i], i)));
    }
    if (const std::optional<JsonFields> upstream = fields.optional_object("upstream")) {
        m.upstream_phase = upstream->string_or("phase", "", 64);
        if (!m.upstream_phase.empty() && !is_phase_name(m.upstream_phase)) {
            upstream->fail("phase", "'" + escape_controls(m.upstream_phase) + "' is not a phase name");
        }
        m.upstream_run_id = upstream->run_id("run_id", false);
    }
    return m;
}

namespace {

// The manifest stored at `key`, parsed and validated (manifest_from_json); nullopt when there is none. Text that
// is not JSON is an error naming the key and saying `not_json`.
std::optional<Manifest> load_manifest(Sink& sink, const std::string& key, const std::string& not_json) {
    const std::string where = sink.describe() + "/" + key;
    const std::optional<std::string> text = sink.get(key);
    if (!text) {
        return std::nullopt;
    }
    const json j = json::parse(*text, nullptr, false);
    if (j.is_discarded()) {
        throw Error(ExitCode::Failed, where + ": " + not_json);
    }
    return manifest_from_json(j, where);
}

} // namespace

std::optional<Manifest> read_manifest(Sink& sink, const std::string& phase, const std::string& date, const std::string& run_id) {
    if (!is_run_id(run_id)) {
        throw Error(ExitCode::Usage, "refusing to read the manifest of run '" + escape_controls(run_id) +
                                         "': not a run id pipeline generates (" + std::string(k_run_id_form) +
                                         ")");
    }
    const std::string key = run_prefix(date, phase, run_id) + std::string(k_manifest_name);
    const std::string where = sink.describe() + "/" + key;
    std::optional<Manifest> stored = load_manifest(sink, key, "manifest is not valid JSON");
    if (!stored) {
        return std::nullopt;
    }
    Manifest& manifest = *stored;
    if (manifest.phase != phase || manifest.date != date || manifest.run_id != run_id) {
        throw Error(ExitCode::Usage, where + ": refused manifest: it describes " +
                                         run_prefix(manifest.date, manifest.phase, manifest.run_id) +
                                         ", not the folder it is in");
    }
    return manifest;
}

std::string current_key(const std::string& date, const std::string& phase) {
    return date + "/" + phase + "/" + std::string(k_current_name);
}

std::string manifest_text(const Manifest& manifest) {
    return manifest_to_json(manifest).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

void publish_manifest(Sink& sink, const Manifest& manifest) {
    const std::string manifest_key =
        run_prefix(manifest.date, manifest.phase, manifest.run_id) + std::string(k_manifest_name);
    const std::string text = manifest_text(manifest);
    sink.put(manifest_key, text);
    if (manifest.state != RunState::Completed) {
        return; // readers stay on the last run that completed
    }
    try {
        sink.put(current_key(manifest.date, manifest.phase), text);
    } catch (const Error&) {
        // The run ends FAILED (the caller records it): its manifest must not say COMPLETED.
        Manifest failed = manifest;
        failed.state = RunState::Failed;
        try {
            sink.put(manifest_key, manifest_text(failed));
        } catch (const Error& again) {
            spdlog::warn("{}", again.what());
        }
        throw;
    }
}

std::optional<Manifest> read_current(Sink& sink, const std::string& phase, const std::string& date) {
    const std::string key = current_key(date, phase);
    const std::string where = sink.describe() + "/" + key;
    std::optional<Manifest> stored = load_manifest(sink, key, "not valid JSON");
    if (!stored) {
        return std::nullopt;
    }
    Manifest& manifest = *stored;
    if (manifest.phase != phase || manifest.date != date) {
        throw Error(ExitCode::Failed, where + ": describes " + manifest.date + "/" + manifest.phase +
                                          ", not the folder it is in");
    }
    if (manifest.state != RunState::Completed) {
        throw Error(ExitCode::Failed, where + ": names run " + manifest.run_id + " in state " +
                                          std::string(state_name(manifest.state)) + ", not COMPLETED");
    }
    return manifest;
}

namespace {

// The newest COMPLETED manifest of the runs in the phase's folder; unreadable ones go to `problems`.
std::optional<Manifest> scan_completed(Sink& sink, const std::string& phase, const std::string& date,
                                       std::vector<Error>& problems) {
    const std::string prefix = date + "/" + phase + "/";
    std::optional<Manifest> newest;
    for (const std::string& key : sink.list(prefix)) {
        if (!key.ends_with("/" + std::string(k_manifest_name))) {
            continue;
        }
        const std::string run_id = key.substr(prefix.size(), key.size() - prefix.size() - k_manifest_name.size() - 1);
        std::optional<Manifest> manifest;
        try {
            manifest = read_manifest(sink, phase, date, run_id);
        } catch (const Error& e) {
            problems.push_back(e);
            continue;
        }
        if (manifest && manifest->state == RunState::Completed &&
            (!newest || std::tie(manifest->finished_at, manifest->run_id) >
                            std::tie(newest->finished_at, newest->run_id))) {
            newest = std::move(manifest);
        }
    }
    return newest;
}

} // namespace

std::optional<Manifest> newest_completed_manifest(Sink& sink, const std::string& phase,
                                                  const std::string& date) {
    std::vector<Error> problems;
    return scan_completed(sink, phase, date, problems);
}

std::optional<Manifest> newest_completed(Sink& sink, const std::string& phase, const std::string& date) {
    // _current.json is what every reader goes by (cat, the next phase): one GET, and the same run for all.
    if (std::optional<Manifest> current = read_current(sink, phase, date)) {
        return current;
    }
    std::vector<Error> problems;
    std::optional<Manifest> newest = scan_completed(sink, phase, date, problems);
    // An unreadable old manifest must not block every downstream phase when a good snapshot exists; with
    // none, its error says more than "no snapshot".
    if (!problems.empty()) {
        if (!newest) {
            throw problems.front();
        }
        for (const Error& problem : problems) {
            spdlog::warn("skipping snapshot: {}", problem.what());
        }
    }
    return newest;
}

void for_each_record(Sink& sink, const Manifest& manifest, const std::function<void(std::string_view)>& visit) {
    const std::string prefix = run_prefix(manifest.date, manifest.phase, manifest.run_id);
    for (const ChunkEntry& chunk : manifest.chunks) {
        // The records of a chunk are visited only once its bytes are known to be the manifest's: the text is
        // gathered first (one chunk's worth: chunk.records lines).
        std::string text;
        const PartRead read = read_part(sink, prefix + chunk.name, chunk, [&text](std::string_view piece) {
            text += piece;
        });
        if (read.problem) {
            throw Error(ExitCode::Failed, sink.describe() + "/" + prefix + chunk.name + ": " + *read.problem);
        }
        std::size_t start = 0;
        while (start < text.size()) {
            std::size_t end = text.find('\n', start);
            if (end == std::string::npos) {
                end = text.size();
            }
            if (end > start) {
                visit(std::string_view(text).substr(start, end - start));
            }
            start = end + 1;
        }
    }
}

} // namespace pipeline::core
