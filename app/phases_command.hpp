#pragma once
// pipeline complete-phases: the configured phase names, one per line, for the bash completion
// (scripts/completion/pipeline.bash). Hidden from --help: it is not for people.

#include <CLI/CLI.hpp>

#include "app/global_options.hpp"

namespace pipeline::app {

/// Adds the hidden `complete-phases` subcommand to app.
CLI::App* add_phases_command(CLI::App& app);

/// Prints the configured phases in phase order; throws core::Error (exit 2) on a bad config.
int phases_command(const GlobalOptions& global);

} // namespace pipeline::app
