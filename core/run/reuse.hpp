#pragma once
// reuse_days (docs/contract.md §1): answers a phase gave on earlier dates, copied instead of fetched again, for
// phases whose request does not depend on the date (the id of a name does not change from day to day).

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "core/api/items.hpp"
#include "core/config/phase_def.hpp"
#include "core/snapshot/sink.hpp"
#include "core/state/checkpoint.hpp"
#include "core/util/stop_flag.hpp"

namespace pipeline::core {

/// For each of the first `count` items of `items` not in `done` that phase `def` answered on one of the
/// def.reuse_days dates before `date` (newest date first; that date's newest COMPLETED snapshot), calls
/// `copy(record, item)` with the record written then; an item is matched by the values of its fields in the
/// record, and copied once. A refused item has no record, so it is asked again. Ends early when `stop` is
/// requested. An unreadable earlier snapshot is skipped with a warning. Returns how many items were copied.
std::size_t reuse_earlier_records(Sink& sink, const PhaseDef& def, const ItemList& items, std::size_t count,
                                  const DoneSet& done, const std::string& date, const StopFlag& stop,
                                  const std::function<void(std::string_view, std::size_t)>& copy);

} // namespace pipeline::core
