#include "core/util/run_id.hpp"

namespace pipeline::core {

namespace {
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_lower_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f');
}
} // namespace

bool is_run_id(std::string_view text) {
    constexpr std::string_view k_pattern = "DDDDDDDDTDDDDDDZ-HHHHHH";
    if (text.size() != k_pattern.size()) {
        return false;
    }
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char want = k_pattern[i];
        const bool ok = want == 'D'   ? is_digit(text[i])
                        : want == 'H' ? is_lower_hex(text[i])
                                      : text[i] == want;
        if (!ok) {
            return false;
        }
    }
    return true;
}

} // namespace pipeline::core
