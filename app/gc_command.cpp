#include "app/gc_command.hpp"

#include <iostream>

#include <spdlog/spdlog.h>

#include "core/state/gc.hpp"
#include "core/util/error.hpp"
#include "core/util/text.hpp"
#include "sinks/sink_factory.hpp"

namespace pipeline::app {

CLI::App* add_gc_command(CLI::App& app, GcOptions& options) {
    CLI::App* gc = app.add_subcommand("gc", "Remove old snapshots, their checkpoints, and leftovers of killed runs");
    gc->add_option("--keep-days", options.keep_days,
                   "Keep dated folders from this many days before today (Asia/Seoul) on; older ones go")
        ->required()
        ->check(CLI::Range(0, 100000));
    gc->add_flag("--dry-run", options.dry_run, "Print what would be removed, remove nothing");
    gc->footer(
        "Removes every <date>/ folder of the sink older than today minus N days (a run still RUNNING is kept),\n"
        "the checkpoints of those dates in the run directory, and temporaries that killed runs left in the sink\n"
        "and the run directory. Prints one line per thing: 'REMOVED <what>' (or 'WOULD_REMOVE <what>').\n"
        "Running it again removes nothing more.\n"
        "Exit codes: 0 done, 1 something could not be removed (named on stderr), 2 usage error.\n"
        "Example: pipeline gc --keep-days 30 --dry-run");
    return gc;
}

int gc_command(const GlobalOptions& global, const GcOptions& options) {
    const core::Config config = load_config(global);
    const std::unique_ptr<core::Sink> sink = sinks::sink_factory(config)();
    core::GcOptions gc;
    gc.keep_days = options.keep_days;
    gc.dry_run = options.dry_run;
    // Keys and file names come from the sink: escaped like every text printed from outside.
    gc.report = [](const std::string& line) { std::cout << core::escape_controls(line) << std::endl; };
    gc.problem = [](const std::string& message) { std::cerr << core::escape_controls(message) << std::endl; };
    const core::GcSummary summary = core::collect_garbage(*sink, core::RunDir(config.run_dir), gc);
    spdlog::info("gc: {} {}, {} could not be removed, {} old running runs kept", summary.removed,
                 options.dry_run ? "would be removed" : "removed", summary.failed, summary.kept_running);
    return static_cast<int>(summary.failed == 0 ? core::ExitCode::Ok : core::ExitCode::Failed);
}

} // namespace pipeline::app
