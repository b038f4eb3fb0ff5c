#include "core/api/phase.hpp"

#include <algorithm>
#include <cctype>

namespace pipeline::core {

namespace {
constexpr std::array<std::string_view, 4> k_phase_names = {"RANKING_FETCH", "OCID_LOOKUP", "CHARACTER_BASIC",
                                                           "ITEM_EQUIPMENT"};
constexpr std::array<std::string_view, 5> k_state_names = {"IDLE", "RUNNING", "COMPLETED", "FAILED", "STOPPED"};
} // namespace

std::string_view phase_name(Phase phase) { return k_phase_names[static_cast<std::size_t>(phase)]; }

std::optional<Phase> parse_phase(std::string_view name) {
    std::string upper(name);
    std::ranges::transform(upper, upper.begin(), [](unsigned char c) { return std::toupper(c); });
    for (Phase phase : k_all_phases) {
        if (phase_name(phase) == upper) {
            return phase;
        }
    }
    return std::nullopt;
}

std::optional<Phase> upstream_of(Phase phase) {
    switch (phase) {
    case Phase::RankingFetch:
        return std::nullopt;
    case Phase::OcidLookup:
        return Phase::RankingFetch;
    case Phase::CharacterBasic:
    case Phase::ItemEquipment:
        return Phase::OcidLookup;
    }
    return std::nullopt;
}

std::string invalid_phase_message(std::string_view name) {
    return "INVALID_PHASE: " + std::string(name) +
           " (expected one of RANKING_FETCH, OCID_LOOKUP, CHARACTER_BASIC, ITEM_EQUIPMENT)";
}

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
