#pragma once
// Reads pipeline.yaml's tree strictly: every problem becomes a core::Error (exit 2) "file:line: message"
// naming the key (docs/contract.md §7). Shared by the readers of each config section.

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <initializer_list>
#include <sstream>
#include <string>
#include <string_view>

#include "core/util/error.hpp"

namespace pipeline::core {

/// The closest-spelling distance between two words (for "did you mean ...").
std::size_t edit_distance(std::string_view a, std::string_view b);

/// True when a URL has a user-info part ("user:password@host").
bool has_userinfo(std::string_view url);

/// Walks the YAML tree and turns every problem into "file:line: message".
class Reader {
  public:
    explicit Reader(std::string file) : m_file(std::move(file)) {}

    [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
        const YAML::Mark mark = node.Mark();
        const std::string where = mark.line >= 0 ? ":" + std::to_string(mark.line + 1) : "";
        throw usage_error(m_file + where + ": " + message);
    }

    // Rejects anything but a mapping whose keys are plain names.
    void check_plain_keys(const YAML::Node& map, const std::string& section) const {
        if (!map.IsMap()) {
            fail(map, "'" + section + "' must be a mapping of keys");
        }
        for (const auto& entry : map) {
            // A complex key ("? {a: 1}: x") is valid YAML, but as<std::string>() would throw yaml-cpp's own
            // exception, which names no file (found by tests/fuzz/fuzz_config.cpp).
            if (!entry.first.IsScalar()) {
                fail(entry.first, "keys" + std::string(section.empty() ? "" : " under '" + section + "'") +
                                      " must be plain names");
            }
        }
    }

    // Rejects keys that are not in `allowed`, suggesting the closest allowed one.
    void check_keys(const YAML::Node& map, const std::string& section,
                    std::initializer_list<std::string_view> allowed) const {
        check_plain_keys(map, section);
        for (const auto& entry : map) {
            const std::string key = entry.first.as<std::string>();
            if (std::ranges::find(allowed, key) != allowed.end()) {
                continue;
            }
            std::string message = "unknown key '" + key + "'" + (section.empty() ? "" : " under '" + section + "'");
            const auto best = std::ranges::min_element(
                allowed, {}, [&](std::string_view candidate) { return edit_distance(key, candidate); });
            if (best != allowed.end() && edit_distance(key, *best) <= 3) {
                message += " (did you mean '" + std::string(*best) + "'?)";
            }
            fail(entry.first, message);
        }
    }

    template <typename T> T get(const YAML::Node& node, const std::string& key, std::string_view type) const {
        if (!node.IsScalar()) {
            fail(node, "'" + key + "' must be " + std::string(type));
        }
        try {
            return node.as<T>();
        } catch (const YAML::Exception&) {
            fail(node, "'" + key + "' must be " + std::string(type) + ", got '" + node.Scalar() + "'");
        }
    }

    std::string string(const YAML::Node& node, const std::string& key) const {
        std::string value = get<std::string>(node, key, "a string");
        if (value.empty()) {
            fail(node, "'" + key + "' must not be empty");
        }
        return value;
    }

    long long integer(const YAML::Node& node, const std::string& key, long long min, long long max) const {
        const long long value = get<long long>(node, key, "a whole number");
        if (value < min || value > max) {
            fail(node, "'" + key + "' must be between " + std::to_string(min) + " and " + std::to_string(max) +
                           ", got " + std::to_string(value));
        }
        return value;
    }

    double number(const YAML::Node& node, const std::string& key, double min, double max) const {
        const double value = get<double>(node, key, "a number");
        if (!(value >= min && value <= max)) {
            std::ostringstream range;
            range << "'" << key << "' must be between " << min << " and " << max << ", got " << node.Scalar();
            fail(node, range.str());
        }
        return value;
    }

    std::string env_name(const YAML::Node& node, const std::string& key) const {
        std::string value = string(node, key);
        const bool valid = std::ranges::all_of(value, [](char c) {
            return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        });
        if (!valid || (value[0] >= '0' && value[0] <= '9')) {
            fail(node, "'" + key + "' must name an environment variable (letters, digits, '_'), got '" + value +
                           "'");
        }
        return value;
    }

    std::string url(const YAML::Node& node, const std::string& key) const {
        std::string value = string(node, key);
        // Credentials in a URL would travel into error messages, logs and the ledger: refuse them, and never
        // echo such a value (it holds a password).
        if (has_userinfo(value)) {
            fail(node, "'" + key + "' must not hold credentials (user:password@): give secrets through "
                           "environment variables (key_env, access_key_env, secret_key_env)");
        }
        if (!value.starts_with("http://") && !value.starts_with("https://")) {
            fail(node, "'" + key + "' must be an http:// or https:// URL, got '" + value + "'");
        }
        while (value.ends_with('/')) {
            value.pop_back();
        }
        return value;
    }

  private:
    std::string m_file;
};


} // namespace pipeline::core
