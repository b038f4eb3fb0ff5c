#pragma once
// Whole-buffer compression for tests: reference encoders (zlib's gzip, libzstd) whose output the code under
// test must read, and a whole-buffer decompress through the streaming Decompressor that verify and cat use.

#include <zlib.h>
#include <zstd.h>

#include <string>
#include <string_view>

#include "core/config/config.hpp"
#include "core/snapshot/decompressor.hpp"
#include "core/util/error.hpp"

namespace pipeline::tests {

/// `data` as one gzip member (level 6), one zstd frame (level 3, checksummed), or as is.
inline std::string compress(core::Compression compression, std::string_view data) {
    if (compression == core::Compression::None) {
        return std::string(data);
    }
    if (compression == core::Compression::Zstd) {
        // With the frame checksum, as pipeline writes its parts: a corrupted byte is then always noticed.
        ZSTD_CCtx* context = ZSTD_createCCtx();
        ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, 3);
        ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, 1);
        std::string out(ZSTD_compressBound(data.size()), '\0');
        out.resize(ZSTD_compress2(context, out.data(), out.size(), data.data(), data.size()));
        ZSTD_freeCCtx(context);
        return out;
    }
    z_stream stream{};
    deflateInit2(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY); // 16: a gzip wrapper
    std::string out(deflateBound(&stream, static_cast<uLong>(data.size())), '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    deflate(&stream, Z_FINISH);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    return out;
}

/// The decompressed bytes of a whole chunk; throws core::Error naming `what` when they are corrupt or cut.
inline std::string decompress(core::Compression compression, std::string_view data, const std::string& what = "chunk") {
    const std::unique_ptr<core::Decompressor> decompressor = core::make_decompressor(compression);
    std::string out;
    try {
        decompressor->add(data, [&out](std::string_view piece) { out += piece; });
        decompressor->finish();
    } catch (const core::Error& e) {
        throw core::Error(e.code(), what + ": " + e.what());
    }
    return out;
}

} // namespace pipeline::tests
