#include "sinks/local/local_sink.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/util/atomic_file.hpp"
#include "core/util/error.hpp"

namespace pipeline::sinks {

using core::Error;
using core::ExitCode;

namespace {
// A chunk written straight to its temporary file as compressed blocks finish.
class LocalObject final : public core::SinkObject {
  public:
    explicit LocalObject(const std::filesystem::path& target) : m_file(target) {}
    void write(std::string_view data) override { m_file.write(data); }
    void commit() override { m_file.commit(); }

  private:
    core::AtomicFile m_file;
};

void create_parent(const std::filesystem::path& target) {
    std::error_code ec;
    std::filesystem::create_directories(target.parent_path(), ec);
    if (ec) {
        throw Error(ExitCode::Failed, "cannot create folder " + target.parent_path().string() + ": " + ec.message());
    }
}

// The folder to walk for keys starting with `prefix`: the part up to its last '/'.
std::filesystem::path walk_root(const std::filesystem::path& root, const std::string& prefix) {
    const std::size_t slash = prefix.rfind('/');
    return slash == std::string::npos ? root : root / prefix.substr(0, slash);
}
} // namespace

LocalSink::LocalSink(std::filesystem::path root) : m_root(std::filesystem::absolute(root).lexically_normal()) {
    if (!m_root.has_filename()) { // "data/" normalises to a trailing empty name
        m_root = m_root.parent_path();
    }
}

void LocalSink::put(const std::string& key, std::string_view data) {
    const std::filesystem::path target = m_root / key;
    create_parent(target);
    core::write_file_atomically(target, data);
}

std::unique_ptr<core::SinkObject> LocalSink::open(const std::string& key) {
    const std::filesystem::path target = m_root / key;
    create_parent(target);
    return std::make_unique<LocalObject>(target);
}

// Through stream(), so that a manifest or _current.json that is a FIFO or a link to /dev/zero is refused
// rather than read forever.
std::optional<std::string> LocalSink::get(const std::string& key) {
    std::string data;
    switch (stream(key, UINT64_MAX, [&data](std::string_view piece) { data.append(piece); })) {
    case core::StreamStatus::Missing:
        return std::nullopt;
    case core::StreamStatus::NotAFile:
        throw Error(ExitCode::Failed, "cannot read " + (m_root / key).string() + ": not a regular file");
    case core::StreamStatus::Streamed:
        break;
    }
    return data;
}

std::vector<std::string> LocalSink::list(const std::string& prefix) {
    std::vector<std::string> keys;
    std::error_code ec;
    const std::filesystem::path start = walk_root(m_root, prefix);
    if (!std::filesystem::is_directory(start, ec)) {
        return keys;
    }
    for (auto it = std::filesystem::recursive_directory_iterator(start, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (!it->is_regular_file(ec) || core::is_temporary_name(it->path().filename().string())) {
            continue;
        }
        std::string key = it->path().lexically_relative(m_root).generic_string();
        if (key.starts_with(prefix)) {
            keys.push_back(std::move(key));
        }
    }
    if (ec) {
        throw Error(ExitCode::Failed, "cannot list " + start.string() + ": " + ec.message());
    }
    std::ranges::sort(keys);
    return keys;
}

void LocalSink::remove(const std::string& key) {
    const std::filesystem::path path = m_root / key;
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        throw Error(ExitCode::Failed, "cannot remove " + core::os_error(path, errno));
    }
}

void LocalSink::clean_temporaries(const std::string& prefix) {
    std::error_code ec;
    const std::filesystem::path start = walk_root(m_root, prefix);
    if (!std::filesystem::is_directory(start, ec)) {
        return;
    }
    // Only temporaries of dead writers: a live process may be about to commit its own.
    for (auto it = std::filesystem::recursive_directory_iterator(start, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (core::is_stale_temporary(it->path().filename().string())) {
            std::error_code ignored;
            std::filesystem::remove(it->path(), ignored);
        }
    }
}

// A snapshot's parts are regular files this sink wrote. Anything else under a part's name (a FIFO that would
// block a reader forever, a symbolic link to /dev/zero that never ends) is refused before a byte is read, and
// no read goes past `max_bytes`, so a reader's time and memory stay bounded by what the manifest says.
core::StreamStatus LocalSink::stream(const std::string& key, std::uint64_t max_bytes,
                                     const std::function<void(std::string_view)>& consume) {
    const std::filesystem::path path = m_root / key;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        if (errno == ENOENT) {
            return core::StreamStatus::Missing;
        }
        if (errno == ELOOP || errno == ENXIO) {
            return core::StreamStatus::NotAFile;
        }
        throw Error(ExitCode::Failed, "cannot open " + core::os_error(path, errno));
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
        throw Error(ExitCode::Failed, "cannot read " + core::os_error(path, errno));
    }
    if (!S_ISREG(info.st_mode)) {
        return core::StreamStatus::NotAFile;
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    // Big enough that a read costs little next to hashing it, small enough to stay in the cache.
    std::vector<char> buffer(1u << 20);
    std::uint64_t left = max_bytes;
    while (left > 0) {
        const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), left));
        const ssize_t got = ::read(fd, buffer.data(), want);
        if (got < 0 && errno == EINTR) {
            continue;
        }
        if (got < 0) {
            throw Error(ExitCode::Failed, "cannot read " + core::os_error(path, errno));
        }
        if (got == 0) {
            break;
        }
        left -= static_cast<std::uint64_t>(got);
        consume(std::string_view(buffer.data(), static_cast<std::size_t>(got)));
    }
    return core::StreamStatus::Streamed;
}

std::vector<std::string> LocalSink::list_folders(const std::string& prefix) {
    std::vector<std::string> folders;
    const std::filesystem::path start = prefix.empty() ? m_root : m_root / prefix;
    std::error_code ec;
    if (!std::filesystem::is_directory(start, ec)) {
        return folders;
    }
    std::filesystem::directory_iterator it(start, ec);
    for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
        std::error_code type_ec;
        // symlink_status: a link is not a folder of this sink, whatever it points at.
        if (!std::filesystem::is_directory(it->symlink_status(type_ec))) {
            continue;
        }
        // Such as ext4's lost+found (0700, root's) at the root of a mounted sink, for an unprivileged user:
        // said once here; a caller that needs what is inside finds out again when it lists it.
        std::error_code open_ec;
        const std::filesystem::directory_iterator probe(it->path(), open_ec);
        if (open_ec) {
            spdlog::warn("{}: cannot read this folder ({}); skipping it", it->path().string(),
                         open_ec.message());
        }
        folders.push_back(it->path().filename().string());
    }
    if (ec) {
        throw Error(ExitCode::Failed, "cannot list " + start.string() + ": " + ec.message());
    }
    std::ranges::sort(folders);
    return folders;
}

void LocalSink::remove_many(const std::vector<std::string>& keys) {
    std::set<std::filesystem::path> folders;
    for (const std::string& key : keys) {
        remove(key);
        folders.insert((m_root / key).parent_path());
    }
    // Deepest first, so that a folder's emptied subfolders are gone before it is tried. rmdir refuses a folder
    // that still holds anything, so nothing but empty folders goes, and never the root.
    for (auto it = folders.rbegin(); it != folders.rend(); ++it) {
        for (std::filesystem::path folder = *it; folder != m_root && folder.string().starts_with(m_root.string());
             folder = folder.parent_path()) {
            if (::rmdir(folder.c_str()) != 0) {
                break;
            }
        }
    }
}

std::vector<core::Temporary> LocalSink::stale_temporaries(const std::string& prefix) {
    std::vector<core::Temporary> found;
    std::error_code ec;
    const std::filesystem::path start = walk_root(m_root, prefix);
    // A folder this user may not open (lost+found, when gc runs unprivileged) holds no temporary of ours.
    if (!std::filesystem::is_directory(start, ec)) {
        return found;
    }
    for (auto it = std::filesystem::recursive_directory_iterator(
             start, std::filesystem::directory_options::skip_permission_denied, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
        if (core::is_stale_temporary(it->path().filename().string())) {
            std::string key = it->path().lexically_relative(m_root).generic_string();
            if (key.starts_with(prefix)) {
                found.push_back({std::move(key), ""});
            }
        }
    }
    if (ec) {
        throw Error(ExitCode::Failed, "cannot list " + start.string() + ": " + ec.message());
    }
    std::ranges::sort(found, {}, &core::Temporary::key);
    return found;
}

void LocalSink::remove_temporary(const core::Temporary& temporary) {
    remove(temporary.key);
}

} // namespace pipeline::sinks
