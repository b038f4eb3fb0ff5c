#pragma once
// What chunk files hold: the compression a part's name implies, and SHA-256 (whole and streamed). Compressing
// is stream_encoder.hpp's, decompressing decompressor.hpp's.

#include <optional>
#include <string>
#include <string_view>

#include "core/config/config.hpp"

namespace pipeline::core {

/// The compression a chunk file name implies by its extension; nullopt when not a chunk name.
std::optional<Compression> compression_of(std::string_view file_name);

/// Lower-case hex SHA-256 of data.
std::string sha256_hex(std::string_view data);

/// SHA-256 of data that arrives in pieces (a chunk as it is written).
class Sha256 {
  public:
    Sha256();
    ~Sha256();
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;
    /// Adds bytes.
    void update(std::string_view data);
    /// Lower-case hex digest of everything added since construction or the last hex(); starts over.
    std::string hex();

  private:
    void* m_context; // EVP_MD_CTX, kept out of this header
};

} // namespace pipeline::core
