#pragma once
// What an API answer means for its item (docs/contract.md §8): use it, retry later, refuse the item, or fail the phase.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "core/fetch/transport.hpp"
#include "core/util/time_util.hpp"

namespace pipeline::core {

/// The four outcomes the retry loop switches on.
enum class Outcome {
    Ok,         ///< 200 with a complete JSON object
    RetryLater, ///< 429, 5xx, OPENAPI00009, transport failure, truncated or unparsable body
    RejectItem, ///< OPENAPI00003 / OPENAPI00004: refused for good, written to _rejects.jsonl
    Fatal,      ///< invalid key, forbidden, or an answer that says the request itself is wrong
};

/// Why an answer is retried (counted separately in the ledger).
enum class RetryClass { None, RateLimited, ServerError, DataPreparing, Transport, BadBody };

/// The classification of one answer.
struct Classified {
    Outcome outcome = Outcome::Ok;
    RetryClass retry_class = RetryClass::None;
    std::string error_name; ///< the API's error name ("OPENAPI00007"), or a transport name ("TIMEOUT")
    std::string message;    ///< a one-line description, without secrets
    std::optional<std::chrono::milliseconds> retry_after;
};

/// Classifies a finished transfer; `now` anchors an HTTP-date Retry-After.
Classified classify(const TransportResult& result, SystemTime now);

/// Parses a Retry-After value: delay-seconds or an HTTP date (RFC 9110); nullopt when malformed.
/// A date in the past gives zero.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value, SystemTime now);

} // namespace pipeline::core
