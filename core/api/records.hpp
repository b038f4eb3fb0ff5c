#pragma once
// What the API's answers look like and the records each phase writes from them (docs/contract.md,
// "Records"). The phase table (phase.hpp) names one answer check and one record builder per phase.

#include <string_view>

#include "core/api/phase.hpp"

namespace pipeline::core {

/// A ranking page: an object with a "ranking" array.
bool ranking_answer_ok(std::string_view body);
/// An id answer: an object with a non-empty "ocid" string.
bool ocid_answer_ok(std::string_view body);
/// A detail answer (basic, item-equipment): any JSON object.
bool detail_answer_ok(std::string_view body);

/// RANKING_FETCH: each ranking entry as the API returns it, keys in the API's order.
bool ranking_records(std::string_view key, std::string_view date, std::string_view body, const RecordSink& emit);
/// OCID_LOOKUP: {"character_name": key, "ocid": ...}.
bool ocid_record(std::string_view key, std::string_view date, std::string_view body, const RecordSink& emit);
/// CHARACTER_BASIC and ITEM_EQUIPMENT: {"ocid": key, "date": date, "data": <the body verbatim>}.
bool detail_record(std::string_view key, std::string_view date, std::string_view body, const RecordSink& emit);

/// True when a 200 answer has what the phase's records need (the phase table's answer check).
bool has_expected_shape(Phase phase, std::string_view body);

/// Turns a 200 answer for item `key` into records through the phase table; false when the answer does not
/// have the shape the API promises (has_expected_shape lets the fetch loop retry such answers first).
bool make_records(Phase phase, std::string_view key, std::string_view date, std::string_view body,
                  const RecordSink& emit);

} // namespace pipeline::core
