#include "app/verify_command.hpp"

#include <iostream>
#include <map>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/snapshot/verify.hpp"
#include "core/state/ledger.hpp"
#include "core/util/error.hpp"
#include "core/util/text.hpp"
#include "core/util/time_util.hpp"
#include "sinks/sink_factory.hpp"

namespace pipeline::app {

CLI::App* add_verify_command(CLI::App& app, VerifyOptions& options) {
    CLI::App* verify = app.add_subcommand("verify", "Check a date's snapshots against their manifests");
    verify->add_option("phase", options.phase,
                       "RANKING_FETCH, OCID_LOOKUP, CHARACTER_BASIC, ITEM_EQUIPMENT or all (case-insensitive)")
        ->capture_default_str();
    verify->add_option("--date", options.date, "Snapshot date YYYY-MM-DD (default: yesterday in Asia/Seoul)");
    verify->add_flag("--json", options.json, "Print one JSON object instead of one line per phase");
    verify->footer(
        "For each phase, the run readers use: the one <date>/<PHASE>/_current.json names (the newest\n"
        "COMPLETED run), or with no completed run the newest run. Its manifest parses; every listed part\n"
        "is a regular file with the listed bytes and sha256, decompresses, and holds exactly its records,\n"
        "each line a JSON object; no part-* file of a finished run is unlisted; _current.json is a copy\n"
        "of the newest COMPLETED run's manifest. Prints per phase one of:\n"
        "  OK <PHASE> <run_id> <records> records in <chunks> chunks      (a COMPLETED run, sound)\n"
        "  INCOMPLETE <PHASE> <run_id> <STATE>: <records> records in <chunks> chunks\n"
        "                  (sound, but no run of the date completed: STOPPED, FAILED or RUNNING)\n"
        "  MISSING <PHASE>                                               (no run of the date)\n"
        "  BAD <PHASE> <run_id> <file>: <reason>\n"
        "Exit codes: 0 every phase OK (the day is complete and sound), 1 any INCOMPLETE, BAD or MISSING\n"
        "(or the sink cannot be read), 2 usage error (a date the API cannot serve included).\n"
        "Example: pipeline verify --date 2026-11-22 && echo day complete");
    return verify;
}

namespace {

// The live runs of the date, from the ledger: verify reads the sink, and a run still going is INCOMPLETE, not
// BAD. The ledger is only a hint here: when it cannot be read (verify on another machine), there is none.
std::map<std::string, core::LiveRun> live_runs(const core::Config& config, const std::string& date) {
    std::map<std::string, core::LiveRun> live;
    try {
        for (const core::LedgerEntry& raw : core::Ledger(core::RunDir(config.run_dir)).read()) {
            const core::LedgerEntry entry = core::effective_entry(raw);
            if (entry.state == core::RunState::Running && entry.date == date) {
                live[entry.phase] = {entry.run_id, entry.progress.records, entry.progress.chunks};
            }
        }
    } catch (const std::exception& e) {
        spdlog::debug("verify: no ledger to tell running runs by: {}", e.what());
    }
    return live;
}

} // namespace

int verify_command(const GlobalOptions& global, const VerifyOptions& options) {
    const core::Config config = load_config(global);
    const std::vector<std::string> phases = parse_phase_list(config, options.phase);
    const std::string date = resolve_date(options.date);
    const std::unique_ptr<core::Sink> sink = sinks::sink_factory(config)();
    const std::map<std::string, core::LiveRun> live = live_runs(config, date);

    bool all_ok = true;
    nlohmann::json results = nlohmann::json::array();
    for (const std::string& phase : phases) {
        const auto found = live.find(phase);
        const core::VerifyResult result = core::verify_phase(
            *sink, phase, date,
            found == live.end() ? std::nullopt : std::optional<core::LiveRun>(found->second));
        all_ok = all_ok && result.status == core::VerifyStatus::Ok;
        if (!options.json) {
            // Names and reasons may come from the sink: escaped like every text printed from outside.
            std::cout << core::escape_controls(core::verify_line(result)) << std::endl;
            continue;
        }
        nlohmann::json item{{"phase", phase},
                            {"status", core::verify_status_name(result.status)},
                            {"run_id", result.run_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(result.run_id)},
                            {"state", result.state.empty() ? nlohmann::json(nullptr) : nlohmann::json(result.state)},
                            {"records", result.records},
                            {"chunks", result.chunks},
                            {"file", nullptr},
                            {"reason", nullptr}};
        if (result.status == core::VerifyStatus::Bad) {
            item["file"] = result.file;
            item["reason"] = result.reason;
        }
        results.push_back(std::move(item));
    }
    if (options.json) {
        std::cout << nlohmann::json{{"date", date}, {"sink", sink->describe()}, {"phases", results}}.dump(
                         -1, ' ', false, nlohmann::json::error_handler_t::replace)
                  << std::endl;
    }
    return static_cast<int>(all_ok ? core::ExitCode::Ok : core::ExitCode::Failed);
}

} // namespace pipeline::app
