#include "static_dump.hpp"

#include "common.hpp"
#include "serve.hpp"

#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace fake_api {

namespace {

void write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + path.string());
}

/// Writes the body if the fault-free server would answer 200.
void write_answer(const std::filesystem::path& path, const Answer& answer) {
    if (answer.status == 200) write_file(path, answer.body);
}

}  // namespace

void dump_static(const Dataset& dataset, const std::string& directory, const std::string& date) {
    namespace fs = std::filesystem;
    const fs::path root(directory);
    for (const char* sub : {"id", "basic", "item-equipment", "ranking"}) fs::create_directories(root / sub);

    for (int page = 1; page <= dataset.ranking_pages(); ++page) {
        const httplib::Params params{{"date", date}, {"page", std::to_string(page)}};
        write_answer(root / "ranking" / (std::to_string(page) + ".json"),
                     serve_ranking(dataset, Query{{}, params}));
    }
    std::string urls;
    for (const Character& character : dataset.characters()) {
        write_answer(root / "id" / (url_encode(character.name) + ".json"),
                     serve_id(dataset, Query{{}, httplib::Params{{"character_name", character.name}}}));
        const httplib::Params params{{"ocid", character.ocid}, {"date", date}};
        const Answer basic = serve_basic(dataset, Query{{}, params});
        if (basic.status != 200) continue;
        write_answer(root / "basic" / (character.ocid + ".json"), basic);
        write_answer(root / "item-equipment" / (character.ocid + ".json"),
                     serve_item(dataset, Query{{}, params}));
        urls += "/maplestory/v1/character/item-equipment?ocid=" + character.ocid + "&date=" + date + "\n";
    }
    write_file(root / "urls-item-equipment.txt", urls);
}

}  // namespace fake_api
