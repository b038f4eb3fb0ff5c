// read_part (core/snapshot/part_reader.cpp): one part streamed against its manifest entry, never read past
// its size plus one byte, and a key that is not a regular file refused before a byte is read.
#include <doctest/doctest.h>

#include <string>

#include "core/snapshot/codec.hpp"
#include "core/snapshot/part_reader.hpp"
#include "fakes/memory_sink.hpp"

using namespace pipeline;

namespace {

// A sink whose object under "endless" never ends (a link to /dev/zero), and "fifo" is not a file at all. It
// counts what it hands out, to show that a reader stops at the limit.
class OddSink final : public core::Sink {
  public:
    void put(const std::string&, std::string_view) override {}
    std::optional<std::string> get(const std::string&) override { return std::nullopt; }
    std::vector<std::string> list(const std::string&) override { return {}; }
    void remove(const std::string&) override {}
    void clean_temporaries(const std::string&) override {}
    std::string describe() const override { return "odd://"; }
    core::StreamStatus stream(const std::string& key, std::uint64_t max_bytes,
                              const std::function<void(std::string_view)>& consume) override {
        if (key == "fifo") {
            return core::StreamStatus::NotAFile;
        }
        const std::string zeros(4096, '\0');
        while (handed < max_bytes) {
            const std::size_t n =
                static_cast<std::size_t>(std::min<std::uint64_t>(zeros.size(), max_bytes - handed));
            handed += n;
            consume(std::string_view(zeros).substr(0, n));
        }
        return core::StreamStatus::Streamed;
    }
    std::uint64_t handed = 0;
};

core::ChunkEntry entry_for(const std::string& data, std::uint64_t records) {
    return {"part-00001.jsonl", records, data.size(), core::sha256_hex(data)};
}

} // namespace

TEST_CASE("read_part hands on a sound part and reports each kind of mismatch") {
    tests::MemorySink sink;
    const std::string text = "{\"a\":1}\n{\"a\":2}\n";
    sink.put("k/part-00001.jsonl", text);
    std::string out;
    const auto collect = [&out](std::string_view piece) { out += piece; };
    core::PartRead read = core::read_part(sink, "k/part-00001.jsonl", entry_for(text, 2), collect);
    CHECK_FALSE(read.problem.has_value());
    CHECK(out == text);
    CHECK(read.bytes == text.size());

    core::ChunkEntry shorter = entry_for(text, 2);
    shorter.bytes = text.size() - 3;
    out.clear();
    read = core::read_part(sink, "k/part-00001.jsonl", shorter, collect);
    CHECK(read.problem == "longer than the " + std::to_string(shorter.bytes) + " bytes the manifest says");
    CHECK(read.bytes == shorter.bytes + 1);
    CHECK(out == text.substr(0, shorter.bytes)); // nothing past the manifest's size is decompressed

    core::ChunkEntry longer = entry_for(text, 2);
    longer.bytes = text.size() + 5;
    read = core::read_part(sink, "k/part-00001.jsonl", longer, collect);
    CHECK(read.problem ==
          "size " + std::to_string(text.size()) + " bytes, manifest says " + std::to_string(longer.bytes));

    core::ChunkEntry other = entry_for(text, 2);
    other.sha256 = std::string(64, '0');
    CHECK(core::read_part(sink, "k/part-00001.jsonl", other, collect).problem->starts_with("sha256 "));
    CHECK(core::read_part(sink, "k/part-00002.jsonl", other, collect).problem ==
          "missing (listed in the manifest)");
}

TEST_CASE("read_part never reads past the manifest's size plus one byte, and refuses what is not a file") {
    OddSink sink;
    const core::ChunkEntry entry{"part-00001.jsonl.gz", 10, 1000, std::string(64, 'a')};
    core::PartRead read = core::read_part(sink, "endless", entry, [](std::string_view) {});
    CHECK(read.problem->starts_with("longer than the 1000 bytes"));
    CHECK(sink.handed == 1001);
    read = core::read_part(sink, "fifo", entry, [](std::string_view) {});
    CHECK(read.problem->starts_with("not a regular file"));
    CHECK(read.bytes == 0);
}
