#include "core/api/run_state.hpp"

#include <array>

namespace pipeline::core {

namespace {
constexpr std::array<std::string_view, 5> k_state_names = {"IDLE", "RUNNING", "COMPLETED", "FAILED", "STOPPED"};
} // namespace

std::string_view state_name(RunState state) { return k_state_names[static_cast<std::size_t>(state)]; }

std::optional<RunState> parse_state(std::string_view name) {
    for (std::size_t i = 0; i < k_state_names.size(); ++i) {
        if (k_state_names[i] == name) {
            return static_cast<RunState>(i);
        }
    }
    return std::nullopt;
}

bool is_terminal(RunState state) {
    return state == RunState::Completed || state == RunState::Failed || state == RunState::Stopped;
}

} // namespace pipeline::core
