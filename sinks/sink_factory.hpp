#pragma once
// Builds the sink the configuration asks for.

#include <functional>
#include <memory>

#include "core/config/config.hpp"
#include "core/snapshot/sink.hpp"

namespace pipeline::sinks {

/// Returns a factory of sinks for `config.sink` (one sink per phase run). Reads S3 keys from the
/// environment now, so that a missing variable is a usage error (exit 2) before any run starts.
std::function<std::unique_ptr<core::Sink>()> sink_factory(const core::Config& config);

} // namespace pipeline::sinks
