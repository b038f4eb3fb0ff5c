#pragma once
// pipeline gc --keep-days N [--dry-run]

#include <CLI/CLI.hpp>

#include "app/global_options.hpp"

namespace pipeline::app {

/// Options of `gc`.
struct GcOptions {
    int keep_days = -1;
    bool dry_run = false;
};

/// Adds the `gc` subcommand to app.
CLI::App* add_gc_command(CLI::App& app, GcOptions& options);

/// Removes old snapshots, their checkpoints and stale temporaries, printing each on stdout; returns 0 when
/// everything went, 1 when something could not be removed (named on stderr).
int gc_command(const GlobalOptions& global, const GcOptions& options);

} // namespace pipeline::app
