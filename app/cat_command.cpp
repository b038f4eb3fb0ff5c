#include "app/cat_command.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "core/snapshot/part_reader.hpp"
#include "core/snapshot/snapshot.hpp"
#include "core/util/error.hpp"
#include "core/util/text.hpp"
#include "sinks/sink_factory.hpp"

namespace pipeline::app {

namespace {

/// Thrown out of the part being read when stdout is gone (EPIPE): stop reading at once, say nothing.
struct ReaderGone {};

// Straight to the file descriptor, not through std::cout: each decompressed piece (up to 256 KiB) goes out
// as it comes, nothing is held back, and EPIPE is seen at the write that meets it.
void write_out(std::string_view piece) {
    while (!piece.empty()) {
        const ssize_t written = ::write(STDOUT_FILENO, piece.data(), piece.size());
        if (written < 0 && errno == EINTR) {
            continue;
        }
        if (written < 0 && errno == EPIPE) {
            throw ReaderGone{};
        }
        if (written < 0) {
            throw core::Error(core::ExitCode::Failed,
                              std::string("could not write to standard output: ") + std::strerror(errno));
        }
        piece.remove_prefix(static_cast<std::size_t>(written));
    }
}

} // namespace

CLI::App* add_cat_command(CLI::App& app, CatOptions& options) {
    CLI::App* cat = app.add_subcommand("cat", "Print the records of a date's current snapshot of a phase");
    cat->add_option("phase", options.phase, "A configured phase, e.g. ITEM_EQUIPMENT (case-insensitive)")
        ->required();
    cat->add_option("--date", options.date, "Snapshot date YYYY-MM-DD (default: yesterday in Asia/Seoul)");
    cat->footer(
        "Writes the records of the run <date>/<PHASE>/_current.json names (the newest COMPLETED run)\n"
        "to stdout, decompressed, one JSON object per line, in part order, each part streamed (memory\n"
        "stays small whatever its size). Each part is checked against its manifest entry as it streams:\n"
        "one that is missing, not a regular file, of another size or sha256, or does not decompress\n"
        "ends the output with a message naming it (what it held before the fault is written by then).\n"
        "Exit codes: 0 done, 1 'MISSING <PHASE>' on stderr (no run of the date completed), a bad part,\n"
        "stdout closed early (quietly, as cat does under head), or the sink cannot be read; 2 usage error.\n"
        "Example: pipeline cat ITEM_EQUIPMENT --date 2026-11-22 | jq -r .data.character_class | sort | uniq "
        "-c");
    return cat;
}

int cat_command(const GlobalOptions& global, const CatOptions& options) {
    const core::Config config = load_config(global);
    if (core::to_lower(options.phase) == "all") {
        throw core::usage_error("cat takes one phase, not 'all'");
    }
    const std::string phase = parse_phase_list(config, options.phase).front();
    const std::string date = resolve_date(options.date);
    const std::unique_ptr<core::Sink> sink = sinks::sink_factory(config)();
    const std::optional<core::Manifest> current = core::newest_completed(*sink, phase, date);
    if (!current) {
        std::cerr << "MISSING " << phase << std::endl;
        return static_cast<int>(core::ExitCode::Failed);
    }
    const std::string prefix = core::run_prefix(date, phase, current->run_id);
    try {
        for (const core::ChunkEntry& chunk : current->chunks) {
            const core::PartRead read = core::read_part(*sink, prefix + chunk.name, chunk, write_out);
            if (read.problem) {
                // Names come from the sink: escaped like every text printed from outside.
                std::cerr << core::escape_controls("pipeline cat: " + sink->describe() + "/" + prefix +
                                                   chunk.name + ": " + *read.problem)
                          << std::endl;
                return static_cast<int>(core::ExitCode::Failed);
            }
        }
    } catch (const ReaderGone&) {
        return static_cast<int>(core::ExitCode::Failed);
    }
    return static_cast<int>(core::ExitCode::Ok);
}

} // namespace pipeline::app
