// Fuzzes parse_retry_after (core/fetch/fetch_outcome): any header value gives a delay that is not negative,
// or nullopt; never a crash, an exception or undefined behaviour.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/fetch/fetch_outcome.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view value(reinterpret_cast<const char*>(data), size);
    const pipeline::core::SystemTime now = std::chrono::system_clock::from_time_t(1795000000);
    const auto delay = pipeline::core::parse_retry_after(value, now);
    if (delay && delay->count() < 0) {
        std::abort();
    }
    return 0;
}
