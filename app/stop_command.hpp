#pragma once
// pipeline stop PHASE|all [--wait] [--timeout SECONDS]

#include <CLI/CLI.hpp>

#include "app/global_options.hpp"

namespace pipeline::app {

/// Options of `stop`.
struct StopOptions {
    std::string phase;
    bool wait = false;
    double timeout_seconds = 300;
};

/// Adds the `stop` subcommand to app.
CLI::App* add_stop_command(CLI::App& app, StopOptions& options);

/// Requests a graceful stop; prints STOP_REQUESTED/NOT_RUNNING lines; returns the exit code of docs/contract.md §3.
int stop_command(const GlobalOptions& global, const StopOptions& options);

} // namespace pipeline::app
