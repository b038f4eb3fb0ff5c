#include "app/verify_command.hpp"

#include <iostream>

#include <nlohmann/json.hpp>

#include "core/snapshot/verify.hpp"
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
        "For each phase, the newest run of the date: its manifest parses; every listed part exists with the\n"
        "listed bytes and sha256, decompresses, and holds exactly its records, each line a JSON object; no\n"
        "part-* file of a finished run is unlisted. Prints per phase one of:\n"
        "  OK <PHASE> <run_id> <records> records in <chunks> chunks\n"
        "  MISSING <PHASE>\n"
        "  BAD <PHASE> <run_id> <file>: <reason>\n"
        "Exit codes: 0 every phase OK, 1 any BAD or MISSING (or the sink cannot be read), 2 usage error.\n"
        "Example: pipeline verify --date 2026-11-22 && echo snapshot sound");
    return verify;
}

int verify_command(const GlobalOptions& global, const VerifyOptions& options) {
    const core::Config config = load_config(global);
    const std::vector<std::string> phases = parse_phase_list(config, options.phase);
    const std::string date = options.date.empty()
                                 ? core::format_date(core::api_yesterday(std::chrono::system_clock::now()))
                                 : options.date;
    if (!core::parse_date(date)) {
        throw core::usage_error("--date " + date + ": expected a date YYYY-MM-DD");
    }
    const std::unique_ptr<core::Sink> sink = sinks::sink_factory(config)();

    bool all_ok = true;
    nlohmann::json results = nlohmann::json::array();
    for (const std::string& phase : phases) {
        const core::VerifyResult result = core::verify_phase(*sink, phase, date);
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
