#pragma once

#include "common.hpp"
#include "endpoints.hpp"
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
#include <vector>

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
    std::array<bool, k_endpoint_count> faults_on{};  ///< endpoint kinds --faults-on selects
    std::vector<std::string> faults_on_paths;        ///< API paths it selects (besides those kinds)
    int rate_limit = 0;            ///< max API requests per calendar second; 0 = unlimited
    bool forbid = false;           ///< answer every API request 403 OPENAPI00002
    std::string error_message;     ///< replaces the message of every injected error (e.g. control characters)
    std::string code;              ///< answer requests with this error name (its HTTP status from the table)
    long code_first = 0;           ///< ... only the first N such requests; 0 = no count limit
    long code_for_ms = 0;          ///< ... only during this long after the first API request; 0 = no time limit
    long daily_allowance = 0;      ///< calls the key may make per day; beyond: 429 OPENAPI00007; 0 = unlimited
    int huge_mb = 0;               ///< size of an oversized 200 answer (streamed, no Content-Length)
    long huge_first = 0;           ///< the first N 200 answers are oversized
    long gzip_bomb_first = 0;      ///< the first N 200 answers are a gzip bomb
    long lb_503_first = 0;         ///< a load balancer answers the first N API requests 503; 0 = no limit
    long lb_503_for_ms = 0;        ///< ... only this long after the first API request; 0 = no time limit
    std::string lb_503_retry_after = "3600";  ///< Retry-After of the load balancer's 503
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

    /// The options as given.
    const FaultOptions& options() const { return m_options; }

    /// Sleeps the configured latency.
    void delay() const;

    /// Whether --faults-on selects a request to this endpoint and path.
    bool applies(Endpoint endpoint, std::string_view path) const;

    /// Whether the load balancer in front of the API answers this request 503 (--lb-503-first, -for-ms).
    bool load_balancer_503();

    /// The error a request must get instead of being served (forbid, rate limit, and when `on` (see applies)
    /// --code and the random faults).
    std::optional<InjectedError> before_serving(bool on);

    /// Whether a 200 answer must be truncated (only when `on`).
    bool truncate_answer(bool on);

    /// The size in bytes of an oversized answer to send instead of a 200 (only when `on`); 0: send it as is.
    std::size_t huge_answer(bool on);

    /// Whether a gzip bomb replaces a 200 answer (only when `on`).
    bool gzip_bomb(bool on);

private:
    std::optional<InjectedError> draw_error(bool on);
    double next_unit();
    std::chrono::steady_clock::time_point first_request_at();

    FaultOptions m_options;
    std::atomic<std::uint64_t> m_draws{0};
    std::optional<InjectedError> code_window();

    std::mutex m_rate_mutex;
    SecondCounter m_rate_window;
    std::atomic<long> m_code_served{0};
    std::atomic<long> m_allowance_used{0};
    std::atomic<long> m_huge_served{0};
    std::atomic<long> m_bombs_served{0};
    std::atomic<long> m_lb_served{0};
    std::once_flag m_first_request;
    std::chrono::steady_clock::time_point m_first_request_at{};
};

}  // namespace fake_api
