// The items a phase lists from its row of the phase table: pages, or a field of the upstream snapshot.

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/run/item_list.hpp"
#include "core/util/error.hpp"
#include "fakes/memory_sink.hpp"
#include "fakes/snapshot_builder.hpp"

using pipeline::core::list_items;
using pipeline::core::Phase;
using pipeline::tests::MemorySink;
using pipeline::tests::ocid_for;
using pipeline::tests::ocid_record;
using pipeline::tests::publish_snapshot;
using pipeline::tests::ranking_record;
using pipeline::tests::SnapshotSpec;

TEST_CASE("RANKING_FETCH lists page numbers 1 to ranking.pages") {
    MemorySink sink;
    CHECK(list_items(Phase::RankingFetch, 4, sink, nullptr).to_vector() ==
          std::vector<std::string>{"1", "2", "3", "4"});
    CHECK(list_items(Phase::RankingFetch, 1, sink, nullptr).to_vector() == std::vector<std::string>{"1"});
}

TEST_CASE("OCID_LOOKUP lists each distinct character name once, in rank order") {
    MemorySink sink;
    SnapshotSpec spec;
    spec.phase = Phase::RankingFetch;
    // Rankings shift between pages while they are fetched, so a name can appear twice.
    spec.chunks = {{ranking_record(1, "아델"), ranking_record(2, "Bravo"), ranking_record(3, "아델")},
                   {ranking_record(4, "Charlie"), ranking_record(5, "Bravo"), ranking_record(6, "델타")}};
    const auto manifest = publish_snapshot(sink, spec);
    CHECK(list_items(Phase::OcidLookup, 5, sink, &manifest).to_vector() ==
          std::vector<std::string>{"아델", "Bravo", "Charlie", "델타"});
}

TEST_CASE("the detail phases list the ocids of the OCID_LOOKUP snapshot") {
    MemorySink sink;
    SnapshotSpec spec;
    spec.phase = Phase::OcidLookup;
    spec.compression = pipeline::core::Compression::Zstd;
    std::vector<std::string> expected;
    std::vector<std::string> records;
    for (const std::string name : {"아델", "Bravo", "Charlie"}) {
        expected.push_back(ocid_for(name));
        records.push_back(ocid_record(name));
    }
    spec.chunks = {records};
    const auto manifest = publish_snapshot(sink, spec);
    CHECK(list_items(Phase::CharacterBasic, 5, sink, &manifest).to_vector() == expected);
    CHECK(list_items(Phase::ItemEquipment, 5, sink, &manifest).to_vector() == expected);
}

TEST_CASE("an upstream record without the field a phase needs is an error naming the upstream run") {
    MemorySink sink;
    SnapshotSpec spec;
    spec.phase = Phase::RankingFetch;
    spec.chunks = {{ranking_record(1, "아델"), R"({"ranking":2})"}};
    const auto manifest = publish_snapshot(sink, spec);
    try {
        list_items(Phase::OcidLookup, 5, sink, &manifest);
        FAIL("no error");
    } catch (const pipeline::core::Error& e) {
        CHECK(std::string(e.what()).find(spec.run_id) != std::string::npos);
        CHECK(std::string(e.what()).find("character_name") != std::string::npos);
    }
}

TEST_CASE("repeats are dropped wherever they fall, and the first place of each key is kept") {
    MemorySink sink;
    SnapshotSpec spec;
    spec.phase = Phase::OcidLookup;
    std::vector<std::string> records;
    std::vector<std::string> expected;
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
    CHECK(list_items(Phase::ItemEquipment, 5, sink, &manifest).to_vector() == expected);
}

TEST_CASE("sibling phases share one item list of the same upstream run, and only while one of them holds it") {
    MemorySink sink;
    SnapshotSpec spec;
    spec.phase = Phase::OcidLookup;
    std::vector<std::string> expected;
    std::vector<std::string> records;
    for (const std::string name : {"아델", "Bravo"}) {
        expected.push_back(ocid_for(name));
        records.push_back(ocid_record(name));
    }
    spec.chunks = {records};
    const auto manifest = publish_snapshot(sink, spec);
    pipeline::core::ItemListCache cache;
    auto basic = cache.get(Phase::CharacterBasic, sink, manifest);
    const auto equipment = cache.get(Phase::ItemEquipment, sink, manifest);
    CHECK(basic.get() == equipment.get());
    CHECK(equipment->to_vector() == expected);

    // Another upstream run of the same day is listed on its own.
    SnapshotSpec other = spec;
    other.run_id = "20261130T000000Z-abcdef";
    other.chunks = {{records[1]}};
    const auto other_manifest = publish_snapshot(sink, other);
    const auto other_list = cache.get(Phase::ItemEquipment, sink, other_manifest);
    CHECK(other_list.get() != equipment.get());
    CHECK(other_list->to_vector() == std::vector<std::string>{expected[1]});
}
