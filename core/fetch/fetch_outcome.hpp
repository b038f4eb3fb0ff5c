#pragma once
// What an HTTP answer means for its item, as far as HTTP alone can tell: use it, retry later, refuse the item,
// or fail the phase. What the MapleStory API's error names mean is core/api/api_errors.hpp's business; the
// fetch loop takes that classifier as a function (FetchSettings::classify).

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/fetch/retry_class.hpp"
#include "core/fetch/transport.hpp"
#include "core/util/time_util.hpp"

namespace pipeline::core {

/// The four outcomes the retry loop switches on.
enum class Outcome {
    Ok,         ///< 200 with a complete JSON object
    RetryLater, ///< worth asking again later (the retry class says why)
    RejectItem, ///< the API refused this item for good: written to _rejects.jsonl
    Fatal,      ///< the request itself is wrong (key, path, certificate): the phase fails
};

/// The classification of one answer.
struct Classified {
    Outcome outcome = Outcome::Ok;
    RetryClass retry_class = RetryClass::None;
    std::string error_name; ///< the API's error name ("OPENAPI00007"), or a transport name ("TIMEOUT")
    std::string message;    ///< a one-line description, without secrets
    std::optional<std::chrono::milliseconds> retry_after;
};

/// A function that classifies a finished transfer; `now` anchors an HTTP-date Retry-After.
using AnswerClassifier = std::function<Classified(const TransportResult& result, SystemTime now)>;

/// Classifies a finished transfer by HTTP alone: transport failures and bodies that are not one complete JSON
/// object are retried, a TLS failure is fatal, 429 is rate limited, 5xx a server error, 408 a transport
/// retry, any other non-200 status fatal. Never throws.
Classified classify(const TransportResult& result, SystemTime now);

/// "HTTP 400 OPENAPI00009: message" (name and message left out when empty).
std::string describe_answer(long status, std::string_view name, std::string_view message);

/// Parses a Retry-After value: delay-seconds or an HTTP date (RFC 9110); nullopt when malformed.
/// A date in the past gives zero.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value, SystemTime now);

} // namespace pipeline::core
