#include "common.hpp"

#include <array>
#include <openssl/evp.h>
#include <stdexcept>

namespace fake_api {

namespace {

constexpr std::string_view k_hex = "0123456789abcdef";
constexpr std::string_view k_hex_upper = "0123456789ABCDEF";

bool all_digits(std::string_view text) {
    for (char c : text) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

int to_int(std::string_view digits) {
    int value = 0;
    for (char c : digits) value = value * 10 + (c - '0');
    return value;
}

}  // namespace

std::string error_body(std::string_view code, std::string_view message) {
    Json body;
    body["error"] = {{"name", code}, {"message", message}};
    return body.dump();
}

std::uint64_t mix64(std::uint64_t value, std::uint64_t salt) {
    std::uint64_t z = value + salt * 0x9e3779b97f4a7c15ULL + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

std::uint64_t hash_text(std::string_view text) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
    return mix64(h, 0);
}

double unit_interval(std::uint64_t hash) {
    return static_cast<double>(hash >> 11) * 0x1.0p-53;
}

bool is_valid_date(std::string_view text) {
    if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
    const auto year = text.substr(0, 4), month = text.substr(5, 2), day = text.substr(8, 2);
    if (!all_digits(year) || !all_digits(month) || !all_digits(day)) return false;
    const int m = to_int(month), d = to_int(day);
    return to_int(year) >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

std::string sha256_hex32(std::string_view text) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
        throw std::runtime_error("EVP_Digest(SHA-256) failed");
    }
    std::string hex;
    hex.reserve(32);
    for (unsigned int i = 0; i < 16; ++i) {
        hex.push_back(k_hex[digest[i] >> 4]);
        hex.push_back(k_hex[digest[i] & 0x0f]);
    }
    return hex;
}

std::string url_encode(std::string_view text) {
    std::string out;
    for (unsigned char c : text) {
        const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                                c == '-' || c == '.' || c == '_' || c == '~';
        if (unreserved) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(k_hex_upper[c >> 4]);
            out.push_back(k_hex_upper[c & 0x0f]);
        }
    }
    return out;
}

}  // namespace fake_api
