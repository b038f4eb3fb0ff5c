#pragma once
// `pipeline verify`: re-reads a date's snapshots and checks them against their manifests (the checks are listed
// in docs/contract.md §2).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/api/run_state.hpp"
#include "core/snapshot/snapshot.hpp"
#include "core/snapshot/sink.hpp"

namespace pipeline::core {

/// The verdict on one phase.
enum class VerifyStatus { Ok, Bad, Missing };

/// What verify found for one phase: OK with counts, BAD naming the first bad file and why, or MISSING.
struct VerifyResult {
    std::string phase;
    VerifyStatus status = VerifyStatus::Missing;
    std::string run_id;   ///< the newest run of the phase and date (empty when MISSING)
    std::string state;    ///< the manifest's state, when it could be read
    std::uint64_t records = 0;
    std::uint64_t chunks = 0;
    std::string file;     ///< BAD: the file at fault ("part-00002.jsonl.gz", "_manifest.json")
    std::string reason;   ///< BAD: what is wrong with it
};

/// What reading one part against its manifest entry found.
struct PartCheck {
    std::uint64_t bytes = 0;
    std::string sha256;
    std::uint64_t lines = 0;
    std::optional<std::string> problem; ///< the first problem, worded for a BAD line; nullopt when sound
};

/// Streams one part once: counts and hashes its bytes, decompresses it as its name says, and checks that
/// every line is a JSON object; compares all of it with `entry`. Returns problem == nullopt when the part
/// is sound. Throws core::Error only when the sink itself fails.
PartCheck check_part(Sink& sink, const std::string& key, const ChunkEntry& entry);

/// Checks the newest run (by run id) of `phase` for `date`: its manifest exists and parses, every listed
/// part is sound, no unlisted part-* file exists once the run is finished, and the manifest's total matches
/// its chunks. Throws core::Error only when the sink itself fails.
VerifyResult verify_phase(Sink& sink, const std::string& phase, const std::string& date);

/// The stdout line: "OK <PHASE> <run_id> <records> records in <chunks> chunks", "MISSING <PHASE>" or
/// "BAD <PHASE> <run_id> <file>: <reason>".
std::string verify_line(const VerifyResult& result);

/// The upper-case status word ("OK", "BAD", "MISSING").
std::string_view verify_status_name(VerifyStatus status);

} // namespace pipeline::core
