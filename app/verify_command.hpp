#pragma once
// pipeline verify [PHASE] [--date YYYY-MM-DD] [--json]

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "app/global_options.hpp"

namespace pipeline::app {

/// Options of `verify`.
struct VerifyOptions {
    std::string phase = "all";
    std::optional<std::string> date; ///< unset: yesterday in Asia/Seoul; an empty one is a usage error
    bool json = false;
};

/// Adds the `verify` subcommand to app.
CLI::App* add_verify_command(CLI::App& app, VerifyOptions& options);

/// Checks the date's snapshots against their manifests and prints one line per phase (or JSON); returns 0
/// when every phase is OK, 1 when any is INCOMPLETE, BAD or MISSING. Throws core::Error (exit 2) on a usage
/// error (a date the API cannot serve included).
int verify_command(const GlobalOptions& global, const VerifyOptions& options);

} // namespace pipeline::app
