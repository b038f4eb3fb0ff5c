#pragma once
// flock(2) locks: the ledger's short write lock and each phase's slot lock held for a run's life.

#include <filesystem>
#include <optional>

namespace pipeline::core {

/// An exclusive flock on a lock file, released by the destructor (and by the kernel when the process dies).
class FileLock {
  public:
    /// Blocks until the lock is held; throws core::Error naming the path on failure.
    static FileLock acquire(const std::filesystem::path& path);
    /// Takes the lock only if free; nullopt when another open file holds it.
    static std::optional<FileLock> try_acquire(const std::filesystem::path& path);

    FileLock(FileLock&& other) noexcept;
    FileLock& operator=(FileLock&& other) noexcept;
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    ~FileLock();

  private:
    explicit FileLock(int fd) : m_fd(fd) {}
    int m_fd = -1;
};

} // namespace pipeline::core
