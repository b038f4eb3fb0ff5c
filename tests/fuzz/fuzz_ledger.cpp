// Fuzzes the ledger reader (core/state/ledger): whatever <run_dir>/ledger.json holds, Ledger::read returns
// entries of distinct, valid phase names (any phase, configured or not) or throws core::Error; an entry it
// returns is written back as JSON that reads the same.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "core/state/ledger.hpp"
#include "core/util/error.hpp"
#include "core/util/text.hpp"

using namespace pipeline::core;

namespace {

const std::filesystem::path& run_dir() {
    static const std::filesystem::path dir = [] {
        std::filesystem::path path = std::filesystem::temp_directory_path() /
                                     ("pipeline-fuzz-ledger-" + std::to_string(::getpid()));
        std::filesystem::create_directories(path);
        return path;
    }();
    return dir;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    {
        std::ofstream out(run_dir() / "ledger.json", std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    try {
        const LedgerEntries entries = Ledger(RunDir(run_dir())).read();
        std::set<std::string> names;
        for (const LedgerEntry& entry : entries) {
            if (!is_phase_name(entry.phase) || !names.insert(entry.phase).second) {
                std::abort(); // phase names become file names: only valid ones, each once
            }
            const nlohmann::json json = entry_to_json(entry);
            const std::string text = json.dump(); // throws on invalid UTF-8: a finding
            if (nlohmann::json::parse(text) != json) {
                std::abort();
            }
        }
    } catch (const Error&) {
        // The expected refusal of a corrupt ledger.
    }
    return 0;
}
