#pragma once
// The items of one run of a phase (docs/contract.md §1) and what each one asks the API: an item is one
// distinct combination of the upstream fields the phase names (a "tuple"), times one value of each
// list-valued query key, times one page when the phase has `pages`. Only the tuples are stored; the rest is
// arithmetic on the item's index.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/config/phase_def.hpp"
#include "core/util/string_table.hpp"

namespace pipeline::core {

/// An item's own fields as a record shows them: (query key or field name, value), in query order.
using ItemFields = std::vector<std::pair<std::string, std::string>>;

/// The items of a phase run, in order: tuple by tuple (upstream order), then list value by list value
/// (the first list key varies slowest), then page by page.
class ItemList {
  public:
    /// `tuples` holds def.fields.size() values per tuple, end to end, and may be shared with sibling phases
    /// that name the same fields of the same upstream run; a phase without upstream has one empty tuple.
    /// `def` must outlive the list.
    ItemList(const PhaseDef& def, std::shared_ptr<const StringTable> tuples);

    /// How many items there are.
    std::size_t size() const { return m_tuple_count * m_combinations * m_pages; }

    /// `text` with its placeholders filled for item `index`: {date}, {page} and upstream fields; values are
    /// percent-encoded when `encode`.
    std::string fill(std::string_view text, std::size_t index, std::string_view date, bool encode) const;

    /// The request for item `index`: base_url, the filled path, then the query in the config's order.
    std::string url(std::string_view base_url, std::size_t index, std::string_view date) const;

    /// The item's own fields: each query key whose value is a list or names an upstream field or {page},
    /// then the path's fields that no such key holds.
    ItemFields fields(std::size_t index, std::string_view date) const;

    /// The item for people and _rejects.jsonl: its one field's value ("Alice", "3"), or its fields as a
    /// JSON object when it has several.
    std::string describe(std::size_t index, std::string_view date) const;

    /// The page item `index` asks for (1-based); 0 when the phase has no pages.
    int page(std::size_t index) const;

    /// Index of the first item of the same tuple and list values as `index` (its page 1).
    std::size_t first_page_of(std::size_t index) const { return index - (index % m_pages); }

    /// The shared tuple table.
    const std::shared_ptr<const StringTable>& tuples() const { return m_tuples; }

  private:
    std::string_view value_of(std::string_view name, std::size_t index, std::string_view date, std::string& page) const;
    std::string_view list_value(std::size_t param, std::size_t index) const;

    const PhaseDef* m_def;
    std::shared_ptr<const StringTable> m_tuples;
    std::size_t m_width;        // values per tuple
    std::size_t m_tuple_count;  // 1 without upstream
    std::size_t m_combinations; // product of the list sizes
    std::size_t m_pages;        // 1 without pages
};

/// Where paged items end early (docs/contract.md §1): per run of pages (one tuple and list values), the
/// first page that came back with no rows; the pages after it are not fetched. Not thread-safe.
class PageEnds {
  public:
    /// Item `index` of `items` answered a page with no rows.
    void ended_at(const ItemList& items, std::size_t index);

    /// True when item `index` asks for a page after an empty one of its run of pages.
    bool past_end(const ItemList& items, std::size_t index) const;

  private:
    std::unordered_map<std::size_t, int> m_ends; // first item of a run of pages -> its first empty page
};

} // namespace pipeline::core
