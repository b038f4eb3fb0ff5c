#include "core/config/phase_def.hpp"

#include <algorithm>

#include "core/util/text.hpp"

namespace pipeline::core {

std::size_t PhaseDef::combinations() const {
    std::size_t product = 1;
    for (const QueryParam& param : query) {
        if (param.list) {
            product *= param.values.size();
        }
    }
    return product;
}

namespace {

PhaseDef detail_phase(std::string name, std::string path) {
    PhaseDef def;
    def.name = std::move(name);
    def.upstream = "OCID_LOOKUP";
    def.path = std::move(path);
    def.query = {{"ocid", {"{ocid}"}, false}, {"date", {"{date}"}, false}};
    def.fields = {"ocid"};
    return def;
}

} // namespace

std::vector<PhaseDef> builtin_phases(int ranking_pages) {
    PhaseDef ranking;
    ranking.name = "RANKING_FETCH";
    ranking.path = "/maplestory/v1/ranking/overall";
    ranking.query = {{"date", {"{date}"}, false}, {"page", {"{page}"}, false}};
    ranking.pages = ranking_pages;
    ranking.rows = "ranking";

    PhaseDef ocid;
    ocid.name = "OCID_LOOKUP";
    ocid.upstream = "RANKING_FETCH";
    ocid.path = "/maplestory/v1/id";
    ocid.query = {{"character_name", {"{character_name}"}, false}};
    ocid.expect = "ocid";
    ocid.record = RecordShape::Merge;
    ocid.fields = {"character_name"};

    return {std::move(ranking), std::move(ocid),
            detail_phase("CHARACTER_BASIC", "/maplestory/v1/character/basic"),
            detail_phase("ITEM_EQUIPMENT", "/maplestory/v1/character/item-equipment")};
}

bool collect_fields(std::string_view text, std::vector<std::string>& fields) {
    std::size_t at = 0;
    while ((at = text.find('{', at)) != std::string_view::npos) {
        const std::size_t end = text.find('}', at);
        if (end == std::string_view::npos || end == at + 1) {
            return false;
        }
        const std::string name(text.substr(at + 1, end - at - 1));
        if (name.find('{') != std::string::npos) {
            return false;
        }
        if (name != "date" && name != "page" && std::ranges::find(fields, name) == fields.end()) {
            fields.push_back(name);
        }
        at = end + 1;
    }
    return true;
}

bool has_placeholder(std::string_view text, std::string_view name) {
    return text.find("{" + std::string(name) + "}") != std::string_view::npos;
}

std::vector<PhaseDef> in_phase_order(std::vector<PhaseDef> phases) {
    std::vector<PhaseDef> ordered;
    ordered.reserve(phases.size());
    std::vector<bool> placed(phases.size(), false);
    // Repeatedly take the first phase (in the order given) whose upstream is already placed: a stable
    // topological order, so that siblings keep the order the user wrote them in.
    while (ordered.size() < phases.size()) {
        bool progressed = false;
        for (std::size_t i = 0; i < phases.size(); ++i) {
            if (placed[i]) {
                continue;
            }
            const bool ready =
                phases[i].upstream.empty() ||
                std::ranges::any_of(ordered, [&](const PhaseDef& p) { return p.name == phases[i].upstream; });
            if (ready) {
                placed[i] = true;
                ordered.push_back(std::move(phases[i]));
                progressed = true;
                break;
            }
        }
        if (!progressed) {
            break; // a cycle or an unknown upstream: validate_phases reports those
        }
    }
    return ordered;
}

const PhaseDef* find_phase(const std::vector<PhaseDef>& phases, std::string_view name) {
    const std::string upper = to_upper(name);
    const auto found = std::ranges::find(phases, upper, &PhaseDef::name);
    return found == phases.end() ? nullptr : &*found;
}

std::string invalid_phase_message(const std::vector<PhaseDef>& phases, std::string_view name) {
    std::string message = "INVALID_PHASE: " + escape_controls(name) + " (expected one of ";
    for (std::size_t i = 0; i < phases.size(); ++i) {
        message += (i == 0 ? "" : ", ") + phases[i].name;
    }
    return message + ")";
}

std::vector<std::vector<std::string>> run_waves(const std::vector<PhaseDef>& phases,
                                                const std::vector<std::string>& chosen) {
    std::vector<std::vector<std::string>> waves;
    std::vector<std::pair<std::string, std::size_t>> wave_of;
    for (const std::string& name : chosen) { // an upstream always comes earlier in phase order
        const PhaseDef* def = find_phase(phases, name);
        std::size_t wave = 0;
        if (def != nullptr && !def->upstream.empty()) {
            const auto up = std::ranges::find(wave_of, def->upstream, &std::pair<std::string, std::size_t>::first);
            wave = up == wave_of.end() ? 0 : up->second + 1;
        }
        if (waves.size() <= wave) {
            waves.resize(wave + 1);
        }
        waves[wave].push_back(name);
        wave_of.emplace_back(name, wave);
    }
    return waves;
}

} // namespace pipeline::core
