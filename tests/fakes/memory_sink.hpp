#pragma once
// An in-memory core::Sink: objects in a sorted map, a put counter, and puts that fail on demand (a disk
// error) by throwing core::Error like the real sinks do.

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/snapshot/sink.hpp"
#include "core/util/error.hpp"

namespace pipeline::tests {

/// Thread-safe, so that a test may inspect it while a phase writes.
class MemorySink final : public core::Sink {
  public:
    void put(const std::string& key, std::string_view data) override {
        const std::lock_guard lock(m_mutex);
        ++m_puts;
        const bool fail_this = m_puts == m_fail_nth ||
                               (!m_fail_containing.empty() && key.find(m_fail_containing) != std::string::npos);
        if (fail_this) {
            throw core::Error(core::ExitCode::Failed, "cannot write " + describe() + "/" + key + ": " + m_cause);
        }
        m_objects[key] = std::string(data);
    }
    std::optional<std::string> get(const std::string& key) override {
        const std::lock_guard lock(m_mutex);
        const auto it = m_objects.find(key);
        return it == m_objects.end() ? std::nullopt : std::optional<std::string>(it->second);
    }
    std::vector<std::string> list(const std::string& prefix) override {
        const std::lock_guard lock(m_mutex);
        std::vector<std::string> keys;
        for (auto it = m_objects.lower_bound(prefix); it != m_objects.end() && it->first.starts_with(prefix); ++it) {
            keys.push_back(it->first);
        }
        return keys;
    }
    void remove(const std::string& key) override {
        const std::lock_guard lock(m_mutex);
        m_objects.erase(key);
    }
    void clean_temporaries(const std::string& /*prefix*/) override {
        const std::lock_guard lock(m_mutex);
        ++m_cleanups;
    }
    std::string describe() const override { return "memory://sink"; }

    /// Makes the put numbered `nth` (1-based, counting every put so far and to come) throw; others succeed.
    void fail_put(std::size_t nth, std::string cause = "No space left on device") {
        const std::lock_guard lock(m_mutex);
        m_fail_nth = nth;
        m_cause = std::move(cause);
    }
    /// Makes every put whose key contains `fragment` throw from now on (empty: none).
    void fail_puts_containing(std::string fragment, std::string cause = "No space left on device") {
        const std::lock_guard lock(m_mutex);
        m_fail_containing = std::move(fragment);
        m_cause = std::move(cause);
    }

    /// Every put attempted (failed ones included).
    std::size_t puts() const {
        const std::lock_guard lock(m_mutex);
        return m_puts;
    }
    std::size_t cleanups() const {
        const std::lock_guard lock(m_mutex);
        return m_cleanups;
    }
    std::map<std::string, std::string> objects() const {
        const std::lock_guard lock(m_mutex);
        return m_objects;
    }

  private:
    mutable std::mutex m_mutex;
    std::map<std::string, std::string> m_objects;
    std::size_t m_puts = 0;
    std::size_t m_cleanups = 0;
    std::size_t m_fail_nth = 0;
    std::string m_fail_containing;
    std::string m_cause;
};

/// A Sink that forwards to a shared one, for factories that must hand out a unique_ptr<Sink>.
class SinkRef final : public core::Sink {
  public:
    explicit SinkRef(core::Sink& target) : m_target(target) {}
    void put(const std::string& key, std::string_view data) override { m_target.put(key, data); }
    std::optional<std::string> get(const std::string& key) override { return m_target.get(key); }
    std::vector<std::string> list(const std::string& prefix) override { return m_target.list(prefix); }
    void remove(const std::string& key) override { m_target.remove(key); }
    void clean_temporaries(const std::string& prefix) override { m_target.clean_temporaries(prefix); }
    std::string describe() const override { return m_target.describe(); }

  private:
    core::Sink& m_target;
};

} // namespace pipeline::tests
