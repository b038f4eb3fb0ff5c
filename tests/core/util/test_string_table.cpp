// The item-key table: entries read back exactly, in order, and erase_marked keeps the rest in place.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/util/string_table.hpp"

using pipeline::core::StringTable;

TEST_CASE("a string table gives back every entry, empty ones and multi-byte ones included") {
    StringTable table;
    CHECK(table.empty());
    const std::vector<std::string> entries{"아델", "", "Bravo", std::string(1000, 'x'), ""};
    for (const std::string& e : entries) {
        table.push_back(e);
    }
    CHECK(table.size() == entries.size());
    CHECK(table.to_vector() == entries);
    CHECK(table[3].size() == 1000);
}

TEST_CASE("erase_marked removes exactly the marked entries and keeps the order of the rest") {
    StringTable table;
    for (const char* e : {"a", "bb", "", "ccc", "dddd", "e"}) {
        table.push_back(e);
    }
    table.erase_marked({true, false, true, false, false, true});
    CHECK(table.to_vector() == std::vector<std::string>{"bb", "ccc", "dddd"});
    table.push_back("f");
    CHECK(table.to_vector() == std::vector<std::string>{"bb", "ccc", "dddd", "f"});
    table.erase_marked({true, true, true, true});
    CHECK(table.empty());
}
