#include "core/run/item_list.hpp"

#include <algorithm>
#include <cstdint>
#include <numeric>

#include <simdjson.h>

#include "core/util/error.hpp"

namespace pipeline::core {

namespace {

// The usable text of `field` in `record`: a non-empty string, or an integer as decimal text.
std::optional<std::string> field_text(simdjson::dom::object record, const std::string& field) {
    simdjson::dom::element value;
    if (record[field].get(value) != simdjson::SUCCESS) {
        return std::nullopt;
    }
    std::string_view text;
    if (value.get(text) == simdjson::SUCCESS) {
        return text.empty() ? std::nullopt : std::optional<std::string>(text);
    }
    if (std::int64_t number = 0; value.get(number) == simdjson::SUCCESS) {
        return std::to_string(number);
    }
    if (std::uint64_t number = 0; value.get(number) == simdjson::SUCCESS) {
        return std::to_string(number);
    }
    return std::nullopt;
}

// Drops every repeat of an earlier tuple (`width` entries each). Sorting 4-byte indexes costs far less
// memory than a hash set of the tuples (at 200,000 items a set of strings alone cost ~25 MB a phase).
void drop_repeats(StringTable& table, std::size_t width) {
    const std::size_t count = width == 0 ? 0 : table.size() / width;
    const auto less = [&](std::uint32_t a, std::uint32_t b) {
        for (std::size_t f = 0; f < width; ++f) {
            const std::string_view x = table[a * width + f];
            const std::string_view y = table[b * width + f];
            if (x != y) {
                return x < y;
            }
        }
        return false;
    };
    std::vector<std::uint32_t> order(count);
    std::iota(order.begin(), order.end(), 0u);
    std::ranges::stable_sort(order, less);
    std::vector<bool> repeat(table.size(), false);
    bool any = false;
    for (std::size_t i = 1; i < order.size(); ++i) {
        if (!less(order[i - 1], order[i])) { // equal: stable, so the first place of a tuple sorts first
            std::fill_n(repeat.begin() + static_cast<std::ptrdiff_t>(order[i] * width),
                        static_cast<std::ptrdiff_t>(width), true);
            any = true;
        }
    }
    if (any) {
        table.erase_marked(repeat);
    }
}

} // namespace

UpstreamItems list_upstream_items(const std::vector<std::string>& fields, Sink& sink, const Manifest& upstream) {
    UpstreamItems items;
    // A hint from the manifest (capped: it is read from storage) so that the offsets are not grown by copying.
    items.tuples.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(upstream.records, 1u << 23)) *
                         fields.size());
    simdjson::dom::parser parser;
    std::vector<std::string> values(fields.size());
    std::uint64_t records = 0;
    for_each_record(sink, upstream, [&](std::string_view line) {
        if (++records > UINT32_MAX) {
            throw Error(ExitCode::Failed, "upstream " + upstream.phase + " run " + upstream.run_id +
                                              " has more records than one run can take");
        }
        simdjson::dom::object record;
        bool usable = parser.parse(line.data(), line.size()).get(record) == simdjson::SUCCESS;
        for (std::size_t f = 0; usable && f < fields.size(); ++f) {
            std::optional<std::string> text = field_text(record, fields[f]);
            usable = text.has_value();
            values[f] = std::move(text).value_or("");
        }
        if (!usable) {
            items.unusable.push_back(line);
            return;
        }
        for (const std::string& value : values) {
            items.tuples.push_back(value);
        }
    });
    drop_repeats(items.tuples, fields.size());
    return items;
}

std::string first_unusable_field(const std::vector<std::string>& fields, std::string_view record) {
    simdjson::dom::parser parser;
    simdjson::dom::object object;
    if (parser.parse(record.data(), record.size()).get(object) != simdjson::SUCCESS) {
        return fields.empty() ? std::string() : fields.front();
    }
    for (const std::string& field : fields) {
        if (!field_text(object, field)) {
            return field;
        }
    }
    return {};
}

std::shared_ptr<const UpstreamItems> ItemListCache::get(const std::vector<std::string>& fields, Sink& sink,
                                                        const Manifest& upstream) {
    std::string key = sink.describe() + "\n" + upstream.phase + "\n" + upstream.run_id;
    for (const std::string& field : fields) {
        key += "\n" + field;
    }
    const std::scoped_lock lock(m_mutex);
    if (const auto found = m_lists.find(key); found != m_lists.end()) {
        if (std::shared_ptr<const UpstreamItems> held = found->second.lock()) {
            return held;
        }
    }
    std::erase_if(m_lists, [](const auto& entry) { return entry.second.expired(); });
    auto list = std::make_shared<const UpstreamItems>(list_upstream_items(fields, sink, upstream));
    m_lists[key] = list;
    return list;
}

} // namespace pipeline::core
