#include "core/snapshot/snapshot.hpp"

#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/snapshot/codec.hpp"
#include "core/util/error.hpp"

namespace pipeline::core {

using nlohmann::json;

std::string run_prefix(const std::string& date, Phase phase, const std::string& run_id) {
    return date + "/" + std::string(phase_name(phase)) + "/" + run_id + "/";
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

ChunkEntry chunk_entry_from_json(const json& c) {
    return {c.at("name").get<std::string>(), c.at("records").get<std::uint64_t>(), c.at("bytes").get<std::uint64_t>(),
            c.at("sha256").get<std::string>()};
}

std::string rejects_to_jsonl(const std::vector<RejectedItem>& rejects) {
    std::string lines;
    for (const RejectedItem& r : rejects) {
        lines += json{{"item", r.key}, {"status", r.status}, {"error", r.error}, {"message", r.message}}.dump(
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
    if (m.upstream_phase) {
        upstream = {{"phase", phase_name(*m.upstream_phase)}, {"run_id", m.upstream_run_id}};
    }
    return json{{"phase", phase_name(m.phase)},
                {"date", m.date},
                {"run_id", m.run_id},
                {"state", state_name(m.state)},
                {"records", m.records},
                {"chunks", chunks},
                {"rejected", m.rejected},
                {"started_at", m.started_at},
                {"finished_at", m.finished_at.empty() ? json(nullptr) : json(m.finished_at)},
                {"upstream", upstream}};
}

Manifest manifest_from_json(const json& j, const std::string& where) {
    try {
        Manifest m;
        const std::optional<Phase> phase = parse_phase(j.at("phase").get<std::string>());
        const std::optional<RunState> state = parse_state(j.at("state").get<std::string>());
        if (!phase || !state) {
            throw Error(ExitCode::Failed, where + ": unknown phase or state in manifest");
        }
        m.phase = *phase;
        m.state = *state;
        m.date = j.at("date").get<std::string>();
        m.run_id = j.at("run_id").get<std::string>();
        m.records = j.at("records").get<std::uint64_t>();
        m.rejected = j.value("rejected", std::uint64_t{0});
        m.started_at = j.value("started_at", "");
        if (j.contains("finished_at") && j["finished_at"].is_string()) {
            m.finished_at = j["finished_at"].get<std::string>();
        }
        for (const json& c : j.at("chunks")) {
            m.chunks.push_back(chunk_entry_from_json(c));
        }
        if (j.contains("upstream") && j["upstream"].is_object()) {
            m.upstream_phase = parse_phase(j["upstream"].value("phase", ""));
            m.upstream_run_id = j["upstream"].value("run_id", "");
        }
        return m;
    } catch (const json::exception& e) {
        throw Error(ExitCode::Failed, where + ": malformed manifest: " + e.what());
    }
}

std::optional<Manifest> read_manifest(Sink& sink, Phase phase, const std::string& date, const std::string& run_id) {
    const std::string key = run_prefix(date, phase, run_id) + std::string(k_manifest_name);
    const std::optional<std::string> text = sink.get(key);
    if (!text) {
        return std::nullopt;
    }
    const json j = json::parse(*text, nullptr, false);
    if (j.is_discarded()) {
        throw Error(ExitCode::Failed, sink.describe() + "/" + key + ": manifest is not valid JSON");
    }
    return manifest_from_json(j, sink.describe() + "/" + key);
}

std::optional<Manifest> newest_completed(Sink& sink, Phase phase, const std::string& date) {
    const std::string prefix = date + "/" + std::string(phase_name(phase)) + "/";
    std::optional<Manifest> newest;
    for (const std::string& key : sink.list(prefix)) {
        if (!key.ends_with("/" + std::string(k_manifest_name))) {
            continue;
        }
        const std::string run_id = key.substr(prefix.size(), key.size() - prefix.size() - k_manifest_name.size() - 1);
        std::optional<Manifest> manifest = read_manifest(sink, phase, date, run_id);
        if (manifest && manifest->state == RunState::Completed &&
            (!newest || std::tie(manifest->finished_at, manifest->run_id) >
                            std::tie(newest->finished_at, newest->run_id))) {
            newest = std::move(manifest);
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
