#include "app/global_options.hpp"

#include <cstdlib>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include "app/console.hpp"
#include "core/config/url_check.hpp"
#include "core/state/run_dir.hpp"
#include "core/util/error.hpp"
#include "core/util/log_context.hpp"
#include "core/util/text.hpp"
#include "core/util/time_util.hpp"

namespace pipeline::app {

namespace {

// One JSON object per line: ts, level, message, and phase and run_id whenever the thread works for a phase.
// Control characters are escaped by JSON itself, bytes that are not UTF-8 replaced, so a message from the
// network can neither break the line nor reach a terminal raw.
class JsonFormatter final : public spdlog::formatter {
  public:
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        const auto millis =
            std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count() % 1000;
        std::string ts = core::format_utc(msg.time);
        ts.insert(ts.size() - 1, "." + std::string(millis < 100 ? (millis < 10 ? "00" : "0") : "") +
                                     std::to_string(millis));
        const spdlog::string_view_t level = spdlog::level::to_string_view(msg.level);
        nlohmann::json line{{"ts", ts},
                            {"level", std::string(level.data(), level.size())},
                            {"message", std::string(msg.payload.data(), msg.payload.size())}};
        const core::LogContext& context = core::log_context();
        if (!context.phase.empty()) {
            line["phase"] = context.phase;
        }
        if (!context.run_id.empty()) {
            line["run_id"] = context.run_id;
        }
        const std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
        dest.append(text.data(), text.data() + text.size());
    }
    std::unique_ptr<spdlog::formatter> clone() const override { return std::make_unique<JsonFormatter>(); }
};

// Text lines: the pattern's, with the message's control characters escaped (an error text from the API
// holding ESC ] 0 ; ... BEL must not retitle the operator's terminal, nor a newline forge a log line).
class EscapingFormatter final : public spdlog::formatter {
  public:
    EscapingFormatter() : m_pattern(make_pattern()) {}
    void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
        const std::string payload =
            core::escape_controls(std::string_view(msg.payload.data(), msg.payload.size()));
        spdlog::details::log_msg escaped = msg;
        escaped.payload = spdlog::string_view_t(payload.data(), payload.size());
        m_pattern->format(escaped, dest);
    }
    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<EscapingFormatter>();
    }

  private:
    static std::unique_ptr<spdlog::formatter> make_pattern() {
        return std::make_unique<spdlog::pattern_formatter>("%Y-%m-%dT%H:%M:%S.%eZ %l %v",
                                                           spdlog::pattern_time_type::utc);
    }
    std::unique_ptr<spdlog::formatter> m_pattern;
};

} // namespace

void add_global_options(CLI::App& app, GlobalOptions& options) {
    app.add_option("--config", options.config,
                   "Config file (default: $PIPELINE_CONFIG, else ./pipeline.yaml; a missing default file means "
                   "built-in defaults)");
    app.add_option("--run-dir", options.run_dir,
                   "Run directory: ledger, locks, stop sentinels (default: run_dir from the config, ./run)");
    app.add_option("--log-format", options.log_format,
                   "Log format on stderr and in --log-file: text lines, or JSON lines with ts, level, phase, "
                   "run_id, message")
        ->check(CLI::IsMember({"text", "json"}))
        ->capture_default_str();
    app.add_option("--log-file", options.log_file, "Also append logs to this file (default: none)");
    auto* verbose = app.add_flag("-v,--verbose", options.verbose, "Debug logging (default: info)");
    auto* quiet =
        app.add_flag("-q,--quiet", options.quiet,
                     "Only warnings and errors on stderr (a --log-file still gets info), no progress display "
                     "(default: info level; progress when stderr is a terminal)");
    verbose->excludes(quiet);
}

core::Config load_config(const GlobalOptions& options) {
    std::string path = options.config;
    bool named = !path.empty();
    if (path.empty()) {
        if (const char* env = std::getenv("PIPELINE_CONFIG"); env != nullptr && *env != '\0') {
            path = env;
            named = true;
        } else {
            path = "pipeline.yaml";
        }
    }
    core::Config config;
    if (named || std::filesystem::exists(path)) {
        config = core::load_config(path);
    } else {
        config = core::parse_config("", std::filesystem::current_path() / "pipeline.yaml");
    }
    if (!options.run_dir.empty()) {
        config.run_dir = options.run_dir;
    }
    // Every command reads control files from the run directory: one that others may write is refused before
    // anything in it is believed (docs/hardening-state.md).
    core::RunDir(config.run_dir).check_existing();
    if (const std::optional<std::string> warning = core::plain_http_warning(config)) {
        spdlog::warn("{}", *warning);
    }
    return config;
}

void setup_logging(const GlobalOptions& options) {
    // Through the Console, so that log lines and the progress block of `run` never interleave.
    std::vector<spdlog::sink_ptr> sinks{std::make_shared<ConsoleSink>(Console::instance())};
    // -q quiets the terminal (and cron mail); a --log-file keeps the info lines an operator reads afterwards.
    sinks.front()->set_level(options.quiet ? spdlog::level::warn : spdlog::level::trace);
    if (!options.log_file.empty()) {
        try {
            sinks.push_back(std::make_shared<spdlog::sinks::basic_file_sink_mt>(options.log_file));
        } catch (const spdlog::spdlog_ex& e) {
            throw core::usage_error("--log-file " + options.log_file + ": " + e.what());
        }
    }
    auto logger = std::make_shared<spdlog::logger>("pipeline", sinks.begin(), sinks.end());
    if (options.log_format == "json") {
        logger->set_formatter(std::make_unique<JsonFormatter>());
    } else {
        logger->set_formatter(std::make_unique<EscapingFormatter>());
    }
    logger->set_level(options.verbose ? spdlog::level::debug
                                      : (options.quiet && options.log_file.empty() ? spdlog::level::warn
                                                                                   : spdlog::level::info));
    logger->flush_on(spdlog::level::trace);
    spdlog::set_default_logger(logger);
}

std::vector<std::string> parse_phase_list(const core::Config& config, const std::string& name) {
    std::vector<std::string> names;
    if (core::to_lower(name) == "all") {
        for (const core::PhaseDef& def : config.phases) {
            names.push_back(def.name);
        }
    } else if (const core::PhaseDef* def = core::find_phase(config.phases, name)) {
        names.push_back(def->name);
    } else {
        throw core::usage_error(core::invalid_phase_message(config.phases, name));
    }
    return names;
}

} // namespace pipeline::app
