#pragma once
// Telling a live worker from a dead one: pid plus the kernel's start time, so a reused pid is not mistaken.

#include <cstdint>
#include <optional>
#include <sys/types.h>

namespace pipeline::core {

/// The start time of process `pid` in clock ticks since boot (/proc/<pid>/stat field 22); nullopt when
/// there is no such process.
std::optional<std::uint64_t> process_start_ticks(pid_t pid);

/// True when `pid` runs and (if start_ticks is non-zero) started at start_ticks: the same process.
bool process_is_alive(pid_t pid, std::uint64_t start_ticks);

/// This process's pid and start time.
pid_t self_pid();
std::uint64_t self_start_ticks();

} // namespace pipeline::core
