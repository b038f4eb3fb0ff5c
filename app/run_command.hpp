#pragma once
// pipeline run PHASE|all [--date YYYY-MM-DD] [--resume]

#include <optional>

#include <CLI/CLI.hpp>

#include "app/global_options.hpp"

namespace pipeline::app {

/// Options of `run`.
struct RunOptions {
    std::string phase;
    std::optional<std::string> date; ///< unset: yesterday in Asia/Seoul; an empty one is a usage error
    bool resume = false;
    std::string metrics_file;
};

/// Adds the `run` subcommand to app.
CLI::App* add_run_command(CLI::App& app, RunOptions& options);

/// Runs the phases; returns the exit code of docs/contract.md §3. Throws core::Error for usage errors and busy slots.
int run_command(const GlobalOptions& global, const RunOptions& options);

} // namespace pipeline::app
