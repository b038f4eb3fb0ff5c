#include "core/run/item_list.hpp"

#include <algorithm>
#include <cstdint>
#include <numeric>

#include <nlohmann/json.hpp>

#include "core/util/error.hpp"

namespace pipeline::core {

using nlohmann::json;

namespace {

// Drops every repeat of an earlier key. Sorting 4-byte indexes by key costs far less memory than a hash set
// of the keys (at 200,000 items a set of strings alone cost ~25 MB a phase; docs/compression.md).
void drop_repeats(StringTable& items) {
    std::vector<std::uint32_t> order(items.size());
    std::iota(order.begin(), order.end(), 0u);
    std::ranges::stable_sort(order, [&](std::uint32_t a, std::uint32_t b) { return items[a] < items[b]; });
    std::vector<bool> repeat(items.size(), false);
    bool any = false;
    for (std::size_t i = 1; i < order.size(); ++i) {
        if (items[order[i]] == items[order[i - 1]]) {
            repeat[order[i]] = true; // stable: the first place of a key sorts first
            any = true;
        }
    }
    if (any) {
        items.erase_marked(repeat);
    }
}

} // namespace

StringTable list_items(Phase phase, int ranking_pages, Sink& sink, const Manifest* upstream, StringTable* unusable) {
    const PhaseSpec& spec = phase_spec(phase);
    StringTable items;
    if (!spec.upstream) {
        for (int page = 1; page <= ranking_pages; ++page) {
            items.push_back(std::to_string(page));
        }
        return items;
    }
    const std::string field(spec.item_field);
    const auto upstream_error = [&](const std::string& what) {
        return Error(ExitCode::Failed, "upstream " + std::string(phase_name(upstream->phase)) + " run " +
                                           upstream->run_id + " " + what);
    };
    // A hint from the manifest (capped: it is read from storage) so that the offsets are not grown by copying.
    items.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(upstream->records, 1u << 23)));
    for_each_record(sink, *upstream, [&](std::string_view line) {
        const json record = json::parse(line, nullptr, false);
        const auto value = record.is_object() ? record.find(field) : record.end();
        if (value == record.end() || !value->is_string() || value->get_ref<const std::string&>().empty()) {
            if (unusable != nullptr) {
                unusable->push_back(line);
                return;
            }
            throw upstream_error("has a record without '" + field + "'");
        }
        if (items.size() == UINT32_MAX) {
            throw upstream_error("has more records than one run can take");
        }
        items.push_back(value->get_ref<const std::string&>());
    });
    drop_repeats(items);
    return items;
}

std::shared_ptr<const StringTable> ItemListCache::get(Phase phase, Sink& sink, const Manifest& upstream) {
    const std::string key = sink.describe() + "\n" + upstream.run_id + "\n" + std::string(phase_spec(phase).item_field);
    const std::scoped_lock lock(m_mutex);
    if (const auto found = m_lists.find(key); found != m_lists.end()) {
        if (std::shared_ptr<const StringTable> held = found->second.lock()) {
            return held;
        }
    }
    std::erase_if(m_lists, [](const auto& entry) { return entry.second.expired(); });
    auto list = std::make_shared<const StringTable>(list_items(phase, 0, sink, &upstream));
    m_lists[key] = list;
    return list;
}

} // namespace pipeline::core
