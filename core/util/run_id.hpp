#pragma once
// The one form of a run id ("20261123T010000Z-a1b2c3"): pipeline generates it, and every run id read back
// from a file (ledger, checkpoint, manifest, stop sentinel) must have it before it names a path or an S3 key.

#include <string>
#include <string_view>

namespace pipeline::core {

/// How a run id is spelled, for error messages.
inline constexpr std::string_view k_run_id_form =
    "YYYYMMDDTHHMMSSZ-xxxxxx (UTC time, 6 lower-case hex digits)";

/// True when `text` has the form of a run id pipeline generates: 8 digits, 'T', 6 digits, "Z-", 6 lower-case
/// hex digits. Anything else ("../x", "", a name with '/') is refused by every reader.
bool is_run_id(std::string_view text);

} // namespace pipeline::core
