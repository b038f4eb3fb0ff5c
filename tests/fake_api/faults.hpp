#pragma once

#include "common.hpp"
#include "stats.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace fake_api {

/// Fault-injection settings from the command line.
struct FaultOptions {
    std::uint64_t seed = 1;        ///< seed of the fault draws
    int latency_ms = 0;            ///< delay before every API answer
    double fail_500 = 0.0;         ///< fraction answered 500 OPENAPI00001
    double fail_503 = 0.0;         ///< fraction answered 503 OPENAPI00011
    double fail_429 = 0.0;         ///< fraction answered 429 OPENAPI00007
    double fail_prepare = 0.0;     ///< fraction answered 400 OPENAPI00009
    double truncate = 0.0;         ///< fraction of 200 answers cut in half
    std::string retry_after;       ///< Retry-After value for random 429s; empty = no header
    std::array<bool, k_endpoint_count> faults_on{true, true, true, true};  ///< endpoints the random faults hit
    int rate_limit = 0;            ///< max API requests per calendar second; 0 = unlimited
    bool forbid = false;           ///< answer every API request 403 OPENAPI00002
    std::string error_message;     ///< replaces the message of every injected error (e.g. control characters)
};

/// An error answer decided before serving a request.
struct InjectedError {
    int status = 500;          ///< HTTP status
    std::string code;          ///< OPENAPI000NN
    std::string message;       ///< human-readable message
    std::string retry_after;   ///< Retry-After header value; empty = none
};

/// Decides, thread-safely and reproducibly from the seed, which requests fail and how.
class Faults {
public:
    /// Keeps the options; draws start from the seed.
    explicit Faults(FaultOptions options) : m_options(std::move(options)) {}

    /// Sleeps the configured latency.
    void delay() const;

    /// The error a request to endpoint must get instead of being served (forbid, rate limit, random faults).
    std::optional<InjectedError> before_serving(Endpoint endpoint);

    /// Whether a 200 answer to endpoint must be truncated.
    bool truncate_answer(Endpoint endpoint);

private:
    std::optional<InjectedError> draw_error(Endpoint endpoint);
    double next_unit();

    FaultOptions m_options;
    std::atomic<std::uint64_t> m_draws{0};
    std::mutex m_rate_mutex;
    SecondCounter m_rate_window;
};

}  // namespace fake_api
