#include "dataset.hpp"

#include "common.hpp"
#include "items.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <stdexcept>
#include <string_view>

namespace fake_api {

namespace {

enum Salt : std::uint64_t { k_salt_korean = 1, k_salt_refuse, k_salt_world, k_salt_class, k_salt_misc, k_salt_guild };

struct ClassInfo {
    std::string_view group;
    std::string_view name;
};

constexpr std::array<std::string_view, 14> k_worlds{"스카니아", "베라", "루나", "제니스", "크로아", "유니온", "엘리시움",
                                                    "이노시스", "레드", "오로라", "아케인", "노바", "에오스", "핼리오스"};
constexpr std::array<ClassInfo, 20> k_classes{{{"전사", "히어로"}, {"전사", "팔라딘"}, {"전사", "다크나이트"},
    {"마법사", "아크메이지(불,독)"}, {"마법사", "아크메이지(썬,콜)"}, {"마법사", "비숍"}, {"궁수", "보우마스터"},
    {"궁수", "신궁"}, {"궁수", "패스파인더"}, {"도적", "나이트로드"}, {"도적", "섀도어"}, {"도적", "듀얼블레이더"},
    {"해적", "바이퍼"}, {"해적", "캡틴"}, {"해적", "캐논마스터"}, {"기사단", "소울마스터"}, {"영웅", "아란"},
    {"레지스탕스", "메카닉"}, {"노바", "카이저"}, {"레프", "아델"}}};
constexpr std::array<std::string_view, 8> k_guilds{"리부트", "Maplers", "단풍나무", "Zakum", "별빛", "Horntail", "연합", "Arcane"};
constexpr std::array<std::string_view, 6> k_korean_prefixes{"메이플", "단풍잎", "버섯돌이", "슬라임", "주황버섯", "리프레"};

std::string make_name(int index) {
    const std::uint64_t h = mix64(static_cast<std::uint64_t>(index), k_salt_korean);
    if (h % 3 == 0) return std::string(k_korean_prefixes[(h / 3) % k_korean_prefixes.size()]) + std::to_string(index);
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "Maple%05d", index);
    return buffer;
}

std::uint64_t hash_of(const Character& character, std::uint64_t salt) {
    return mix64(static_cast<std::uint64_t>(character.index), salt);
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
    const ClassInfo& cls = k_classes[hash_of(character, k_salt_class) % k_classes.size()];
    Json entry;
    entry["date"] = date;
    entry["ranking"] = rank;
    entry["character_name"] = character.name;
    entry["character_level"] = level;
    entry["character_exp"] = exp;
    entry["class_name"] = cls.group;
    entry["sub_class_name"] = cls.name;
    entry["world_name"] = k_worlds[hash_of(character, k_salt_world) % k_worlds.size()];
    entry["character_popularity"] = static_cast<int>(hash_of(character, k_salt_misc) % 5000);
    entry["character_guildname"] = k_guilds[hash_of(character, k_salt_guild) % k_guilds.size()];
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

Json Dataset::expected() const {
    // Only names that some row carries can be looked up: a character seen only in nameless rows is not.
    std::vector<bool> named(m_characters.size(), false);
    int nameless_rows = 0;
    for (std::size_t row = 0; row < m_row_character.size(); ++row) {
        if (nameless_row(static_cast<long long>(row) + 1)) {
            ++nameless_rows;
        } else {
            named[static_cast<std::size_t>(m_row_character[row])] = true;
        }
    }
    int distinct = 0, refused_names = 0, refused_ocids = 0, empty_records = 0;
    for (std::size_t c = 0; c < m_characters.size(); ++c) {
        if (!named[c]) continue;
        const Character& character = m_characters[c];
        ++distinct;
        refused_names += character.name_refused ? 1 : 0;
        refused_ocids += character.ocid_refused ? 1 : 0;
        empty_records += !character.name_refused && !character.ocid_refused && character.empty ? 1 : 0;
    }
    Json doc;
    doc["characters"] = m_options.characters;
    doc["ranking_rows"] = m_row_character.size();
    doc["nameless_rows"] = nameless_rows;
    doc["distinct_names"] = distinct;
    doc["refused_names"] = refused_names;
    doc["ocids"] = distinct - refused_names;
    doc["refused_ocids"] = refused_ocids;
    doc["detail_records"] = distinct - refused_names - refused_ocids;
    doc["empty_records"] = empty_records;
    doc["ranking_pages"] = ranking_pages();
    doc["ranking_page_size"] = k_page_size;
    doc["duplicate_every"] = m_options.duplicate_every;
    doc["notes"] =
        "ranking_rows = characters. With duplicate_every = K > 0, every row whose 1-based rank r > 1 satisfies "
        "r % K == 0 repeats the character (name, ocid, level, ...) of row r-1 with its own rank r, so "
        "distinct_names = characters - #{r in 2..characters : r % K == 0} (= characters - floor(characters/K) "
        "for K >= 2, 1 for K = 1). refused_names of the distinct names fail /id with OPENAPI00003, so "
        "ocids = distinct_names - refused_names; refused_ocids of those ocids fail basic and item-equipment, so "
        "detail_records = ocids - refused_ocids records each for CHARACTER_BASIC and ITEM_EQUIPMENT. With "
        "nameless_every = K > 0, rows whose rank r satisfies r % K == 0 carry no character_name (null when r / K "
        "is odd, missing when even): nameless_rows of them, and distinct_names counts only names some row "
        "carries. With empty_every = K > 0, characters whose index + 1 is a multiple of K answer basic and "
        "item-equipment with every field null or empty but date: empty_records of the detail records each.";
    return doc;
}

}  // namespace fake_api
