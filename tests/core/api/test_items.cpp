// The items of a phase run (ItemList): upstream tuples times list values times pages, each with its request
// URL, its own fields and its description; and where paged items end early (PageEnds).

#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/api/items.hpp"
#include "core/config/phase_def.hpp"
#include "core/run/item_list.hpp"
#include "fakes/memory_sink.hpp"
#include "fakes/snapshot_builder.hpp"

using pipeline::core::ItemFields;
using pipeline::core::ItemList;
using pipeline::core::PageEnds;
using pipeline::core::PhaseDef;
using pipeline::core::QueryParam;
using pipeline::core::StringTable;

using Strings = std::vector<std::string>;

namespace {

const std::string k_base = "https://open.api.nexon.com";
const std::string k_date = "2026-11-22";
const std::string k_ocid = "e0a4f439e53c369866b55297d2f5f4eb";

// A tuple table holding `values` end to end.
std::shared_ptr<const StringTable> table(const Strings& values) {
    auto out = std::make_shared<StringTable>();
    for (const std::string& value : values) {
        out->push_back(value);
    }
    return out;
}

// The built-in phase `name`.
PhaseDef builtin(const std::string& name, int ranking_pages = 5) {
    const std::vector<PhaseDef> phases = pipeline::core::builtin_phases(ranking_pages);
    const PhaseDef* def = pipeline::core::find_phase(phases, name);
    REQUIRE(def != nullptr);
    return *def;
}

// A phase over OCID_LOOKUP's ocids, as pipeline.yaml would define it.
PhaseDef ocid_phase(std::string name, std::string path, std::vector<QueryParam> query) {
    PhaseDef def;
    def.name = std::move(name);
    def.upstream = "OCID_LOOKUP";
    def.path = std::move(path);
    def.query = std::move(query);
    def.fields = {"ocid"};
    return def;
}

Strings urls_of(const ItemList& items) {
    Strings urls;
    for (std::size_t i = 0; i < items.size(); ++i) {
        urls.push_back(items.url(k_base, i, k_date));
    }
    return urls;
}

} // namespace

TEST_CASE("the built-in four ask the URLs of docs/contract.md §1") {
    const PhaseDef ranking = builtin("RANKING_FETCH", 3);
    const ItemList pages(ranking, table({}));
    REQUIRE(pages.size() == 3); // no upstream: one empty tuple times pages 1..3
    CHECK(urls_of(pages) == Strings{k_base + "/maplestory/v1/ranking/overall?date=2026-11-22&page=1",
                                    k_base + "/maplestory/v1/ranking/overall?date=2026-11-22&page=2",
                                    k_base + "/maplestory/v1/ranking/overall?date=2026-11-22&page=3"});
    CHECK(pages.page(0) == 1);
    CHECK(pages.page(2) == 3);
    const PhaseDef one_page = builtin("RANKING_FETCH", 1);
    CHECK(urls_of(ItemList(one_page, table({}))) ==
          Strings{k_base + "/maplestory/v1/ranking/overall?date=2026-11-22&page=1"});

    const PhaseDef ocid = builtin("OCID_LOOKUP");
    const ItemList names(ocid, table({"아델", "Zeta"}));
    REQUIRE(names.size() == 2);
    CHECK(names.url(k_base, 0, k_date) == k_base + "/maplestory/v1/id?character_name=%EC%95%84%EB%8D%B8");
    CHECK(names.url(k_base, 1, k_date) == k_base + "/maplestory/v1/id?character_name=Zeta");
    CHECK(names.page(0) == 0); // no pages

    const PhaseDef basic = builtin("CHARACTER_BASIC");
    const PhaseDef equipment = builtin("ITEM_EQUIPMENT");
    CHECK(ItemList(basic, table({k_ocid})).url(k_base, 0, k_date) ==
          k_base + "/maplestory/v1/character/basic?ocid=" + k_ocid + "&date=2026-11-22");
    CHECK(ItemList(equipment, table({k_ocid})).url(k_base, 0, k_date) ==
          k_base + "/maplestory/v1/character/item-equipment?ocid=" + k_ocid + "&date=2026-11-22");
}

TEST_CASE("two fields: a guild name in two worlds is two items, a repeat of both one") {
    pipeline::tests::MemorySink sink;
    pipeline::tests::SnapshotSpec spec;
    spec.phase = "GUILD_RANKING";
    spec.chunks = {{R"({"guild_name":"길드","world_name":"스카니아","ranking":1})",
                    R"({"guild_name":"길드","world_name":"베라","ranking":2})",
                    R"({"guild_name":"길드","world_name":"스카니아","ranking":3})"}};
    const auto manifest = pipeline::tests::publish_snapshot(sink, spec);
    PhaseDef guild_id;
    guild_id.name = "GUILD_ID";
    guild_id.upstream = "GUILD_RANKING";
    guild_id.path = "/maplestory/v1/guild/id";
    guild_id.query = {{"guild_name", {"{guild_name}"}, false}, {"world_name", {"{world_name}"}, false}};
    guild_id.fields = {"guild_name", "world_name"};
    auto upstream = std::make_shared<const pipeline::core::UpstreamItems>(
        pipeline::core::list_upstream_items(guild_id.fields, sink, manifest));
    const ItemList items(guild_id, std::shared_ptr<const StringTable>(upstream, &upstream->tuples));
    REQUIRE(items.size() == 2);
    CHECK(urls_of(items) ==
          Strings{k_base + "/maplestory/v1/guild/"
                           "id?guild_name=%EA%B8%B8%EB%93%9C&world_name=%EC%8A%A4%EC%B9%B4%EB%8B%88%EC%95%84",
                  k_base +
                      "/maplestory/v1/guild/id?guild_name=%EA%B8%B8%EB%93%9C&world_name=%EB%B2%A0%EB%9D%BC"});
    CHECK(items.fields(1, k_date) == ItemFields{{"guild_name", "길드"}, {"world_name", "베라"}});
    // Several fields: described as a JSON object, in query order, the text as UTF-8.
    CHECK(items.describe(0, k_date) == R"({"guild_name":"길드","world_name":"스카니아"})");
    CHECK(nlohmann::json::parse(items.describe(1, k_date)) ==
          nlohmann::json{{"guild_name", "길드"}, {"world_name", "베라"}});
}

TEST_CASE("a list value multiplies the items: an ocid times three skill grades is three items in order") {
    const PhaseDef skill = ocid_phase("CHARACTER_SKILL", "/maplestory/v1/character/skill",
                                      {{"ocid", {"{ocid}"}, false},
                                       {"date", {"{date}"}, false},
                                       {"character_skill_grade", {"0", "1", "hyperpassive"}, true}});
    CHECK(skill.combinations() == 3);
    const ItemList items(skill, table({k_ocid, "ocid2"}));
    REQUIRE(items.size() == 6);
    const std::string head = k_base + "/maplestory/v1/character/skill?ocid=";
    CHECK(urls_of(items) == Strings{head + k_ocid + "&date=2026-11-22&character_skill_grade=0",
                                    head + k_ocid + "&date=2026-11-22&character_skill_grade=1",
                                    head + k_ocid + "&date=2026-11-22&character_skill_grade=hyperpassive",
                                    head + "ocid2&date=2026-11-22&character_skill_grade=0",
                                    head + "ocid2&date=2026-11-22&character_skill_grade=1",
                                    head + "ocid2&date=2026-11-22&character_skill_grade=hyperpassive"});
    // Its own fields: the key naming the upstream field and the list key; never the date.
    CHECK(items.fields(2, k_date) == ItemFields{{"ocid", k_ocid}, {"character_skill_grade", "hyperpassive"}});
    CHECK(items.describe(3, k_date) == R"({"ocid":"ocid2","character_skill_grade":"0"})");
    // One field only: described as its value.
    const PhaseDef basic = builtin("CHARACTER_BASIC");
    const ItemList single(basic, table({k_ocid}));
    CHECK(single.fields(0, k_date) == ItemFields{{"ocid", k_ocid}});
    CHECK(single.describe(0, k_date) == k_ocid);
}

TEST_CASE("list values are templates too, and with two lists the first varies slowest") {
    const PhaseDef def = ocid_phase("CHARACTER_HISTORY", "/maplestory/v1/history",
                                    {{"ocid", {"{ocid}"}, false},
                                     {"date", {"{date}", "2026-01-01"}, true},
                                     {"kind", {"a", "b", "c"}, true}});
    CHECK(def.combinations() == 6);
    const ItemList items(def, table({k_ocid}));
    REQUIRE(items.size() == 6);
    const std::string head = k_base + "/maplestory/v1/history?ocid=" + k_ocid;
    CHECK(urls_of(items) == Strings{head + "&date=2026-11-22&kind=a", head + "&date=2026-11-22&kind=b",
                                    head + "&date=2026-11-22&kind=c", head + "&date=2026-01-01&kind=a",
                                    head + "&date=2026-01-01&kind=b", head + "&date=2026-01-01&kind=c"});
    // A list key is the item's own field with its filled value, even when it names only {date}.
    CHECK(items.fields(0, k_date) == ItemFields{{"ocid", k_ocid}, {"date", "2026-11-22"}, {"kind", "a"}});
    CHECK(items.fields(5, k_date) == ItemFields{{"ocid", k_ocid}, {"date", "2026-01-01"}, {"kind", "c"}});

    // A list value naming an upstream field is filled per tuple.
    PhaseDef named = ocid_phase("ALIASES", "/x", {{"who", {"{ocid}", "{ocid}-alt"}, true}});
    const ItemList aliases(named, table({"o1", "o2"}));
    CHECK(urls_of(aliases) == Strings{k_base + "/x?who=o1", k_base + "/x?who=o1-alt", k_base + "/x?who=o2",
                                      k_base + "/x?who=o2-alt"});
    CHECK(aliases.fields(1, k_date) == ItemFields{{"who", "o1-alt"}});
    CHECK(aliases.describe(1, k_date) == "o1-alt");
}

TEST_CASE("pages times a list: ranking types [0, 1] times 2 pages are 4 items, type-major then page") {
    PhaseDef guilds;
    guilds.name = "GUILD_RANKING";
    guilds.path = "/maplestory/v1/ranking/guild";
    guilds.query = {
        {"date", {"{date}"}, false}, {"ranking_type", {"0", "1"}, true}, {"page", {"{page}"}, false}};
    guilds.pages = 2;
    guilds.rows = "ranking";
    const ItemList items(guilds, table({}));
    REQUIRE(items.size() == 4);
    const std::string head = k_base + "/maplestory/v1/ranking/guild?date=2026-11-22&ranking_type=";
    CHECK(urls_of(items) ==
          Strings{head + "0&page=1", head + "0&page=2", head + "1&page=1", head + "1&page=2"});
    CHECK(items.page(0) == 1);
    CHECK(items.page(1) == 2);
    CHECK(items.page(2) == 1);
    CHECK(items.page(3) == 2);
    CHECK(items.first_page_of(1) == 0);
    CHECK(items.first_page_of(3) == 2);
    // The page key and the list key are the item's fields; the date is not.
    CHECK(items.fields(3, k_date) == ItemFields{{"ranking_type", "1"}, {"page", "2"}});
    CHECK(items.describe(1, k_date) == R"({"ranking_type":"0","page":"2"})");
    // RANKING_FETCH's items: one field, the page.
    const PhaseDef ranking = builtin("RANKING_FETCH", 3);
    const ItemList pages(ranking, table({}));
    CHECK(pages.fields(1, k_date) == ItemFields{{"page", "2"}});
    CHECK(pages.describe(2, k_date) == "3");
}

TEST_CASE("tuples times lists times pages: the tuple varies slowest, the page fastest") {
    PhaseDef def = ocid_phase(
        "PAGED", "/p", {{"ocid", {"{ocid}"}, false}, {"t", {"x", "y"}, true}, {"page", {"{page}"}, false}});
    def.pages = 2;
    const ItemList items(def, table({"o1", "o2"}));
    REQUIRE(items.size() == 8);
    CHECK(urls_of(items) == Strings{k_base + "/p?ocid=o1&t=x&page=1", k_base + "/p?ocid=o1&t=x&page=2",
                                    k_base + "/p?ocid=o1&t=y&page=1", k_base + "/p?ocid=o1&t=y&page=2",
                                    k_base + "/p?ocid=o2&t=x&page=1", k_base + "/p?ocid=o2&t=x&page=2",
                                    k_base + "/p?ocid=o2&t=y&page=1", k_base + "/p?ocid=o2&t=y&page=2"});
    // No tuples: no items.
    CHECK(ItemList(def, table({})).size() == 0);
}

TEST_CASE("path placeholders are percent-encoded (a '/' included); path-only fields show by field name") {
    PhaseDef def;
    def.name = "GUILD_MEMBERS";
    def.upstream = "GUILD_RANKING";
    def.path = "/maplestory/v1/guild/{world_name}/{guild_name}/members";
    def.query = {{"guild", {"{guild_name}"}, false}, {"date", {"{date}"}, false}};
    def.fields = {"world_name", "guild_name"};
    const ItemList items(def, table({"스카니아", "길 드/x?&=", "Bera", "Plain"}));
    REQUIRE(items.size() == 2);
    CHECK(items.url(k_base, 0, k_date) == k_base +
                                              "/maplestory/v1/guild/%EC%8A%A4%EC%B9%B4%EB%8B%88%EC%95%84/"
                                              "%EA%B8%B8%20%EB%93%9C%2Fx%3F%26%3D/members"
                                              "?guild=%EA%B8%B8%20%EB%93%9C%2Fx%3F%26%3D&date=2026-11-22");
    CHECK(items.url(k_base, 1, k_date) ==
          k_base + "/maplestory/v1/guild/Bera/Plain/members?guild=Plain&date=2026-11-22");
    // guild_name shows under its query key; world_name, named only in the path, under its own name.
    CHECK(items.fields(0, k_date) == ItemFields{{"guild", "길 드/x?&="}, {"world_name", "스카니아"}});
    CHECK(items.describe(1, k_date) == R"({"guild":"Plain","world_name":"Bera"})");
    // fill() without encoding gives the raw values.
    CHECK(items.fill("{world_name}:{guild_name}:{date}", 0, k_date, false) ==
          "스카니아:길 드/x?&=:2026-11-22");
}

TEST_CASE("PageEnds: pages after the first empty one of the same run of pages are past the end") {
    PhaseDef guilds;
    guilds.name = "GUILD_RANKING";
    guilds.path = "/g";
    guilds.query = {{"ranking_type", {"0", "1"}, true}, {"page", {"{page}"}, false}};
    guilds.pages = 4;
    guilds.rows = "ranking";
    const ItemList items(guilds, table({}));
    REQUIRE(items.size() == 8); // type 0: items 0..3 (pages 1..4), type 1: items 4..7
    PageEnds ends;
    for (std::size_t i = 0; i < items.size(); ++i) {
        CHECK_FALSE(ends.past_end(items, i));
    }
    ends.ended_at(items, 2); // type 0, page 3 came back empty
    CHECK_FALSE(ends.past_end(items, 0));
    CHECK_FALSE(ends.past_end(items, 1));
    CHECK_FALSE(ends.past_end(items, 2)); // the empty page itself was fetched
    CHECK(ends.past_end(items, 3));
    for (std::size_t i = 4; i < 8; ++i) { // the other ranking type goes on
        CHECK_FALSE(ends.past_end(items, i));
    }
    // An earlier empty page (answers arrive out of order) moves the end back; a later one does not.
    ends.ended_at(items, 1);
    CHECK(ends.past_end(items, 2));
    ends.ended_at(items, 3);
    CHECK_FALSE(ends.past_end(items, 1));
    CHECK(ends.past_end(items, 2));
    ends.ended_at(items, 4); // type 1, page 1
    for (std::size_t i = 5; i < 8; ++i) {
        CHECK(ends.past_end(items, i));
    }
    CHECK_FALSE(ends.past_end(items, 4));
}

TEST_CASE("a page named only in the path is the item's field") {
    PhaseDef def;
    def.name = "PAGED_PATH";
    def.path = "/ranking/{page}";
    def.query = {{"date", {"{date}"}, false}};
    def.pages = 3;
    const ItemList items(def, table({}));
    REQUIRE(items.size() == 3);
    CHECK(items.url(k_base, 1, k_date) == k_base + "/ranking/2?date=2026-11-22");
    CHECK(items.fields(1, k_date) == ItemFields{{"page", "2"}});
    CHECK(items.describe(1, k_date) == "2");
}
