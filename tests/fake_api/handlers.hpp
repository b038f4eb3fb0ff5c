#pragma once

#include "dataset.hpp"
#include "faults.hpp"
#include "stats.hpp"

#include <httplib.h>
#include <string>

namespace fake_api {

/// Everything the route handlers share; must outlive the server.
struct ApiContext {
    const Dataset& dataset;  ///< the characters served
    Faults& faults;          ///< fault injection
    Stats& stats;            ///< traffic counters
    std::string key;         ///< the expected x-nxopen-api-key
};

/// Registers the Open API routes and the /_ control routes on server.
void register_routes(httplib::Server& server, ApiContext& context);

/// The body of an API request served with no faults: status and JSON text (used by --dump-static too).
struct Answer {
    int status = 200;   ///< HTTP status
    std::string body;   ///< JSON body
};

/// Serves GET ranking/overall from its query parameters.
Answer serve_ranking(const Dataset& dataset, const httplib::Params& params);

/// Serves GET id from its query parameters.
Answer serve_id(const Dataset& dataset, const httplib::Params& params);

/// Serves GET character/basic from its query parameters.
Answer serve_basic(const Dataset& dataset, const httplib::Params& params);

/// Serves GET character/item-equipment from its query parameters.
Answer serve_item(const Dataset& dataset, const httplib::Params& params);

}  // namespace fake_api
