// The guilds of the dataset: guild/id, guild/basic and ranking/guild.
#include "dataset.hpp"
#include "world.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

namespace fake_api {

namespace {

constexpr std::array<std::string_view, 6> k_extra_prefixes{"별빛길드", "단풍연합", "메이플클럽", "Legend", "Crew", "아케인"};
constexpr std::array<std::string_view, 4> k_skills{"굳건한 단결", "모두의 힘", "길드의 이름으로", "빠른 이동"};
constexpr std::string_view k_skill_icon = "https://open.api.nexon.com/static/maplestory/skill/";

std::string guild_key(std::string_view name, std::string_view world) {
    std::string key(name);
    key += '\n';
    key += world;
    return key;
}

/// The name of the extra guilds 2k and 2k+1: a prefix and a number, so never one of k_guilds.
std::string extra_guild_name(std::size_t k) {
    const std::uint64_t h = mix64(k, k_salt_guild_name);
    char number[24];
    std::snprintf(number, sizeof number, "%04zu", k);
    return std::string(k_extra_prefixes[h % k_extra_prefixes.size()]) + number;
}

/// The world of extra guild j: guilds 2k and 2k+1 share a name in two different worlds.
int extra_guild_world(std::size_t j) {
    const std::uint64_t h = mix64(j / 2, k_salt_guild_world);
    const std::size_t first = h % k_worlds.size();
    const std::size_t other = (first + 1 + (h >> 16) % (k_worlds.size() - 1)) % k_worlds.size();
    return static_cast<int>(j % 2 == 0 ? first : other);
}

/// Whether ranking_type `type` ranks guild g: type 0 ranks every guild, 1 about two in three, 2 about half.
bool ranked(std::size_t g, int type) {
    const std::size_t types = Dataset::k_guild_ranking_types;
    const std::uint64_t h = mix64(g * types + static_cast<std::size_t>(type), k_salt_guild_rank);
    return type == 0 || (type == 1 ? h % 3 != 0 : (h >> 8) % 2 == 0);
}

int guild_level(std::size_t g) {
    return 1 + static_cast<int>(mix64(g, k_salt_guild_misc) % 30);
}

}  // namespace

void Dataset::make_guilds() {
    // The characters' guilds first: a guild is a character_guildname in a world_name.
    std::array<int, k_guilds.size() * k_worlds.size()> by_cell;
    by_cell.fill(-1);
    for (std::size_t c = 0; c < m_characters.size(); ++c) {
        const Character& character = m_characters[c];
        const std::size_t cell = guild_of(character) * k_worlds.size() + world_of(character);
        if (by_cell[cell] < 0) {
            by_cell[cell] = static_cast<int>(m_guilds.size());
            Guild guild;
            guild.name = k_guilds[guild_of(character)];
            guild.world = static_cast<int>(world_of(character));
            m_guilds.push_back(std::move(guild));
        }
        Guild& guild = m_guilds[static_cast<std::size_t>(by_cell[cell])];
        ++guild.member_count;
        if (guild.members.size() < k_listed_members) guild.members.push_back(static_cast<int>(c));
    }
    const int guilds = m_options.guilds > 0 ? m_options.guilds : m_options.characters / 4;
    const auto wanted = static_cast<std::size_t>(guilds);
    for (std::size_t j = 0; m_guilds.size() < wanted; ++j) {
        Guild guild;
        guild.name = extra_guild_name(j / 2);
        guild.world = extra_guild_world(j);
        m_guilds.push_back(std::move(guild));
    }
    m_guild_by_key.reserve(m_guilds.size());
    m_guild_by_id.reserve(m_guilds.size());
    for (std::size_t g = 0; g < m_guilds.size(); ++g) {
        Guild& guild = m_guilds[g];
        const std::string key = guild_key(guild.name, k_worlds[static_cast<std::size_t>(guild.world)]);
        guild.oguild_id = sha256_hex32("guild\n" + key);
        m_guild_by_key.emplace(hash_text(key), static_cast<int>(g));
        m_guild_by_id.emplace(hash_text(guild.oguild_id), static_cast<int>(g));
    }
    for (int type = 0; type < k_guild_ranking_types; ++type) {
        std::vector<int>& order = m_guild_ranking[static_cast<std::size_t>(type)];
        for (std::size_t g = 0; g < m_guilds.size(); ++g) {
            if (ranked(g, type)) order.push_back(static_cast<int>(g));
        }
        std::stable_sort(order.begin(), order.end(), [this, type](int a, int b) {
            const auto first = static_cast<std::size_t>(a), second = static_cast<std::size_t>(b);
            return guild_point(first, type) > guild_point(second, type);
        });
    }
}

long long Dataset::guild_point(std::size_t guild, int type) const {
    const std::size_t types = k_guild_ranking_types;
    const std::uint64_t h = mix64(guild * types + static_cast<std::size_t>(type), k_salt_guild_misc);
    // The weekly fame ranking (type 0) puts the guilds with the most members first.
    const long long members = type == 0 ? m_guilds[guild].member_count : 0;
    return members * 1000000 + 1 + static_cast<long long>(h % 999999);
}

std::string Dataset::guild_master(std::size_t guild) const {
    const Guild& g = m_guilds[guild];
    if (!g.members.empty()) return m_characters[static_cast<std::size_t>(g.members.front())].name;
    return (mix64(guild, k_salt_guild_name) % 2 == 0 ? "길드장" : "Master") + std::to_string(guild);
}

const Guild* Dataset::find_guild(const std::string& name, const std::string& world) const {
    const auto [first, last] = m_guild_by_key.equal_range(hash_text(guild_key(name, world)));
    for (auto it = first; it != last; ++it) {
        const Guild& guild = m_guilds[static_cast<std::size_t>(it->second)];
        if (guild.name == name && k_worlds[static_cast<std::size_t>(guild.world)] == world) return &guild;
    }
    return nullptr;
}

const Guild* Dataset::find_guild_by_id(const std::string& oguild_id) const {
    const auto [first, last] = m_guild_by_id.equal_range(hash_text(oguild_id));
    for (auto it = first; it != last; ++it) {
        const Guild& guild = m_guilds[static_cast<std::size_t>(it->second)];
        if (guild.oguild_id == oguild_id) return &guild;
    }
    return nullptr;
}

int Dataset::guild_ranking_rows(int type) const {
    return static_cast<int>(m_guild_ranking[static_cast<std::size_t>(type)].size());
}

Json Dataset::guild_ranking_entry(const Guild& guild, int type, int rank, const std::string& date) const {
    const auto g = static_cast<std::size_t>(&guild - m_guilds.data());
    Json entry;
    entry["date"] = date;
    entry["ranking"] = rank;
    entry["guild_name"] = guild.name;
    entry["world_name"] = k_worlds[static_cast<std::size_t>(guild.world)];
    entry["guild_level"] = guild_level(g);
    entry["guild_master_name"] = guild_master(g);
    entry["guild_mark"] = nullptr;
    entry["guild_point"] = guild_point(g, type);
    return entry;
}

Json Dataset::guild_ranking_page(const std::string& date, int type, int page) const {
    const std::vector<int>& order = m_guild_ranking[static_cast<std::size_t>(type)];
    Json rows = Json::array();
    const long long first = static_cast<long long>(page - 1) * k_page_size;
    const auto total = static_cast<long long>(order.size());
    for (long long row = first; row >= 0 && row < total && row < first + k_page_size; ++row) {
        const Guild& guild = m_guilds[static_cast<std::size_t>(order[static_cast<std::size_t>(row)])];
        rows.push_back(guild_ranking_entry(guild, type, static_cast<int>(row + 1), date));
    }
    return Json{{"ranking", std::move(rows)}};
}

Json Dataset::guild_id_document(const Guild& guild) const {
    return Json{{"oguild_id", guild.oguild_id}};
}

Json Dataset::guild_document(const Guild& guild, const std::string& date) const {
    const auto g = static_cast<std::size_t>(&guild - m_guilds.data());
    const std::uint64_t h = mix64(g, k_salt_guild_misc);
    const std::uint64_t daily = mix64(h, hash_text(date));
    Json members = Json::array();
    for (int c : guild.members) members.push_back(m_characters[static_cast<std::size_t>(c)].name);
    if (members.empty()) members.push_back(guild_master(g));
    Json skills = Json::array();
    for (std::size_t s = 0; s < 2; ++s) {
        const std::uint64_t hs = mix64(h, 100 + s);
        const std::string icon = std::string(k_skill_icon) + guild.oguild_id.substr(0, 8) + std::to_string(s);
        skills.push_back(Json{{"skill_name", k_skills[(hs + s) % k_skills.size()]},
                              {"skill_description", "길드원 전체에게 도움이 되는 길드 스킬"},
                              {"skill_level", 1 + static_cast<int>(hs % 15)},
                              {"skill_effect", "공격력/마력 " + std::to_string(1 + hs % 30) + " 증가"},
                              {"skill_icon", icon}});
    }
    Json doc;
    doc["date"] = date + "T00:00+09:00";
    doc["world_name"] = k_worlds[static_cast<std::size_t>(guild.world)];
    doc["guild_name"] = guild.name;
    doc["guild_level"] = guild_level(g);
    doc["guild_fame"] = static_cast<long long>(daily % 5000000);
    doc["guild_point"] = guild_point(g, 0);
    doc["guild_master_name"] = guild_master(g);
    doc["guild_member_count"] = std::max(guild.member_count, 5 + static_cast<int>(h % 196));
    doc["guild_member"] = std::move(members);
    doc["guild_skill"] = std::move(skills);
    doc["guild_noblesse_skill"] = Json::array();
    doc["guild_mark"] = nullptr;
    doc["guild_mark_custom"] = nullptr;
    return doc;
}

Json Dataset::expected_guilds() const {
    std::map<std::string, std::vector<std::string>> worlds_of_name;  // ordered: the example is reproducible
    int from_characters = 0;
    for (const Guild& guild : m_guilds) {
        worlds_of_name[guild.name].emplace_back(k_worlds[static_cast<std::size_t>(guild.world)]);
        from_characters += guild.member_count > 0 ? 1 : 0;
    }
    int repeated = 0;
    Json example = nullptr;
    for (const Guild& guild : m_guilds) {  // the first repeated name in guild order, with all its worlds
        const std::vector<std::string>& worlds = worlds_of_name[guild.name];
        if (worlds.size() >= 2 && example.is_null()) {
            example = Json{{"guild_name", guild.name}, {"worlds", worlds}};
        }
    }
    for (const auto& [name, worlds] : worlds_of_name) repeated += worlds.size() >= 2 ? 1 : 0;
    Json rows = Json::object(), pages = Json::object();
    for (int type = 0; type < k_guild_ranking_types; ++type) {
        const int count = guild_ranking_rows(type);
        rows[std::to_string(type)] = count;
        pages[std::to_string(type)] = (count + k_page_size - 1) / k_page_size;
    }
    Json doc;
    doc["guilds"] = m_guilds.size();
    doc["guilds_of_characters"] = from_characters;
    doc["guild_names"] = worlds_of_name.size();
    doc["guild_names_in_several_worlds"] = repeated;
    doc["repeated_guild_example"] = std::move(example);
    doc["guild_ranking_rows"] = std::move(rows);
    doc["guild_ranking_pages"] = std::move(pages);
    return doc;
}

}  // namespace fake_api
