// What an upstream snapshot gives a phase (list_upstream_items): the distinct combinations of the fields it
// names, in first-appearance order, and the records it cannot make an item of.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/run/item_list.hpp"
#include "core/util/error.hpp"
#include "fakes/memory_sink.hpp"
#include "fakes/snapshot_builder.hpp"

using pipeline::core::first_unusable_field;
using pipeline::core::list_upstream_items;
using pipeline::core::UpstreamItems;
using pipeline::tests::MemorySink;
using pipeline::tests::ocid_for;
using pipeline::tests::ocid_record;
using pipeline::tests::publish_snapshot;
using pipeline::tests::ranking_record;
using pipeline::tests::SnapshotSpec;

using Strings = std::vector<std::string>;

namespace {

// Publishes one chunk of `records` as a COMPLETED run of `phase`.
pipeline::core::Manifest publish(MemorySink& sink, const std::string& phase, const Strings& records) {
    SnapshotSpec spec;
    spec.phase = phase;
    spec.chunks = {records};
    return publish_snapshot(sink, spec);
}

} // namespace

TEST_CASE("OCID_LOOKUP's items are each distinct character name once, in rank order") {
    MemorySink sink;
    SnapshotSpec spec;
    spec.phase = "RANKING_FETCH";
    // Rankings shift between pages while they are fetched, so a name can appear twice.
    spec.chunks = {{ranking_record(1, "아델"), ranking_record(2, "Bravo"), ranking_record(3, "아델")},
                   {ranking_record(4, "Charlie"), ranking_record(5, "Bravo"), ranking_record(6, "델타")}};
    const auto manifest = publish_snapshot(sink, spec);
    const UpstreamItems items = list_upstream_items({"character_name"}, sink, manifest);
    CHECK(items.tuples.to_vector() == Strings{"아델", "Bravo", "Charlie", "델타"});
    CHECK(items.unusable.empty());
}

TEST_CASE("the detail phases' items are the ocids of the OCID_LOOKUP snapshot") {
    MemorySink sink;
    SnapshotSpec spec;
    spec.phase = "OCID_LOOKUP";
    spec.compression = pipeline::core::Compression::Zstd;
    Strings expected;
    Strings records;
    for (const std::string name : {"아델", "Bravo", "Charlie"}) {
        expected.push_back(ocid_for(name));
        records.push_back(ocid_record(name));
    }
    spec.chunks = {records};
    const auto manifest = publish_snapshot(sink, spec);
    CHECK(list_upstream_items({"ocid"}, sink, manifest).tuples.to_vector() == expected);
    // Both fields of the record: one tuple of two values per record.
    Strings pairs;
    for (const std::string name : {"아델", "Bravo", "Charlie"}) {
        pairs.push_back(name);
        pairs.push_back(ocid_for(name));
    }
    CHECK(list_upstream_items({"character_name", "ocid"}, sink, manifest).tuples.to_vector() == pairs);
}

TEST_CASE(
    "two fields: a combination is distinct when either value differs, and a repeat of both is dropped") {
    MemorySink sink;
    const auto manifest = publish(sink, "GUILD_RANKING",
                                  {R"({"ranking":1,"guild_name":"길드","world_name":"스카니아"})",
                                   R"({"ranking":2,"guild_name":"길드","world_name":"베라"})",
                                   R"({"ranking":3,"guild_name":"Other","world_name":"스카니아"})",
                                   R"({"ranking":4,"world_name":"스카니아","guild_name":"길드"})",
                                   R"({"ranking":5,"guild_name":"길드","world_name":"베라"})"});
    const UpstreamItems items = list_upstream_items({"guild_name", "world_name"}, sink, manifest);
    CHECK(items.tuples.to_vector() == Strings{"길드", "스카니아", "길드", "베라", "Other", "스카니아"});
    CHECK(items.unusable.empty());
    // One of the two fields alone: its distinct values.
    CHECK(list_upstream_items({"world_name"}, sink, manifest).tuples.to_vector() ==
          Strings{"스카니아", "베라"});
}

TEST_CASE("records without a usable value of a named field are set apart; an integer counts as its text") {
    MemorySink sink;
    const Strings records = {
        R"({"character_name":"아델"})",               // usable
        R"({"ranking":2})",                           // missing
        R"({"character_name":null})",                 // null
        R"({"character_name":""})",                   // empty
        R"({"character_name":12345})",                // an integer: usable as "12345"
        R"({"character_name":-7})",                   // a negative integer: "-7"
        R"({"character_name":18446744073709551615})", // beyond int64: still an integer
        R"({"character_name":1.5})",                  // a float
        R"({"character_name":true})",                 // a bool
        R"({"character_name":{"first":"a"}})",        // an object
        R"({"character_name":["a"]})",                // an array
        "not json at all",                            // not JSON
        R"(["character_name","x"])",                  // JSON, but not an object
        R"({"character_name":"아델"})",               // a repeat
    };
    const auto manifest = publish(sink, "RANKING_FETCH", records);
    const UpstreamItems items = list_upstream_items({"character_name"}, sink, manifest);
    CHECK(items.tuples.to_vector() == Strings{"아델", "12345", "-7", "18446744073709551615"});
    CHECK(items.unusable.to_vector() == Strings{records[1], records[2], records[3], records[7], records[8],
                                                records[9], records[10], records[11], records[12]});

    // The field each unusable record lacks; "" when it has them all.
    CHECK(first_unusable_field({"character_name"}, records[0]).empty());
    CHECK(first_unusable_field({"character_name"}, records[4]).empty());
    for (const std::string& record : items.unusable.to_vector()) {
        CAPTURE(record);
        CHECK(first_unusable_field({"character_name"}, record) == "character_name");
    }
    // Of several fields, the first one missing; a text that is not an object lacks the first field.
    CHECK(first_unusable_field({"guild_name", "world_name"}, R"({"guild_name":"g","world_name":null})") ==
          "world_name");
    CHECK(first_unusable_field({"guild_name", "world_name"}, R"({"world_name":"w"})") == "guild_name");
    CHECK(first_unusable_field({"guild_name", "world_name"}, "{") == "guild_name");
}

TEST_CASE("with two fields, a record missing either one is unusable as a whole") {
    MemorySink sink;
    const Strings records = {R"({"guild_name":"길드","world_name":"스카니아"})", R"({"guild_name":"길드"})",
                             R"({"guild_name":"","world_name":"베라"})",
                             R"({"guild_name":"g2","world_name":3})"};
    const auto manifest = publish(sink, "GUILD_RANKING", records);
    const UpstreamItems items = list_upstream_items({"guild_name", "world_name"}, sink, manifest);
    CHECK(items.tuples.to_vector() == Strings{"길드", "스카니아", "g2", "3"});
    CHECK(items.unusable.to_vector() == Strings{records[1], records[2]});
}

TEST_CASE("an upstream record with a repeated key is read as the answer check read it: the first value") {
    MemorySink sink;
    const std::string good = ocid_for("아델");
    const auto manifest =
        publish(sink, "OCID_LOOKUP", {R"({"character_name":"아델","ocid":")" + good + R"(","ocid":[1]})"});
    const UpstreamItems items = list_upstream_items({"ocid"}, sink, manifest);
    CHECK(items.tuples.to_vector() == Strings{good});
    CHECK(items.unusable.empty());
}

TEST_CASE("repeats are dropped wherever they fall, and the first place of each combination is kept") {
    MemorySink sink;
    SnapshotSpec spec;
    spec.phase = "OCID_LOOKUP";
    Strings records;
    Strings expected;
    // 3000 names, each appearing again 1000 places later: the order must be that of first appearance.
    for (int i = 0; i < 4000; ++i) {
        const std::string name = "c" + std::to_string((i * 7919) % 3000);
        records.push_back(ocid_record(name));
        if (i < 3000) {
            expected.push_back(ocid_for(name));
        }
    }
    spec.chunks = {records};
    const auto manifest = publish_snapshot(sink, spec);
    CHECK(list_upstream_items({"ocid"}, sink, manifest).tuples.to_vector() == expected);
}

TEST_CASE("a corrupt upstream chunk is an error naming the chunk") {
    MemorySink sink;
    SnapshotSpec spec;
    spec.phase = "OCID_LOOKUP";
    spec.chunks = {{ocid_record("아델")}};
    const auto manifest = publish_snapshot(sink, spec);
    const std::string key =
        pipeline::core::run_prefix(spec.date, spec.phase, spec.run_id) + manifest.chunks[0].name;
    sink.put(key, "garbage");
    try {
        list_upstream_items({"ocid"}, sink, manifest);
        FAIL("no error");
    } catch (const pipeline::core::Error& e) {
        CHECK(std::string(e.what()).find(manifest.chunks[0].name) != std::string::npos);
    }
}

TEST_CASE("sibling phases share one item list of the same upstream run and fields, only while one holds it") {
    MemorySink sink;
    SnapshotSpec spec;
    spec.phase = "OCID_LOOKUP";
    Strings expected;
    Strings records;
    for (const std::string name : {"아델", "Bravo"}) {
        expected.push_back(ocid_for(name));
        records.push_back(ocid_record(name));
    }
    spec.chunks = {records};
    const auto manifest = publish_snapshot(sink, spec);
    pipeline::core::ItemListCache cache;
    auto basic = cache.get({"ocid"}, sink, manifest);
    auto equipment = cache.get({"ocid"}, sink, manifest);
    CHECK(basic.get() == equipment.get());
    CHECK(equipment->tuples.to_vector() == expected);

    // Other fields of the same run are another list.
    const auto names = cache.get({"character_name"}, sink, manifest);
    CHECK(names.get() != equipment.get());
    CHECK(names->tuples.to_vector() == Strings{"아델", "Bravo"});

    // Another upstream run of the same day is listed on its own.
    SnapshotSpec other = spec;
    other.run_id = "20261130T000000Z-abcdef";
    other.chunks = {{records[1]}};
    const auto other_manifest = publish_snapshot(sink, other);
    const auto other_list = cache.get({"ocid"}, sink, other_manifest);
    CHECK(other_list.get() != equipment.get());
    CHECK(other_list->tuples.to_vector() == Strings{expected[1]});

    // The list lives only while a phase holds it: the same run listed again once every holder let go is read
    // from the snapshot again (here republished with other records under the same run id).
    SnapshotSpec changed = spec;
    changed.chunks = {{records[1], ocid_record("Charlie")}};
    const auto changed_manifest = publish_snapshot(sink, changed);
    CHECK(cache.get({"ocid"}, sink, changed_manifest)->tuples.to_vector() == expected); // still held
    basic.reset();
    CHECK(cache.get({"ocid"}, sink, changed_manifest)->tuples.to_vector() ==
          expected); // `equipment` holds it
    equipment.reset();
    CHECK(cache.get({"ocid"}, sink, changed_manifest)->tuples.to_vector() ==
          Strings{expected[1], ocid_for("Charlie")});
}
