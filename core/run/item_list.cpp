#include "core/run/item_list.hpp"

#include <unordered_set>

#include <nlohmann/json.hpp>

#include "core/util/error.hpp"

namespace pipeline::core {

using nlohmann::json;

std::vector<std::string> list_items(Phase phase, int ranking_pages, Sink& sink, const Manifest* upstream,
                                    std::vector<std::string>* unusable) {
    const PhaseSpec& spec = phase_spec(phase);
    std::vector<std::string> items;
    if (!spec.upstream) {
        for (int page = 1; page <= ranking_pages; ++page) {
            items.push_back(std::to_string(page));
        }
        return items;
    }
    const std::string field(spec.item_field);
    // Duplicates are found by index into `items`, not by a second copy of every key: at 200,000 items a set of
    // strings alone cost ~25 MB a phase (docs/compression.md, memory bounds).
    const auto hash = [&](std::size_t i) { return std::hash<std::string>{}(items[i]); };
    const auto equal = [&](std::size_t a, std::size_t b) { return items[a] == items[b]; };
    std::unordered_set<std::size_t, decltype(hash), decltype(equal)> seen(0, hash, equal);
    for_each_record(sink, *upstream, [&](std::string_view line) {
        const json record = json::parse(line, nullptr, false);
        const auto value = record.is_object() ? record.find(field) : record.end();
        if (value == record.end() || !value->is_string() || value->get_ref<const std::string&>().empty()) {
            if (unusable != nullptr) {
                unusable->emplace_back(line);
                return;
            }
            throw Error(ExitCode::Failed, "upstream " + std::string(phase_name(upstream->phase)) + " run " +
                                              upstream->run_id + " has a record without '" + field + "'");
        }
        items.push_back(value->get<std::string>());
        if (!seen.insert(items.size() - 1).second) {
            items.pop_back();
        }
    });
    return items;
}

} // namespace pipeline::core
