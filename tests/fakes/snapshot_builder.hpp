#pragma once
// Publishes a snapshot (chunks, then the manifest) into a sink, as a finished phase run would have.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/config/phase_def.hpp"
#include "core/snapshot/chunk_writer.hpp"
#include "core/snapshot/snapshot.hpp"

namespace pipeline::tests {

/// What to publish; chunks hold one record (a JSON text) per string.
struct SnapshotSpec {
    std::string phase = "RANKING_FETCH";
    /// The manifest's upstream phase; nullopt: the upstream the built-in phase of that name has (none for
    /// a phase that is not built in).
    std::optional<std::string> upstream_phase;
    std::string date = "2026-11-22";
    std::string run_id = "20261123T010000Z-000001";
    core::RunState state = core::RunState::Completed;
    std::string finished_at = "2026-11-23T01:10:00Z";
    core::Compression compression = core::Compression::Gzip;
    std::vector<std::vector<std::string>> chunks;
};

/// Writes the chunks through a ChunkWriter and the manifest last; returns the manifest.
inline core::Manifest publish_snapshot(core::Sink& sink, const SnapshotSpec& spec) {
    const std::string prefix = core::run_prefix(spec.date, spec.phase, spec.run_id);
    core::ChunkWriter writer(sink, prefix, spec.compression, 1);
    core::Manifest manifest;
    manifest.phase = spec.phase;
    manifest.date = spec.date;
    manifest.run_id = spec.run_id;
    manifest.state = spec.state;
    manifest.started_at = "2026-11-23T01:00:00Z";
    manifest.finished_at = spec.finished_at;
    if (spec.upstream_phase) {
        manifest.upstream_phase = *spec.upstream_phase;
    } else {
        const std::vector<core::PhaseDef> builtin = core::builtin_phases(5);
        const core::PhaseDef* def = core::find_phase(builtin, spec.phase);
        manifest.upstream_phase = def == nullptr ? std::string() : def->upstream;
    }
    for (const std::vector<std::string>& chunk : spec.chunks) {
        for (const std::string& record : chunk) {
            writer.add(record);
        }
        if (std::optional<core::ChunkEntry> entry = writer.commit()) {
            manifest.records += entry->records;
            manifest.chunks.push_back(*entry);
        }
    }
    sink.put(prefix + std::string(core::k_manifest_name), core::manifest_to_json(manifest).dump(2));
    return manifest;
}

/// A ranking entry with the API's fields in the API's order.
inline std::string ranking_record(int rank, const std::string& name) {
    nlohmann::ordered_json entry;
    entry["date"] = "2026-11-22";
    entry["ranking"] = rank;
    entry["character_name"] = name;
    entry["character_level"] = 290 - rank % 10;
    entry["character_exp"] = 1000000 * rank;
    entry["class_name"] = "마법사";
    entry["sub_class_name"] = "비숍";
    entry["world_name"] = "스카니아";
    entry["character_popularity"] = rank * 3;
    entry["character_guildname"] = nullptr;
    return entry.dump();
}

/// A 32-hex ocid derived from a name.
inline std::string ocid_for(const std::string& name) {
    static constexpr char k_hex[] = "0123456789abcdef";
    std::string ocid;
    std::size_t h = std::hash<std::string>{}(name);
    for (int i = 0; i < 32; ++i) {
        ocid.push_back(k_hex[(h >> ((i % 16) * 4)) & 15]);
        if (i % 16 == 15) {
            h = std::hash<std::string>{}(name + ocid);
        }
    }
    return ocid;
}

/// An OCID_LOOKUP record: the name and its ocid_for.
inline std::string ocid_record(const std::string& name) {
    return nlohmann::json{{"character_name", name}, {"ocid", ocid_for(name)}}.dump();
}

} // namespace pipeline::tests
