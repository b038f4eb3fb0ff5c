#include "core/state/quota.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <nlohmann/json.hpp>

#include "core/snapshot/codec.hpp"
#include "core/util/error.hpp"

namespace pipeline::core {

using nlohmann::json;

namespace {

std::string today() {
    return format_date(api_today(calendar_now()));
}

// The file's contents for `day`: {"day": ..., "calls": {fingerprint: count}}. Another day's counts are
// history: they start again from zero.
json parse_counts(const std::string& text, const std::string& day, const std::filesystem::path& path) {
    if (text.empty()) {
        return json{{"day", day}, {"calls", json::object()}};
    }
    json doc = json::parse(text, nullptr, false);
    if (!doc.is_object() || !doc.contains("calls") || !doc["calls"].is_object()) {
        throw Error(ExitCode::Failed, path.string() + ": not a call budget file (delete it to start counting again)");
    }
    if (doc.value("day", "") != day) {
        return json{{"day", day}, {"calls", json::object()}};
    }
    return doc;
}

std::uint64_t count_of(const json& doc, const std::string& fingerprint) {
    std::uint64_t used = 0;
    for (const auto& [key, value] : doc["calls"].items()) {
        if ((fingerprint.empty() || key == fingerprint) && value.is_number_unsigned()) {
            used += value.get<std::uint64_t>();
        }
    }
    return used;
}

[[noreturn]] void io_error(const std::filesystem::path& path, const char* what) {
    throw Error(ExitCode::Failed, path.string() + ": cannot " + what + " the call budget file: " + std::strerror(errno));
}

// An open, flocked quota file; read and rewritten in place (no fsync: a crash may lose the last few
// counts, which only errs towards one more call, and a request per fsync would cap the request rate).
class LockedFile {
  public:
    explicit LockedFile(std::filesystem::path path) : m_path(std::move(path)) {
        m_fd = ::open(m_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (m_fd < 0) {
            io_error(m_path, "open");
        }
        while (::flock(m_fd, LOCK_EX) != 0) {
            if (errno != EINTR) {
                const int saved = errno;
                ::close(m_fd);
                errno = saved;
                io_error(m_path, "lock");
            }
        }
    }
    ~LockedFile() { ::close(m_fd); }
    LockedFile(const LockedFile&) = delete;
    LockedFile& operator=(const LockedFile&) = delete;

    std::string read() const {
        std::string text;
        char buffer[4096];
        off_t offset = 0;
        for (;;) {
            const ssize_t n = ::pread(m_fd, buffer, sizeof buffer, offset);
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                io_error(m_path, "read");
            }
            if (n == 0) {
                return text;
            }
            text.append(buffer, static_cast<std::size_t>(n));
            offset += n;
        }
    }

    void write(const std::string& text) const {
        std::size_t done = 0;
        while (done < text.size()) {
            const ssize_t n = ::pwrite(m_fd, text.data() + done, text.size() - done, static_cast<off_t>(done));
            if (n < 0) {
                if (errno == EINTR) {
                    continue;
                }
                io_error(m_path, "write");
            }
            done += static_cast<std::size_t>(n);
        }
        if (::ftruncate(m_fd, static_cast<off_t>(text.size())) != 0) {
            io_error(m_path, "write");
        }
    }

  private:
    std::filesystem::path m_path;
    int m_fd = -1;
};

} // namespace

std::string key_fingerprint(std::string_view key) {
    return "sha256:" + sha256_hex(key).substr(0, 16);
}

std::filesystem::path quota_path(const RunDir& run_dir) {
    return run_dir.root() / "quota.json";
}

QuotaUse read_quota(const RunDir& run_dir, const std::string& fingerprint, std::uint64_t limit) {
    const std::filesystem::path path = quota_path(run_dir);
    const std::string day = today();
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        return QuotaUse{day, 0, limit};
    }
    const LockedFile file(path); // a reader never sees a half-written file
    return QuotaUse{day, count_of(parse_counts(file.read(), day, path), fingerprint), limit};
}

DailyQuota::DailyQuota(RunDir run_dir, std::string fingerprint, std::uint64_t limit)
    : m_run_dir(std::move(run_dir)), m_fingerprint(std::move(fingerprint)), m_limit(limit) {}

template <typename F> auto DailyQuota::locked(F&& f) {
    const std::lock_guard lock(m_mutex);
    const std::filesystem::path path = quota_path(m_run_dir);
    const LockedFile file(path);
    const std::string day = today();
    json doc = parse_counts(file.read(), day, path);
    return f(file, doc, day);
}

bool DailyQuota::take() {
    return locked([&](const LockedFile& file, json& doc, const std::string&) {
        const std::uint64_t used = count_of(doc, m_fingerprint);
        if (used >= m_limit) {
            return false;
        }
        doc["calls"][m_fingerprint] = used + 1;
        file.write(doc.dump() + "\n");
        return true;
    });
}

QuotaUse DailyQuota::use() {
    return locked([&](const LockedFile&, json& doc, const std::string& day) {
        return QuotaUse{day, count_of(doc, m_fingerprint), m_limit};
    });
}

} // namespace pipeline::core
