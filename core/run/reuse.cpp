#include "core/run/reuse.hpp"

#include <unordered_map>

#include <simdjson.h>
#include <spdlog/spdlog.h>

#include "core/snapshot/snapshot.hpp"
#include "core/util/time_util.hpp"

namespace pipeline::core {

namespace {

// An item's identity across dates: its fields' values, each ended by a separator no name or id holds.
std::string item_key(const ItemFields& fields) {
    std::string key;
    for (const auto& [name, value] : fields) {
        key += value;
        key += '\x1f';
    }
    return key;
}

// Copies the records of `earlier` whose item is still wanted, and forgets those items.
void copy_from(Sink& sink, const Manifest& earlier, ItemFields fields, std::unordered_map<std::string, std::size_t>& wanted,
               const StopFlag& stop, const std::function<void(std::string_view, std::size_t)>& copy) {
    simdjson::dom::parser parser;
    for_each_record(sink, earlier, [&](std::string_view record) {
        simdjson::dom::object object;
        if (stop.requested() || parser.parse(record.data(), record.size()).get(object) != simdjson::SUCCESS) {
            return;
        }
        for (auto& [name, value] : fields) {
            std::string_view text;
            value = object[name].get(text) == simdjson::SUCCESS ? std::string(text) : std::string();
        }
        const auto found = wanted.find(item_key(fields));
        if (found != wanted.end()) {
            copy(record, found->second);
            wanted.erase(found);
        }
    });
}

} // namespace

std::size_t reuse_earlier_records(Sink& sink, const PhaseDef& def, const ItemList& items, std::size_t count,
                                  const DoneSet& done, const std::string& date, const StopFlag& stop,
                                  const std::function<void(std::string_view, std::size_t)>& copy) {
    const std::optional<std::chrono::year_month_day> today = parse_date(date);
    if (def.reuse_days <= 0 || count == 0 || !today) {
        return 0;
    }
    std::unordered_map<std::string, std::size_t> wanted; // item key -> index, of the items not done yet
    for (std::size_t item = 0; item < count; ++item) {
        if (!done.contains(item)) {
            wanted.emplace(item_key(items.fields(item, date)), item);
        }
    }
    const std::size_t before = wanted.size();
    for (int back = 1; back <= def.reuse_days && !wanted.empty() && !stop.requested(); ++back) {
        const std::string earlier_date = format_date(std::chrono::sys_days(*today) - std::chrono::days(back));
        std::optional<Manifest> earlier;
        try {
            earlier = newest_completed(sink, def.name, earlier_date);
        } catch (const std::exception& e) {
            spdlog::warn("{}: not reusing the snapshot of {}: {}", def.name, earlier_date, e.what());
        }
        if (earlier) {
            copy_from(sink, *earlier, items.fields(0, date), wanted, stop, copy);
        }
    }
    return before - wanted.size();
}

} // namespace pipeline::core
