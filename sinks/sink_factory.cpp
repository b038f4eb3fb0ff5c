#include "sinks/sink_factory.hpp"

#include "core/error.hpp"
#include "sinks/local_sink.hpp"

namespace pipeline::sinks {

std::function<std::unique_ptr<core::Sink>()> sink_factory(const core::Config& config) {
    if (config.sink.type == core::SinkType::Local) {
        return [root = config.sink.path] { return std::make_unique<LocalSink>(root); };
    }
    throw core::usage_error(config.source + ": sink.type 's3' is not available in this build");
}

} // namespace pipeline::sinks
