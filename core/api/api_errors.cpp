#include "core/api/api_errors.hpp"

#include <nlohmann/json.hpp>

namespace pipeline::core {

const ApiError* find_api_error(std::string_view name) {
    for (const ApiError& error : k_api_errors) {
        if (error.name == name) {
            return &error;
        }
    }
    return nullptr;
}

Classified classify_answer(const TransportResult& result, SystemTime now) {
    if (result.error != TransportError::None || result.status == 200) {
        return classify(result, now);
    }
    std::string name;
    std::string api_message;
    const nlohmann::json body = nlohmann::json::parse(result.body, nullptr, false);
    if (body.is_object()) {
        if (const auto error = body.find("error"); error != body.end() && error->is_object()) {
            const auto name_it = error->find("name");
            const auto message_it = error->find("message");
            name = name_it != error->end() && name_it->is_string() ? name_it->get<std::string>() : "";
            api_message = message_it != error->end() && message_it->is_string() ? message_it->get<std::string>() : "";
        }
    }
    if (name.empty()) {
        return classify(result, now); // not the API's error object: a proxy, a load balancer, a wrong host
    }
    Classified c;
    c.error_name = name;
    c.message = describe_answer(result.status, name, api_message);
    if (const ApiError* known = find_api_error(name)) {
        c.outcome = known->outcome;
        c.retry_class = known->retry_class;
        if (!known->hint.empty()) {
            c.message += " (" + std::string(known->hint) + ")";
        }
    } else {
        c.outcome = Outcome::RetryLater;
        c.retry_class = RetryClass::UnknownError;
        c.message += " (an error name pipeline does not know)";
    }
    if (c.outcome == Outcome::RetryLater && result.retry_after) {
        c.retry_after = parse_retry_after(*result.retry_after, now);
    }
    return c;
}

} // namespace pipeline::core
