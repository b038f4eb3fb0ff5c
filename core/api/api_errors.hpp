#pragma once
// The MapleStory Open API's error table: each error name with its HTTP status, its meaning and what pipeline
// does with it. The one place API error codes are known; classify_answer reads it (docs/live-api.md shows it).

#include <array>
#include <string_view>

#include "core/fetch/fetch_outcome.hpp"

namespace pipeline::core {

/// One row of the API's error table.
struct ApiError {
    std::string_view name;    ///< "OPENAPI00009"
    long http_status;         ///< the status the API sends it with
    std::string_view meaning; ///< what the API means by it
    Outcome outcome;          ///< what pipeline does: retry, reject the item, or fail the phase
    RetryClass retry_class;   ///< why it is retried (None unless outcome is RetryLater)
    std::string_view hint;    ///< appended to the message of a fatal answer: what the operator should do
};

/// Every error name the API documents.
inline constexpr std::array<ApiError, 10> k_api_errors = {{
    {"OPENAPI00001", 500, "server error", Outcome::RetryLater, RetryClass::ServerError, ""},
    {"OPENAPI00002", 403, "forbidden", Outcome::Fatal, RetryClass::None, "the key may not access this API"},
    {"OPENAPI00003", 400, "invalid identifier", Outcome::RejectItem, RetryClass::None, ""},
    {"OPENAPI00004", 400, "invalid or missing parameter", Outcome::RejectItem, RetryClass::None, ""},
    {"OPENAPI00005", 400, "invalid API key", Outcome::Fatal, RetryClass::None, "check the API key"},
    {"OPENAPI00006", 400, "invalid game or API path", Outcome::Fatal, RetryClass::None, "check api.base_url"},
    {"OPENAPI00007", 429, "too many calls", Outcome::RetryLater, RetryClass::RateLimited, ""},
    {"OPENAPI00009", 400, "data being prepared", Outcome::RetryLater, RetryClass::DataPreparing, ""},
    {"OPENAPI00010", 400, "game maintenance", Outcome::RetryLater, RetryClass::Maintenance, ""},
    {"OPENAPI00011", 503, "API maintenance", Outcome::RetryLater, RetryClass::Maintenance, ""},
}};

/// The row of an error name; nullptr when the API does not document it.
const ApiError* find_api_error(std::string_view name);

/// Classifies an answer of the API: an error object's `name` decides by k_api_errors (an unknown name is
/// retried as UnknownError, so that the phase fails naming it once the attempts run out); answers without
/// one (200s, transport failures, a proxy's 502) are classified by HTTP alone (core::classify). Never throws.
Classified classify_answer(const TransportResult& result, SystemTime now);

} // namespace pipeline::core
