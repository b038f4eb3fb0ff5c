#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace fake_api {

class Dataset;
struct Answer;
struct Query;

/// The kinds of Open API endpoint the fake serves; each is one row of k_endpoints.
enum class Endpoint {
    Ranking, Id, Basic, Item, Character, User, RankingGuild, RankingOther, GuildId, Guild, Unknown
};

/// Number of values of Endpoint.
inline constexpr std::size_t k_endpoint_count = 11;

/// Serves one request to an endpoint from the dataset, with no faults.
using ServeFn = Answer (*)(const Dataset& dataset, const Query& query);

/// One kind of endpoint: its short name (for --faults-on and /_stats), the paths it serves and how.
struct EndpointInfo {
    Endpoint endpoint;       ///< its own value (the row's index)
    std::string_view name;   ///< short name, e.g. "item"
    std::string_view route;  ///< regular expression of the paths (group 1, if any, is the query's tail)
    std::string_view help;   ///< the paths in words, for --help
    ServeFn serve;           ///< answers a request
};

/// Every kind of endpoint, in routing order: the first row whose route matches a path serves it.
const std::array<EndpointInfo, k_endpoint_count>& endpoints();

/// The short name of an endpoint as used by --faults-on and /_stats ("ranking", "id", "basic", "item", ...).
std::string_view endpoint_name(Endpoint endpoint);

/// Parses a short endpoint name; nullopt if unknown.
std::optional<Endpoint> parse_endpoint(std::string_view name);

/// One line per endpoint kind ("  name  paths"), for --help.
std::string endpoint_help();

}  // namespace fake_api
