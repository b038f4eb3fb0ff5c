#pragma once
// The items a phase fetches, as its row of the phase table says: page numbers for a phase without upstream,
// else the distinct values of a field of the upstream snapshot's records.

#include <string>
#include <vector>

#include "core/api/phase.hpp"
#include "core/snapshot/sink.hpp"
#include "core/snapshot/snapshot.hpp"

namespace pipeline::core {

/// Lists the item keys of `phase`: "1".."ranking_pages" without upstream; otherwise each distinct value of
/// the phase's item_field in the `upstream` records, in upstream order. A record without a non-empty string
/// in that field goes to `unusable` (the record's text) when given; without it, it throws core::Error naming
/// the upstream run.
std::vector<std::string> list_items(Phase phase, int ranking_pages, Sink& sink, const Manifest* upstream,
                                    std::vector<std::string>* unusable = nullptr);

} // namespace pipeline::core
