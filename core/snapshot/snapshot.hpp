#pragma once
// The snapshot layout of docs/contract.md §6: <date>/<PHASE>/<run_id>/part-NNNNN.jsonl.gz, _rejects.jsonl, _manifest.json.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/api/run_state.hpp"
#include "core/config/config.hpp"
#include "core/snapshot/sink.hpp"
#include "core/util/stop_reason.hpp"

namespace pipeline::core {

/// One published chunk as the manifest lists it.
struct ChunkEntry {
    std::string name;
    std::uint64_t records = 0;
    std::uint64_t bytes = 0;
    std::string sha256;
};

/// An item the API refused for good: a line of _rejects.jsonl.
struct RejectedItem {
    std::size_t index = 0; ///< its position in the phase's item list
    std::string key;       ///< the item as ItemList::describe gives it, or the unusable upstream record
    long status = 0;       ///< the HTTP status of the refusal; 0: an unusable upstream record
    std::string error;
    std::string message;
};

/// The contents of _manifest.json.
struct Manifest {
    std::string phase;
    std::string date;
    std::string run_id;
    RunState state = RunState::Running;
    StopReason stop_reason = StopReason::None; ///< why it ended STOPPED ("stop_reason", null otherwise)
    std::uint64_t records = 0;
    std::vector<ChunkEntry> chunks;
    std::uint64_t rejected = 0;
    std::uint64_t reused = 0; ///< items copied from an earlier date's snapshot (reuse_days)
    std::string started_at;
    std::string finished_at;
    std::string upstream_phase; ///< empty: none
    std::string upstream_run_id;
};

/// "<date>/<PHASE>/<run_id>/": the folder (key prefix) of one run's snapshot.
std::string run_prefix(const std::string& date, const std::string& phase, const std::string& run_id);

/// "part-00001.jsonl.gz" for index 1.
std::string chunk_name(std::size_t index, Compression compression);

/// True for "part-*" chunk names.
bool is_chunk_name(std::string_view file_name);

inline constexpr std::string_view k_manifest_name = "_manifest.json";
inline constexpr std::string_view k_rejects_name = "_rejects.jsonl";

class JsonFields;

/// True for the chunk names pipeline publishes: "part-" 5 to 9 digits ".jsonl", ".jsonl.gz" or ".jsonl.zst".
bool is_published_chunk_name(std::string_view file_name);

/// A chunk's manifest (and checkpoint) entry: {"name", "records", "bytes", "sha256"}, and back. Reading
/// throws core::Error naming the file and field when a type is wrong, the name is not a chunk name or sha256
/// is not 64 hex digits.
nlohmann::json chunk_entry_to_json(const ChunkEntry& chunk);
ChunkEntry chunk_entry_from_json(const JsonFields& fields);

/// The contents of _rejects.jsonl: {"item": key, "status", "error", "message"} per line; "status" is the
/// HTTP status, or "unusable" for an upstream record the phase could not make an item of.
std::string rejects_to_jsonl(const std::vector<RejectedItem>& rejects);

/// Converts a manifest to its JSON object.
nlohmann::json manifest_to_json(const Manifest& manifest);
/// Parses a manifest; throws core::Error naming `where` and the field when it is malformed (wrong types, a
/// run id, date or chunk name not of the form pipeline writes).
Manifest manifest_from_json(const nlohmann::json& json, const std::string& where);

/// The newest COMPLETED snapshot of `phase` for `date` (by finished_at); nullopt when there is none.
/// Unreadable manifests are skipped with a warning when a good snapshot exists; with none, the first one's
/// error is thrown (core::Error naming it).
std::optional<Manifest> newest_completed(Sink& sink, const std::string& phase, const std::string& date);

/// The manifest of one run, if published. Throws core::Error when `run_id` is not a run id, or the manifest
/// is malformed or describes another run than its folder.
std::optional<Manifest> read_manifest(Sink& sink, const std::string& phase, const std::string& date, const std::string& run_id);

/// Reads every record (one JSON text per line) of a snapshot in chunk order, checking each chunk's size and
/// SHA-256 against the manifest. Throws core::Error naming the chunk when it is missing or corrupt.
void for_each_record(Sink& sink, const Manifest& manifest, const std::function<void(std::string_view)>& visit);

} // namespace pipeline::core
