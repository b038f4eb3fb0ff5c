#include "core/state/stop_signal.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include <spdlog/spdlog.h>

#include "core/state/stop_sentinel.hpp"
#include "core/util/log_context.hpp"

namespace pipeline::core {

namespace {
constexpr int k_poll_interval_ms = 100;

void signal_eventfd(int fd) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(fd, &one, sizeof one);
}

} // namespace

StopWatcher::StopWatcher(RunDir run_dir) : m_run_dir(std::move(run_dir)) {
    m_wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    const char* force_poll = std::getenv("PIPELINE_STOP_POLL");
    std::string why;
    if (force_poll != nullptr && std::string_view(force_poll) == "1") {
        why = "PIPELINE_STOP_POLL=1";
    } else {
        m_inotify_fd = ::inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
        if (m_inotify_fd < 0) {
            why = std::string("inotify_init1: ") + std::strerror(errno);
        } else if (::inotify_add_watch(m_inotify_fd, m_run_dir.root().c_str(), IN_CLOSE_WRITE | IN_MOVED_TO) <
                   0) {
            why = "inotify_add_watch " + m_run_dir.root().string() + ": " + std::strerror(errno);
            ::close(m_inotify_fd);
            m_inotify_fd = -1;
        }
    }
    if (m_inotify_fd < 0) {
        m_polling = true;
        spdlog::warn("stop requests are polled every {} ms: inotify is not available ({})", k_poll_interval_ms,
                     why);
    }
    m_thread = std::thread([this] { loop(); });
}

StopWatcher::~StopWatcher() {
    m_quit.store(true);
    signal_eventfd(m_wake_fd);
    m_thread.join();
    if (m_inotify_fd >= 0) {
        ::close(m_inotify_fd);
    }
    ::close(m_wake_fd);
}

StopWatcher::Watch StopWatcher::watch(const std::string& phase, const std::string& run_id, StopFlag& flag) {
    {
        const std::lock_guard lock(m_mutex);
        m_bindings[phase] = Binding{run_id, &flag};
    }
    check(phase);
    return Watch(*this, phase);
}

bool StopWatcher::watching(const std::string& phase) const {
    const std::lock_guard lock(m_mutex);
    return m_bindings.contains(phase);
}

void StopWatcher::unwatch(const std::string& phase) {
    const std::lock_guard lock(m_mutex);
    m_bindings.erase(phase);
}

// Every bound phase: after a lost event, or when polling.
void StopWatcher::check_all() {
    std::vector<std::string> phases;
    {
        const std::lock_guard lock(m_mutex);
        for (const auto& [phase, binding] : m_bindings) {
            phases.push_back(phase);
        }
    }
    for (const std::string& phase : phases) {
        check(phase);
    }
}

void StopWatcher::check(const std::string& phase) {
    const std::string target = read_stop_request(m_run_dir, phase);
    const std::lock_guard lock(m_mutex);
    const auto it = m_bindings.find(phase);
    if (it == m_bindings.end() || target.empty()) {
        return;
    }
    if (target == it->second.run_id) {
        const ScopedLogContext context(phase, target);
        if (!it->second.flag->requested()) {
            spdlog::info("stop requested for {} run {}: finishing at the next boundary", phase,
                         target);
        }
        it->second.flag->request();
    } else {
        // A stop bound to another run (one that already ended): never applies to this run.
        spdlog::debug("ignoring stop sentinel for {} naming run {} (current run {})", phase, target,
                      it->second.run_id);
    }
}

void StopWatcher::loop() {
    alignas(inotify_event) char buffer[8192];
    while (!m_quit.load()) {
        pollfd fds[2] = {{m_wake_fd, POLLIN, 0}, {m_inotify_fd, POLLIN, 0}};
        const int count = m_polling ? 1 : 2;
        const int rc = ::poll(fds, count, m_polling ? k_poll_interval_ms : -1);
        if (m_quit.load()) {
            break;
        }
        if (rc < 0 && errno != EINTR) {
            spdlog::error("stop watcher: poll failed: {}", std::strerror(errno));
            break;
        }
        if (m_polling) {
            check_all();
            continue;
        }
        if (rc <= 0 || !(fds[1].revents & POLLIN)) {
            continue;
        }
        for (;;) {
            const ssize_t n = ::read(m_inotify_fd, buffer, sizeof buffer);
            if (n <= 0) {
                break;
            }
            for (char* p = buffer; p < buffer + n;) {
                const auto* event = reinterpret_cast<const inotify_event*>(p);
                if (event->mask & IN_Q_OVERFLOW) {
                    check_all();
                } else if (event->len > 0) {
                    if (const std::optional<std::string> phase = phase_of_stop_file(event->name)) {
                        check(*phase);
                    }
                }
                p += sizeof(inotify_event) + event->len;
            }
        }
    }
}

SignalStopper::SignalStopper() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    m_wake_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    m_thread = std::thread([this] { loop(); });
}

SignalStopper::~SignalStopper() {
    signal_eventfd(m_wake_fd);
    m_thread.join();
    ::close(m_wake_fd);
}

SignalStopper::Registration SignalStopper::add(StopFlag& flag) {
    const std::lock_guard lock(m_mutex);
    m_flags.push_back(&flag);
    if (m_signalled) {
        flag.request(StopReason::Signal);
    }
    return Registration(*this, flag);
}

void SignalStopper::remove(StopFlag& flag) {
    const std::lock_guard lock(m_mutex);
    std::erase(m_flags, &flag);
}

void SignalStopper::loop() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    const int signal_fd = ::signalfd(-1, &set, SFD_CLOEXEC);
    for (;;) {
        pollfd fds[2] = {{m_wake_fd, POLLIN, 0}, {signal_fd, POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0 && errno != EINTR) {
            break;
        }
        if (fds[0].revents & POLLIN) {
            break;
        }
        signalfd_siginfo info{};
        if (!(fds[1].revents & POLLIN) || ::read(signal_fd, &info, sizeof info) != sizeof info) {
            continue;
        }
        const char* name = info.ssi_signo == SIGINT ? "SIGINT" : "SIGTERM";
        const std::lock_guard lock(m_mutex);
        if (m_signalled && info.ssi_signo == SIGINT) {
            spdlog::error("second SIGINT: aborting at once (published chunks stay intact; resume with --resume)");
            spdlog::default_logger()->flush();
            std::_Exit(130);
        }
        if (!m_signalled) {
            spdlog::warn("{} received: stopping every phase at the next boundary (press Ctrl-C again to abort)",
                         name);
        }
        m_signalled = true;
        for (StopFlag* flag : m_flags) {
            flag->request(StopReason::Signal);
        }
    }
    ::close(signal_fd);
}

} // namespace pipeline::core
