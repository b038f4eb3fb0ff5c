#pragma once
// An empty answer: the API's way of saying a character has no data that day. It is a normal record
// (docs/live-api.md), counted apart in progress as "empty".

#include <string_view>

namespace pipeline::core {

/// True when `body` is a JSON object whose fields are all null, "", [] or {} except "date". False for
/// anything else, including text that is not a JSON object.
bool is_empty_answer(std::string_view body);

} // namespace pipeline::core
