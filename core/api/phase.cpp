#include "core/api/phase.hpp"

#include <algorithm>
#include <cctype>

#include "core/api/records.hpp"
#include "core/util/text.hpp"

namespace pipeline::core {

// The endpoints and record shapes are those of docs/contract.md ("Phases", "Records").
const std::array<PhaseSpec, 4> k_phase_specs = {{
    {Phase::RankingFetch, "RANKING_FETCH", std::nullopt, "/maplestory/v1/ranking/overall?date={date}&page={item}",
     "", &ranking_answer_ok, &ranking_records},
    {Phase::OcidLookup, "OCID_LOOKUP", Phase::RankingFetch, "/maplestory/v1/id?character_name={item}",
     "character_name", &ocid_answer_ok, &ocid_record},
    {Phase::CharacterBasic, "CHARACTER_BASIC", Phase::OcidLookup,
     "/maplestory/v1/character/basic?ocid={item}&date={date}", "ocid", &detail_answer_ok, &detail_record},
    {Phase::ItemEquipment, "ITEM_EQUIPMENT", Phase::OcidLookup,
     "/maplestory/v1/character/item-equipment?ocid={item}&date={date}", "ocid", &detail_answer_ok,
     &detail_record},
}};

namespace {
constexpr std::array<std::string_view, 5> k_state_names = {"IDLE", "RUNNING", "COMPLETED", "FAILED", "STOPPED"};
} // namespace

const PhaseSpec& phase_spec(Phase phase) { return k_phase_specs[static_cast<std::size_t>(phase)]; }

std::string_view phase_name(Phase phase) { return phase_spec(phase).name; }

std::optional<Phase> parse_phase(std::string_view name) {
    std::string upper(name);
    std::ranges::transform(upper, upper.begin(), [](unsigned char c) { return std::toupper(c); });
    for (const PhaseSpec& spec : k_phase_specs) {
        if (spec.name == upper) {
            return spec.phase;
        }
    }
    return std::nullopt;
}

std::optional<Phase> upstream_of(Phase phase) { return phase_spec(phase).upstream; }

std::vector<std::vector<Phase>> run_waves(const std::vector<Phase>& phases) {
    std::vector<std::vector<Phase>> waves;
    std::array<std::optional<std::size_t>, k_phase_specs.size()> wave_of{};
    for (Phase phase : phases) { // an upstream always comes earlier in harvest order
        const std::optional<Phase> up = upstream_of(phase);
        const std::optional<std::size_t> up_wave = up ? wave_of[static_cast<std::size_t>(*up)] : std::nullopt;
        const std::size_t wave = up_wave ? *up_wave + 1 : 0;
        if (waves.size() <= wave) {
            waves.resize(wave + 1);
        }
        waves[wave].push_back(phase);
        wave_of[static_cast<std::size_t>(phase)] = wave;
    }
    return waves;
}

std::string invalid_phase_message(std::string_view name) {
    std::string message = "INVALID_PHASE: " + std::string(name) + " (expected one of ";
    for (const PhaseSpec& spec : k_phase_specs) {
        message += spec.name;
        message += spec.phase == k_phase_specs.back().phase ? ")" : ", ";
    }
    return message;
}

std::string item_url(Phase phase, std::string_view base_url, std::string_view key, std::string_view date) {
    const std::string_view pattern = phase_spec(phase).url_template;
    std::string url(base_url);
    std::size_t at = 0;
    while (at < pattern.size()) {
        if (pattern.substr(at).starts_with("{item}")) {
            url += percent_encode(key);
            at += 6;
        } else if (pattern.substr(at).starts_with("{date}")) {
            url += date;
            at += 6;
        } else {
            url += pattern[at++];
        }
    }
    return url;
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
