#include "dataset.hpp"

#include "common.hpp"
#include "items.hpp"
#include "world.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <stdexcept>
#include <string_view>

namespace fake_api {

namespace {

constexpr std::array<std::string_view, 6> k_korean_prefixes{"메이플", "단풍잎", "버섯돌이", "슬라임", "주황버섯", "리프레"};

std::string make_name(int index) {
    const std::uint64_t h = mix64(static_cast<std::uint64_t>(index), k_salt_korean);
    if (h % 3 == 0) return std::string(k_korean_prefixes[(h / 3) % k_korean_prefixes.size()]) + std::to_string(index);
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "Maple%05d", index);
    return buffer;
}

}  // namespace

Dataset::Dataset(const DatasetOptions& options) : m_options(options) {
    if (options.characters < 0 || options.duplicate_every < 0) throw std::invalid_argument("negative count");
    m_row_character.reserve(static_cast<std::size_t>(options.characters));
    for (int i = 0; i < options.characters; ++i) {
        const int rank = i + 1;
        const bool duplicate = options.duplicate_every > 0 && rank > 1 && rank % options.duplicate_every == 0;
        if (duplicate) {
            m_row_character.push_back(m_row_character.back());
            continue;
        }
        Character character;
        character.index = i;
        character.name = make_name(i);
        character.ocid = sha256_hex32(character.name);
        const double u = unit_interval(mix64(static_cast<std::uint64_t>(i), k_salt_refuse));
        character.name_refused = u < options.refuse_names;
        character.ocid_refused = !character.name_refused && u < options.refuse_names + options.refuse_ocids;
        character.empty = options.empty_every > 0 && (i + 1) % options.empty_every == 0;
        const int position = static_cast<int>(m_characters.size());
        m_by_name.emplace(character.name, position);
        m_by_ocid.emplace(character.ocid, position);
        m_characters.push_back(std::move(character));
        m_row_character.push_back(position);
    }
    make_guilds();
}

int Dataset::ranking_pages() const {
    return (m_options.characters + k_page_size - 1) / k_page_size;
}

const Character* Dataset::find_by_name(const std::string& name) const {
    const auto it = m_by_name.find(name);
    return it == m_by_name.end() ? nullptr : &m_characters[static_cast<std::size_t>(it->second)];
}

const Character* Dataset::find_by_ocid(const std::string& ocid) const {
    const auto it = m_by_ocid.find(ocid);
    return it == m_by_ocid.end() ? nullptr : &m_characters[static_cast<std::size_t>(it->second)];
}

Json Dataset::ranking_entry(const Character& character, int rank, const std::string& date) const {
    const int i = character.index;
    const int n = std::max(1, m_options.characters);
    const int level = 299 - static_cast<int>(static_cast<long long>(i) * 100 / n);
    const long long exp = static_cast<long long>(n - i) * 1000003LL + static_cast<long long>(hash_of(character, k_salt_misc) % 1000);
    const ClassInfo& cls = class_of(character);
    Json entry;
    entry["date"] = date;
    entry["ranking"] = rank;
    entry["character_name"] = character.name;
    entry["character_level"] = level;
    entry["character_exp"] = exp;
    entry["class_name"] = cls.group;
    entry["sub_class_name"] = cls.name;
    entry["world_name"] = k_worlds[world_of(character)];
    entry["character_popularity"] = static_cast<int>(hash_of(character, k_salt_misc) % 5000);
    entry["character_guildname"] = k_guilds[guild_of(character)];
    return entry;
}

Json Dataset::ranking_page(const std::string& date, int page) const {
    Json rows = Json::array();
    const long long first = static_cast<long long>(page - 1) * k_page_size;
    const long long total = static_cast<long long>(m_row_character.size());
    for (long long row = first; row >= 0 && row < total && row < first + k_page_size; ++row) {
        const Character& character = m_characters[static_cast<std::size_t>(m_row_character[static_cast<std::size_t>(row)])];
        Json entry = ranking_entry(character, static_cast<int>(row + 1), date);
        if (nameless_row(row + 1)) {
            // What the live API has been seen to send: a null name, or no name at all.
            if (((row + 1) / m_options.nameless_every) % 2 == 1) {
                entry["character_name"] = nullptr;
            } else {
                entry.erase("character_name");
            }
        }
        rows.push_back(std::move(entry));
    }
    return Json{{"ranking", std::move(rows)}};
}

bool Dataset::nameless_row(long long rank) const {
    return m_options.nameless_every > 0 && rank % m_options.nameless_every == 0;
}

Json Dataset::id_document(const Character& character) const {
    return Json{{"ocid", character.ocid}};
}

Json Dataset::basic_document(const Character& character, const std::string& date) const {
    const Json entry = ranking_entry(character, character.index + 1, date);
    const std::uint64_t h = hash_of(character, k_salt_misc);
    char exp_rate[16];
    std::snprintf(exp_rate, sizeof exp_rate, "%.3f", static_cast<double>(h % 100000) / 1000.0);
    char created[32];
    std::snprintf(created, sizeof created, "%04d-%02d-%02dT00:00+09:00", 2005 + static_cast<int>(h % 19),
                  1 + static_cast<int>((h >> 8) % 12), 1 + static_cast<int>((h >> 16) % 28));
    Json doc;
    doc["date"] = date + "T00:00+09:00";
    if (character.empty) {
        for (const char* field : {"character_name", "world_name", "character_gender", "character_class",
                                  "character_class_level", "character_level", "character_exp", "character_exp_rate",
                                  "character_guild_name", "character_image", "character_date_create", "access_flag",
                                  "liberation_quest_clear_flag"}) {
            doc[field] = nullptr;
        }
        return doc;
    }
    doc["character_name"] = character.name;
    doc["world_name"] = entry["world_name"];
    doc["character_gender"] = (h >> 24) % 2 == 0 ? "남" : "여";
    doc["character_class"] = entry["sub_class_name"];
    doc["character_class_level"] = "6";
    doc["character_level"] = entry["character_level"];
    doc["character_exp"] = entry["character_exp"];
    doc["character_exp_rate"] = exp_rate;
    doc["character_guild_name"] = entry["character_guildname"];
    doc["character_image"] = "https://open.api.nexon.com/static/maplestory/character/look/" + character.ocid;
    doc["character_date_create"] = created;
    doc["access_flag"] = (h >> 32) % 4 == 0 ? "false" : "true";
    doc["liberation_quest_clear_flag"] = (h >> 40) % 3 == 0 ? "true" : "false";
    return doc;
}

std::string Dataset::item_body(const Character& character, const std::string& date) const {
    if (character.empty) {
        Json doc;
        doc["date"] = date + "T00:00+09:00";
        doc["character_gender"] = nullptr;
        doc["character_class"] = nullptr;
        doc["preset_no"] = nullptr;
        doc["item_equipment"] = Json::array();
        doc["title"] = nullptr;
        doc["dragon_equipment"] = Json::array();
        doc["mechanic_equipment"] = Json::array();
        return doc.dump();
    }
    const Json basic = basic_document(character, date);
    ItemRequest request;
    request.seed = hash_of(character, k_salt_misc);
    request.date = basic["date"];
    request.gender = basic["character_gender"];
    request.character_class = basic["character_class"];
    request.target_bytes = static_cast<std::size_t>(std::max(0, m_options.item_kb)) * 1024;
    request.real = m_options.real_items;
    return make_item_equipment(request);
}

}  // namespace fake_api
