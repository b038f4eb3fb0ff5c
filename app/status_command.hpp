#pragma once
// pipeline status [PHASE] [--json]

#include <CLI/CLI.hpp>

#include "app/global_options.hpp"

namespace pipeline::app {

/// Options of `status`.
struct StatusOptions {
    std::string phase;
    bool json = false;
};

/// Adds the `status` subcommand to app.
CLI::App* add_status_command(CLI::App& app, StatusOptions& options);

/// Prints the ledger (a table, a phase's detail, or docs/contract.md §5 JSON); returns the exit code.
int status_command(const GlobalOptions& global, const StatusOptions& options);

} // namespace pipeline::app
