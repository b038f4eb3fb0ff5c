#pragma once
// The items a phase fetches, as its row of the phase table says: page numbers for a phase without upstream,
// else the distinct values of a field of the upstream snapshot's records.

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/api/phase.hpp"
#include "core/snapshot/sink.hpp"
#include "core/snapshot/snapshot.hpp"
#include "core/util/string_table.hpp"

namespace pipeline::core {

/// Lists the item keys of `phase`: "1".."ranking_pages" without upstream; otherwise each distinct value of
/// the phase's item_field in the `upstream` records, in upstream order (a repeat keeps its first place). A
/// record without a non-empty string in that field goes to `unusable` (the record's text) when given;
/// without it, it throws core::Error naming the upstream run.
StringTable list_items(Phase phase, int ranking_pages, Sink& sink, const Manifest* upstream,
                       StringTable* unusable = nullptr);

/// The item lists of phases running side by side in one process. Phases that list the same field of the same
/// upstream run (CHARACTER_BASIC and ITEM_EQUIPMENT both list the ocids of one OCID_LOOKUP run) share one
/// copy, read once and held while either runs: at 200,000 characters that is ~8 MB less (docs/compression.md).
/// Thread-safe.
class ItemListCache {
  public:
    /// list_items(phase, 0, sink, &upstream), or the list another phase already holds for the same upstream
    /// run and field. Throws as list_items does.
    std::shared_ptr<const StringTable> get(Phase phase, Sink& sink, const Manifest& upstream);

  private:
    std::mutex m_mutex; // held while a list is read, so that a sibling phase waits for it instead of reading too
    std::map<std::string, std::weak_ptr<const StringTable>, std::less<>> m_lists; // by sink, upstream run, field
};

} // namespace pipeline::core
