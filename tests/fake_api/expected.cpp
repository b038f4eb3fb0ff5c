// The body of /_expected: what a correct harvester of the dataset must produce.
#include "dataset.hpp"

namespace fake_api {

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
    doc.update(expected_guilds());
    doc["other_rankings"] = other_ranking_names();
    doc["other_ranking_rows"] = other_ranking_rows();
    doc["other_ranking_pages"] = (other_ranking_rows() + k_page_size - 1) / k_page_size;
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
        "item-equipment with every field null or empty but date: empty_records of the detail records each. "
        "Every other character/<x> and user/<x> endpoint answers detail_records ocids too (empty_records "
        "of them empty). A guild is a guild_name in a world_name: guilds = max(guilds_of_characters, "
        "--guilds or characters / 4), where guilds_of_characters are the distinct (character_guildname, "
        "world_name) pairs of the characters and the others have names of their own, two worlds per name."
        " guild_ranking_rows[T] guilds are ranked by ranking_type T (type 0: all of them, so the distinct"
        " (guild_name, world_name) pairs of the guild ranking are the guilds) over guild_ranking_pages[T]"
        " pages; guild/id answers each of them. Each of other_rankings ranks every distinct character "
        "once: other_ranking_rows rows over other_ranking_pages pages.";
    return doc;
}

}  // namespace fake_api
