// Fuzzes the manifest reader (core/snapshot/snapshot): a _manifest.json of any content in the sink is read
// by read_manifest and newest_completed, which return a manifest, nothing, or throw core::Error.

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/snapshot/snapshot.hpp"
#include "core/util/error.hpp"
#include "tests/fakes/memory_sink.hpp"

using namespace pipeline::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    pipeline::tests::MemorySink sink;
    const std::string date = "2026-11-22";
    const std::string run_id = "20261122T000000Z-000001";
    sink.put(run_prefix(date, Phase::OcidLookup, run_id) + std::string(k_manifest_name),
             std::string(reinterpret_cast<const char*>(data), size));
    try {
        (void)read_manifest(sink, Phase::OcidLookup, date, run_id);
    } catch (const Error&) {
    }
    try {
        (void)newest_completed(sink, Phase::OcidLookup, date);
    } catch (const Error&) {
    }
    return 0;
}
