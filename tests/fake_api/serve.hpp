#pragma once

#include "dataset.hpp"

#include <httplib.h>
#include <string>
#include <string_view>

namespace fake_api {

/// The answer to an API request served with no faults: status and JSON text (used by --dump-static too).
struct Answer {
    int status = 200;   ///< HTTP status
    std::string body;   ///< JSON body
};

/// A request as a route sees it: the variable part of its path and its query parameters.
struct Query {
    std::string_view tail;          ///< the <x> of a pattern such as character/<x>; empty for a fixed path
    const httplib::Params& params;  ///< the query parameters
};

/// GET ranking/overall?date&page.
Answer serve_ranking(const Dataset& dataset, const Query& query);

/// GET ranking/guild?date&ranking_type&page (ranking_type 0, 1 or 2 is required).
Answer serve_guild_ranking(const Dataset& dataset, const Query& query);

/// GET ranking/<x>?date&page for the other rankings of characters; an unknown x is OPENAPI00006.
Answer serve_other_ranking(const Dataset& dataset, const Query& query);

/// GET id?character_name.
Answer serve_id(const Dataset& dataset, const Query& query);

/// GET character/basic?ocid&date.
Answer serve_basic(const Dataset& dataset, const Query& query);

/// GET character/item-equipment?ocid&date.
Answer serve_item(const Dataset& dataset, const Query& query);

/// GET character/<x>?ocid&date for any other x (character/skill also needs character_skill_grade).
Answer serve_character(const Dataset& dataset, const Query& query);

/// GET user/<x>?ocid&date (union, union-raider, union-artifact, ...).
Answer serve_user(const Dataset& dataset, const Query& query);

/// GET guild/id?guild_name&world_name.
Answer serve_guild_id(const Dataset& dataset, const Query& query);

/// GET guild/basic?oguild_id&date.
Answer serve_guild_basic(const Dataset& dataset, const Query& query);

/// Any other /maplestory/ path: 400 OPENAPI00006, as the live API answers a path it does not have.
Answer serve_unknown(const Dataset& dataset, const Query& query);

}  // namespace fake_api
