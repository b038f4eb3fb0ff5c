#pragma once
// Small text helpers shared across the tree: trimming, case, percent-encoding, durations, and the one
// escaping of control characters that every text printed from the network or from files goes through.

#include <string>
#include <string_view>

namespace pipeline::core {

/// `text` without leading and trailing spaces, tabs, CR and LF.
std::string_view trim(std::string_view text);

/// ASCII lower case of `text`.
std::string to_lower(std::string_view text);

/// ASCII upper case of `text`.
std::string to_upper(std::string_view text);

/// True for a phase name: an upper-case letter, then up to 31 upper-case letters, digits or '_'
/// ([A-Z][A-Z0-9_]{0,31}). Phase names become file names and sink keys, so nothing else is accepted.
bool is_phase_name(std::string_view name);

/// Percent-encodes `text` as RFC 3986 (and AWS's UriEncode) want: unreserved characters stay, every other
/// byte becomes %XX (upper-case hex); '/' stays too when `keep_slash` (an S3 key's path).
std::string percent_encode(std::string_view text, bool keep_slash = false);

/// `text` made safe for a terminal or a one-line log: C0 controls, DEL, C1 controls (U+0080..U+009F), bidi
/// overrides and bytes that are not valid UTF-8 become visible escapes (`\x1b`, `\n`, `\u009b`, `\xff`);
/// every other character, UTF-8 included, stays. Never fails.
std::string escape_controls(std::string_view text);

/// A duration for people: "42s", "3m07s", "2h05m".
std::string duration_text(double seconds);

} // namespace pipeline::core
