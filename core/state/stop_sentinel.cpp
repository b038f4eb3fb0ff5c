#include "core/state/stop_sentinel.hpp"

#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>

#include <spdlog/spdlog.h>

#include "core/state/ledger.hpp"
#include "core/util/atomic_file.hpp"
#include "core/util/run_id.hpp"
#include "core/util/text.hpp"

namespace pipeline::core {

using namespace std::chrono;

std::optional<std::string> request_stop(const RunDir& run_dir, const std::string& phase) {
    if (!std::filesystem::exists(run_dir.ledger())) {
        return std::nullopt;
    }
    std::optional<std::string> run_id;
    Ledger(run_dir).update(phase, [&](LedgerEntry& e) {
        if (effective_entry(e).state != RunState::Running) {
            return false;
        }
        write_file_atomically(run_dir.stop_sentinel(phase), e.run_id + "\n");
        run_id = e.run_id;
        e.stop_requested = true;
        return true;
    });
    return run_id;
}

std::string read_stop_request(const RunDir& run_dir, const std::string& phase) {
    const std::filesystem::path path = run_dir.stop_sentinel(phase);
    std::ifstream in(path);
    std::string line;
    if (in) {
        std::getline(in, line);
    }
    std::string run_id(trim(line));
    if (!run_id.empty() && !is_run_id(run_id)) {
        // A stop is only ever bound to a run id pipeline wrote. Said once per content: the watcher reads the
        // file on every change and every poll.
        static std::mutex mutex;
        static std::string last_refused;
        const std::lock_guard lock(mutex);
        const std::string what = path.string() + "\n" + run_id;
        if (what != last_refused) {
            last_refused = what;
            spdlog::warn("ignoring stop sentinel {}: '{}' is not a run id pipeline generates ({})",
                         path.string(), escape_controls(run_id.substr(0, 80)), k_run_id_form);
        }
        return "";
    }
    return run_id;
}

void clear_stop_request(const RunDir& run_dir, const std::string& phase, std::string_view run_id) {
    if (run_id.empty() || read_stop_request(run_dir, phase) == run_id) {
        std::error_code ec;
        std::filesystem::remove(run_dir.stop_sentinel(phase), ec);
    }
}

std::optional<std::string> phase_of_stop_file(std::string_view file_name) {
    constexpr std::string_view k_suffix = ".stop";
    if (!file_name.ends_with(k_suffix)) {
        return std::nullopt;
    }
    const std::string_view phase = file_name.substr(0, file_name.size() - k_suffix.size());
    return is_phase_name(phase) ? std::optional<std::string>(phase) : std::nullopt;
}

bool wait_for_run_dir(const RunDir& run_dir, milliseconds timeout, const std::function<bool()>& done) {
    // The ledger is replaced by rename (IN_MOVED_TO); the slow poll is a backstop for lost events.
    const int fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (fd >= 0) {
        ::inotify_add_watch(fd, run_dir.root().c_str(), IN_MOVED_TO | IN_CLOSE_WRITE);
    }
    const auto deadline = steady_clock::now() + timeout;
    bool finished = false;
    while (true) {
        finished = done();
        const auto left = duration_cast<milliseconds>(deadline - steady_clock::now());
        if (finished || left.count() <= 0) {
            break;
        }
        pollfd pfd{fd, POLLIN, 0};
        if (::poll(&pfd, fd >= 0 ? 1 : 0, static_cast<int>(std::min<std::int64_t>(left.count(), 200))) > 0) {
            char buffer[4096];
            while (::read(fd, buffer, sizeof buffer) > 0) {
            }
        }
    }
    if (fd >= 0) {
        ::close(fd);
    }
    return finished;
}

} // namespace pipeline::core
