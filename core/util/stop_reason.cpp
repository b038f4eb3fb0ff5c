#include "core/util/stop_reason.hpp"

namespace pipeline::core {

std::string_view stop_reason_key(StopReason reason) {
    for (const StopReasonInfo& info : k_stop_reasons) {
        if (info.reason == reason) {
            return info.key;
        }
    }
    return {};
}

std::optional<StopReason> parse_stop_reason(std::string_view key) {
    for (const StopReasonInfo& info : k_stop_reasons) {
        if (info.key == key) {
            return info.reason;
        }
    }
    return std::nullopt;
}

} // namespace pipeline::core
