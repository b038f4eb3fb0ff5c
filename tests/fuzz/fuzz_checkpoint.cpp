// Fuzzes the checkpoint reader (core/state/checkpoint): any file either loads, with every done item inside
// the item count, or throws core::Error naming the file, in bounded time and memory.

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/state/checkpoint.hpp"
#include "core/util/error.hpp"

using namespace pipeline::core;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::filesystem::path file =
        std::filesystem::temp_directory_path() / ("pipeline-fuzz-checkpoint-" + std::to_string(::getpid()) + ".json");
    {
        std::ofstream out(file, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    try {
        const Checkpoint checkpoint = load_checkpoint(file);
        if (checkpoint.done.count() > checkpoint.done.size()) {
            std::abort();
        }
    } catch (const Error& error) {
        if (std::string(error.what()).find(file.string()) == std::string::npos) {
            std::abort(); // every refusal names the file
        }
    }
    return 0;
}
