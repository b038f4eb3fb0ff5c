#pragma once
// Options every subcommand shares, and what they resolve to.

#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>

#include "core/config/config.hpp"

namespace pipeline::app {

/// pipeline [--config FILE] [--run-dir DIR] [--log-format text|json] [-v|-q]
struct GlobalOptions {
    std::string config;     ///< empty: $PIPELINE_CONFIG, else ./pipeline.yaml
    std::string run_dir;    ///< empty: run_dir from the config
    std::string log_format = "text";
    std::string log_file;
    bool verbose = false;
    bool quiet = false;
};

/// Adds the global options to the top-level app.
void add_global_options(CLI::App& app, GlobalOptions& options);

/// Loads the config the options name (a missing default ./pipeline.yaml means built-in defaults) and applies
/// --run-dir. Throws core::Error (exit 2) on a bad config or a run directory others may write to; warns once
/// when api.base_url is plain http:// to another machine.
core::Config load_config(const GlobalOptions& options);

/// Sets up spdlog on stderr (and --log-file): text or JSON lines, level from -v/-q.
void setup_logging(const GlobalOptions& options);

/// Parses "PHASE" or "all" (case-insensitive) into the names of configured phases, in phase order; throws
/// core::Error (exit 2) with the INVALID_PHASE message otherwise.
std::vector<std::string> parse_phase_list(const core::Config& config, const std::string& name);

} // namespace pipeline::app
