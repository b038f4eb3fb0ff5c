#include "core/util/file_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "core/util/atomic_file.hpp"
#include "core/util/error.hpp"

namespace pipeline::core {

namespace {
int open_lock_file(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        throw Error(ExitCode::Failed, "cannot open lock file " + os_error(path, errno));
    }
    return fd;
}
} // namespace

FileLock FileLock::acquire(const std::filesystem::path& path) {
    const int fd = open_lock_file(path);
    while (::flock(fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            const int error_number = errno;
            ::close(fd);
            throw Error(ExitCode::Failed, "cannot lock " + os_error(path, error_number));
        }
    }
    return FileLock(fd);
}

std::optional<FileLock> FileLock::try_acquire(const std::filesystem::path& path) {
    const int fd = open_lock_file(path);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        return std::nullopt;
    }
    return FileLock(fd);
}

FileLock::FileLock(FileLock&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}

FileLock& FileLock::operator=(FileLock&& other) noexcept {
    if (this != &other) {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
        m_fd = std::exchange(other.m_fd, -1);
    }
    return *this;
}

FileLock::~FileLock() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
}

} // namespace pipeline::core
