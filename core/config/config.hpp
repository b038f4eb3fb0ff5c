#pragma once
// pipeline.yaml: the keys of docs/contract.md §7 plus the project's own, loaded and validated strictly.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/phase_def.hpp"

namespace pipeline::core {

/// How chunks are compressed.
enum class Compression { Gzip, Zstd, None };

/// "gzip", "zstd", "none".
std::string_view compression_name(Compression compression);

/// The chunk file extension: ".jsonl.gz", ".jsonl.zst" or ".jsonl".
std::string_view compression_extension(Compression compression);

/// Parses "gzip", "zstd" or "none"; nullopt for anything else.
std::optional<Compression> parse_compression(std::string_view name);

/// The `api:` section.
struct ApiConfig {
    std::string base_url = "http://127.0.0.1:8080";
    std::string key_env = "NEXON_API_KEY";
    double rate_limit_per_sec = 500; ///< the key's limit, shared by every process of the run directory
    int concurrency = 0;       ///< requests in flight for the whole process; k_concurrency_auto: adaptive
    int max_connections = 256; ///< never more connections (nor requests in flight) than this
    int timeout_ms = 10000;
    int max_attempts = 5;
    int backoff_base_ms = 200;      ///< first retry waits up to this long (full jitter)
    int backoff_max_ms = 30000;     ///< no single backoff waits longer
    double max_reject_share = 0.05; ///< the phase fails when refused items pass this share
    std::uint64_t daily_quota = 0;  ///< calls per API-calendar day for the key, all processes; 0 = no budget
    int max_wait_s = 600;           ///< the most the API may make a phase wait before it stops
    int max_body_mb = 16;           ///< a larger answer is cut off and retried
    std::filesystem::path ca_file;  ///< PEM bundle verifying the API's certificate; empty: the system's
};

/// `api.concurrency: auto`: enough requests in flight to reach the rate limit at the answer times measured.
inline constexpr int k_concurrency_auto = 0;

/// The most requests the process may have in flight: a fixed api.concurrency, else api.max_connections.
inline int in_flight_cap(const ApiConfig& api) {
    return api.concurrency != k_concurrency_auto ? api.concurrency : api.max_connections;
}

/// The `sink.s3:` section.
struct S3Config {
    std::string endpoint = "http://127.0.0.1:9000";
    std::string bucket = "snapshots";
    std::string prefix = "maplestory";
    std::string region = "us-east-1";
    std::string access_key_env = "S3_ACCESS_KEY";
    std::string secret_key_env = "S3_SECRET_KEY";
    std::uint64_t multipart_threshold_mb = 64; ///< chunks larger than this are sent as a multipart upload
    std::uint64_t part_size_mb = 16;           ///< size of each multipart part (S3 minimum: 5)
};

/// Where chunks go.
enum class SinkType { Local, S3 };

/// The `sink:` section.
struct SinkConfig {
    SinkType type = SinkType::Local;
    std::filesystem::path path = "./data";
    Compression compression = Compression::Gzip;
    int compression_threads = 0; ///< workers compressing chunks; 0 = one per core
    S3Config s3;
};

/// The whole configuration. Relative paths are resolved against the config file's folder.
struct Config {
    std::string source = "<defaults>"; ///< the file it was read from
    std::filesystem::path run_dir = "./run";
    ApiConfig api;
    std::vector<PhaseDef> phases = builtin_phases(5); ///< in phase order (docs/contract.md §1)
    int chunk_records = 1000;
    SinkConfig sink;
    std::filesystem::path metrics_file; ///< empty: no Prometheus textfile
};

/// Loads and validates a config file. Throws core::Error (exit 2) naming file, line and key on an unknown
/// key, a wrong type or an impossible value, or when the file cannot be read.
Config load_config(const std::filesystem::path& file);

/// Parses config text; `source` names it in messages and anchors relative paths.
Config parse_config(const std::string& text, const std::filesystem::path& source);

/// Reads a secret from the environment variable `name`; throws core::Error (exit 2) naming the variable
/// (never a value) when it is unset or empty. `what` says what it is for ("API key").
std::string secret_from_env(const std::string& name, const std::string& what);

} // namespace pipeline::core
