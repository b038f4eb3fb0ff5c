#include "core/run/item_list.hpp"

#include <unordered_set>

#include <nlohmann/json.hpp>

#include "core/util/error.hpp"

namespace pipeline::core {

using nlohmann::json;

std::vector<std::string> list_items(Phase phase, int ranking_pages, Sink& sink, const Manifest* upstream) {
    const PhaseSpec& spec = phase_spec(phase);
    std::vector<std::string> items;
    if (!spec.upstream) {
        for (int page = 1; page <= ranking_pages; ++page) {
            items.push_back(std::to_string(page));
        }
        return items;
    }
    const std::string field(spec.item_field);
    std::unordered_set<std::string> seen;
    for_each_record(sink, *upstream, [&](std::string_view line) {
        const json record = json::parse(line, nullptr, false);
        const auto value = record.is_object() ? record.find(field) : record.end();
        if (value == record.end() || !value->is_string() || value->get_ref<const std::string&>().empty()) {
            throw Error(ExitCode::Failed, "upstream " + std::string(phase_name(upstream->phase)) + " run " +
                                              upstream->run_id + " has a record without '" + field + "'");
        }
        if (seen.insert(value->get<std::string>()).second) {
            items.push_back(value->get<std::string>());
        }
    });
    return items;
}

} // namespace pipeline::core
