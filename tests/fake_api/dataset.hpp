#pragma once

#include "common.hpp"

#include <array>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace fake_api {

/// Options that fully determine the generated characters and their documents.
struct DatasetOptions {
    int characters = 1000;       ///< number of ranking rows (index i has rank i+1)
    int duplicate_every = 0;     ///< every K-th row (K, 2K, ...) repeats the previous row's character; 0 = off
    double refuse_names = 0.0;   ///< fraction of characters whose /id lookup fails
    double refuse_ocids = 0.0;   ///< fraction (disjoint from refused names) whose details fail
    int item_kb = 13;            ///< approximate size of an item-equipment body in KiB
    bool real_items = false;     ///< item-equipment answers shaped and sized like the live API's (~220 KB)
    int nameless_every = 0;      ///< ranking rows K, 2K, ... carry no usable character_name (odd multiples: null,
                                 ///< even multiples: missing); 0 = off
    int empty_every = 0;         ///< characters K, 2K, ... (by index + 1) answer basic, item-equipment and
                                 ///< every other character/<x> and user/<x> with every field null or empty
                                 ///< but date; 0 = off
    int guilds = 0;              ///< guilds in all; 0 = characters / 4; never fewer than the characters' own
};

/// One distinct character of the fake game world.
struct Character {
    int index = 0;              ///< the ranking index i its attributes derive from (rank i+1)
    std::string name;           ///< unique name, about one in three Korean
    std::string ocid;           ///< first 32 hex chars of SHA-256(name)
    bool name_refused = false;  ///< /id answers OPENAPI00003 for this name
    bool ocid_refused = false;  ///< basic and item-equipment answer OPENAPI00003 for this ocid
    bool empty = false;         ///< basic and item-equipment answers are empty (all fields null but date)
};

/// One guild: a name in a world (the same name in two worlds is two guilds).
struct Guild {
    std::string name;          ///< guild_name
    int world = 0;             ///< index of its world_name
    std::string oguild_id;     ///< first 32 hex chars of SHA-256 of name and world
    int member_count = 0;      ///< characters whose character_guildname and world_name are this guild's
    std::vector<int> members;  ///< positions in characters() of its first k_listed_members members, by rank
};

/// The deterministic set of characters and the JSON documents the fake API serves for them.
class Dataset {
public:
    /// Number of ranking entries per page, as in the real API.
    static constexpr int k_page_size = 200;

    /// Generates all characters from the options; same options give the same data.
    explicit Dataset(const DatasetOptions& options);

    /// The distinct characters in rank order of their first appearance.
    const std::vector<Character>& characters() const { return m_characters; }

    /// Number of ranking pages that hold at least one row.
    int ranking_pages() const;

    /// The character with this name, or nullptr if there is none.
    const Character* find_by_name(const std::string& name) const;

    /// The character with this ocid, or nullptr if there is none.
    const Character* find_by_ocid(const std::string& ocid) const;

    /// The body of GET ranking/overall for a date and 1-based page (empty list past the end).
    Json ranking_page(const std::string& date, int page) const;

    /// The body of GET id for a character.
    Json id_document(const Character& character) const;

    /// The body of GET character/basic for a character and date.
    Json basic_document(const Character& character, const std::string& date) const;

    /// The body (serialised JSON) of GET character/item-equipment for a character and date.
    std::string item_body(const Character& character, const std::string& date) const;

    /// The body of a per-character endpoint other than basic and item-equipment: GET <family>/<tail>, e.g.
    /// character/stat or user/union; `grade` (may be empty) is echoed as character_skill_grade.
    Json detail_document(const Character& character, std::string_view family, std::string_view tail,
                         const std::string& date, const std::string& grade) const;

    /// Number of guild ranking types (ranking_type 0, 1, 2).
    static constexpr int k_guild_ranking_types = 3;

    /// Guilds listed by guild/basic of at most this many members.
    static constexpr std::size_t k_listed_members = 10;

    /// Every guild: first those of the characters, by the rank of their first member, then the others.
    const std::vector<Guild>& guilds() const { return m_guilds; }

    /// The guild with this name in this world, or nullptr.
    const Guild* find_guild(const std::string& name, const std::string& world) const;

    /// The guild with this oguild_id, or nullptr.
    const Guild* find_guild_by_id(const std::string& oguild_id) const;

    /// Number of guilds ranked by ranking_type (0: all of them; 1 and 2: subsets).
    int guild_ranking_rows(int type) const;

    /// The body of GET ranking/guild for a date, ranking_type and 1-based page (empty list past the end).
    Json guild_ranking_page(const std::string& date, int type, int page) const;

    /// The body of GET guild/id for a guild.
    Json guild_id_document(const Guild& guild) const;

    /// The body of GET guild/basic for a guild and date.
    Json guild_document(const Guild& guild, const std::string& date) const;

    /// Whether ranking/<name> is one of the rankings of characters other than overall (union, dojang, ...).
    static bool has_other_ranking(std::string_view name);

    /// The names of those rankings.
    static std::vector<std::string_view> other_ranking_names();

    /// Number of rows of each of those rankings: every distinct character once.
    int other_ranking_rows() const { return static_cast<int>(m_characters.size()); }

    /// The body of GET ranking/<name> (a name has_other_ranking accepts) for a date and 1-based page.
    Json other_ranking_page(std::string_view name, const std::string& date, int page) const;

    /// The record counts a correct harvester must produce (body of /_expected).
    Json expected() const;

    /// Whether ranking row `rank` (1-based) is served without a usable character_name.
    bool nameless_row(long long rank) const;

private:
    Json ranking_entry(const Character& character, int rank, const std::string& date) const;
    void make_guilds();
    Json guild_ranking_entry(const Guild& guild, int type, int rank, const std::string& date) const;
    long long guild_point(std::size_t guild, int type) const;
    std::string guild_master(std::size_t guild) const;
    Json expected_guilds() const;

    DatasetOptions m_options;
    std::vector<Character> m_characters;
    std::vector<int> m_row_character;  // ranking row -> position in m_characters
    std::unordered_map<std::string, int> m_by_name;
    std::unordered_map<std::string, int> m_by_ocid;
    std::vector<Guild> m_guilds;
    // Keyed by the hash of name + '\n' + world_name and of oguild_id (half the memory of string keys at
    // 50,000 guilds); a lookup compares the guild it finds.
    std::unordered_multimap<std::uint64_t, int> m_guild_by_key;
    std::unordered_multimap<std::uint64_t, int> m_guild_by_id;
    std::array<std::vector<int>, k_guild_ranking_types> m_guild_ranking;  // per type: guilds by rank
};

}  // namespace fake_api
