#include "core/config/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string_view>
#include <utility>
#include <array>
#include <optional>
#include <vector>

#include "core/config/phase_reader.hpp"
#include "core/config/yaml_reader.hpp"
#include "core/util/error.hpp"

namespace pipeline::core {

namespace {

struct CompressionInfo {
    Compression compression;
    std::string_view name;      ///< in pipeline.yaml and checkpoints
    std::string_view extension; ///< of chunk files
};

// The chunk encodings: the one list that names, parsing and file names read.
constexpr std::array<CompressionInfo, 3> k_compressions = {{
    {Compression::Gzip, "gzip", ".jsonl.gz"},
    {Compression::Zstd, "zstd", ".jsonl.zst"},
    {Compression::None, "none", ".jsonl"},
}};

const CompressionInfo& info_of(Compression compression) {
    return k_compressions[static_cast<std::size_t>(compression)];
}

} // namespace

std::string_view compression_name(Compression compression) { return info_of(compression).name; }

std::string_view compression_extension(Compression compression) { return info_of(compression).extension; }

std::optional<Compression> parse_compression(std::string_view name) {
    for (const CompressionInfo& info : k_compressions) {
        if (info.name == name) {
            return info.compression;
        }
    }
    return std::nullopt;
}

namespace {

std::filesystem::path anchored(const std::filesystem::path& value, const std::filesystem::path& source) {
    if (value.is_absolute()) {
        return value;
    }
    return (source.parent_path().empty() ? std::filesystem::path(".") : source.parent_path()) / value;
}

void read_api(const Reader& r, const YAML::Node& node, ApiConfig& api, const std::filesystem::path& source) {
    r.check_keys(node, "api",
                 {"base_url", "key_env", "rate_limit_per_sec", "concurrency", "max_connections", "timeout_ms",
                  "max_attempts", "backoff_base_ms", "backoff_max_ms", "max_reject_share", "daily_quota",
                  "max_wait_s", "max_body_mb", "ca_file"});
    for (const auto& entry : node) {
        const std::string key = entry.first.as<std::string>();
        const std::string name = "api." + key;
        const YAML::Node& v = entry.second;
        if (key == "base_url") {
            api.base_url = r.url(v, name);
        } else if (key == "key_env") {
            api.key_env = r.env_name(v, name);
        } else if (key == "rate_limit_per_sec") {
            api.rate_limit_per_sec = r.number(v, name, 0.1, 100000);
        } else if (key == "concurrency") {
            if (v.IsScalar() && v.Scalar() == "auto") {
                api.concurrency = k_concurrency_auto;
            } else {
                long long value = 0;
                if (!v.IsScalar() || !YAML::convert<long long>::decode(v, value)) {
                    r.fail(v, "'" + name + "' must be 'auto' or a whole number" +
                                  (v.IsScalar() ? ", got '" + v.Scalar() + "'" : std::string()));
                }
                api.concurrency = static_cast<int>(r.integer(v, name, 1, 1024));
            }
        } else if (key == "max_connections") {
            api.max_connections = static_cast<int>(r.integer(v, name, 1, 4096));
        } else if (key == "timeout_ms") {
            api.timeout_ms = static_cast<int>(r.integer(v, name, 100, 600000));
        } else if (key == "max_attempts") {
            api.max_attempts = static_cast<int>(r.integer(v, name, 1, 100));
        } else if (key == "backoff_base_ms") {
            api.backoff_base_ms = static_cast<int>(r.integer(v, name, 1, 600000));
        } else if (key == "backoff_max_ms") {
            api.backoff_max_ms = static_cast<int>(r.integer(v, name, 1, 3600000));
        } else if (key == "max_reject_share") {
            api.max_reject_share = r.number(v, name, 0, 1);
        } else if (key == "daily_quota") {
            api.daily_quota = static_cast<std::uint64_t>(r.integer(v, name, 0, 1'000'000'000'000LL));
        } else if (key == "max_wait_s") {
            api.max_wait_s = static_cast<int>(r.integer(v, name, 1, 7 * 86400));
        } else if (key == "max_body_mb") {
            api.max_body_mb = static_cast<int>(r.integer(v, name, 1, 4096));
        } else if (key == "ca_file") {
            const std::string value = v.IsNull() ? "" : r.get<std::string>(v, name, "a string");
            api.ca_file = value.empty() ? std::filesystem::path() : anchored(value, source);
            std::error_code ec;
            if (!api.ca_file.empty() && !std::filesystem::is_regular_file(api.ca_file, ec)) {
                r.fail(v, "'" + name + "' must name a PEM file, but " + api.ca_file.string() + " is not a file");
            }
        }
    }
}

// A fixed concurrency above the default connection limit raises it (configs written before the limit
// existed keep working); above a limit the file sets, it is a contradiction.
void check_connections(const Reader& r, const YAML::Node& api_node, ApiConfig& api) {
    if (api.concurrency <= api.max_connections) {
        return;
    }
    if (!api_node["max_connections"].IsDefined()) {
        api.max_connections = api.concurrency;
        return;
    }
    r.fail(api_node["concurrency"], "'api.concurrency' (" + std::to_string(api.concurrency) +
                                        ") must not be above 'api.max_connections' (" +
                                        std::to_string(api.max_connections) + ")");
}

void read_s3(const Reader& r, const YAML::Node& node, S3Config& s3) {
    r.check_keys(node, "sink.s3",
                 {"endpoint", "bucket", "prefix", "region", "access_key_env", "secret_key_env",
                  "multipart_threshold_mb", "part_size_mb"});
    for (const auto& entry : node) {
        const std::string key = entry.first.as<std::string>();
        const std::string name = "sink.s3." + key;
        const YAML::Node& v = entry.second;
        if (key == "endpoint") {
            s3.endpoint = r.url(v, name);
        } else if (key == "bucket") {
            s3.bucket = r.string(v, name);
        } else if (key == "prefix") {
            s3.prefix = v.IsNull() ? "" : r.get<std::string>(v, name, "a string");
            while (s3.prefix.ends_with('/')) {
                s3.prefix.pop_back();
            }
        } else if (key == "region") {
            s3.region = r.string(v, name);
        } else if (key == "access_key_env") {
            s3.access_key_env = r.env_name(v, name);
        } else if (key == "secret_key_env") {
            s3.secret_key_env = r.env_name(v, name);
        } else if (key == "multipart_threshold_mb") {
            s3.multipart_threshold_mb = static_cast<std::uint64_t>(r.integer(v, name, 5, 5000));
        } else if (key == "part_size_mb") {
            s3.part_size_mb = static_cast<std::uint64_t>(r.integer(v, name, 5, 5000));
        }
    }
}

void read_sink(const Reader& r, const YAML::Node& node, SinkConfig& sink, const std::filesystem::path& source) {
    r.check_keys(node, "sink", {"type", "path", "compression", "compression_threads", "s3"});
    for (const auto& entry : node) {
        const std::string key = entry.first.as<std::string>();
        const std::string name = "sink." + key;
        const YAML::Node& v = entry.second;
        if (key == "type") {
            const std::string type = r.string(v, name);
            if (type == "local") {
                sink.type = SinkType::Local;
            } else if (type == "s3") {
                sink.type = SinkType::S3;
            } else {
                r.fail(v, "'sink.type' must be 'local' or 's3', got '" + type + "'");
            }
        } else if (key == "path") {
            sink.path = anchored(r.string(v, name), source);
        } else if (key == "compression") {
            const std::string value = r.string(v, name);
            if (const std::optional<Compression> parsed = parse_compression(value)) {
                sink.compression = *parsed;
            } else {
                r.fail(v, "'sink.compression' must be gzip, zstd or none, got '" + value + "'");
            }
        } else if (key == "compression_threads") {
            sink.compression_threads = static_cast<int>(r.integer(v, name, 0, 256));
        } else if (key == "s3") {
            read_s3(r, v, sink.s3);
        }
    }
}

} // namespace

Config parse_config(const std::string& text, const std::filesystem::path& source) {
    const Reader r(source.string());
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::ParserException& e) {
        throw usage_error(source.string() + ":" + std::to_string(e.mark.line + 1) + ": invalid YAML: " + e.msg);
    }
    Config config;
    config.source = source.string();
    config.run_dir = anchored(config.run_dir, source);
    config.sink.path = anchored(config.sink.path, source);
    if (root.IsNull()) {
        return config;
    }
    r.check_keys(root, "", {"run_dir", "api", "phases", "ranking", "chunk", "sink", "metrics_file"});
    for (const auto& entry : root) {
        const std::string key = entry.first.as<std::string>();
        const YAML::Node& v = entry.second;
        if (key == "run_dir") {
            config.run_dir = anchored(r.string(v, key), source);
        } else if (key == "metrics_file") {
            config.metrics_file = v.IsNull() ? std::filesystem::path() : anchored(r.string(v, key), source);
        } else if (key == "api") {
            read_api(r, v, config.api, source);
        } else if (key == "phases") {
            config.phases = read_phases(r, v);
        } else if (key == "ranking") {
            // The older way to set RANKING_FETCH's pages, kept for configs without `phases:`.
            r.check_keys(v, "ranking", {"pages"});
            if (std::as_const(root)["phases"]) {
                r.fail(entry.first, "'ranking' applies only without 'phases': set 'pages' under "
                                    "phases.RANKING_FETCH instead");
            }
            if (v["pages"]) {
                config.phases = builtin_phases(static_cast<int>(r.integer(v["pages"], "ranking.pages", 1, 100000)));
            }
        } else if (key == "chunk") {
            r.check_keys(v, "chunk", {"records"});
            if (v["records"]) {
                config.chunk_records = static_cast<int>(r.integer(v["records"], "chunk.records", 1, 10000000));
            }
        } else if (key == "sink") {
            read_sink(r, v, config.sink, source);
        }
    }
    if (const YAML::Node api = std::as_const(root)["api"]; api.IsDefined() && api.IsMap()) {
        check_connections(r, api, config.api);
    }
    if (config.api.backoff_max_ms < config.api.backoff_base_ms) {
        // Point at whichever of the two keys the file sets (a key left at its default has no line).
        const YAML::Node api = std::as_const(root)["api"];
        const bool max_set = api["backoff_max_ms"].IsDefined();
        r.fail(max_set ? api["backoff_max_ms"] : api["backoff_base_ms"],
               "'api.backoff_max_ms' (" + std::to_string(config.api.backoff_max_ms) +
                   ") must not be below 'api.backoff_base_ms' (" + std::to_string(config.api.backoff_base_ms) + ")");
    }
    return config;
}

Config load_config(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) {
        throw usage_error(file.string() + ": cannot read config file (give one with --config or $PIPELINE_CONFIG)");
    }
    std::ostringstream text;
    text << in.rdbuf();
    return parse_config(text.str(), file);
}

std::string secret_from_env(const std::string& name, const std::string& what) {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr || *value == '\0') {
        throw usage_error("the " + what + " is missing: set the environment variable " + name);
    }
    return value;
}

} // namespace pipeline::core
