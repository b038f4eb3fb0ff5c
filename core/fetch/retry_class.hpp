#pragma once
// Why an answer is retried: one table of retry classes (enum, key, log label, what a long wait means), the
// only list the fetch loop, the ledger, checkpoints, metrics, retry summaries and status read.

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/util/stop_reason.hpp"

namespace pipeline::core {

/// Why an answer is retried. The values index k_retry_classes and every RetryCounts; None comes last.
enum class RetryClass { RateLimited, ServerError, DataPreparing, Transport, BadBody, Maintenance, UnknownError, None };

/// One retry class: its key in JSON and metrics, its label in logs, and how its waits end.
struct RetryClassInfo {
    RetryClass retry_class;
    std::string_view key;   ///< "rate_limited": ledger retries_by_class, metrics class label
    std::string_view label; ///< "429": retry summaries in the log, status detail
    /// None: retried up to api.max_attempts, then the phase fails. Otherwise the API asks us to wait: retried
    /// without an attempt limit until the waits pass api.max_wait_s, then the phase stops with this reason.
    StopReason wait_stop;
};

/// Every retry class, in enum order.
inline constexpr std::array<RetryClassInfo, 7> k_retry_classes = {{
    {RetryClass::RateLimited, "rate_limited", "429", StopReason::RateLimited},
    {RetryClass::ServerError, "server_error", "5xx", StopReason::None},
    {RetryClass::DataPreparing, "data_preparing", "data preparing", StopReason::NotReady},
    {RetryClass::Transport, "transport", "transport", StopReason::None},
    {RetryClass::BadBody, "bad_body", "bad body", StopReason::None},
    {RetryClass::Maintenance, "maintenance", "maintenance", StopReason::Maintenance},
    {RetryClass::UnknownError, "unknown_error", "unknown error", StopReason::None},
}};

/// Number of retry classes (None excluded).
inline constexpr std::size_t k_retry_class_count = k_retry_classes.size();

static_assert(static_cast<std::size_t>(RetryClass::None) == k_retry_class_count, "None must come last");
static_assert([] {
    for (std::size_t i = 0; i < k_retry_class_count; ++i) {
        if (static_cast<std::size_t>(k_retry_classes[i].retry_class) != i) {
            return false;
        }
    }
    return true;
}(), "k_retry_classes rows must be in enum order");

/// The table row of a class; `retry_class` must not be None.
constexpr const RetryClassInfo& retry_class_info(RetryClass retry_class) {
    return k_retry_classes[static_cast<std::size_t>(retry_class)];
}

/// Retries counted per class, indexed by RetryClass.
using RetryCounts = std::array<std::uint64_t, k_retry_class_count>;

/// Retries counted per class by the fetch loop while other threads read them.
using AtomicRetryCounts = std::array<std::atomic<std::uint64_t>, k_retry_class_count>;

} // namespace pipeline::core
