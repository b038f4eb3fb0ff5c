// Fuzzes what the fetcher does with an API answer: the classifier (core/fetch/fetch_outcome) and, for
// answers it accepts, the record builders (core/api/phase_items). Neither may throw; an answer that passes
// classify and has_expected_shape must build records that are each one line of valid JSON.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/api/phase.hpp"
#include "core/api/records.hpp"
#include "core/fetch/fetch_outcome.hpp"

using namespace pipeline::core;

namespace {

/// Reads a length byte and that many bytes (cut at the end of the input).
std::string take_counted(std::string_view& input, std::size_t limit) {
    if (input.empty()) {
        return {};
    }
    const std::size_t length = std::min<std::size_t>(static_cast<unsigned char>(input.front()) % (limit + 1),
                                                     input.size() - 1);
    std::string out(input.substr(1, length));
    input.remove_prefix(1 + length);
    return out;
}

} // namespace

// Input layout (so that seeds are easy to write by hand): status index, phase index, a counted Retry-After
// (length 0: none), a counted item, then the body.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) {
        return 0;
    }
    static constexpr long k_statuses[] = {200, 200, 200, 400, 403, 404, 408, 429, 500, 503, 302, 0};
    std::string_view input(reinterpret_cast<const char*>(data), size);
    TransportResult result;
    result.status = k_statuses[static_cast<unsigned char>(input[0]) % std::size(k_statuses)];
    result.error = result.status == 0 ? TransportError::Truncated : TransportError::None;
    const Phase phase = k_all_phases[static_cast<unsigned char>(input[1]) % k_all_phases.size()];
    input.remove_prefix(2);
    if (std::string retry_after = take_counted(input, 64); !retry_after.empty()) {
        result.retry_after = std::move(retry_after);
    }
    // Items come from earlier answers that were valid JSON, so they are valid UTF-8; keep them ASCII here.
    std::string item = take_counted(input, 32);
    for (char& c : item) {
        c = static_cast<char>(static_cast<unsigned char>(c) & 0x7F);
    }
    result.body = std::string(input);

    const Classified classified = classify(result, SystemTime{} + std::chrono::hours(24 * 365 * 56));
    if (classified.outcome != Outcome::Ok || !has_expected_shape(phase, result.body)) {
        return 0;
    }
    const bool built = make_records(phase, item, "2026-11-22", result.body, [](std::string_view record) {
        if (record.find('\n') != std::string_view::npos ||
            !nlohmann::json::accept(record.begin(), record.end())) {
            std::abort(); // a record must be exactly one JSON line
        }
    });
    if (!built) {
        std::abort(); // has_expected_shape promised that make_records can use this answer
    }
    return 0;
}
