#pragma once
// A phase as data: one entry of pipeline.yaml's `phases:` map (docs/contract.md §1), or of the built-in
// default that spells out the four phases of a daily harvest. Everything that differs between phases is
// here; the driver (core/run) reads it and nothing else names a phase.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pipeline::core {

/// How an answer becomes a record.
enum class RecordShape {
    Wrap,  ///< {<item fields>, "date": D, "data": <answer>}
    Merge, ///< the item's fields followed by the answer object's fields
};

/// One key of a phase's query. Its value is a template ("{ocid}", "{date}", "0"); a list of templates
/// multiplies the phase's items, one item per value.
struct QueryParam {
    std::string key;
    std::vector<std::string> values; ///< one template, or the values of a list
    bool list = false;               ///< given as a YAML list (even of one value)
};

/// A phase: which endpoint, with which parameters, over which items, written how.
struct PhaseDef {
    std::string name;     ///< [A-Z][A-Z0-9_]{0,31}: output, the ledger, the sink
    std::string upstream; ///< the phase whose snapshot lists this one's items; empty: pages 1..pages
    std::string path;     ///< relative to api.base_url; may hold {field} placeholders
    std::vector<QueryParam> query;
    int pages = 0;          ///< >0: the items are pages 1..pages (no upstream) or each item times pages
    std::string rows;       ///< non-empty: one record per element of this array of the answer
    std::string expect;     ///< non-empty: an answer without a non-empty string field of this name is bad
    RecordShape record = RecordShape::Wrap;
    int reuse_days = 0;     ///< copy items answered in the last N days' snapshots instead of fetching
    /// The upstream record fields the path and query name, in order of first mention: an item is one
    /// distinct combination of their values. Empty for a phase without upstream.
    std::vector<std::string> fields;
    int line = 0; ///< where the definition starts in the config file (1-based; 0: built in)

    /// The number of items each upstream combination (or page) gives: the product of the list sizes.
    std::size_t combinations() const;
};

/// The four phases of docs/contract.md §1, as a config without `phases:` defines them; `ranking_pages`
/// is RANKING_FETCH's `pages` (the older `ranking: {pages: N}`).
std::vector<PhaseDef> builtin_phases(int ranking_pages);

/// The upstream fields named by `{field}` placeholders in `text` ("{date}" and "{page}" are not fields), in
/// order, appended to `fields` when not there yet. Returns false when a placeholder is not closed or empty.
bool collect_fields(std::string_view text, std::vector<std::string>& fields);

/// True when `text` names the `{name}` placeholder.
bool has_placeholder(std::string_view text, std::string_view name);

/// The phases in phase order: each after its upstream, otherwise in the order given. `phases` must be free
/// of cycles and unknown upstreams (validate_phases).
std::vector<PhaseDef> in_phase_order(std::vector<PhaseDef> phases);

/// The phase named `name` (case-insensitive), or nullptr.
const PhaseDef* find_phase(const std::vector<PhaseDef>& phases, std::string_view name);

/// "INVALID_PHASE: x (expected one of A, B, ...)" with the configured names in phase order.
std::string invalid_phase_message(const std::vector<PhaseDef>& phases, std::string_view name);

/// Groups `chosen` (names, in phase order) into waves that run one after the other: a phase joins the wave
/// after its upstream's when that upstream is among `chosen`, else the first. The phases of one wave (e.g.
/// CHARACTER_BASIC and ITEM_EQUIPMENT, which read the same upstream) run side by side.
std::vector<std::vector<std::string>> run_waves(const std::vector<PhaseDef>& phases,
                                                const std::vector<std::string>& chosen);

} // namespace pipeline::core
