// Fuzzes the config loader (core/config): any text either loads into a Config or fails with core::Error. A
// Config it returns has phases that keep the rules of docs/contract.md §1: valid and distinct names, each
// after its upstream, items from pages or an upstream whose fields it names.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/config/config.hpp"
#include "core/util/error.hpp"
#include "core/util/text.hpp"

using pipeline::core::PhaseDef;

namespace {

void check_phases(const std::vector<PhaseDef>& phases) {
    if (phases.empty()) {
        std::abort();
    }
    for (std::size_t i = 0; i < phases.size(); ++i) {
        const PhaseDef& def = phases[i];
        const auto earlier = phases.begin() + static_cast<std::ptrdiff_t>(i);
        if (!pipeline::core::is_phase_name(def.name) ||
            std::find_if(phases.begin(), earlier, [&](const PhaseDef& p) { return p.name == def.name; }) !=
                earlier) {
            std::abort(); // names become file names and keys: valid, and each once
        }
        if (!def.upstream.empty() && std::find_if(phases.begin(), earlier, [&](const PhaseDef& p) {
                                         return p.name == def.upstream;
                                     }) == earlier) {
            std::abort(); // phase order: the upstream runs first (no cycles, no unknown upstream)
        }
        if ((def.upstream.empty() && def.pages == 0) || (def.upstream.empty() != def.fields.empty()) ||
            (!def.rows.empty() && def.pages == 0) || !def.path.starts_with('/') || def.combinations() == 0) {
            std::abort();
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const pipeline::core::Config config = pipeline::core::parse_config(text, "/fuzz/pipeline.yaml");
        check_phases(config.phases);
    } catch (const pipeline::core::Error&) {
        // A clear refusal is the expected answer to bad input; anything else escapes and is a finding.
    }
    return 0;
}
