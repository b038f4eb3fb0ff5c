#pragma once
// Where a phase's items come from (docs/contract.md §1): the distinct combinations of the upstream fields
// it names, read from the upstream's snapshot, in the upstream's order of first appearance. Stored as one
// buffer plus offsets (core/util/string_table.hpp), shared by sibling phases that name the same fields.

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/config/phase_def.hpp"
#include "core/snapshot/sink.hpp"
#include "core/snapshot/snapshot.hpp"
#include "core/util/string_table.hpp"

namespace pipeline::core {

/// What an upstream snapshot gives a phase.
struct UpstreamItems {
    StringTable tuples;   ///< fields.size() values per distinct combination, end to end
    StringTable unusable; ///< the text of each record whose named field is missing, null, empty or not a
                          ///< string or integer
};

/// Reads every record of `upstream` and lists the distinct combinations of the values of `fields` (an
/// integer counts as its decimal text). Throws core::Error when the snapshot cannot be read or holds more
/// than 2^32 records.
UpstreamItems list_upstream_items(const std::vector<std::string>& fields, Sink& sink, const Manifest& upstream);

/// The first of `fields` that `record` (an upstream record's text) has no usable value of; the first field
/// when the record is not a JSON object; "" when every field is usable.
std::string first_unusable_field(const std::vector<std::string>& fields, std::string_view record);

/// The upstream items of phases running side by side in one process. Phases that name the same fields of
/// the same upstream run (CHARACTER_BASIC, ITEM_EQUIPMENT, CHARACTER_STAT all name the ocid of one
/// OCID_LOOKUP run) share one copy, read once and held while any of them runs: at 200,000 characters that is
/// ~8 MB per phase less (docs/compression.md). Thread-safe.
class ItemListCache {
  public:
    /// list_upstream_items(fields, sink, upstream), or the list another phase already holds for the same
    /// upstream run and fields. Throws as list_upstream_items does.
    std::shared_ptr<const UpstreamItems> get(const std::vector<std::string>& fields, Sink& sink,
                                             const Manifest& upstream);

  private:
    std::mutex m_mutex; // held while a list is read, so that a sibling phase waits for it instead of reading too
    std::map<std::string, std::weak_ptr<const UpstreamItems>, std::less<>> m_lists; // by sink, run, fields
};

} // namespace pipeline::core
