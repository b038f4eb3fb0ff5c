#pragma once
// What a phase's answers must hold and the records it writes from them (docs/contract.md §1, "record",
// "rows", "expect"). Answers are spliced verbatim: big integers, Korean text and key order survive.

#include <functional>
#include <optional>
#include <string_view>

#include "core/api/items.hpp"
#include "core/config/phase_def.hpp"

namespace pipeline::core {

/// Receives each record (one JSON object, no newline) a builder makes from an answer.
using EmitRecord = std::function<void(std::string_view)>;

/// True when a 200 answer (already known to be a JSON object) has what the phase's records need: an array
/// `rows` when the phase has rows, a non-empty string `expect` when it expects one. An answer it refuses is
/// retried like a bad body.
bool answer_ok(const PhaseDef& def, std::string_view body);

/// The number of elements of the answer's `rows` array; nullopt when the phase has no rows or the answer
/// has no such array. A page with none ends its pages early.
std::optional<std::size_t> answer_rows(const PhaseDef& def, std::string_view body);

/// Turns a checked answer for an item with fields `item` into records: each element of `rows`; or
/// {<item fields>, "date": date, "data": <answer>} (wrap); or the item's fields then the answer's (merge).
/// False when the answer does not have the shape answer_ok promises.
bool make_records(const PhaseDef& def, const ItemFields& item, std::string_view date, std::string_view body,
                  const EmitRecord& emit);

} // namespace pipeline::core
