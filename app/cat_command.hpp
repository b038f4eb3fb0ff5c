#pragma once
// pipeline cat PHASE [--date YYYY-MM-DD]

#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "app/global_options.hpp"

namespace pipeline::app {

/// Options of `cat`.
struct CatOptions {
    std::string phase;
    std::optional<std::string> date; ///< unset: yesterday in Asia/Seoul; an empty one is a usage error
};

/// Adds the `cat` subcommand to app.
CLI::App* add_cat_command(CLI::App& app, CatOptions& options);

/// Writes the records of the date's current snapshot (the run _current.json names) to stdout, decompressed,
/// in part order, one part streamed at a time. Returns 0 when all were written; 1 with "MISSING <PHASE>" on
/// stderr when no run of the date completed, with a message naming the part when one is bad, or quietly when
/// stdout was closed early (`| head`). Throws core::Error (exit 2) on a usage error, and (exit 1) when the
/// sink cannot be read.
int cat_command(const GlobalOptions& global, const CatOptions& options);

} // namespace pipeline::app
