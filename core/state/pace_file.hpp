#pragma once
// <run_dir>/pace: the RateLimiter's state (core/fetch/rate_limiter.hpp) in a small file that every process of
// the run directory maps, so that together they stay within the key's rate limit (docs/pacing.md). An update
// holds an flock for microseconds; the kernel drops it when its holder dies, so a killed process never blocks
// the others, and a half-written or damaged state is reset rather than trusted.

#include <filesystem>
#include <mutex>

#include "core/fetch/rate_limiter.hpp"
#include "core/state/run_dir.hpp"

namespace pipeline::core {

/// The pace file, mapped. Thread-safe (lock() also locks this process's threads out).
class PaceFile final : public PaceStore {
  public:
    /// Opens <run_dir>/pace, creating it with mode 0600 and never through a symlink, and maps it; a file of
    /// the wrong size, header or version is reinitialised. Throws core::Error (exit 1) naming the file when
    /// it cannot be opened or mapped, or is not a regular file of the user running pipeline.
    explicit PaceFile(const RunDir& run_dir);
    ~PaceFile() override;
    PaceFile(const PaceFile&) = delete;
    PaceFile& operator=(const PaceFile&) = delete;

    PaceState& lock() override;
    void unlock() override;

    /// The file's path.
    const std::filesystem::path& path() const { return m_path; }

  private:
    bool flock_exclusive();
    void repair(); ///< under the flock: the right size and header, else a fresh state

    std::filesystem::path m_path;
    std::mutex m_mutex;
    int m_fd = -1;
    PaceState* m_state = nullptr;
    bool m_flocked = false;
    bool m_warned = false;
};

} // namespace pipeline::core
