#include "endpoints.hpp"

#include "serve.hpp"

namespace fake_api {

namespace {

// Fixed paths come before the patterns that would also match them (character/basic before character/<x>).
constexpr std::array<EndpointInfo, k_endpoint_count> k_endpoints{{
    {Endpoint::Ranking, "ranking", "/maplestory/v1/ranking/overall", "ranking/overall", serve_ranking},
    {Endpoint::Id, "id", "/maplestory/v1/id", "id", serve_id},
    {Endpoint::Basic, "basic", "/maplestory/v1/character/basic", "character/basic", serve_basic},
    {Endpoint::Item, "item", "/maplestory/v1/character/item-equipment", "character/item-equipment",
     serve_item},
    {Endpoint::Character, "character", "/maplestory/v1/character/([a-z0-9-]+)",
     "character/<x>, any other x (stat, skill, ...)", serve_character},
    {Endpoint::User, "user", "/maplestory/v1/user/([a-z0-9-]+)",
     "user/<x> (union, union-raider, union-artifact, ...)", serve_user},
    {Endpoint::RankingGuild, "ranking-guild", "/maplestory/v1/ranking/guild", "ranking/guild",
     serve_guild_ranking},
    {Endpoint::RankingOther, "ranking-other", "/maplestory/v1/ranking/([a-z0-9-]+)", "ranking/<x>, x one of",
     serve_other_ranking},
    {Endpoint::GuildId, "guild-id", "/maplestory/v1/guild/id", "guild/id", serve_guild_id},
    {Endpoint::Guild, "guild", "/maplestory/v1/guild/basic", "guild/basic", serve_guild_basic},
    {Endpoint::Unknown, "unknown", "/maplestory/.*", "any other /maplestory/ path: 400 OPENAPI00006",
     serve_unknown},
}};

constexpr bool rows_in_order() {
    for (std::size_t i = 0; i < k_endpoint_count; ++i) {
        if (static_cast<std::size_t>(k_endpoints[i].endpoint) != i) return false;
    }
    return true;
}
static_assert(rows_in_order(), "k_endpoints lists the Endpoint values in order");

}  // namespace

const std::array<EndpointInfo, k_endpoint_count>& endpoints() {
    return k_endpoints;
}

std::string_view endpoint_name(Endpoint endpoint) {
    return k_endpoints[static_cast<std::size_t>(endpoint)].name;
}

std::optional<Endpoint> parse_endpoint(std::string_view name) {
    for (const EndpointInfo& info : k_endpoints) {
        if (info.name == name) return info.endpoint;
    }
    return std::nullopt;
}

std::string endpoint_help() {
    std::string text;
    for (const EndpointInfo& info : k_endpoints) {
        std::string name(info.name);
        name.resize(15, ' ');
        text += "  " + name + std::string(info.help);
        if (info.endpoint == Endpoint::RankingOther) {
            for (std::string_view ranking : Dataset::other_ranking_names()) text += " " + std::string(ranking);
        }
        text += "\n";
    }
    return text;
}

}  // namespace fake_api
