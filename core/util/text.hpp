#pragma once
// Small text helpers shared across the tree: trimming, case, percent-encoding, durations.

#include <string>
#include <string_view>

namespace pipeline::core {

/// `text` without leading and trailing spaces, tabs, CR and LF.
std::string_view trim(std::string_view text);

/// ASCII lower case of `text`.
std::string to_lower(std::string_view text);

/// Percent-encodes `text` as RFC 3986 (and AWS's UriEncode) want: unreserved characters stay, every other
/// byte becomes %XX (upper-case hex); '/' stays too when `keep_slash` (an S3 key's path).
std::string percent_encode(std::string_view text, bool keep_slash = false);

/// A duration for people: "42s", "3m07s", "2h05m".
std::string duration_text(double seconds);

} // namespace pipeline::core
