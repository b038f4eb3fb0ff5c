#pragma once

// The game world's fixed vocabulary, shared by the dataset's files (dataset.cpp, guilds.cpp, rankings.cpp,
// details.cpp): worlds, classes, the characters' guild names, and the salts of the per-character hashes.

#include "common.hpp"
#include "dataset.hpp"

#include <array>
#include <cstdint>
#include <string_view>

namespace fake_api {

/// Salts of the per-character hashes; each attribute has its own so that they are independent.
enum Salt : std::uint64_t {
    k_salt_korean = 1, k_salt_refuse, k_salt_world, k_salt_class, k_salt_misc, k_salt_guild,
    k_salt_guild_name, k_salt_guild_world, k_salt_guild_misc, k_salt_guild_rank, k_salt_other_ranking,
};

/// A job group and job, as class_name and sub_class_name of the ranking.
struct ClassInfo {
    std::string_view group;
    std::string_view name;
};

inline constexpr std::array<std::string_view, 14> k_worlds{"스카니아", "베라", "루나", "제니스", "크로아", "유니온", "엘리시움",
                                                           "이노시스", "레드", "오로라", "아케인", "노바", "에오스", "핼리오스"};
inline constexpr std::array<ClassInfo, 20> k_classes{{{"전사", "히어로"}, {"전사", "팔라딘"}, {"전사", "다크나이트"},
    {"마법사", "아크메이지(불,독)"}, {"마법사", "아크메이지(썬,콜)"}, {"마법사", "비숍"}, {"궁수", "보우마스터"},
    {"궁수", "신궁"}, {"궁수", "패스파인더"}, {"도적", "나이트로드"}, {"도적", "섀도어"}, {"도적", "듀얼블레이더"},
    {"해적", "바이퍼"}, {"해적", "캡틴"}, {"해적", "캐논마스터"}, {"기사단", "소울마스터"}, {"영웅", "아란"},
    {"레지스탕스", "메카닉"}, {"노바", "카이저"}, {"레프", "아델"}}};
/// The character_guildname of the overall ranking: a character's guild is one of these in its own world.
inline constexpr std::array<std::string_view, 8> k_guilds{"리부트", "Maplers", "단풍나무", "Zakum",
                                                          "별빛",   "Horntail", "연합",     "Arcane"};

/// A hash of a character's index and a salt.
inline std::uint64_t hash_of(const Character& character, std::uint64_t salt) {
    return mix64(static_cast<std::uint64_t>(character.index), salt);
}

/// The index in k_worlds of a character's world_name.
inline std::size_t world_of(const Character& character) {
    return hash_of(character, k_salt_world) % k_worlds.size();
}

/// The index in k_guilds of a character's character_guildname.
inline std::size_t guild_of(const Character& character) {
    return hash_of(character, k_salt_guild) % k_guilds.size();
}

/// A character's class.
inline const ClassInfo& class_of(const Character& character) {
    return k_classes[hash_of(character, k_salt_class) % k_classes.size()];
}

}  // namespace fake_api
