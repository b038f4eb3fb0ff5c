#include "items.hpp"

#include "common.hpp"
#include "json_writer.hpp"

#include <array>
#include <string_view>

namespace fake_api {

namespace {

struct Slot {
    std::string_view part;
    std::string_view slot;
    std::string_view name;
};

constexpr std::array<Slot, 24> k_slots{{
    {"모자", "모자", "앱솔랩스 나이트헬름"}, {"얼굴장식", "얼굴장식", "트와일라이트 마크"},
    {"눈장식", "눈장식", "블랙빈 마크"}, {"귀고리", "귀고리", "데이브레이크 이어링"},
    {"상의", "상의", "이글아이 워리어아머"}, {"하의", "하의", "트릭스터 워리어팬츠"},
    {"신발", "신발", "아케인셰이드 나이트슈즈"}, {"장갑", "장갑", "아케인셰이드 나이트글러브"},
    {"망토", "망토", "아케인셰이드 나이트케이프"}, {"무기", "무기", "제네시스 투핸드소드"},
    {"보조무기", "보조무기", "용사의 메달"}, {"엠블렘", "엠블렘", "골드 메이플리프 엠블렘"},
    {"반지", "반지1", "이터널 플레임 링"}, {"반지", "반지2", "마이스터링"},
    {"반지", "반지3", "가디언 엔젤 링"}, {"반지", "반지4", "리스트레인트 링"},
    {"펜던트", "펜던트", "도미네이터 펜던트"}, {"펜던트", "펜던트2", "데이브레이크 펜던트"},
    {"벨트", "벨트", "골든 클로버 벨트"}, {"어깨장식", "어깨장식", "루즈 컨트롤 머신 마크"},
    {"포켓 아이템", "포켓 아이템", "핑크빛 성배"}, {"기계 심장", "기계 심장", "페어리 하트"},
    {"뱃지", "뱃지", "크리스탈 웬투스 뱃지"}, {"훈장", "훈장", "칠요의 몬스터파커"},
}};

constexpr std::array<std::string_view, 18> k_stat_keys{
    "str", "dex", "int", "luk", "max_hp", "max_mp", "attack_power", "magic_power", "armor", "speed", "jump",
    "boss_damage", "ignore_monster_armor", "all_stat", "damage", "equipment_level_decrease", "max_hp_rate",
    "max_mp_rate"};

constexpr std::array<std::string_view, 10> k_potentials{
    "STR : +12%", "DEX : +9%", "공격력 : +12%", "마력 : +9%", "보스 몬스터 공격 시 데미지 : +40%",
    "몬스터 방어율 무시 : +35%", "올스탯 : +9%", "크리티컬 데미지 : +8%", "최대 HP : +12%", "아이템 드롭률 : +20%"};

constexpr std::array<std::string_view, 4> k_grades{"레어", "에픽", "유니크", "레전드리"};

constexpr std::string_view k_icon_prefix = "https://open.api.nexon.com/static/maplestory/item/icon/";

/// A deterministic icon URL: the prefix plus 8 uppercase letters.
std::string icon_url(std::uint64_t h) {
    std::string url(k_icon_prefix);
    for (int i = 0; i < 8; ++i) url.push_back(static_cast<char>('A' + (h >> (i * 5)) % 26));
    return url;
}

/// Exactly length bytes of filler text for an item description.
std::string filler(std::size_t length) {
    constexpr std::string_view k_text = "A sturdy piece of equipment, polished by many adventures. ";
    std::string text;
    text.reserve(length);
    while (text.size() < length) text += k_text.substr(0, length - text.size());
    return text;
}

/// Writes a stat object member with string values like the real API; only some stats are non-zero.
void stat_object(JsonWriter& json, std::string_view key, std::uint64_t h, int scale, bool with_base_level) {
    json.begin_object(key);
    for (std::size_t k = 0; k < k_stat_keys.size(); ++k) {
        const std::uint64_t v = mix64(h, k);
        json.string(k_stat_keys[k], std::to_string(v % 4 == 0 ? v % static_cast<std::uint64_t>(scale) : 0));
    }
    if (with_base_level) json.number("base_equipment_level", 160 + static_cast<int>(h % 4) * 20);
    json.end_object();
}

/// Serialises item n of a character; a non-empty description replaces the null item_description.
std::string make_item(std::uint64_t seed, std::size_t n, std::string_view description = {}) {
    const Slot& slot = k_slots[n % k_slots.size()];
    const std::uint64_t h = mix64(seed, 1000 + n);
    std::string out;
    out.reserve(4096);
    JsonWriter json(out);
    json.begin_object();
    json.string("item_equipment_part", slot.part).string("item_equipment_slot", slot.slot);
    json.string("item_name", slot.name).string("item_icon", icon_url(h));
    if (description.empty()) json.null("item_description"); else json.string("item_description", description);
    json.string("item_shape_name", slot.name).string("item_shape_icon", icon_url(mix64(h, 1))).null("item_gender");
    stat_object(json, "item_total_option", mix64(h, 2), 300, false);
    stat_object(json, "item_base_option", mix64(h, 3), 150, true);
    json.string("potential_option_grade", k_grades[h % k_grades.size()]);
    json.string("additional_potential_option_grade", k_grades[(h >> 4) % k_grades.size()]);
    for (int p = 1; p <= 3; ++p) {
        json.string("potential_option_" + std::to_string(p), k_potentials[mix64(h, 10 + p) % k_potentials.size()]);
    }
    for (int p = 1; p <= 3; ++p) {
        json.string("additional_potential_option_" + std::to_string(p),
                    k_potentials[mix64(h, 20 + p) % k_potentials.size()]);
    }
    json.number("equipment_level_increase", 0);
    stat_object(json, "item_exceptional_option", mix64(h, 4), 20, false);
    stat_object(json, "item_add_option", mix64(h, 5), 120, false);
    json.number("growth_exp", 0).number("growth_level", 0);
    json.string("scroll_upgrade", std::to_string(h % 12)).string("cuttable_count", "255");
    json.string("golden_hammer_flag", (h >> 8) % 2 == 0 ? "적용" : "미적용");
    json.string("scroll_resilience_count", "0").string("scroll_upgradeable_count", "0");
    json.null("soul_name").null("soul_option");
    stat_object(json, "item_etc_option", mix64(h, 6), 60, false);
    json.string("starforce", std::to_string(h % 23)).string("starforce_scroll_flag", "미사용");
    stat_object(json, "item_starforce_option", mix64(h, 7), 100, false);
    json.number("special_ring_level", 0).null("date_expire");
    json.end_object();
    return out;
}

/// Option blocks of a live-API item and how many stats each lists (the live API's blocks differ in length).
constexpr std::array<std::pair<std::string_view, std::size_t>, 12> k_real_blocks{{
    {"item_total_option", 10}, {"item_base_option", 7}, {"item_exceptional_option", 4},
    {"item_add_option", 6}, {"item_etc_option", 4}, {"item_starforce_option", 6},
    {"item_scroll_option", 4}, {"item_enhance_option", 3}, {"item_soul_option", 2},
    {"item_cube_option", 3}, {"item_set_option", 3}, {"item_growth_option", 2}}};

/// A stat block with string values; three in four are non-zero, as on a well-equipped character.
void real_stats(JsonWriter& json, std::string_view key, std::uint64_t h, std::size_t count) {
    json.begin_object(key);
    for (std::size_t k = 0; k < count; ++k) {
        const std::uint64_t v = mix64(h, k);
        json.string(k_stat_keys[(k + h) % k_stat_keys.size()], std::to_string(v % 4 != 0 ? (v >> 8) % 60000 : 0));
    }
    json.end_object();
}

/// One item as the live API writes it: the common fields and twelve option blocks. `variant` 0 is the
/// equipped item; a preset (1-3) wears it in one case out of five and another roll otherwise.
void real_item(JsonWriter& json, std::uint64_t seed, std::size_t n, std::uint64_t variant) {
    const Slot& slot = k_slots[n % k_slots.size()];
    const bool same = variant == 0 || mix64(seed, variant * 31 + n) % 5 == 0;
    const std::uint64_t h = mix64(seed, 1000 + n + (same ? 0 : variant * 97));
    json.begin_object();
    json.string("item_equipment_part", slot.part).string("item_equipment_slot", slot.slot);
    json.string("item_name", slot.name).string("item_icon", icon_url(h));
    json.null("item_description");
    json.string("item_shape_name", slot.name).string("item_shape_icon", icon_url(mix64(h, 1))).null("item_gender");
    json.string("potential_option_flag", "true").string("additional_potential_option_flag", "true");
    json.string("potential_option_grade", k_grades[h % k_grades.size()]);
    json.string("additional_potential_option_grade", k_grades[(h >> 4) % k_grades.size()]);
    for (int p = 1; p <= 3; ++p) {
        json.string("potential_option_" + std::to_string(p), k_potentials[mix64(h, 10 + p) % k_potentials.size()]);
    }
    for (int p = 1; p <= 3; ++p) {
        json.string("additional_potential_option_" + std::to_string(p),
                    k_potentials[mix64(h, 20 + p) % k_potentials.size()]);
    }
    for (std::size_t b = 0; b < k_real_blocks.size(); ++b) {
        real_stats(json, k_real_blocks[b].first, mix64(h, 40 + b), k_real_blocks[b].second);
    }
    json.number("equipment_level_increase", static_cast<long long>(h % 3));
    json.number("growth_exp", 0).number("growth_level", 0);
    json.string("scroll_upgrade", std::to_string(h % 12)).string("cuttable_count", std::to_string(h % 10));
    json.string("golden_hammer_flag", (h >> 8) % 2 == 0 ? "적용" : "미적용");
    json.string("scroll_resilience_count", "0").string("scroll_upgradeable_count", "0");
    json.null("soul_name");
    json.string("starforce", std::to_string(h % 23)).string("starforce_scroll_flag", "미사용");
    json.number("special_ring_level", 0).null("date_expire");
    json.end_object();
}

/// The live API's answer: equipped items, three presets, title, dragon and mechanic equipment.
std::string make_real_item_equipment(const ItemRequest& request) {
    std::string body;
    body.reserve(240 * 1024);
    JsonWriter json(body);
    json.begin_object();
    json.string("date", request.date).string("character_gender", request.gender);
    json.string("character_class", request.character_class);
    json.number("preset_no", 1 + static_cast<int>(request.seed % 3));
    json.begin_array("item_equipment");
    for (std::size_t n = 0; n < k_slots.size(); ++n) real_item(json, request.seed, n, 0);
    json.end_array();
    for (std::uint64_t preset = 1; preset <= 3; ++preset) {
        json.begin_array("item_equipment_preset_" + std::to_string(preset));
        for (std::size_t n = 0; n < k_slots.size(); ++n) real_item(json, request.seed, n, preset);
        json.end_array();
    }
    json.begin_object("title").string("title_name", "핑크빈 슬레이어").string("title_icon", icon_url(mix64(request.seed, 9)));
    json.string("title_description", "핑크빈을 처치한 자에게 주어지는 칭호").null("date_expire").null("date_option_expire");
    json.end_object();
    json.begin_array("dragon_equipment").end_array().begin_array("mechanic_equipment").end_array();
    json.end_object();
    return body;
}

}  // namespace

std::string make_item_equipment(const ItemRequest& request) {
    if (request.real) return make_real_item_equipment(request);
    std::string body;
    JsonWriter json(body);
    json.begin_object();
    json.string("date", request.date).string("character_gender", request.gender);
    json.string("character_class", request.character_class).number("preset_no", 1 + static_cast<int>(request.seed % 3));
    json.begin_array("item_equipment").end_array();
    json.begin_object("title").string("title_name", "핑크빈 슬레이어").string("title_icon", icon_url(mix64(request.seed, 9)));
    json.string("title_description", "핑크빈을 처치한 자에게 주어지는 칭호").null("date_expire").null("date_option_expire");
    json.end_object();
    json.begin_array("dragon_equipment").end_array().begin_array("mechanic_equipment").end_array();
    json.end_object();

    // Add items while they fit, then splice the comma-separated list into the empty array.
    std::string list;
    list.reserve(request.target_bytes);
    std::string item = make_item(request.seed, 0);
    for (std::size_t n = 0;; ++n) {
        const std::size_t after = body.size() + list.size() + (n == 0 ? 0 : 1) + item.size();
        std::string next = make_item(request.seed, n + 1);
        const bool last = after + 1 + next.size() > request.target_bytes;
        if (last && request.target_bytes > after + 64) {
            // Top the last item up with a description, so sizes land on the target.
            item = make_item(request.seed, n, filler(request.target_bytes - after + 2));  // `null` -> "..."
        }
        if (n > 0) list.push_back(',');
        list += item;
        if (last) break;
        item = std::move(next);
    }
    constexpr std::string_view k_anchor = "\"item_equipment\":[";
    body.insert(body.find(k_anchor) + k_anchor.size(), list);
    return body;
}

}  // namespace fake_api
