// Fuzzes what the fetcher does with an API answer: the classifier (core/fetch/fetch_outcome) and, for
// answers it accepts, the phase's answer check and record builders (core/api/records) for the built-in four
// and phases of the kinds a config defines (lists, rows, merge with and without expect). None may throw; an
// answer that passes classify and answer_ok must build records that are each one line of valid JSON.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/api/records.hpp"
#include "core/config/phase_def.hpp"
#include "core/fetch/fetch_outcome.hpp"

using namespace pipeline::core;

namespace {

/// Reads a length byte and that many bytes (cut at the end of the input).
std::string take_counted(std::string_view& input, std::size_t limit) {
    if (input.empty()) {
        return {};
    }
    const std::size_t length =
        std::min<std::size_t>(static_cast<unsigned char>(input.front()) % (limit + 1), input.size() - 1);
    std::string out(input.substr(1, length));
    input.remove_prefix(1 + length);
    return out;
}

PhaseDef config_phase(std::string name, std::string upstream, std::vector<QueryParam> query,
                      std::vector<std::string> fields) {
    PhaseDef def;
    def.name = std::move(name);
    def.upstream = std::move(upstream);
    def.path = "/fuzz";
    def.query = std::move(query);
    def.fields = std::move(fields);
    return def;
}

/// The built-in four (indexes 0-3, as the seeds were written) and four phases only a config defines.
const std::vector<PhaseDef>& phases() {
    static const std::vector<PhaseDef> all = [] {
        std::vector<PhaseDef> defs = builtin_phases(5);
        defs.push_back(config_phase("CHARACTER_SKILL", "OCID_LOOKUP",
                                    {{"ocid", {"{ocid}"}, false}, {"grade", {"0", "hyperpassive"}, true}},
                                    {"ocid"}));
        PhaseDef guilds =
            config_phase("GUILD_RANKING", "", {{"type", {"0", "1"}, true}, {"page", {"{page}"}, false}}, {});
        guilds.pages = 3;
        guilds.rows = "ranking_list";
        defs.push_back(guilds);
        PhaseDef guild_id =
            config_phase("GUILD_ID", "GUILD_RANKING",
                         {{"guild_name", {"{guild_name}"}, false}, {"world_name", {"{world_name}"}, false}},
                         {"guild_name", "world_name"});
        guild_id.expect = "oguild_id";
        guild_id.record = RecordShape::Merge;
        defs.push_back(guild_id);
        PhaseDef merge_any =
            config_phase("MERGE_ANY", "OCID_LOOKUP", {{"ocid", {"{ocid}"}, false}}, {"ocid"});
        merge_any.record = RecordShape::Merge;
        defs.push_back(merge_any);
        return defs;
    }();
    return all;
}

} // namespace

// Input layout (so that seeds are easy to write by hand): status index, phase index (mod 8), a counted
// Retry-After (length 0: none), a counted item value, then the body.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) {
        return 0;
    }
    static constexpr long k_statuses[] = {200, 200, 200, 400, 403, 404, 408, 429, 500, 503, 302, 0};
    std::string_view input(reinterpret_cast<const char*>(data), size);
    TransportResult result;
    result.status = k_statuses[static_cast<unsigned char>(input[0]) % std::size(k_statuses)];
    result.error = result.status == 0 ? TransportError::Truncated : TransportError::None;
    const PhaseDef& def = phases()[static_cast<unsigned char>(input[1]) % phases().size()];
    input.remove_prefix(2);
    if (std::string retry_after = take_counted(input, 64); !retry_after.empty()) {
        result.retry_after = std::move(retry_after);
    }
    // Item values come from earlier answers that were valid JSON, so they are valid UTF-8; keep them ASCII.
    std::string value = take_counted(input, 32);
    for (char& c : value) {
        c = static_cast<char>(static_cast<unsigned char>(c) & 0x7F);
    }
    // The item's fields as ItemList gives them: each upstream field (or the page) holds the value.
    ItemFields item;
    for (const std::string& field : def.fields) {
        item.emplace_back(field, value);
    }
    if (def.fields.empty()) {
        item.emplace_back("page", value);
    }
    result.body = std::string(input);

    const Classified classified = classify(result, SystemTime{} + std::chrono::hours(24 * 365 * 56));
    if (classified.outcome != Outcome::Ok || !answer_ok(def, result.body)) {
        return 0;
    }
    if (!def.rows.empty() && !answer_rows(def, result.body).has_value()) {
        std::abort(); // answer_ok promised the rows array that ends pages early
    }
    std::size_t records = 0;
    const bool built = make_records(def, item, "2026-11-22", result.body, [&](std::string_view record) {
        ++records;
        if (record.find('\n') != std::string_view::npos || record.find('\r') != std::string_view::npos ||
            !nlohmann::json::accept(record.begin(), record.end())) {
            std::abort(); // a record must be exactly one JSON line
        }
        const nlohmann::json parsed = nlohmann::json::parse(record.begin(), record.end(), nullptr, false);
        if (!parsed.is_object() && def.rows.empty()) {
            std::abort(); // wrap and merge records are objects
        }
    });
    if (!built) {
        std::abort(); // answer_ok promised that make_records can use this answer
    }
    if (!def.rows.empty() && records != *answer_rows(def, result.body)) {
        std::abort(); // one record per element of the rows array
    }
    if (def.rows.empty() && records != 1) {
        std::abort();
    }
    return 0;
}
