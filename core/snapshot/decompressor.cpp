#include "core/snapshot/decompressor.hpp"

#include <zlib.h>
#include <zstd.h>

#include <vector>

#include "core/util/error.hpp"

namespace pipeline::core {

namespace {

class PlainDecompressor final : public Decompressor {
  public:
    void add(std::string_view data, const Output& out) override { out(data); }
    void finish() override {}
};

// A .jsonl.gz part may hold several gzip members (docs in the README: "Ledger and snapshots"); every member
// must end cleanly, and nothing but another member may follow one.
class GzipDecompressor final : public Decompressor {
  public:
    GzipDecompressor() {
        if (inflateInit2(&m_stream, 15 + 16) != Z_OK) {
            throw Error(ExitCode::Failed, "zlib: cannot start inflating");
        }
    }
    ~GzipDecompressor() override { inflateEnd(&m_stream); }
    GzipDecompressor(const GzipDecompressor&) = delete;
    GzipDecompressor& operator=(const GzipDecompressor&) = delete;

    void add(std::string_view data, const Output& out) override {
        m_stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
        m_stream.avail_in = static_cast<uInt>(data.size());
        while (m_stream.avail_in > 0) {
            if (m_member_ended) {
                inflateReset(&m_stream);
                m_member_ended = false;
            }
            m_stream.next_out = reinterpret_cast<Bytef*>(m_scratch.data());
            m_stream.avail_out = static_cast<uInt>(m_scratch.size());
            const int rc = inflate(&m_stream, Z_NO_FLUSH);
            if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
                throw Error(ExitCode::Failed, "corrupt gzip data");
            }
            out(std::string_view(m_scratch.data(), m_scratch.size() - m_stream.avail_out));
            m_member_ended = rc == Z_STREAM_END;
            m_started = true;
        }
        // Output may still be pending inside zlib with no input left: drain it.
        while (!m_member_ended && m_started) {
            m_stream.next_out = reinterpret_cast<Bytef*>(m_scratch.data());
            m_stream.avail_out = static_cast<uInt>(m_scratch.size());
            const int rc = inflate(&m_stream, Z_NO_FLUSH);
            if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
                throw Error(ExitCode::Failed, "corrupt gzip data");
            }
            const std::size_t produced = m_scratch.size() - m_stream.avail_out;
            out(std::string_view(m_scratch.data(), produced));
            m_member_ended = rc == Z_STREAM_END;
            if (produced == 0) {
                break;
            }
        }
    }

    void finish() override {
        if (!m_member_ended) {
            throw Error(ExitCode::Failed, "truncated gzip data");
        }
    }

  private:
    z_stream m_stream{};
    bool m_member_ended = false;
    bool m_started = false;
    std::vector<char> m_scratch = std::vector<char>(1u << 18);
};

class ZstdDecompressor final : public Decompressor {
  public:
    ZstdDecompressor() : m_context(ZSTD_createDCtx()) {
        if (m_context == nullptr) {
            throw Error(ExitCode::Failed, "zstd: cannot start decompressing");
        }
    }
    ~ZstdDecompressor() override { ZSTD_freeDCtx(m_context); }
    ZstdDecompressor(const ZstdDecompressor&) = delete;
    ZstdDecompressor& operator=(const ZstdDecompressor&) = delete;

    void add(std::string_view data, const Output& out) override {
        ZSTD_inBuffer in{data.data(), data.size(), 0};
        // Loop until the input is used up and zstd's output buffer was not filled (nothing left inside).
        for (;;) {
            ZSTD_outBuffer buffer{m_scratch.data(), m_scratch.size(), 0};
            m_pending = ZSTD_decompressStream(m_context, &buffer, &in);
            if (ZSTD_isError(m_pending)) {
                throw Error(ExitCode::Failed, std::string("corrupt zstd data (") + ZSTD_getErrorName(m_pending) + ")");
            }
            out(std::string_view(m_scratch.data(), buffer.pos));
            m_started = true;
            if (in.pos == in.size && buffer.pos < buffer.size) {
                return;
            }
        }
    }

    void finish() override {
        if (!m_started || m_pending != 0) {
            throw Error(ExitCode::Failed, "truncated zstd data");
        }
    }

  private:
    ZSTD_DCtx* m_context;
    std::size_t m_pending = 1;
    bool m_started = false;
    std::vector<char> m_scratch = std::vector<char>(ZSTD_DStreamOutSize());
};

} // namespace

std::unique_ptr<Decompressor> make_decompressor(Compression compression) {
    switch (compression) {
    case Compression::Gzip:
        return std::make_unique<GzipDecompressor>();
    case Compression::Zstd:
        return std::make_unique<ZstdDecompressor>();
    case Compression::None:
        break;
    }
    return std::make_unique<PlainDecompressor>();
}

} // namespace pipeline::core
