#pragma once
// Chunk encodings: streaming gzip / zstd / none compressors, a whole-buffer decompressor, and SHA-256.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/config/config.hpp"

namespace pipeline::core {

/// Compresses a stream of bytes into an in-memory buffer.
class Compressor {
  public:
    virtual ~Compressor() = default;
    /// Adds bytes; throws core::Error if the library fails.
    virtual void add(std::string_view data) = 0;
    /// Ends the stream and returns the complete compressed bytes; the compressor may not be used afterwards.
    virtual std::string finish() = 0;
};

/// A compressor for `compression` (gzip level 6, zstd level 3, or a plain copy).
std::unique_ptr<Compressor> make_compressor(Compression compression);

/// Decompresses a whole chunk; throws core::Error (exit 1) naming `what` if it is corrupt or truncated.
std::string decompress(Compression compression, std::string_view data, const std::string& what);

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
