#include "core/state/gc.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "core/snapshot/snapshot.hpp"
#include "core/state/ledger.hpp"
#include "core/util/atomic_file.hpp"
#include "core/util/error.hpp"

namespace pipeline::core {

namespace {

namespace fs = std::filesystem;

/// The run folders ("<date>/<PHASE>/<run_id>/") of the runs the ledger shows live.
std::set<std::string> running_prefixes(const RunDir& run_dir) {
    std::set<std::string> running;
    LedgerEntries entries;
    try {
        entries = Ledger(run_dir).read();
    } catch (const Error& e) {
        // A planted run id is a corrupt ledger like any other (the message names file and field): nothing is
        // known to be safe to remove, and that is a failure to do the job, not a usage error.
        throw Error(ExitCode::Failed, e.what());
    }
    for (const LedgerEntry& raw : entries) {
        const LedgerEntry entry = effective_entry(raw);
        if (entry.state == RunState::Running && !entry.run_id.empty()) {
            running.insert(run_prefix(entry.date, entry.phase, entry.run_id));
        }
    }
    return running;
}

/// The folder a key belongs to for gc: its run folder when it has one, else the key itself.
std::string group_of(const std::string& key) {
    std::size_t at = 0;
    for (int i = 0; i < 3; ++i) {
        at = key.find('/', at);
        if (at == std::string::npos) {
            return key;
        }
        ++at;
    }
    return key.substr(0, at);
}

bool is_old(std::string_view date_text, std::chrono::year_month_day cutoff) {
    const std::optional<std::chrono::year_month_day> date = parse_date(date_text);
    return date && std::chrono::sys_days(*date) < std::chrono::sys_days(cutoff);
}

bool under_running(const std::string& key, const std::set<std::string>& running) {
    return std::ranges::any_of(running, [&key](const std::string& prefix) { return key.starts_with(prefix); });
}

class Collector {
  public:
    Collector(const GcOptions& options, GcSummary& summary) : m_options(options), m_summary(summary) {}

    /// Reports `what` and, unless this is a dry run, calls `remove`; a failure is reported and counted.
    void remove(const std::string& what, const std::function<void()>& remove_it) {
        if (!m_options.dry_run) {
            try {
                remove_it();
            } catch (const std::exception& e) {
                ++m_summary.failed;
                m_options.problem("cannot remove " + what + ": " + e.what());
                return;
            }
        }
        ++m_summary.removed;
        m_options.report((m_options.dry_run ? "WOULD_REMOVE " : "REMOVED ") + what);
    }

  private:
    const GcOptions& m_options;
    GcSummary& m_summary;
};

void remove_file(const fs::path& path) {
    std::error_code ec;
    fs::remove(path, ec);
    if (ec) {
        throw Error(ExitCode::Failed, ec.message());
    }
}

// Checkpoints are "<date>.<PHASE>.<run_id>.json"; hidden temporaries of dead writers go whatever their date.
void collect_run_dir(const RunDir& run_dir, std::chrono::year_month_day cutoff, const std::set<std::string>& running,
                     Collector& collector) {
    for (const fs::path& folder : {run_dir.root(), run_dir.checkpoints()}) {
        std::error_code ec;
        std::vector<fs::path> files;
        for (const fs::directory_entry& file : fs::directory_iterator(folder, ec)) {
            files.push_back(file.path());
        }
        std::ranges::sort(files);
        for (const fs::path& path : files) {
            const std::string name = path.filename().string();
            if (is_temporary_name(name)) {
                if (is_stale_temporary(name)) {
                    collector.remove(path.string(), [&path] { remove_file(path); });
                }
                continue;
            }
            if (folder != run_dir.checkpoints() || !name.ends_with(".json")) {
                continue;
            }
            const std::size_t first_dot = name.find('.');
            const std::size_t second_dot = name.find('.', first_dot + 1);
            if (first_dot == std::string::npos || second_dot == std::string::npos) {
                continue;
            }
            const std::string date = name.substr(0, first_dot);
            const std::string phase = name.substr(first_dot + 1, second_dot - first_dot - 1);
            const std::string run_id = name.substr(second_dot + 1, name.size() - second_dot - 1 - 5);
            if (is_old(date, cutoff) && !running.contains(date + "/" + phase + "/" + run_id + "/")) {
                collector.remove(path.string(), [&path] { remove_file(path); });
            }
        }
    }
}

} // namespace

std::chrono::year_month_day gc_cutoff(SystemTime now, int keep_days) {
    const std::chrono::sys_days today = std::chrono::sys_days(api_yesterday(now)) + std::chrono::days(1);
    return std::chrono::year_month_day(today - std::chrono::days(keep_days));
}

GcSummary collect_garbage(Sink& sink, const RunDir& run_dir, const GcOptions& options) {
    GcSummary summary;
    Collector collector(options, summary);
    const std::chrono::year_month_day cutoff = gc_cutoff(options.now, options.keep_days);
    const std::set<std::string> running = running_prefixes(run_dir);
    const std::string root = sink.describe() + "/";

    // Old dated folders, one run folder at a time, its manifest first: a reader then finds no snapshot rather
    // than a manifest whose chunks are gone. A phase's _current.json goes before its runs, for the same
    // reason. Only folders (S3: key prefixes) named as dates are looked into: a plain object at the root
    // named like a date, or a folder such as lost+found, is not a snapshot and stays.
    std::map<std::string, std::vector<std::string>> groups;
    for (const std::string& folder : sink.list_folders("")) {
        if (!is_old(folder, cutoff)) {
            continue;
        }
        std::vector<std::string> keys;
        try {
            keys = sink.list(folder + "/");
        } catch (const std::exception& e) {
            ++summary.failed;
            options.problem("cannot remove " + root + folder + "/: " + e.what());
            continue;
        }
        for (std::string& key : keys) {
            groups[group_of(key)].push_back(std::move(key));
        }
    }
    std::vector<std::string> order;
    for (const auto& entry : groups) {
        order.push_back(entry.first);
    }
    std::stable_partition(order.begin(), order.end(), [](const std::string& group) {
        return group.ends_with("/" + std::string(k_current_name));
    });
    for (const std::string& group : order) {
        std::vector<std::string>& keys = groups[group];
        if (under_running(group, running)) {
            ++summary.kept_running;
            continue;
        }
        // Not std::ranges: clang 14 (the fuzz build) cannot instantiate libstdc++ 12's ranges::subrange.
        std::stable_partition(keys.begin(), keys.end(),
                              [](const std::string& key) { return key.ends_with(k_manifest_name); });
        const std::string what =
            root + group + (keys.size() > 1 || group.ends_with('/') ? " (" + std::to_string(keys.size()) + " files)" : "");
        collector.remove(what, [&sink, &keys] { sink.remove_many(keys); });
    }

    for (const Temporary& temporary : sink.stale_temporaries("")) {
        if (!under_running(temporary.key, running)) {
            const std::string what = root + temporary.key + (temporary.handle.empty() ? "" : " (upload " + temporary.handle + ")");
            collector.remove(what, [&sink, &temporary] { sink.remove_temporary(temporary); });
        }
    }
    collect_run_dir(run_dir, cutoff, running, collector);
    return summary;
}

} // namespace pipeline::core
