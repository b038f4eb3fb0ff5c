// pipeline: harvests the MapleStory Open API into dated snapshots. Builds the CLI and maps outcomes to the
// exit codes of docs/contract.md §3; the work is in core/ and sinks/.

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "app/gc_command.hpp"
#include "app/global_options.hpp"
#include "app/phases_command.hpp"
#include "app/run_command.hpp"
#include "app/status_command.hpp"
#include "app/stop_command.hpp"
#include "app/verify_command.hpp"
#include "core/fetch/curl_transport.hpp"
#include "core/util/error.hpp"
#include "core/util/text.hpp"

namespace {

bool g_logging_ready = false;
bool g_json_logs = false;

// An error that ends the command, on stderr: a JSON log line under --log-format json, else the bare text;
// either way its control characters escaped (it may quote the API or a state file).
void report_error(const std::string& message) {
    if (g_logging_ready && g_json_logs) {
        spdlog::error("{}", message);
    } else {
        std::cerr << pipeline::core::escape_controls(message) << std::endl;
    }
}

// What scripts read is on stdout: a write lost to a full disk or a closed pipe must not end in exit 0.
int check_stdout(int code) {
    std::cout.flush();
    errno = 0;
    const bool flushed = std::fflush(stdout) == 0;
    int error = errno;
    if (flushed && std::cout.good() && std::ferror(stdout) == 0) {
        return code;
    }
    if (error == 0) {
        // The failed write was an earlier line's (std::endl flushes each) and its errno is long overwritten:
        // one more byte finds out why (ENOSPC, EPIPE) on output that is broken already.
        error = ::write(STDOUT_FILENO, "\n", 1) < 0 ? errno : 0;
    }
    report_error(std::string("pipeline: could not write to standard output: ") +
                 (error != 0 ? std::strerror(error) : "a write failed"));
    return code == 0 ? static_cast<int>(pipeline::core::ExitCode::Failed) : code;
}

} // namespace

int main(int argc, char** argv) {
    using namespace pipeline;
    // Under `ulimit -f` a write past the limit must fail with EFBIG (reported, phase FAILED), not kill us.
    std::signal(SIGXFSZ, SIG_IGN);
    // A reader of stdout or stderr that goes away (`| head -1`, a closed socket) must not kill a harvest:
    // writes then fail with EPIPE, which the log sink ignores and check_stdout reports.
    std::signal(SIGPIPE, SIG_IGN);
    CLI::App app{"pipeline: harvest the MapleStory Open API into dated snapshot files", "pipeline"};
    app.set_version_flag("--version", std::string("pipeline ") + PIPELINE_VERSION);
    app.require_subcommand(1);
    app.fallthrough();
    app::GlobalOptions global;
    app::RunOptions run_options;
    app::StopOptions stop_options;
    app::StatusOptions status_options;
    app::VerifyOptions verify_options;
    app::GcOptions gc_options;
    app::add_global_options(app, global);
    CLI::App* run = app::add_run_command(app, run_options);
    CLI::App* stop = app::add_stop_command(app, stop_options);
    CLI::App* status = app::add_status_command(app, status_options);
    CLI::App* verify = app::add_verify_command(app, verify_options);
    CLI::App* gc = app::add_gc_command(app, gc_options);
    CLI::App* phases = app::add_phases_command(app);
    app.footer("Environment: PIPELINE_CONFIG (config file), the API key in the variable api.key_env names\n"
               "(default NEXON_API_KEY), NO_COLOR (no colour in status).\n"
               "Exit codes: 0 ok, 1 failed, 2 usage or config error, 3 stopped, 4 phase already running,\n"
               "5 stop --wait timed out; verify: 1 a phase BAD or MISSING; gc: 1 something not removed.\n"
               "Run 'pipeline COMMAND --help' for each command.\n"
               "Example: pipeline run all && pipeline status");
    for (CLI::App* command : {run, stop, status, verify, gc}) {
        command->footer(
            command->get_footer() +
            "\nGlobal options (--config, --run-dir, --log-format, --log-file, -v, -q) may come before or "
            "after the command: see 'pipeline --help'.");
    }
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? 0 : static_cast<int>(core::ExitCode::Usage);
    }
    try {
        app::setup_logging(global);
        g_logging_ready = true;
        g_json_logs = global.log_format == "json";
        core::http_global_init();
        if (run->parsed()) {
            return check_stdout(app::run_command(global, run_options));
        }
        if (stop->parsed()) {
            return check_stdout(app::stop_command(global, stop_options));
        }
        if (status->parsed()) {
            return check_stdout(app::status_command(global, status_options));
        }
        if (verify->parsed()) {
            return check_stdout(app::verify_command(global, verify_options));
        }
        if (gc->parsed()) {
            return check_stdout(app::gc_command(global, gc_options));
        }
        if (phases->parsed()) {
            return check_stdout(app::phases_command(global));
        }
    } catch (const core::Error& e) {
        report_error(e.what());
        return check_stdout(static_cast<int>(e.code()));
    } catch (const std::exception& e) {
        report_error(std::string("pipeline: unexpected error: ") + e.what());
        return check_stdout(static_cast<int>(core::ExitCode::Failed));
    }
    return static_cast<int>(core::ExitCode::Usage);
}
