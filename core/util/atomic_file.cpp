#include "core/util/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/util/error.hpp"
#include "core/util/process.hpp"

namespace pipeline::core {

namespace {
std::atomic<unsigned> g_sequence{0};

[[noreturn]] void fail(const std::filesystem::path& path, int error_number, std::string_view action) {
    throw Error(ExitCode::Failed, "cannot " + std::string(action) + " " + os_error(path, error_number));
}
} // namespace

std::string os_error(const std::filesystem::path& path, int error_number) {
    return path.string() + ": " + std::strerror(error_number);
}

bool is_temporary_name(std::string_view file_name) {
    return file_name.starts_with('.') && file_name.find(".tmp-") != std::string_view::npos;
}

bool is_stale_temporary(std::string_view file_name) {
    const std::size_t at = file_name.find(".tmp-");
    if (!file_name.starts_with('.') || at == std::string_view::npos) {
        return false;
    }
    const std::string rest(file_name.substr(at + 5));
    const long pid = std::strtol(rest.c_str(), nullptr, 10);
    return pid <= 0 || !process_is_alive(static_cast<pid_t>(pid), 0);
}

AtomicFile::AtomicFile(std::filesystem::path target) : m_target(std::move(target)) {
    m_temporary = m_target.parent_path() / ("." + m_target.filename().string() + ".tmp-" +
                                            std::to_string(::getpid()) + "-" + std::to_string(++g_sequence));
    m_fd = ::open(m_temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (m_fd < 0) {
        fail(m_temporary, errno, "create");
    }
}

AtomicFile::~AtomicFile() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
    if (!m_committed) {
        ::unlink(m_temporary.c_str());
    }
}

void AtomicFile::write(std::string_view data) {
    while (!data.empty()) {
        const ssize_t written = ::write(m_fd, data.data(), data.size());
        if (written < 0) {
            if (errno == EINTR) {
                continue;
            }
            fail(m_temporary, errno, "write");
        }
        data.remove_prefix(static_cast<std::size_t>(written));
    }
}

void AtomicFile::commit() {
    if (::fsync(m_fd) != 0) {
        fail(m_temporary, errno, "fsync");
    }
    const int fd = m_fd;
    m_fd = -1;
    if (::close(fd) != 0) {
        fail(m_temporary, errno, "close");
    }
    if (::rename(m_temporary.c_str(), m_target.c_str()) != 0) {
        fail(m_target, errno, "rename into");
    }
    m_committed = true;
    sync_directory(m_target.parent_path());
}

void write_file_atomically(const std::filesystem::path& target, std::string_view data) {
    AtomicFile file(target);
    file.write(data);
    file.commit();
}

std::string read_file(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fail(path, errno, "open");
    }
    std::string data;
    char buffer[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            const int error_number = errno;
            ::close(fd);
            fail(path, error_number, "read");
        }
        if (n == 0) {
            break;
        }
        data.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return data;
}

void sync_directory(const std::filesystem::path& directory) {
    const std::filesystem::path dir = directory.empty() ? std::filesystem::path(".") : directory;
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        fail(dir, errno, "open folder");
    }
    const int rc = ::fsync(fd);
    const int error_number = errno;
    ::close(fd);
    if (rc != 0) {
        fail(dir, error_number, "fsync folder");
    }
}

} // namespace pipeline::core
