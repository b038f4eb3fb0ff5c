#pragma once
// Streaming decompression of chunks (gzip members one after another, one zstd frame, or plain bytes), for
// readers that must not hold a whole chunk in memory (verify).

#include <functional>
#include <memory>
#include <string_view>

#include "core/config/config.hpp"

namespace pipeline::core {

/// Decompresses a stream fed in pieces; what comes out is handed on in pieces as well.
class Decompressor {
  public:
    /// Receives decompressed bytes; the view is valid only during the call.
    using Output = std::function<void(std::string_view)>;
    virtual ~Decompressor() = default;
    /// Decompresses `data` (the next bytes of the stream) into `out`; throws core::Error (exit 1) with a
    /// reason such as "corrupt gzip data" when the bytes cannot be what the encoding says.
    virtual void add(std::string_view data, const Output& out) = 0;
    /// Checks that the stream ended where a complete stream ends; throws core::Error ("truncated ... data")
    /// otherwise.
    virtual void finish() = 0;
};

/// A streaming decompressor for `compression`.
std::unique_ptr<Decompressor> make_decompressor(Compression compression);

} // namespace pipeline::core
