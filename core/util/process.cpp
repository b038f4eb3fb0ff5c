#include "core/util/process.hpp"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

namespace pipeline::core {

std::optional<std::uint64_t> process_start_ticks(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!in || !std::getline(in, line)) {
        return std::nullopt;
    }
    // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
    const std::size_t close = line.rfind(')');
    if (close == std::string::npos) {
        return std::nullopt;
    }
    std::istringstream fields(line.substr(close + 2));
    std::string field;
    for (int index = 3; fields >> field; ++index) {
        if (index == 3 && field == "Z") {
            return std::nullopt; // a zombie has exited
        }
        if (index == 22) {
            return std::stoull(field);
        }
    }
    return std::nullopt;
}

bool process_is_alive(pid_t pid, std::uint64_t start_ticks) {
    if (pid <= 0) {
        return false;
    }
    const std::optional<std::uint64_t> actual = process_start_ticks(pid);
    return actual && (start_ticks == 0 || *actual == start_ticks);
}

pid_t self_pid() { return ::getpid(); }

std::uint64_t self_start_ticks() {
    static const std::uint64_t ticks = process_start_ticks(::getpid()).value_or(0);
    return ticks;
}

} // namespace pipeline::core
