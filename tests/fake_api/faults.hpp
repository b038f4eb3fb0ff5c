#pragma once

#include "common.hpp"
#include "stats.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
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
    std::string code;              ///< answer requests with this error name (its HTTP status from the table)
    long code_first = 0;           ///< ... only the first N such requests; 0 = no count limit
    long code_for_ms = 0;          ///< ... only during this long after the first API request; 0 = no time limit
    long daily_allowance = 0;      ///< calls the key may make per day; beyond: 429 OPENAPI00007; 0 = unlimited
    int huge_mb = 0;               ///< size of an oversized 200 answer (streamed, no Content-Length)
    long huge_first = 0;           ///< the first N 200 answers are oversized
};

/// The HTTP status the live API sends an error name with (400 for names it does not document).
int status_of_code(std::string_view code);

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

    /// The size in bytes of an oversized answer to send instead of a 200 to endpoint; 0: send it as is.
    std::size_t huge_answer(Endpoint endpoint);

private:
    std::optional<InjectedError> draw_error(Endpoint endpoint);
    double next_unit();

    FaultOptions m_options;
    std::atomic<std::uint64_t> m_draws{0};
    std::optional<InjectedError> code_window();

    std::mutex m_rate_mutex;
    SecondCounter m_rate_window;
    std::atomic<long> m_code_served{0};
    std::atomic<long> m_allowance_used{0};
    std::atomic<long> m_huge_served{0};
    std::once_flag m_first_request;
    std::chrono::steady_clock::time_point m_first_request_at{};
};

}  // namespace fake_api
