#pragma once
// Why a phase ended STOPPED: one table of reasons, read by the ledger, status, manifests, logs and metrics
// (docs/live-api.md lists what each one means).

#include <array>
#include <optional>
#include <string_view>

namespace pipeline::core {

/// Why a stop was requested. None: no stop (or a run that did not end STOPPED).
enum class StopReason { None, Operator, Signal, Quota, RateLimited, Maintenance, NotReady, Unavailable };

/// One row of the stop reason table: the reason and its key in JSON, metrics and logs.
struct StopReasonInfo {
    StopReason reason;
    std::string_view key;
    std::string_view meaning; ///< one line for people (status, docs)
};

/// Every reason except None, in a fixed order: the one list every output iterates.
inline constexpr std::array<StopReasonInfo, 7> k_stop_reasons = {{
    {StopReason::Operator, "operator", "pipeline stop was run for this run"},
    {StopReason::Signal, "signal", "the run process got SIGINT or SIGTERM"},
    {StopReason::Quota, "quota", "the daily call budget (api.daily_quota) is spent"},
    {StopReason::RateLimited, "rate_limited", "the API kept answering 429 past api.max_wait_s"},
    {StopReason::Maintenance, "maintenance", "the API or the game was under maintenance past api.max_wait_s"},
    {StopReason::NotReady, "not_ready", "the day's data was still being prepared past api.max_wait_s"},
    {StopReason::Unavailable, "unavailable",
     "an answer (a 5xx, an unknown error) asked to wait (Retry-After) past api.max_wait_s"},
}};

/// The key of a reason ("quota"); empty for None.
std::string_view stop_reason_key(StopReason reason);

/// Parses a key written by stop_reason_key; nullopt when unknown.
std::optional<StopReason> parse_stop_reason(std::string_view key);

} // namespace pipeline::core
