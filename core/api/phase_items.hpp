#pragma once
// What differs between the four phases: how a phase lists its items, which URL it asks for each, and what
// records it writes from an answer.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/api/phase.hpp"
#include "core/snapshot/sink.hpp"
#include "core/snapshot/snapshot.hpp"

namespace pipeline::core {

/// Lists the items of a phase: page numbers "1".."pages" for RANKING_FETCH; the distinct character names of
/// the upstream ranking (in rank order) for OCID_LOOKUP; the upstream ocids for the detail phases.
/// Throws core::Error when an upstream record is malformed.
std::vector<std::string> list_items(Phase phase, int ranking_pages, Sink& sink, const Manifest* upstream);

/// The request URL for one item: base_url + path + percent-encoded query.
std::string item_url(Phase phase, const std::string& base_url, const std::string& item, const std::string& date);

/// True when a 200 answer (already known to be a JSON object) has what make_records needs: a "ranking"
/// array for RANKING_FETCH, an "ocid" string for OCID_LOOKUP; any object for the detail phases.
bool has_expected_shape(Phase phase, std::string_view body);

/// Turns a 200 answer into records, calling emit for each; returns false when the answer does not have the
/// shape the API promises (has_expected_shape lets the fetch loop retry such answers before they get here).
bool make_records(Phase phase, const std::string& item, const std::string& date, std::string_view body,
                  const std::function<void(std::string_view)>& emit);


} // namespace pipeline::core
