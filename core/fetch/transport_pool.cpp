#include "core/fetch/transport_pool.hpp"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include <spdlog/spdlog.h>

namespace pipeline::core {

using namespace std::chrono;

struct TransportPool::Shared {
    struct Route {
        Client* client = nullptr; ///< null once the client is gone: its answer is dropped
        std::uint64_t tag = 0;    ///< the client's own tag
    };

    std::unique_ptr<Transport> inner; ///< used by the pool's thread only (wake() by anyone)
    std::mutex mutex;                 ///< guards everything below, and every client's inbox
    std::uint64_t next_tag = 1;
    std::unordered_map<std::uint64_t, Route> routes;              ///< by inner tag
    std::vector<std::pair<std::uint64_t, std::string>> submitted; ///< to start, by inner tag
    bool quit = false;
    std::thread thread;
};

class TransportPool::Client final : public Transport {
  public:
    explicit Client(std::shared_ptr<Shared> shared) : m_shared(std::move(shared)) {}

    ~Client() override {
        const std::lock_guard lock(m_shared->mutex);
        for (auto& [tag, route] : m_shared->routes) {
            if (route.client == this) {
                route.client = nullptr;
            }
        }
        std::erase_if(m_shared->submitted, [&](const auto& entry) {
            const auto route = m_shared->routes.find(entry.first);
            if (route == m_shared->routes.end() || route->second.client != nullptr) {
                return false;
            }
            m_shared->routes.erase(route);
            return true;
        });
    }

    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;

    void start(std::uint64_t tag, const std::string& url) override {
        bool first = false;
        {
            const std::lock_guard lock(m_shared->mutex);
            const std::uint64_t inner_tag = m_shared->next_tag++;
            m_shared->routes.emplace(inner_tag, Shared::Route{this, tag});
            first = m_shared->submitted.empty();
            m_shared->submitted.emplace_back(inner_tag, url);
            ++m_outstanding;
        }
        // The pool's thread takes every submission at once: one wake-up (a syscall) per batch is enough.
        if (first) {
            m_shared->inner->wake();
        }
    }

    std::vector<TransportResult> poll(milliseconds timeout) override {
        std::unique_lock lock(m_shared->mutex);
        m_changed.wait_for(lock, timeout, [&] { return !m_inbox.empty() || m_woken; });
        m_woken = false;
        std::vector<TransportResult> results(std::make_move_iterator(m_inbox.begin()),
                                             std::make_move_iterator(m_inbox.end()));
        m_inbox.clear();
        m_outstanding -= results.size();
        return results;
    }

    void wake() override {
        const std::lock_guard lock(m_shared->mutex);
        m_woken = true;
        m_changed.notify_one();
    }

    std::size_t in_flight() const override {
        const std::lock_guard lock(m_shared->mutex);
        return m_outstanding;
    }

    /// Called by the pool's thread under the shared mutex.
    void deliver(TransportResult&& result) {
        m_inbox.push_back(std::move(result));
        m_changed.notify_one();
    }

  private:
    std::shared_ptr<Shared> m_shared;
    std::condition_variable m_changed;
    std::deque<TransportResult> m_inbox;
    std::size_t m_outstanding = 0;
    bool m_woken = false;
};

TransportPool::TransportPool(std::unique_ptr<Transport> inner) : m_shared(std::make_shared<Shared>()) {
    m_shared->inner = std::move(inner);
    m_shared->thread = std::thread([this] { loop(); });
}

TransportPool::~TransportPool() {
    {
        const std::lock_guard lock(m_shared->mutex);
        m_shared->quit = true;
    }
    m_shared->inner->wake();
    m_shared->thread.join();
    m_shared->inner.reset();
}

std::unique_ptr<Transport> TransportPool::client() {
    return std::make_unique<Client>(m_shared);
}

void TransportPool::loop() {
    Shared& shared = *m_shared;
    std::vector<std::pair<std::uint64_t, std::string>> starts;
    for (;;) {
        {
            const std::lock_guard lock(shared.mutex);
            if (shared.quit) {
                return;
            }
            starts.swap(shared.submitted);
        }
        std::vector<TransportResult> results;
        try {
            for (auto& [tag, url] : starts) {
                shared.inner->start(tag, url);
            }
            starts.clear();
            // Returns as soon as an answer is in or a client woke the transport to start a request.
            results = shared.inner->poll(seconds(1));
        } catch (const std::exception& error) {
            // Nothing of the transport is known to be sound: every transfer not answered yet fails, and its
            // fetcher retries it like any transport failure.
            spdlog::error("HTTP transport: {}", error.what());
            starts.clear();
            const std::lock_guard lock(shared.mutex);
            for (auto& [tag, route] : shared.routes) {
                results.push_back(
                    TransportResult{tag, 0, "", std::nullopt, TransportError::Other, error.what()});
            }
        }
        if (results.empty()) {
            continue;
        }
        const std::lock_guard lock(shared.mutex);
        for (TransportResult& result : results) {
            const auto route = shared.routes.find(result.tag);
            if (route == shared.routes.end()) {
                continue;
            }
            Client* client = route->second.client;
            result.tag = route->second.tag;
            shared.routes.erase(route);
            if (client != nullptr) {
                client->deliver(std::move(result));
            }
        }
    }
}

} // namespace pipeline::core
