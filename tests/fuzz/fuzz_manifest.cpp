// Fuzzes the manifest reader (core/snapshot/snapshot): a _manifest.json of any content in the sink is read
// by read_manifest and newest_completed, which return a manifest, nothing, or throw core::Error. A manifest
// it returns names a phase (and an upstream phase, if any) that is a valid phase name: they become keys.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>

#include "core/snapshot/snapshot.hpp"
#include "core/util/error.hpp"
#include "core/util/text.hpp"
#include "tests/fakes/memory_sink.hpp"

using namespace pipeline::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    pipeline::tests::MemorySink sink;
    const std::string date = "2026-11-22";
    const std::string run_id = "20261122T000000Z-000001";
    // A phase only a config defines, over another such phase.
    const std::string phase = "GUILD_BASIC";
    sink.put(run_prefix(date, phase, run_id) + std::string(k_manifest_name),
             std::string(reinterpret_cast<const char*>(data), size));
    const auto check = [&](const std::optional<Manifest>& manifest) {
        if (manifest && (manifest->phase != phase || manifest->run_id != run_id ||
                         (!manifest->upstream_phase.empty() && !is_phase_name(manifest->upstream_phase)))) {
            std::abort();
        }
    };
    try {
        check(read_manifest(sink, phase, date, run_id));
    } catch (const Error&) {
    }
    try {
        check(newest_completed(sink, phase, date));
    } catch (const Error&) {
    }
    return 0;
}
