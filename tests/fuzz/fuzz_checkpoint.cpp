// Fuzzes the checkpoint reader (core/state/checkpoint): any file either loads, with every done item inside
// the item count and a valid phase name, or throws core::Error naming the file, in bounded time and memory.
// The file is named after the run the input claims (when that makes a plain file name), so that inputs get
// past the check that a checkpoint describes the run its file name says.

#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/state/checkpoint.hpp"
#include "core/util/error.hpp"
#include "core/util/text.hpp"

using namespace pipeline::core;

namespace {

const std::filesystem::path& folder() {
    static const std::filesystem::path dir = [] {
        std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("pipeline-fuzz-checkpoint-" + std::to_string(::getpid()));
        std::filesystem::create_directories(path);
        return path;
    }();
    return dir;
}

// "<date>.<phase>.<run_id>.json" from the input's own fields, when each is short and plain; else a fixed
// name.
std::string file_name(const std::string& text) {
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    const auto plain = [&](const char* key) -> std::string {
        if (!j.is_object() || !j.contains(key) || !j[key].is_string()) {
            return {};
        }
        const std::string value = j[key].get<std::string>();
        const bool ok = !value.empty() && value.size() <= 40 && std::ranges::all_of(value, [](char c) {
            return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                   c == '_';
        });
        return ok ? value : std::string();
    };
    const std::string date = plain("date");
    const std::string phase = plain("phase");
    const std::string run_id = plain("run_id");
    if (date.empty() || phase.empty() || run_id.empty()) {
        return "2026-11-22.ITEM_EQUIPMENT.20261122T000200Z-000003.json";
    }
    return date + "." + phase + "." + run_id + ".json";
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    const std::filesystem::path file = folder() / file_name(text);
    {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
    }
    try {
        const Checkpoint checkpoint = load_checkpoint(file);
        if (checkpoint.done.count() > checkpoint.done.size() || !is_phase_name(checkpoint.phase)) {
            std::abort();
        }
    } catch (const Error& error) {
        if (std::string(error.what()).find(file.string()) == std::string::npos) {
            std::abort(); // every refusal names the file
        }
    }
    std::error_code ec;
    std::filesystem::remove(file, ec);
    return 0;
}
