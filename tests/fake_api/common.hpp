#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <nlohmann/json.hpp>

namespace fake_api {

/// JSON documents keep their keys in insertion order, like the real API's field order.
using Json = nlohmann::ordered_json;

/// The JSON body of an Open API error: {"error":{"name":code,"message":message}}.
std::string error_body(std::string_view code, std::string_view message);

/// A well-mixed 64-bit hash of a value and a salt (SplitMix64 finaliser).
std::uint64_t mix64(std::uint64_t value, std::uint64_t salt);

/// A well-mixed 64-bit hash of a byte string (FNV-1a, then the SplitMix64 finaliser).
std::uint64_t hash_text(std::string_view text);

/// Maps a 64-bit hash to a double in [0, 1).
double unit_interval(std::uint64_t hash);

/// Whether text is a plausible calendar date in the form YYYY-MM-DD.
bool is_valid_date(std::string_view text);

/// The first 32 lowercase hex characters of the SHA-256 of text.
std::string sha256_hex32(std::string_view text);

/// Percent-encodes every byte outside [A-Za-z0-9-._~] with uppercase hex, as curl does.
std::string url_encode(std::string_view text);

}  // namespace fake_api
