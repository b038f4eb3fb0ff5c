#include "core/state/pace_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "core/util/atomic_file.hpp"
#include "core/util/error.hpp"
#include "core/util/text.hpp"

namespace pipeline::core {

namespace {

constexpr char k_magic[8] = {'P', 'L', 'P', 'A', 'C', 'E', '\0', '\1'};
constexpr std::uint32_t k_version = 1;

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what, int error_number) {
    throw Error(ExitCode::Failed, "cannot " + what + " the pace file " + os_error(path, error_number) +
                                      " (it paces the API calls of every process of the run directory)");
}

bool header_ok(const PaceState& state) {
    return std::memcmp(state.magic, k_magic, sizeof k_magic) == 0 && state.version == k_version &&
           state.size == sizeof(PaceState);
}

} // namespace

PaceFile::PaceFile(const RunDir& run_dir) : m_path(run_dir.pace()) {
    // O_NONBLOCK: a FIFO planted under the name must not block the open; it is refused below.
    m_fd = ::open(m_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0600);
    if (m_fd < 0) {
        fail(m_path, "open", errno);
    }
    struct stat info {};
    if (::fstat(m_fd, &info) != 0) {
        const int saved = errno;
        ::close(m_fd);
        fail(m_path, "inspect", saved);
    }
    if (!S_ISREG(info.st_mode) || info.st_uid != ::geteuid()) {
        ::close(m_fd);
        throw Error(ExitCode::Failed, "refusing the pace file " + escape_controls(m_path.string()) +
                                          ": it is not a regular file owned by uid " +
                                          std::to_string(::geteuid()) +
                                          "; remove it (pipeline creates it again)");
    }
    if ((info.st_mode & 077) != 0 && ::fchmod(m_fd, 0600) != 0) {
        const int saved = errno;
        ::close(m_fd);
        fail(m_path, "restrict the mode of", saved);
    }
    m_flocked = flock_exclusive();
    if (info.st_size != static_cast<off_t>(sizeof(PaceState)) &&
        ::ftruncate(m_fd, static_cast<off_t>(sizeof(PaceState))) != 0) {
        const int saved = errno;
        ::close(m_fd);
        fail(m_path, "size", saved);
    }
    void* mapped = ::mmap(nullptr, sizeof(PaceState), PROT_READ | PROT_WRITE, MAP_SHARED, m_fd, 0);
    if (mapped == MAP_FAILED) {
        const int saved = errno;
        ::close(m_fd);
        fail(m_path, "map", saved);
    }
    m_state = static_cast<PaceState*>(mapped);
    try {
        repair();
    } catch (...) {
        ::munmap(m_state, sizeof(PaceState));
        ::close(m_fd);
        throw;
    }
    if (m_flocked) {
        ::flock(m_fd, LOCK_UN);
    }
}

PaceFile::~PaceFile() {
    ::munmap(m_state, sizeof(PaceState));
    ::close(m_fd);
}

bool PaceFile::flock_exclusive() {
    while (::flock(m_fd, LOCK_EX) != 0) {
        if (errno != EINTR) {
            if (!m_warned) {
                m_warned = true;
                spdlog::warn(
                    "{}: cannot lock ({}): the API calls of this process are paced, but not together with "
                    "other processes of the run directory",
                    escape_controls(m_path.string()), std::strerror(errno));
            }
            return false;
        }
    }
    return true;
}

void PaceFile::repair() {
    // Only pipeline writes the file and it never shrinks it; a shorter one would fault on access, so the size
    // is checked on every lock (an fstat) before the mapping is touched.
    struct stat info {};
    if (::fstat(m_fd, &info) == 0 && info.st_size < static_cast<off_t>(sizeof(PaceState)) &&
        ::ftruncate(m_fd, static_cast<off_t>(sizeof(PaceState))) != 0) {
        fail(m_path, "size", errno);
    }
    if (header_ok(*m_state)) {
        return;
    }
    PaceState fresh{};
    std::memcpy(fresh.magic, k_magic, sizeof k_magic);
    fresh.version = k_version;
    fresh.size = sizeof(PaceState);
    std::memcpy(m_state, &fresh, sizeof fresh);
}

PaceState& PaceFile::lock() {
    m_mutex.lock();
    m_flocked = flock_exclusive();
    try {
        repair();
    } catch (...) {
        unlock();
        throw;
    }
    return *m_state;
}

void PaceFile::unlock() {
    if (m_flocked) {
        ::flock(m_fd, LOCK_UN);
        m_flocked = false;
    }
    m_mutex.unlock();
}

} // namespace pipeline::core
