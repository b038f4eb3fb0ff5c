#pragma once

#include "dataset.hpp"
#include "faults.hpp"
#include "stats.hpp"
#include "wire.hpp"

#include <httplib.h>
#include <string>

namespace fake_api {

/// How answers go on the wire.
struct WireOptions {
    bool gzip = true;          ///< gzip a body when the request's Accept-Encoding accepts it
    int gzip_level = 6;        ///< level of that gzip (libdeflate, 1..12)
    std::string gzip_bomb;     ///< the gzip member sent by --gzip-bomb-first (built once at startup)
    std::size_t gzip_bomb_inflated = 0;  ///< what it inflates to, in bytes
};

/// Everything the route handlers share; must outlive the server.
struct ApiContext {
    const Dataset& dataset;  ///< the characters served
    Faults& faults;          ///< fault injection
    Stats& stats;            ///< traffic counters
    std::string key;         ///< the expected x-nxopen-api-key
    WireOptions wire;        ///< compression and the gzip bomb
    GzipCache gzip_cache;    ///< gzipped 200 answers already sent
};

/// Registers a route per row of endpoints() and the /_ control routes on server.
void register_routes(httplib::Server& server, ApiContext& context);

}  // namespace fake_api
