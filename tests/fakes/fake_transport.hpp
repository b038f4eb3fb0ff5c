#pragma once
// A scripted core::Transport: tests queue answers per URL (or compute them from the URL), the fake logs
// every start with its time, and answers come back from poll() at once or when the test releases them.

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/fetch/transport.hpp"

namespace pipeline::tests {

/// One scripted answer. `held` keeps it in flight until FakeTransport::release() is called.
struct FakeAnswer {
    long status = 200;
    std::string body;
    std::optional<std::string> retry_after;
    core::TransportError error = core::TransportError::None;
    bool held = false;
};

/// A 200 answer with `body`.
inline FakeAnswer ok_answer(std::string body) { return FakeAnswer{200, std::move(body), std::nullopt}; }

/// An API error answer: HTTP `status` with {"error": {"name": name, "message": ...}}.
inline FakeAnswer api_error(long status, const std::string& name,
                            std::optional<std::string> retry_after = std::nullopt) {
    return FakeAnswer{status, R"({"error":{"name":")" + name + R"(","message":"scripted )" + name + R"("}})",
                      std::move(retry_after)};
}

/// A transfer that produced no complete HTTP answer.
inline FakeAnswer transport_failure(core::TransportError error) {
    FakeAnswer answer;
    answer.status = 0;
    answer.error = error;
    return answer;
}

/// The same answer, held in flight until released.
inline FakeAnswer held(FakeAnswer answer) {
    answer.held = true;
    return answer;
}

/// A scripted, thread-safe Transport. Answers for a URL are taken from its queue in order; the last one
/// repeats once the queue runs dry. A URL with no queue asks the script (url -> answers) once; with neither,
/// the transfer fails with TransportError::Other ("unscripted") and is counted.
class FakeTransport final : public core::Transport {
  public:
    using Clock = std::chrono::steady_clock;
    using Script = std::function<std::vector<FakeAnswer>(const std::string& url)>;
    using StartHook = std::function<void(std::size_t starts, const std::string& url)>;

    /// One start() as the fake saw it.
    struct Start {
        std::uint64_t tag = 0;
        std::string url;
        Clock::time_point at;
    };

    /// Queues answers for `url` (appended to any already queued).
    void add(const std::string& url, std::vector<FakeAnswer> answers) {
        const std::lock_guard lock(m_mutex);
        auto& queue = m_queues[url];
        queue.insert(queue.end(), answers.begin(), answers.end());
    }
    /// Computes the answers of URLs that have no queue (called under the fake's lock: must not call it).
    void set_script(Script script) {
        const std::lock_guard lock(m_mutex);
        m_script = std::move(script);
    }
    /// Called after each start (outside the fake's lock) with the number of starts so far.
    void on_start(StartHook hook) {
        const std::lock_guard lock(m_mutex);
        m_hook = std::move(hook);
    }
    /// While true, every new answer is held in flight until released.
    void hold_all(bool hold) {
        const std::lock_guard lock(m_mutex);
        m_hold_all = hold;
    }

    void start(std::uint64_t tag, const std::string& url) override {
        StartHook hook;
        std::size_t starts = 0;
        {
            const std::lock_guard lock(m_mutex);
            m_starts.push_back(Start{tag, url, Clock::now()});
            starts = m_starts.size();
            ++m_in_flight;
            m_max_in_flight = std::max(m_max_in_flight, m_in_flight);
            std::optional<FakeAnswer> scripted = next_answer(url);
            FakeAnswer answer = scripted.value_or(transport_failure(core::TransportError::Other));
            core::TransportResult result{tag, answer.status, std::move(answer.body), std::move(answer.retry_after),
                                         answer.error, ""};
            if (result.error != core::TransportError::None) {
                result.status = 0;
                result.error_message = scripted ? "scripted transport failure" : "unscripted URL " + url;
            }
            if (answer.held || m_hold_all) {
                m_held.push_back(std::move(result));
            } else {
                m_ready.push_back(std::move(result));
            }
            hook = m_hook;
            m_changed.notify_all();
        }
        if (hook) {
            hook(starts, url);
        }
    }

    std::vector<core::TransportResult> poll(std::chrono::milliseconds timeout) override {
        std::unique_lock lock(m_mutex);
        ++m_waiting_polls;
        m_changed.notify_all();
        m_changed.wait_for(lock, timeout, [&] { return !m_ready.empty() || m_woken; });
        --m_waiting_polls;
        m_woken = false;
        std::vector<core::TransportResult> results(std::make_move_iterator(m_ready.begin()),
                                                   std::make_move_iterator(m_ready.end()));
        m_ready.clear();
        m_in_flight -= results.size();
        return results;
    }

    void wake() override {
        const std::lock_guard lock(m_mutex);
        m_woken = true;
        ++m_wakes;
        m_changed.notify_all();
    }

    std::size_t in_flight() const override {
        const std::lock_guard lock(m_mutex);
        return m_in_flight;
    }

    /// Lets up to `count` held answers (oldest first) come back from poll().
    void release(std::size_t count = static_cast<std::size_t>(-1)) {
        const std::lock_guard lock(m_mutex);
        while (count-- > 0 && !m_held.empty()) {
            m_ready.push_back(std::move(m_held.front()));
            m_held.pop_front();
        }
        m_changed.notify_all();
    }

    /// Waits until at least `count` answers are held; false when `timeout` passed first.
    bool wait_for_held(std::size_t count, std::chrono::milliseconds timeout) {
        std::unique_lock lock(m_mutex);
        return m_changed.wait_for(lock, timeout, [&] { return m_held.size() >= count; });
    }
    /// Waits until the caller is blocked in poll() with every transfer it started already returned to it (so
    /// it has handled them all); false when `timeout` passed first.
    bool wait_until_idle(std::chrono::milliseconds timeout) {
        std::unique_lock lock(m_mutex);
        return m_changed.wait_for(lock, timeout,
                                  [&] { return m_waiting_polls > 0 && m_in_flight == 0 && m_ready.empty(); });
    }
    /// Waits until wake() was called at least `count` times; false when `timeout` passed first.
    bool wait_for_wakes(std::size_t count, std::chrono::milliseconds timeout) {
        std::unique_lock lock(m_mutex);
        return m_changed.wait_for(lock, timeout, [&] { return m_wakes >= count; });
    }
    /// Waits until at least `count` starts happened; false when `timeout` passed first.
    bool wait_for_starts(std::size_t count, std::chrono::milliseconds timeout) {
        std::unique_lock lock(m_mutex);
        return m_changed.wait_for(lock, timeout, [&] { return m_starts.size() >= count; });
    }

    std::vector<Start> starts() const {
        const std::lock_guard lock(m_mutex);
        return m_starts;
    }
    /// Start times of `url`, in order.
    std::vector<Clock::time_point> start_times(const std::string& url) const {
        const std::lock_guard lock(m_mutex);
        std::vector<Clock::time_point> times;
        for (const Start& s : m_starts) {
            if (s.url == url) {
                times.push_back(s.at);
            }
        }
        return times;
    }
    std::size_t start_count() const {
        const std::lock_guard lock(m_mutex);
        return m_starts.size();
    }
    std::size_t max_in_flight() const {
        const std::lock_guard lock(m_mutex);
        return m_max_in_flight;
    }
    std::size_t held_count() const {
        const std::lock_guard lock(m_mutex);
        return m_held.size();
    }
    std::size_t unscripted() const {
        const std::lock_guard lock(m_mutex);
        return m_unscripted;
    }

  private:
    // Called under the lock.
    std::optional<FakeAnswer> next_answer(const std::string& url) {
        auto it = m_queues.find(url);
        if (it == m_queues.end() && m_script) {
            std::vector<FakeAnswer> answers = m_script(url);
            it = m_queues.emplace(url, std::deque<FakeAnswer>(answers.begin(), answers.end())).first;
        }
        if (it == m_queues.end() || it->second.empty()) {
            ++m_unscripted;
            return std::nullopt;
        }
        FakeAnswer answer = it->second.front();
        if (it->second.size() > 1) {
            it->second.pop_front();
        }
        return answer;
    }

    mutable std::mutex m_mutex;
    std::condition_variable m_changed;
    std::map<std::string, std::deque<FakeAnswer>> m_queues;
    Script m_script;
    StartHook m_hook;
    bool m_hold_all = false;
    bool m_woken = false;
    int m_waiting_polls = 0;
    std::size_t m_wakes = 0;
    std::vector<Start> m_starts;
    std::deque<core::TransportResult> m_ready;
    std::deque<core::TransportResult> m_held;
    std::size_t m_in_flight = 0;
    std::size_t m_max_in_flight = 0;
    std::size_t m_unscripted = 0;
};

/// A Transport that forwards to a shared one, for factories that must hand out a unique_ptr<Transport>.
class TransportRef final : public core::Transport {
  public:
    explicit TransportRef(core::Transport& target) : m_target(target) {}
    void start(std::uint64_t tag, const std::string& url) override { m_target.start(tag, url); }
    std::vector<core::TransportResult> poll(std::chrono::milliseconds timeout) override {
        return m_target.poll(timeout);
    }
    void wake() override { m_target.wake(); }
    std::size_t in_flight() const override { return m_target.in_flight(); }

  private:
    core::Transport& m_target;
};

} // namespace pipeline::tests
