#include "core/state/run_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "core/util/atomic_file.hpp"
#include "core/util/error.hpp"
#include "core/util/text.hpp"

namespace pipeline::core {

namespace {
void make_private_dir(const std::filesystem::path& path) {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
        throw Error(ExitCode::Failed, "cannot create run directory " + os_error(path, errno));
    }
}

std::string mode_text(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

// Whoever may write into the run directory may plant stop sentinels, a ledger or checkpoints whose run ids
// name paths: only its owner (the user running pipeline) may.
void check_private_dir(const std::filesystem::path& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
        if (errno == ENOENT) {
            return;
        }
        throw Error(ExitCode::Failed, "cannot inspect run directory " + os_error(path, errno));
    }
    if (!S_ISDIR(info.st_mode)) {
        throw usage_error("run directory " + escape_controls(path.string()) + " is not a directory");
    }
    if (info.st_uid != ::geteuid()) {
        throw usage_error("refusing run directory " + escape_controls(path.string()) + " (mode " +
                          mode_text(info.st_mode) + "): it is owned by uid " + std::to_string(info.st_uid) +
                          ", not by the user running pipeline (uid " + std::to_string(::geteuid()) +
                          "); use a run directory of your own");
    }
    if ((info.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        throw usage_error(
            "refusing run directory " + escape_controls(path.string()) + " (mode " + mode_text(info.st_mode) +
            "): group or others may write to it and plant stop sentinels, a ledger or checkpoints; "
            "fix with 'chmod 700 " +
            escape_controls(path.string()) + "'");
    }
}
} // namespace

void RunDir::check_existing() const {
    check_private_dir(m_root);
    check_private_dir(checkpoints());
}

void RunDir::create() const {
    std::error_code ec;
    if (m_root.has_parent_path()) {
        std::filesystem::create_directories(m_root.parent_path(), ec);
    }
    make_private_dir(m_root);
    check_private_dir(m_root);
    make_private_dir(checkpoints());
    check_private_dir(checkpoints());
    // Said now, once and clearly, rather than as whichever lock or ledger write happens to fail first.
    for (const std::filesystem::path& dir : {m_root, checkpoints()}) {
        if (::access(dir.c_str(), W_OK | X_OK) != 0) {
            throw Error(ExitCode::Failed, "run directory " + escape_controls(dir.string()) +
                                              " is not writable by uid " + std::to_string(::geteuid()) +
                                              ": " + std::strerror(errno));
        }
    }
    // Ledger and checkpoint temporaries of processes killed mid-write.
    for (const std::filesystem::path& dir : {m_root, checkpoints()}) {
        for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
            if (is_stale_temporary(entry.path().filename().string())) {
                std::filesystem::remove(entry.path(), ec);
            }
        }
    }
}

std::filesystem::path RunDir::slot_lock(const std::string& phase) const {
    return m_root / (phase + ".lock");
}

std::string RunDir::stop_sentinel_name(const std::string& phase) { return phase + ".stop"; }

std::filesystem::path RunDir::stop_sentinel(const std::string& phase) const { return m_root / stop_sentinel_name(phase); }

} // namespace pipeline::core
