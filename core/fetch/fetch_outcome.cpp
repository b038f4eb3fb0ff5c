#include "core/fetch/fetch_outcome.hpp"

#include <ctime>

#include <simdjson.h>

#include "core/util/text.hpp"

namespace pipeline::core {

namespace {

std::string_view transport_error_name(TransportError error) {
    switch (error) {
    case TransportError::None:
        return "NONE";
    case TransportError::Timeout:
        return "TIMEOUT";
    case TransportError::Connect:
        return "CONNECT";
    case TransportError::Reset:
        return "RESET";
    case TransportError::Truncated:
        return "TRUNCATED";
    case TransportError::TooLarge:
        return "TOO_LARGE";
    case TransportError::BadEncoding:
        return "BAD_ENCODING";
    case TransportError::Tls:
        return "TLS";
    case TransportError::Other:
        return "TRANSPORT";
    }
    return "TRANSPORT";
}

bool is_json_object(const std::string& body) {
    static thread_local simdjson::dom::parser parser;
    simdjson::dom::element root;
    return parser.parse(body.data(), body.size(), true).get(root) == simdjson::SUCCESS && root.is_object();
}

// The longest delay a Retry-After gives: absurd, but a delay all the same.
constexpr std::chrono::milliseconds k_absurd_delay = std::chrono::hours(24 * 365);

Classified make(Outcome outcome, RetryClass retry_class, std::string name, std::string message) {
    return Classified{outcome, retry_class, std::move(name), std::move(message), std::nullopt};
}

} // namespace

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value, SystemTime now) {
    value = trim(value);
    if (value.empty()) {
        return std::nullopt;
    }
    if (value.find_first_not_of("0123456789") == std::string_view::npos) {
        if (value.size() > 9) {
            return k_absurd_delay;
        }
        return std::chrono::seconds(std::stoll(std::string(value)));
    }
    std::tm tm{};
    const std::string text(value);
    const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == nullptr || *end != '\0') {
        return std::nullopt;
    }
    // Compared in seconds first: system_clock counts nanoseconds, so converting a date centuries away
    // (year 999 or 9999, which %Y accepts) would overflow.
    const std::time_t when_seconds = timegm(&tm);
    const std::time_t now_seconds = std::chrono::system_clock::to_time_t(now);
    if (when_seconds < now_seconds) {
        return std::chrono::milliseconds(0);
    }
    if (when_seconds - now_seconds > std::chrono::duration_cast<std::chrono::seconds>(k_absurd_delay).count()) {
        return k_absurd_delay;
    }
    const SystemTime when = std::chrono::system_clock::from_time_t(when_seconds);
    if (when <= now) {
        return std::chrono::milliseconds(0);
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(when - now);
}

std::string describe_answer(long status, std::string_view name, std::string_view message) {
    std::string text = "HTTP " + std::to_string(status);
    if (!name.empty()) {
        text += " ";
        text += name;
    }
    if (!message.empty()) {
        text += ": ";
        text += message;
    }
    return text;
}

Classified classify(const TransportResult& result, SystemTime now) {
    if (result.error == TransportError::Tls) {
        return make(Outcome::Fatal, RetryClass::None, "TLS",
                    "TLS: " + result.error_message +
                        " (give the PEM bundle that signs the API's certificate in api.ca_file)");
    }
    if (result.error != TransportError::None) {
        const bool bad_body = result.error == TransportError::Truncated ||
                              result.error == TransportError::TooLarge || result.error == TransportError::BadEncoding;
        return make(Outcome::RetryLater, bad_body ? RetryClass::BadBody : RetryClass::Transport,
                    std::string(transport_error_name(result.error)), result.error_message);
    }
    if (result.status == 200) {
        // Full validation (structure and UTF-8) at memory speed: this runs on the network thread for every
        // body, and the caller splices bodies into records verbatim.
        if (!is_json_object(result.body)) {
            return make(Outcome::RetryLater, RetryClass::BadBody, "BAD_BODY",
                        "HTTP 200 with a body that is not a complete JSON object");
        }
        return make(Outcome::Ok, RetryClass::None, "", "");
    }
    const std::string status_name = "HTTP" + std::to_string(result.status);
    const std::string described = describe_answer(result.status, "", "");
    Classified c;
    if (result.status == 429) {
        c = make(Outcome::RetryLater, RetryClass::RateLimited, status_name, described);
    } else if (result.status >= 500) {
        c = make(Outcome::RetryLater, RetryClass::ServerError, status_name, described);
    } else if (result.status == 408) {
        c = make(Outcome::RetryLater, RetryClass::Transport, status_name, described);
    } else if (result.status == 403) {
        c = make(Outcome::Fatal, RetryClass::None, status_name, described + " (the key may not access this API)");
    } else {
        c = make(Outcome::Fatal, RetryClass::None, status_name, described + " (unexpected answer: check api.base_url)");
    }
    if (c.outcome == Outcome::RetryLater && result.retry_after) {
        c.retry_after = parse_retry_after(*result.retry_after, now);
    }
    return c;
}

} // namespace pipeline::core
