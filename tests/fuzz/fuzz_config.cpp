// Fuzzes the config loader (core/config): any text either loads into a Config or fails with core::Error.

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/config/config.hpp"
#include "core/util/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const pipeline::core::Config config = pipeline::core::parse_config(text, "/fuzz/pipeline.yaml");
        (void)config;
    } catch (const pipeline::core::Error&) {
        // A clear refusal is the expected answer to bad input; anything else escapes and is a finding.
    }
    return 0;
}
