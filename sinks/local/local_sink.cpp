#include "sinks/local/local_sink.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/util/atomic_file.hpp"
#include "core/util/error.hpp"

namespace pipeline::sinks {

using core::Error;
using core::ExitCode;

namespace {
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
    std::error_code ec;
    std::filesystem::create_directories(target.parent_path(), ec);
    if (ec) {
        throw Error(ExitCode::Failed, "cannot create folder " + target.parent_path().string() + ": " + ec.message());
    }
    core::write_file_atomically(target, data);
}

std::optional<std::string> LocalSink::get(const std::string& key) {
    const std::filesystem::path path = m_root / key;
    if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) {
        return std::nullopt;
    }
    return core::read_file(path);
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

} // namespace pipeline::sinks
