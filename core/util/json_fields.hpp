#pragma once
// Typed, range-checked reading of the JSON state files (ledger, checkpoints, manifests): every error names
// the file and the field, never nlohmann's raw "[json.exception.type_error...]".

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/util/error.hpp"

namespace pipeline::core {

/// One JSON object of a state file and where it is ("run/ledger.json: phases[2]"). Each getter checks type
/// and range and throws core::Error (exit 1) "<file>: field '<path>': expected ..., got ..." otherwise.
class JsonFields {
  public:
    /// Throws core::Error when `object` is not a JSON object.
    JsonFields(const nlohmann::json& object, std::string file, std::string path = "");

    /// A required string; `max_size` bounds it.
    std::string string(std::string_view key, std::size_t max_size = 4096) const;
    /// A string, or `fallback` when the key is missing or null.
    std::string string_or(std::string_view key, std::string fallback, std::size_t max_size = 65536) const;
    /// A string, or nullopt when the key is missing or null.
    std::optional<std::string> optional_string(std::string_view key, std::size_t max_size = 65536) const;
    /// A required unsigned integer no larger than `max` (a float such as 1e30 is refused).
    std::uint64_t uint(std::string_view key, std::uint64_t max = UINT64_MAX) const;
    /// An unsigned integer, or `fallback` when the key is missing or null.
    std::uint64_t uint_or(std::string_view key, std::uint64_t fallback, std::uint64_t max = UINT64_MAX) const;
    /// A boolean, or `fallback` when the key is missing or null.
    bool boolean_or(std::string_view key, bool fallback) const;
    /// A required array.
    const nlohmann::json& array(std::string_view key) const;
    /// The nested object under `key`; nullopt when the key is missing or null.
    std::optional<JsonFields> optional_object(std::string_view key) const;
    /// The element `index` of an array field, as an object.
    JsonFields element(std::string_view key, const nlohmann::json& value, std::size_t index) const;

    /// Throws the error for `key` with `problem` ("expected ..., got ..." or any sentence), exit 1 unless
    /// `code` says otherwise.
    [[noreturn]] void fail(std::string_view key, const std::string& problem,
                           ExitCode code = ExitCode::Failed) const;
    /// A run id field: empty when missing or null (unless `required`); throws core::Error with exit 2 when
    /// it is not of the form pipeline generates, since it would name a path or an S3 key.
    std::string run_id(std::string_view key, bool required) const;
    /// The dotted path of `key` inside the file ("phases[2].pid").
    std::string field_path(std::string_view key) const;
    const std::string& file() const { return m_file; }

  private:
    const nlohmann::json* find(std::string_view key) const;

    const nlohmann::json* m_object;
    std::string m_file;
    std::string m_path;
};

/// A short, escaped rendering of a JSON value for an error message (at most about 60 characters).
std::string json_excerpt(const nlohmann::json& value);

} // namespace pipeline::core
