#pragma once
// The harvest phases, defined in one table (k_phase_specs): name, upstream, endpoint, what lists the items,
// the answer check and the record builder. Adding an endpoint is a row here plus its builder in records.cpp.
// docs/ARCHITECTURE.md shows where each column is used.

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pipeline::core {

/// A harvest phase, in harvest order.
enum class Phase { RankingFetch, OcidLookup, CharacterBasic, ItemEquipment };

/// Receives each record (one JSON object, no newline) a builder makes from an answer.
using RecordSink = std::function<void(std::string_view)>;

/// Everything that differs between phases.
struct PhaseSpec {
    Phase phase;
    std::string_view name;         ///< upper case, as in output, the ledger and the sink ("ITEM_EQUIPMENT")
    std::optional<Phase> upstream; ///< the phase whose snapshot lists this one's items; none: pages 1..N
    /// The request, relative to api.base_url: "{item}" is replaced by the percent-encoded item key and
    /// "{date}" by the snapshot date.
    std::string_view url_template;
    /// The field of each upstream record that names an item (its distinct values, in upstream order);
    /// empty for a phase without upstream, whose items are the page numbers 1..ranking.pages.
    std::string_view item_field;
    /// True when a 200 answer (already known to be a JSON object) has what `make_records` needs; an answer it
    /// refuses is retried like a bad body.
    bool (*answer_check)(std::string_view body);
    /// Turns a checked answer for item `key` into records; false when the answer lacks what it needs.
    bool (*make_records)(std::string_view key, std::string_view date, std::string_view body, const RecordSink& emit);
};

/// The phases, in harvest order: the only place a phase is defined.
extern const std::array<PhaseSpec, 4> k_phase_specs;

/// Every phase in harvest order.
inline constexpr std::array<Phase, 4> k_all_phases = {Phase::RankingFetch, Phase::OcidLookup,
                                                      Phase::CharacterBasic, Phase::ItemEquipment};

/// The table row of `phase`.
const PhaseSpec& phase_spec(Phase phase);

/// The upper-case name used in output, the ledger and the sink ("ITEM_EQUIPMENT").
std::string_view phase_name(Phase phase);

/// Parses a phase name case-insensitively; nullopt when it names no phase.
std::optional<Phase> parse_phase(std::string_view name);

/// The phase whose snapshot this one reads; nullopt for RANKING_FETCH.
std::optional<Phase> upstream_of(Phase phase);

/// Groups `phases` (in harvest order) into waves that run one after the other: a phase joins the wave after
/// its upstream's when that upstream is among `phases`, else the first. The phases of one wave (e.g.
/// CHARACTER_BASIC and ITEM_EQUIPMENT, which read the same upstream) may run side by side.
std::vector<std::vector<Phase>> run_waves(const std::vector<Phase>& phases);

/// The message for an invalid phase name: "INVALID_PHASE: x (expected one of ...)".
std::string invalid_phase_message(std::string_view name);

/// The request URL for one item: base_url + the phase's url_template with the item and date filled in.
std::string item_url(Phase phase, std::string_view base_url, std::string_view key, std::string_view date);

/// The state of a phase's latest run.
enum class RunState { Idle, Running, Completed, Failed, Stopped };

/// "IDLE", "RUNNING", ...
std::string_view state_name(RunState state);

/// Parses a state name (upper case); nullopt when unknown.
std::optional<RunState> parse_state(std::string_view name);

/// COMPLETED, FAILED and STOPPED are terminal.
bool is_terminal(RunState state);

} // namespace pipeline::core
