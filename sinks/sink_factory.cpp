#include "sinks/sink_factory.hpp"

#include "core/util/error.hpp"
#include "sinks/local/local_sink.hpp"
#include "sinks/s3/s3_sink.hpp"

namespace pipeline::sinks {

std::function<std::unique_ptr<core::Sink>()> sink_factory(const core::Config& config) {
    switch (config.sink.type) {
    case core::SinkType::Local:
        return [root = config.sink.path] { return std::make_unique<LocalSink>(root); };
    case core::SinkType::S3: {
        const core::S3Config& s3 = config.sink.s3;
        S3SinkOptions options;
        options.endpoint = s3.endpoint;
        options.bucket = s3.bucket;
        options.prefix = s3.prefix;
        options.region = s3.region;
        // Read once, now: a missing variable is a usage error before any phase starts.
        options.access_key = core::secret_from_env(s3.access_key_env, "S3 access key");
        options.secret_key = core::secret_from_env(s3.secret_key_env, "S3 secret key");
        options.multipart_threshold_bytes = s3.multipart_threshold_mb << 20;
        options.part_size_bytes = s3.part_size_mb << 20;
        options.max_attempts = config.api.max_attempts;
        return [options = std::move(options)] { return std::make_unique<S3Sink>(options); };
    }
    }
    throw core::usage_error(config.source + ": unknown sink.type");
}

} // namespace pipeline::sinks
