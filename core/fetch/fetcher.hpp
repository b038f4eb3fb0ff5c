#pragma once
// The request loop every phase shares: keeps requests in flight as the process's in-flight budget allows
// (docs/pacing.md), each sent at a time the rate limit books, retries
// with exponential backoff and full jitter, honours Retry-After, and stops starting requests once the phase's
// stop flag is set. When the API keeps asking to wait past max_wait (whatever the answer), or the call budget
// says no, it sets the stop flag itself, with the reason (docs/live-api.md).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/fetch/backoff.hpp"
#include "core/fetch/fetch_outcome.hpp"
#include "core/fetch/in_flight_budget.hpp"
#include "core/fetch/rate_limiter.hpp"
#include "core/fetch/retry_class.hpp"
#include "core/fetch/transport.hpp"
#include "core/util/error.hpp"
#include "core/util/stop_flag.hpp"

namespace pipeline::core {

/// One item to fetch: its index in the phase's item list and the URL (path and query, base included).
struct FetchTask {
    std::size_t index = 0;
    std::string url;
};

/// An item finished for good: its body, or the API's refusal.
struct FetchedItem {
    std::size_t index = 0; ///< its position in the phase\'s item list
    bool rejected = false;
    std::string body;       ///< the 200 body when not rejected
    long http_status = 0;
    std::string error_name; ///< when rejected: the API's error name
    std::string message;    ///< when rejected: the API's message
};

/// Request counters, updated by the fetch loop and read by the progress reporter (any thread).
struct FetchCounters {
    std::atomic<std::uint64_t> requests{0};
    std::atomic<std::uint64_t> retries{0};
    AtomicRetryCounts retries_by_class{}; ///< indexed by RetryClass
    std::atomic<std::uint64_t> in_flight{0};     ///< requests of this phase in flight now
    std::atomic<std::uint64_t> answer_ms_p50{0}; ///< median time of this phase's recent answers, ms

    /// Counts one retry of `retry_class` (None counts only in `retries`).
    void count_retry(RetryClass retry_class);
    /// The retries of one class so far.
    std::uint64_t retries_of(RetryClass retry_class) const;
    /// A snapshot of the per-class retry counters.
    RetryCounts retry_counts() const;
};

/// How the fetch loop behaves.
struct FetchSettings {
    /// The process's in-flight budget, shared by the phases running side by side; null: a budget of
    /// `concurrency` of this fetcher's own.
    InFlightBudget* budget = nullptr;
    std::size_t concurrency = 32;
    int max_attempts = 5;
    std::chrono::milliseconds backoff_base{200};
    std::chrono::milliseconds backoff_max{30000};
    /// Checks that a 200 body has the shape the phase needs; a body it refuses is retried like a bad body.
    /// Empty: any JSON object is accepted.
    std::function<bool(const std::string&)> accept_body;
    /// What an answer means (the API's error table: core::classify_answer). Empty: HTTP alone (core::classify).
    AnswerClassifier classify;
    /// The most the API may make one item wait in total (Retry-After, maintenance, data not ready) before
    /// the loop stops with the retry class's stop reason (`unavailable` for an answer of another class that
    /// carries a Retry-After); also caps every single wait, our own backoff included.
    std::chrono::milliseconds max_wait{std::chrono::seconds(600)};
    /// Asked before every request (retries included); a reason other than None stops the loop with it
    /// instead of sending (the daily call budget). Empty: always send.
    std::function<StopReason()> before_send;
};

/// Thrown when the phase must fail: a fatal answer, or an item that kept failing after max_attempts.
class FetchFailure : public Error {
  public:
    explicit FetchFailure(const std::string& message) : Error(ExitCode::Failed, message) {}
};

/// How a fetch loop ended.
enum class FetchEnd { Finished, Stopped };

/// Runs tasks through a Transport. One Fetcher per phase; run() is called on one thread.
class Fetcher {
  public:
    Fetcher(Transport& transport, RateLimiter& limiter, FetchSettings settings, StopFlag& stop,
            FetchCounters& counters);

    /// Fetches every task `next` yields (nullopt: no more), handing each finished item to `deliver` on this
    /// thread. Returns Stopped when the stop flag ended it early (requests in flight are awaited, nothing new
    /// starts); the flag's reason says why. Throws FetchFailure on a fatal answer or exhausted retries.
    FetchEnd run(const std::function<std::optional<FetchTask>()>& next,
                 const std::function<void(FetchedItem&&)>& deliver);

  private:
    Transport& m_transport;
    RateLimiter& m_limiter;
    FetchSettings m_settings;
    StopFlag& m_stop;
    FetchCounters& m_counters;
    Backoff m_backoff;
};

} // namespace pipeline::core
