// pipeline.yaml loading: the docs/contract.md §7 example, "file:line: ... 'key' ..." errors, defaults, relative paths.

#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "core/config/config.hpp"
#include "core/util/error.hpp"
#include "fakes/temp_dir.hpp"

using pipeline::core::Compression;
using pipeline::core::Config;
using pipeline::core::Error;
using pipeline::core::ExitCode;
using pipeline::core::parse_config;
using pipeline::core::SinkType;
using pipeline::tests::TempDir;

namespace {

// docs/contract.md §7, verbatim.
const std::string k_spec_example = R"(run_dir: ./run
api:
  base_url: http://127.0.0.1:8080      # the real API: https://open.api.nexon.com
  key_env: NEXON_API_KEY               # name of the variable that holds the key
  rate_limit_per_sec: 500
  concurrency: 32
  timeout_ms: 10000
  max_attempts: 5
ranking:
  pages: 5
chunk:
  records: 1000
sink:
  type: local                           # or s3
  path: ./data
  compression: gzip
  s3: {endpoint: http://127.0.0.1:9000, bucket: snapshots, prefix: maplestory, region: us-east-1,
       access_key_env: S3_ACCESS_KEY, secret_key_env: S3_SECRET_KEY}
)";

const std::filesystem::path k_source = "/etc/harvest/pipeline.yaml";

// The message parse_config throws for `text` (fails the test when it does not throw core::Error).
std::string config_error(const std::string& text) {
    try {
        parse_config(text, k_source);
    } catch (const Error& e) {
        CHECK(e.code() == ExitCode::Usage);
        return e.what();
    }
    FAIL_CHECK("no error for:\n" << text);
    return {};
}

// The docs/contract.md §7 example with the first occurrence of `from` replaced by `to`.
std::string example_with(const std::string& from, const std::string& to) {
    std::string text = k_spec_example;
    const std::size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

struct BadValue {
    std::string from;
    std::string to;
    int line;
    std::string key;
};

} // namespace

TEST_CASE("the configuration example of the spec parses to its values") {
    const Config config = parse_config(k_spec_example, k_source);
    CHECK(config.source == k_source.string());
    CHECK(config.run_dir.lexically_normal() == "/etc/harvest/run");
    CHECK(config.api.base_url == "http://127.0.0.1:8080");
    CHECK(config.api.key_env == "NEXON_API_KEY");
    CHECK(config.api.rate_limit_per_sec == doctest::Approx(500));
    CHECK(config.api.concurrency == 32);
    CHECK(config.api.timeout_ms == 10000);
    CHECK(config.api.max_attempts == 5);
    // `ranking: {pages: 5}` sets the built-in four, RANKING_FETCH with 5 pages.
    REQUIRE(config.phases.size() == 4);
    CHECK(config.phases.front().name == "RANKING_FETCH");
    CHECK(config.phases.front().pages == 5);
    CHECK(config.chunk_records == 1000);
    CHECK(config.sink.type == SinkType::Local);
    CHECK(config.sink.path.lexically_normal() == "/etc/harvest/data");
    CHECK(config.sink.compression == Compression::Gzip);
    CHECK(config.sink.s3.endpoint == "http://127.0.0.1:9000");
    CHECK(config.sink.s3.bucket == "snapshots");
    CHECK(config.sink.s3.prefix == "maplestory");
    CHECK(config.sink.s3.region == "us-east-1");
    CHECK(config.sink.s3.access_key_env == "S3_ACCESS_KEY");
    CHECK(config.sink.s3.secret_key_env == "S3_SECRET_KEY");
}

TEST_CASE("a wrong type or an impossible value names the file, the exact line and the key") {
    const std::vector<BadValue> cases = {
        {"run_dir: ./run", "run_dir: [a, b]", 1, "run_dir"},
        {"run_dir: ./run", "run_dir: ''", 1, "run_dir"},
        {"base_url: http://127.0.0.1:8080", "base_url: {a: 1}", 3, "api.base_url"},
        {"key_env: NEXON_API_KEY", "key_env: NEXON-KEY", 4, "api.key_env"},
        {"key_env: NEXON_API_KEY", "key_env: 9KEY", 4, "api.key_env"},
        {"rate_limit_per_sec: 500", "rate_limit_per_sec: fast", 5, "api.rate_limit_per_sec"},
        {"rate_limit_per_sec: 500", "rate_limit_per_sec: 0", 5, "api.rate_limit_per_sec"},
        {"rate_limit_per_sec: 500", "rate_limit_per_sec: .nan", 5, "api.rate_limit_per_sec"},
        {"concurrency: 32", "concurrency: many", 6, "api.concurrency"},
        {"concurrency: 32", "concurrency: 0", 6, "api.concurrency"},
        {"concurrency: 32", "concurrency: 1.5", 6, "api.concurrency"},
        {"concurrency: 32", "concurrency: true", 6, "api.concurrency"},
        {"concurrency: 32", "concurrency: 99999999999999999999", 6, "api.concurrency"},
        {"timeout_ms: 10000", "timeout_ms: 5", 7, "api.timeout_ms"},
        {"timeout_ms: 10000", "timeout_ms: [1]", 7, "api.timeout_ms"},
        {"max_attempts: 5", "max_attempts: 0", 8, "api.max_attempts"},
        {"max_attempts: 5", "max_attempts: five", 8, "api.max_attempts"},
        {"pages: 5", "pages: 0", 10, "ranking.pages"},
        {"pages: 5", "pages: -5", 10, "ranking.pages"},
        {"pages: 5", "pages: x", 10, "ranking.pages"},
        {"records: 1000", "records: lots", 12, "chunk.records"},
        {"type: local", "type: ftp", 14, "sink.type"},
        {"path: ./data", "path: ''", 15, "sink.path"},
        {"compression: gzip", "compression: lz4", 16, "sink.compression"},
        {"endpoint: http://127.0.0.1:9000", "endpoint: minio", 17, "sink.s3.endpoint"},
        {"bucket: snapshots", "bucket: ''", 17, "sink.s3.bucket"},
        {"region: us-east-1", "region: ''", 17, "sink.s3.region"},
        {"prefix: maplestory", "prefix: [x]", 17, "sink.s3.prefix"},
        {"access_key_env: S3_ACCESS_KEY", "access_key_env: S3 KEY", 18, "sink.s3.access_key_env"},
        {"secret_key_env: S3_SECRET_KEY", "secret_key_env: 1SECRET", 18, "sink.s3.secret_key_env"},
    };
    for (const BadValue& c : cases) {
        CAPTURE(c.to);
        const std::string message = config_error(example_with(c.from, c.to));
        CHECK(message.starts_with(k_source.string() + ":" + std::to_string(c.line) + ": "));
        CHECK(message.find("'" + c.key + "'") != std::string::npos);
    }
}

TEST_CASE("keys the project adds are checked the same way") {
    const std::vector<BadValue> cases = {
        {"max_attempts: 5", "max_attempts: 5\n  backoff_base_ms: 0", 9, "api.backoff_base_ms"},
        {"max_attempts: 5", "max_attempts: 5\n  backoff_max_ms: -1", 9, "api.backoff_max_ms"},
        {"max_attempts: 5", "max_attempts: 5\n  max_reject_share: 1.5", 9, "api.max_reject_share"},
        {"max_attempts: 5", "max_attempts: 5\n  backoff_base_ms: 500\n  backoff_max_ms: 100", 10,
         "api.backoff_max_ms"},
        {"run_dir: ./run", "run_dir: ./run\nmetrics_file: [m]", 2, "metrics_file"},
        {"region: us-east-1,", "region: us-east-1, part_size_mb: 4,", 17, "sink.s3.part_size_mb"},
        {"region: us-east-1,", "region: us-east-1, multipart_threshold_mb: x,", 17, "sink.s3.multipart_threshold_mb"},
        {"compression: gzip", "compression: gzip\n  compression_threads: -1", 17, "sink.compression_threads"},
        {"compression: gzip", "compression: gzip\n  compression_threads: many", 17, "sink.compression_threads"},
        {"max_attempts: 5", "max_attempts: 5\n  daily_quota: -1", 9, "api.daily_quota"},
        {"max_attempts: 5", "max_attempts: 5\n  daily_quota: many", 9, "api.daily_quota"},
        {"max_attempts: 5", "max_attempts: 5\n  max_wait_s: 0", 9, "api.max_wait_s"},
        {"max_attempts: 5", "max_attempts: 5\n  max_body_mb: 0", 9, "api.max_body_mb"},
        {"max_attempts: 5", "max_attempts: 5\n  max_body_mb: 5000", 9, "api.max_body_mb"},
        {"max_attempts: 5", "max_attempts: 5\n  ca_file: /no/such/bundle.pem", 9, "api.ca_file"},
        {"max_attempts: 5", "max_attempts: 5\n  ca_file: [a]", 9, "api.ca_file"},
    };
    for (const BadValue& c : cases) {
        CAPTURE(c.to);
        const std::string message = config_error(example_with(c.from, c.to));
        CHECK(message.starts_with(k_source.string() + ":" + std::to_string(c.line) + ": "));
        CHECK(message.find("'" + c.key + "'") != std::string::npos);
    }
}

TEST_CASE("a backoff base above the default maximum is reported at the line that sets it") {
    // backoff_max_ms keeps its default (30000), so the only line to point at is backoff_base_ms.
    const std::string message = config_error(example_with("max_attempts: 5", "max_attempts: 5\n  backoff_base_ms: 40000"));
    CHECK(message.starts_with(k_source.string() + ":9: "));
    CHECK(message.find("backoff_base_ms") != std::string::npos);
}

TEST_CASE("the spec's example values that matter are named in range errors") {
    CHECK(config_error(example_with("concurrency: 32", "concurrency: -4")) ==
          k_source.string() + ":6: 'api.concurrency' must be between 1 and 1024, got -4");
    CHECK(config_error(example_with("records: 1000", "records: 0")) ==
          k_source.string() + ":12: 'chunk.records' must be between 1 and 10000000, got 0");
}

TEST_CASE("base_url must be an http or https URL") {
    const std::string message = config_error(example_with("http://127.0.0.1:8080", "ftp://127.0.0.1:8080"));
    CHECK(message.starts_with(k_source.string() + ":3: "));
    CHECK(message.find("'api.base_url' must be an http:// or https:// URL") != std::string::npos);
    CHECK(config_error(example_with("http://127.0.0.1:8080", "open.api.nexon.com")).find("api.base_url") !=
          std::string::npos);
    // https is fine, and a trailing slash is dropped so that paths can be appended.
    const Config config = parse_config(example_with("http://127.0.0.1:8080", "https://open.api.nexon.com/"), k_source);
    CHECK(config.api.base_url == "https://open.api.nexon.com");
}

TEST_CASE("credentials inside base_url or the S3 endpoint are refused without echoing the password") {
    const std::string password = "hunter2-never-echo";
    const struct {
        std::string from;
        std::string to;
        std::string key;
        int line;
    } cases[] = {
        {"http://127.0.0.1:8080", "http://user:" + password + "@127.0.0.1:8080", "api.base_url", 3},
        {"http://127.0.0.1:8080", "https://" + password + "@open.api.nexon.com/maplestory", "api.base_url", 3},
        {"http://127.0.0.1:9000", "http://AKIA:" + password + "@127.0.0.1:9000", "sink.s3.endpoint", 17},
        {"http://127.0.0.1:8080", "ftp://user:" + password + "@127.0.0.1:8080", "api.base_url", 3},
    };
    for (const auto& c : cases) {
        CAPTURE(c.to);
        const std::string message = config_error(example_with(c.from, c.to));
        CHECK(message.starts_with(k_source.string() + ":" + std::to_string(c.line) + ": "));
        CHECK(message.find("'" + c.key + "'") != std::string::npos);
        CHECK(message.find(password) == std::string::npos);
    }
    CHECK(config_error(example_with("http://127.0.0.1:8080", "http://u:" + password + "@h")).find("user:password@") !=
          std::string::npos);
    // An '@' after the host (in a path or query) is not a credential.
    const Config config = parse_config(example_with("http://127.0.0.1:8080", "http://127.0.0.1:8080/a@b"), k_source);
    CHECK(config.api.base_url == "http://127.0.0.1:8080/a@b");
}

TEST_CASE("an unknown key is an error that suggests the closest known key") {
    CHECK(config_error(example_with("concurrency: 32", "concurency: 32")) ==
          k_source.string() + ":6: unknown key 'concurency' under 'api' (did you mean 'concurrency'?)");
    CHECK(config_error(example_with("run_dir: ./run", "rundir: ./run")) ==
          k_source.string() + ":1: unknown key 'rundir' (did you mean 'run_dir'?)");
    CHECK(config_error(example_with("bucket: snapshots", "buckett: snapshots")) ==
          k_source.string() + ":17: unknown key 'buckett' under 'sink.s3' (did you mean 'bucket'?)");
    // Nothing close: no suggestion.
    const std::string far = config_error(example_with("pages: 5", "pages: 5\n  something_else_entirely: 1"));
    CHECK(far.starts_with(k_source.string() + ":11: unknown key 'something_else_entirely' under 'ranking'"));
    CHECK(far.find("did you mean") == std::string::npos);
}

TEST_CASE("a section that is not a mapping is an error naming it") {
    const std::string message = config_error("run_dir: ./run\napi: 5\n");
    CHECK(message.starts_with(k_source.string() + ":2: "));
    CHECK(message.find("'api'") != std::string::npos);
}

TEST_CASE("invalid YAML is an error with its line") {
    const std::string message = config_error("run_dir: ./run\napi:\n  concurrency: [1, 2\n");
    CHECK(message.starts_with(k_source.string() + ":"));
    CHECK(message.find("invalid YAML") != std::string::npos);
}

TEST_CASE("an empty file or one with only comments gives the defaults") {
    for (const std::string text : {"", "# nothing here\n"}) {
        const Config config = parse_config(text, k_source);
        const Config defaults;
        CHECK(config.api.base_url == defaults.api.base_url);
        CHECK(config.api.key_env == "NEXON_API_KEY");
        CHECK(config.api.concurrency == defaults.api.concurrency);
        CHECK(config.api.max_attempts == defaults.api.max_attempts);
        // No `phases:` and no `ranking:`: the built-in four, RANKING_FETCH with 5 pages.
        REQUIRE(config.phases.size() == 4);
        CHECK(config.phases.front().name == "RANKING_FETCH");
        CHECK(config.phases.front().pages == 5);
        CHECK(config.chunk_records == 1000);
        CHECK(config.sink.compression == Compression::Gzip);
        CHECK(config.sink.type == SinkType::Local);
        // Even the default relative paths are anchored at the config file's folder.
        CHECK(config.run_dir.lexically_normal() == "/etc/harvest/run");
        CHECK(config.sink.path.lexically_normal() == "/etc/harvest/data");
        CHECK(config.metrics_file.empty());
    }
}

TEST_CASE("relative paths resolve against the folder of the config file, absolute ones stay") {
    const TempDir dir;
    std::filesystem::create_directories(dir / "conf");
    const std::filesystem::path file = dir / "conf/pipeline.yaml";
    std::ofstream(file) << "run_dir: state/run\nsink:\n  path: ../data\nmetrics_file: /var/lib/m.prom\n";
    const Config config = pipeline::core::load_config(file);
    CHECK(config.source == file.string());
    CHECK(config.run_dir.lexically_normal() == (dir.path() / "conf/state/run").lexically_normal());
    CHECK(config.sink.path.lexically_normal() == (dir.path() / "data").lexically_normal());
    CHECK(config.metrics_file == "/var/lib/m.prom");

    // A file named without a folder anchors at the current one.
    const Config bare = parse_config("run_dir: run\n", "pipeline.yaml");
    CHECK(bare.run_dir.lexically_normal() == "run");
}

TEST_CASE("a config file that cannot be read is a usage error naming it") {
    const TempDir dir;
    try {
        pipeline::core::load_config(dir / "missing.yaml");
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == ExitCode::Usage);
        CHECK(std::string(e.what()).starts_with((dir / "missing.yaml").string() + ": "));
    }
}

TEST_CASE("secret_from_env returns the value and names the variable, never a value, when it is missing") {
    const char* name = "PIPELINE_UNIT_TEST_SECRET";
    ::setenv(name, "s3cr3t-value", 1);
    CHECK(pipeline::core::secret_from_env(name, "API key") == "s3cr3t-value");
    for (const bool set_empty : {false, true}) {
        if (set_empty) {
            ::setenv(name, "", 1);
        } else {
            ::unsetenv(name);
        }
        try {
            pipeline::core::secret_from_env(name, "API key");
            FAIL("no error");
        } catch (const Error& e) {
            const std::string message = e.what();
            CHECK(e.code() == ExitCode::Usage);
            CHECK(message.find(name) != std::string::npos);
            CHECK(message.find("API key") != std::string::npos);
            CHECK(message.find("s3cr3t") == std::string::npos);
        }
    }
    ::unsetenv(name);
}

TEST_CASE("the live-API keys default as documented and read back") {
    const Config defaults = parse_config(k_spec_example, k_source);
    CHECK(defaults.api.daily_quota == 0);
    CHECK(defaults.api.max_wait_s == 600);
    CHECK(defaults.api.max_body_mb == 16);
    CHECK(defaults.api.ca_file.empty());
    const TempDir dir;
    { std::ofstream(dir / "ca.pem") << "-----BEGIN CERTIFICATE-----\n"; }
    const Config set = parse_config(
        example_with("max_attempts: 5", "max_attempts: 5\n  daily_quota: 1000\n  max_wait_s: 30\n  max_body_mb: 2\n"
                                        "  ca_file: ca.pem"),
        dir / "pipeline.yaml");
    CHECK(set.api.daily_quota == 1000);
    CHECK(set.api.max_wait_s == 30);
    CHECK(set.api.max_body_mb == 2);
    CHECK(set.api.ca_file == dir / "ca.pem");
    CHECK(parse_config(example_with("max_attempts: 5", "max_attempts: 5\n  ca_file: \"\""), k_source).api.ca_file.empty());
}

TEST_CASE("a key that is not a plain name is an error naming the file and the line") {
    // Found by tests/fuzz/fuzz_config.cpp: yaml-cpp's TypedBadConversion escaped, naming no file.
    const std::string message = config_error("api:\n  ? {a: 1}\n  : x\n");
    CHECK(message.starts_with(k_source.string() + ":2: "));
    CHECK(message.find("keys under 'api' must be plain names") != std::string::npos);
    CHECK(config_error("? [1, 2]\n: x\n").find("keys must be plain names") != std::string::npos);
}

TEST_CASE("api.concurrency is auto by default, or a number that caps the process's requests in flight") {
    using pipeline::core::in_flight_cap;
    using pipeline::core::k_concurrency_auto;
    const Config defaults = parse_config("", k_source);
    CHECK(defaults.api.concurrency == k_concurrency_auto);
    CHECK(defaults.api.max_connections == 256);
    CHECK(in_flight_cap(defaults.api) == 256);

    const Config auto_config =
        parse_config(example_with("concurrency: 32", "concurrency: auto\n  max_connections: 600"), k_source);
    CHECK(auto_config.api.concurrency == k_concurrency_auto);
    CHECK(auto_config.api.max_connections == 600);
    CHECK(in_flight_cap(auto_config.api) == 600);

    const Config fixed = parse_config(k_spec_example, k_source);
    CHECK(fixed.api.concurrency == 32);
    CHECK(in_flight_cap(fixed.api) == 32);
    // Written before max_connections existed: a larger fixed number raises the default limit with it.
    const Config large = parse_config(example_with("concurrency: 32", "concurrency: 1000"), k_source);
    CHECK(large.api.max_connections == 1000);
    CHECK(in_flight_cap(large.api) == 1000);
}

TEST_CASE("a bad api.concurrency or api.max_connections names the line and the key") {
    CHECK(config_error(example_with("concurrency: 32", "concurrency: automatic")) ==
          k_source.string() + ":6: 'api.concurrency' must be 'auto' or a whole number, got 'automatic'");
    CHECK(config_error(example_with("concurrency: 32", "concurrency: [auto]")) ==
          k_source.string() + ":6: 'api.concurrency' must be 'auto' or a whole number");
    CHECK(config_error(example_with("concurrency: 32", "concurrency: 32\n  max_connections: 0")) ==
          k_source.string() + ":7: 'api.max_connections' must be between 1 and 4096, got 0");
    CHECK(config_error(example_with("concurrency: 32", "concurrency: 32\n  max_connections: 5000")) ==
          k_source.string() + ":7: 'api.max_connections' must be between 1 and 4096, got 5000");
    CHECK(config_error(example_with("concurrency: 32", "concurrency: 64\n  max_connections: 16")) ==
          k_source.string() + ":6: 'api.concurrency' (64) must not be above 'api.max_connections' (16)");
}
