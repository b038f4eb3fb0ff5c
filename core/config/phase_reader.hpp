#pragma once
// pipeline.yaml's `phases:` map (docs/contract.md §1), read into phase definitions and checked as a whole:
// names, keys, placeholders, upstreams and cycles.

#include <vector>

#include "core/config/phase_def.hpp"
#include "core/config/yaml_reader.hpp"

namespace pipeline::core {

/// Reads `phases:` and returns the definitions in phase order. Throws core::Error (exit 2) naming the file,
/// line and key of the first rule a definition breaks.
std::vector<PhaseDef> read_phases(const Reader& reader, const YAML::Node& node);

} // namespace pipeline::core
