#include "core/snapshot/snapshot.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/snapshot/codec.hpp"
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

std::optional<Manifest> read_manifest(Sink& sink, const std::string& phase, const std::string& date, const std::string& run_id) {
    if (!is_run_id(run_id)) {
        throw Error(ExitCode::Usage, "refusing to read the manifest of run '" + escape_controls(run_id) +
                                         "': not a run id pipeline generates (" + std::string(k_run_id_form) +
                                         ")");
    }
    const std::string key = run_prefix(date, phase, run_id) + std::string(k_manifest_name);
    const std::string where = sink.describe() + "/" + key;
    const std::optional<std::string> text = sink.get(key);
    if (!text) {
        return std::nullopt;
    }
    const json j = json::parse(*text, nullptr, false);
    if (j.is_discarded()) {
        throw Error(ExitCode::Failed, where + ": manifest is not valid JSON");
    }
    Manifest manifest = manifest_from_json(j, where);
    if (manifest.phase != phase || manifest.date != date || manifest.run_id != run_id) {
        throw Error(ExitCode::Usage, where + ": refused manifest: it describes " +
                                         run_prefix(manifest.date, manifest.phase, manifest.run_id) +
                                         ", not the folder it is in");
    }
    return manifest;
}

std::optional<Manifest> newest_completed(Sink& sink, const std::string& phase, const std::string& date) {
    const std::string prefix = date + "/" + phase + "/";
    std::optional<Manifest> newest;
    std::vector<Error> problems;
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
        const std::string where = sink.describe() + "/" + prefix + chunk.name;
        const std::optional<std::string> data = sink.get(prefix + chunk.name);
        if (!data) {
            throw Error(ExitCode::Failed, where + ": chunk listed in the manifest is missing");
        }
        if (data->size() != chunk.bytes || sha256_hex(*data) != chunk.sha256) {
            throw Error(ExitCode::Failed, where + ": chunk does not match its manifest entry (size or sha256)");
        }
        const std::optional<Compression> compression = compression_of(chunk.name);
        const std::string text = decompress(compression.value_or(Compression::None), *data, where);
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
