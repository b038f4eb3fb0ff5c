// The per-character endpoints other than basic and item-equipment: character/<x> and user/<x>.
#include "dataset.hpp"
#include "world.hpp"

namespace fake_api {

namespace {

constexpr std::size_t k_detail_entries = 6;

}  // namespace

Json Dataset::detail_document(const Character& character, std::string_view family, std::string_view tail,
                              const std::string& date, const std::string& grade) const {
    // Every field derives from (tail, character, date): another date or endpoint gives other values.
    const std::uint64_t seed = mix64(hash_of(character, k_salt_misc) ^ hash_text(tail), hash_text(date));
    std::string field(tail);
    for (char& c : field) c = c == '-' ? '_' : c;
    const bool empty = character.empty;
    Json doc;
    doc["date"] = date + "T00:00+09:00";
    if (family == "character") {
        doc["character_class"] = empty ? Json(nullptr) : Json(class_of(character).name);
    }
    if (!grade.empty()) doc["character_skill_grade"] = grade;
    doc[field + "_level"] = empty ? Json(nullptr) : Json(1 + static_cast<int>(seed % 300));
    doc[field + "_preset_no"] = empty ? Json(nullptr) : Json(1 + static_cast<int>((seed >> 12) % 3));
    Json entries = Json::array();
    for (std::size_t k = 0; !empty && k < k_detail_entries; ++k) {
        const std::uint64_t h = mix64(seed, k);
        Json entry;
        entry[field + "_name"] = std::string(tail) + " " + std::to_string(k + 1);
        entry[field + "_value"] = std::to_string(h % 100000);
        entry[field + "_grade"] = static_cast<int>(h >> 40) % 5;
        entries.push_back(std::move(entry));
    }
    doc[field] = std::move(entries);
    doc[field + "_remain_point"] = empty ? Json(nullptr) : Json(static_cast<int>((seed >> 24) % 1000));
    return doc;
}

}  // namespace fake_api
