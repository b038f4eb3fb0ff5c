#include "core/snapshot/codec.hpp"

#include <openssl/evp.h>
#include <zlib.h>
#include <zstd.h>

#include <vector>

#include "core/util/error.hpp"

namespace pipeline::core {

namespace {

class PlainCompressor final : public Compressor {
  public:
    void add(std::string_view data) override { m_out.append(data); }
    std::string finish() override { return std::move(m_out); }

  private:
    std::string m_out;
};

class GzipCompressor final : public Compressor {
  public:
    GzipCompressor() {
        if (deflateInit2(&m_stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            throw Error(ExitCode::Failed, "zlib: cannot start a gzip stream");
        }
    }
    ~GzipCompressor() override { deflateEnd(&m_stream); }
    GzipCompressor(const GzipCompressor&) = delete;
    GzipCompressor& operator=(const GzipCompressor&) = delete;

    void add(std::string_view data) override { pump(data, Z_NO_FLUSH); }
    std::string finish() override {
        pump({}, Z_FINISH);
        return std::move(m_out);
    }

  private:
    void pump(std::string_view data, int flush) {
        m_stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
        m_stream.avail_in = static_cast<uInt>(data.size());
        for (;;) {
            // Compress into a fixed scratch buffer: growing m_out first would zero-fill it on every record.
            m_stream.next_out = reinterpret_cast<Bytef*>(m_scratch.data());
            m_stream.avail_out = static_cast<uInt>(m_scratch.size());
            const int rc = deflate(&m_stream, flush);
            m_out.append(m_scratch.data(), m_scratch.size() - m_stream.avail_out);
            if (rc == Z_STREAM_END || (flush == Z_NO_FLUSH && m_stream.avail_in == 0 && m_stream.avail_out > 0)) {
                return;
            }
            if (rc != Z_OK && rc != Z_BUF_ERROR) {
                throw Error(ExitCode::Failed, "zlib: gzip compression failed");
            }
        }
    }
    z_stream m_stream{};
    std::string m_out;
    std::vector<char> m_scratch = std::vector<char>(65536);
};

class ZstdCompressor final : public Compressor {
  public:
    ZstdCompressor() : m_context(ZSTD_createCCtx()) {
        ZSTD_CCtx_setParameter(m_context, ZSTD_c_compressionLevel, 3);
        // Without the frame checksum a corrupted chunk can decompress "successfully" to different bytes.
        ZSTD_CCtx_setParameter(m_context, ZSTD_c_checksumFlag, 1);
    }
    ~ZstdCompressor() override { ZSTD_freeCCtx(m_context); }
    ZstdCompressor(const ZstdCompressor&) = delete;
    ZstdCompressor& operator=(const ZstdCompressor&) = delete;

    void add(std::string_view data) override { pump(data, ZSTD_e_continue); }
    std::string finish() override {
        pump({}, ZSTD_e_end);
        return std::move(m_out);
    }

  private:
    void pump(std::string_view data, ZSTD_EndDirective mode) {
        ZSTD_inBuffer in{data.data(), data.size(), 0};
        for (;;) {
            // Compress into a fixed scratch buffer: growing m_out first would zero-fill it on every record.
            ZSTD_outBuffer out{m_scratch.data(), m_scratch.size(), 0};
            const std::size_t remaining = ZSTD_compressStream2(m_context, &out, &in, mode);
            if (ZSTD_isError(remaining)) {
                throw Error(ExitCode::Failed, std::string("zstd: ") + ZSTD_getErrorName(remaining));
            }
            m_out.append(m_scratch.data(), out.pos);
            if (mode == ZSTD_e_end ? remaining == 0 : in.pos == in.size) {
                return;
            }
        }
    }
    ZSTD_CCtx* m_context;
    std::string m_out;
    std::vector<char> m_scratch = std::vector<char>(ZSTD_CStreamOutSize());
};

std::string gunzip(std::string_view data, const std::string& what) {
    z_stream stream{};
    if (inflateInit2(&stream, 15 + 32) != Z_OK) {
        throw Error(ExitCode::Failed, "zlib: cannot start inflating " + what);
    }
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    std::string out;
    int rc = Z_OK;
    for (;;) {
        if (rc == Z_STREAM_END) {
            if (stream.avail_in == 0) {
                break;
            }
            // A part may hold several gzip members one after another (one per compressed block).
            inflateReset(&stream);
        }
        const std::size_t used = out.size();
        out.resize(used + 262144);
        stream.next_out = reinterpret_cast<Bytef*>(out.data() + used);
        stream.avail_out = 262144;
        rc = inflate(&stream, Z_NO_FLUSH);
        out.resize(used + 262144 - stream.avail_out);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&stream);
            throw Error(ExitCode::Failed, what + ": corrupt or truncated gzip data");
        }
        if (rc == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) {
            inflateEnd(&stream);
            throw Error(ExitCode::Failed, what + ": truncated gzip data");
        }
    }
    inflateEnd(&stream);
    return out;
}

std::string unzstd(std::string_view data, const std::string& what) {
    ZSTD_DCtx* context = ZSTD_createDCtx();
    ZSTD_inBuffer in{data.data(), data.size(), 0};
    std::string out;
    std::size_t rc = 1;
    while (in.pos < in.size || rc != 0) {
        const std::size_t used = out.size();
        const std::size_t room = ZSTD_DStreamOutSize();
        out.resize(used + room);
        ZSTD_outBuffer buffer{out.data() + used, room, 0};
        const std::size_t before = in.pos;
        rc = ZSTD_decompressStream(context, &buffer, &in);
        out.resize(used + buffer.pos);
        if (ZSTD_isError(rc) || (in.pos == in.size && rc != 0 && buffer.pos == 0 && before == in.pos)) {
            ZSTD_freeDCtx(context);
            throw Error(ExitCode::Failed, what + ": corrupt or truncated zstd data");
        }
    }
    ZSTD_freeDCtx(context);
    return out;
}

} // namespace

std::unique_ptr<Compressor> make_compressor(Compression compression) {
    switch (compression) {
    case Compression::Gzip:
        return std::make_unique<GzipCompressor>();
    case Compression::Zstd:
        return std::make_unique<ZstdCompressor>();
    case Compression::None:
        break;
    }
    return std::make_unique<PlainCompressor>();
}

std::string decompress(Compression compression, std::string_view data, const std::string& what) {
    switch (compression) {
    case Compression::Gzip:
        return gunzip(data, what);
    case Compression::Zstd:
        return unzstd(data, what);
    case Compression::None:
        break;
    }
    return std::string(data);
}

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
