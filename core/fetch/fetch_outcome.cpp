#include "core/fetch/fetch_outcome.hpp"

#include <ctime>

#include <nlohmann/json.hpp>
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
            return std::chrono::milliseconds(std::chrono::hours(24 * 365)); // absurd, but a delay all the same
        }
        return std::chrono::seconds(std::stoll(std::string(value)));
    }
    std::tm tm{};
    const std::string text(value);
    const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (end == nullptr || *end != '\0') {
        return std::nullopt;
    }
    const SystemTime when = std::chrono::system_clock::from_time_t(timegm(&tm));
    if (when <= now) {
        return std::chrono::milliseconds(0);
    }
    return std::chrono::duration_cast<std::chrono::milliseconds>(when - now);
}

Classified classify(const TransportResult& result, SystemTime now) {
    if (result.error != TransportError::None) {
        const RetryClass retry_class =
            result.error == TransportError::Truncated ? RetryClass::BadBody : RetryClass::Transport;
        return make(Outcome::RetryLater, retry_class, std::string(transport_error_name(result.error)),
                    result.error_message);
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
    // The API's error name, when the body is its error object.
    std::string name;
    std::string api_message;
    const nlohmann::json body = nlohmann::json::parse(result.body, nullptr, false);
    if (body.is_object()) {
        if (const auto error = body.find("error"); error != body.end() && error->is_object()) {
            name = error->value("name", "");
            api_message = error->value("message", "");
        }
    }
    const std::string described = "HTTP " + std::to_string(result.status) + (name.empty() ? "" : " " + name) +
                                  (api_message.empty() ? "" : ": " + api_message);
    if (result.status == 429 || name == "OPENAPI00007") {
        Classified c = make(Outcome::RetryLater, RetryClass::RateLimited, name.empty() ? "HTTP429" : name,
                            described);
        if (result.retry_after) {
            c.retry_after = parse_retry_after(*result.retry_after, now);
        }
        return c;
    }
    if (result.status >= 500) {
        return make(Outcome::RetryLater, RetryClass::ServerError,
                    name.empty() ? "HTTP" + std::to_string(result.status) : name, described);
    }
    if (name == "OPENAPI00009") {
        return make(Outcome::RetryLater, RetryClass::DataPreparing, name, described);
    }
    if (name == "OPENAPI00003" || name == "OPENAPI00004") {
        return make(Outcome::RejectItem, RetryClass::None, name, described);
    }
    if (result.status == 408) {
        return make(Outcome::RetryLater, RetryClass::Transport, "HTTP408", described);
    }
    if (name == "OPENAPI00005") {
        return make(Outcome::Fatal, RetryClass::None, name, described + " (check the API key)");
    }
    if (result.status == 403 || name == "OPENAPI00002") {
        return make(Outcome::Fatal, RetryClass::None, name.empty() ? "HTTP403" : name,
                    described + " (the key may not access this API)");
    }
    return make(Outcome::Fatal, RetryClass::None, name.empty() ? "HTTP" + std::to_string(result.status) : name,
                described + " (unexpected answer: check api.base_url)");
}

} // namespace pipeline::core
