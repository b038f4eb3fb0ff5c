#pragma once
// The four harvest phases and the states a run of one can be in.

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace pipeline::core {

/// A harvest phase, in harvest order.
enum class Phase { RankingFetch, OcidLookup, CharacterBasic, ItemEquipment };

/// Every phase in harvest order.
inline constexpr std::array<Phase, 4> k_all_phases = {Phase::RankingFetch, Phase::OcidLookup,
                                                      Phase::CharacterBasic, Phase::ItemEquipment};

/// The upper-case name used in output, the ledger and the sink ("ITEM_EQUIPMENT").
std::string_view phase_name(Phase phase);

/// Parses a phase name case-insensitively; nullopt when it names no phase.
std::optional<Phase> parse_phase(std::string_view name);

/// The phase whose snapshot this one reads; nullopt for RANKING_FETCH.
std::optional<Phase> upstream_of(Phase phase);

/// The message for an invalid phase name: "INVALID_PHASE: x (expected one of ...)".
std::string invalid_phase_message(std::string_view name);

/// The state of a phase's latest run.
enum class RunState { Idle, Running, Completed, Failed, Stopped };

/// "IDLE", "RUNNING", ...
std::string_view state_name(RunState state);

/// Parses a state name (upper case); nullopt when unknown.
std::optional<RunState> parse_state(std::string_view name);

/// COMPLETED, FAILED and STOPPED are terminal.
bool is_terminal(RunState state);

} // namespace pipeline::core
