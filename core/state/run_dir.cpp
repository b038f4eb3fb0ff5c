#include "core/state/run_dir.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <system_error>

#include "core/util/atomic_file.hpp"
#include "core/util/error.hpp"

namespace pipeline::core {

namespace {
void make_private_dir(const std::filesystem::path& path) {
    if (::mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
        throw Error(ExitCode::Failed, "cannot create run directory " + os_error(path, errno));
    }
}
} // namespace

void RunDir::create() const {
    std::error_code ec;
    if (m_root.has_parent_path()) {
        std::filesystem::create_directories(m_root.parent_path(), ec);
    }
    make_private_dir(m_root);
    make_private_dir(checkpoints());
    // Ledger and checkpoint temporaries of processes killed mid-write.
    for (const std::filesystem::path& dir : {m_root, checkpoints()}) {
        for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
            if (is_stale_temporary(entry.path().filename().string())) {
                std::filesystem::remove(entry.path(), ec);
            }
        }
    }
}

std::filesystem::path RunDir::slot_lock(Phase phase) const {
    return m_root / (std::string(phase_name(phase)) + ".lock");
}

std::string RunDir::stop_sentinel_name(Phase phase) { return std::string(phase_name(phase)) + ".stop"; }

std::filesystem::path RunDir::stop_sentinel(Phase phase) const { return m_root / stop_sentinel_name(phase); }

} // namespace pipeline::core
