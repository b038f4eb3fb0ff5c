// The rankings of characters other than overall: union, dojang, theseed, achievement.
#include "dataset.hpp"
#include "world.hpp"

#include <numeric>

namespace fake_api {

namespace {

/// A number of a ranking entry that moves linearly from `top` (rank 1) to `bottom` (the last rank).
struct Score {
    std::string_view field;
    long long top = 0;
    long long bottom = 0;
};

/// One ranking of every distinct character, in an order of its own.
struct OtherRanking {
    std::string_view name;         ///< ranking/<name>
    bool character_level;          ///< entries carry the character's level
    std::string_view grade_field;  ///< a text grade derived from the rank ("" = none)
    std::array<Score, 2> scores;   ///< an empty field name is no score
};

constexpr std::array<OtherRanking, 4> k_other_rankings{{
    {"union", false, "", {{{"union_level", 9000, 500}, {"union_power", 90000000, 100000}}}},
    {"dojang", true, "", {{{"dojang_floor", 100, 1}, {"dojang_time_record", 120, 900}}}},
    {"theseed", true, "", {{{"theseed_floor", 50, 1}, {"theseed_time_record", 90, 900}}}},
    {"achievement", false, "trophy_grade", {{{"trophy_score", 200000, 1000}, {}}}},
}};

constexpr std::array<std::string_view, 5> k_trophy_grades{"레전드", "다이아몬드", "플래티넘", "골드", "실버"};

const OtherRanking* find_other_ranking(std::string_view name) {
    for (const OtherRanking& ranking : k_other_rankings) {
        if (ranking.name == name) return &ranking;
    }
    return nullptr;
}

/// The position in the characters of row `row` (0-based) of a ranking of n characters: row -> (a * row + b)
/// mod n with a coprime to n is a permutation, so every character appears once, without storing an order.
std::size_t ranked_character(std::string_view name, std::size_t row, std::size_t n) {
    const std::uint64_t h = hash_text(name) ^ k_salt_other_ranking;
    std::size_t a = (n / 2 + 1 + h % (n + 1)) | 1;
    while (std::gcd(a, n) != 1) ++a;
    return ((a % n) * row + (h >> 20) % n) % n;  // n < 2^31: no overflow
}

}  // namespace

bool Dataset::has_other_ranking(std::string_view name) {
    return find_other_ranking(name) != nullptr;
}

std::vector<std::string_view> Dataset::other_ranking_names() {
    std::vector<std::string_view> names;
    names.reserve(k_other_rankings.size());
    for (const OtherRanking& ranking : k_other_rankings) names.push_back(ranking.name);
    return names;
}

Json Dataset::other_ranking_page(std::string_view name, const std::string& date, int page) const {
    const OtherRanking& ranking = *find_other_ranking(name);
    Json rows = Json::array();
    const std::size_t n = m_characters.size();
    const long long first = static_cast<long long>(page - 1) * k_page_size;
    const long long last = static_cast<long long>(n) - 1;
    for (long long row = first; row >= 0 && row <= last && row < first + k_page_size; ++row) {
        const Character& character = m_characters[ranked_character(name, static_cast<std::size_t>(row), n)];
        const Json overall = ranking_entry(character, character.index + 1, date);
        Json entry;
        entry["date"] = date;
        entry["ranking"] = row + 1;
        entry["character_name"] = character.name;
        entry["world_name"] = overall["world_name"];
        entry["class_name"] = overall["class_name"];
        entry["sub_class_name"] = overall["sub_class_name"];
        if (ranking.character_level) entry["character_level"] = overall["character_level"];
        if (!ranking.grade_field.empty()) {
            const auto grade = static_cast<std::size_t>(row * 5 / std::max(1LL, last + 1));
            entry[ranking.grade_field] = k_trophy_grades[grade];
        }
        for (const Score& score : ranking.scores) {
            if (score.field.empty()) continue;
            entry[score.field] = score.top + (score.bottom - score.top) * row / std::max(1LL, last);
        }
        rows.push_back(std::move(entry));
    }
    return Json{{"ranking", std::move(rows)}};
}

}  // namespace fake_api
