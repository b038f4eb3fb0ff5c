#include "core/snapshot/codec.hpp"

#include <openssl/evp.h>

#include "core/util/error.hpp"

namespace pipeline::core {

std::optional<Compression> compression_of(std::string_view file_name) {
    if (!file_name.starts_with("part-")) {
        return std::nullopt; // "_rejects.jsonl" ends like a chunk but is not one
    }
    for (Compression c : {Compression::Gzip, Compression::Zstd, Compression::None}) {
        if (file_name.ends_with(compression_extension(c))) {
            return c;
        }
    }
    return std::nullopt;
}

namespace {
std::string to_hex(const unsigned char* digest, unsigned int length) {
    static constexpr char k_hex[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(length * 2);
    for (unsigned int i = 0; i < length; ++i) {
        hex.push_back(k_hex[digest[i] >> 4]);
        hex.push_back(k_hex[digest[i] & 15]);
    }
    return hex;
}
} // namespace

Sha256::Sha256() : m_context(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(m_context), EVP_sha256(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(m_context)); }

void Sha256::update(std::string_view data) {
    EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(m_context), data.data(), data.size());
}

std::string Sha256::hex() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(m_context), digest, &length);
    EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(m_context), EVP_sha256(), nullptr);
    return to_hex(digest, length);
}

std::string sha256_hex(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
    return to_hex(digest, length);
}

} // namespace pipeline::core
