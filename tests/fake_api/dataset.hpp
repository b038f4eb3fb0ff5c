#pragma once

#include "common.hpp"

#include <string>
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
    int empty_every = 0;         ///< characters K, 2K, ... (by index + 1) answer basic and item-equipment with
                                 ///< every field null or empty but date; 0 = off
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

    /// The record counts a correct harvester must produce (body of /_expected).
    Json expected() const;

    /// Whether ranking row `rank` (1-based) is served without a usable character_name.
    bool nameless_row(long long rank) const;

private:
    Json ranking_entry(const Character& character, int rank, const std::string& date) const;

    DatasetOptions m_options;
    std::vector<Character> m_characters;
    std::vector<int> m_row_character;  // ranking row -> position in m_characters
    std::unordered_map<std::string, int> m_by_name;
    std::unordered_map<std::string, int> m_by_ocid;
};

}  // namespace fake_api
