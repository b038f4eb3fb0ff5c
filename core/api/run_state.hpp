#pragma once
// The states a phase's run goes through (docs/contract.md §5): IDLE, RUNNING, then one of the terminal
// COMPLETED, FAILED or STOPPED.

#include <optional>
#include <string_view>

namespace pipeline::core {

/// The state of a phase's latest run.
enum class RunState { Idle, Running, Completed, Failed, Stopped };

/// "IDLE", "RUNNING", ...
std::string_view state_name(RunState state);

/// Parses a state name (upper case); nullopt when unknown.
std::optional<RunState> parse_state(std::string_view name);

/// COMPLETED, FAILED and STOPPED are terminal.
bool is_terminal(RunState state);

} // namespace pipeline::core
