#include "wire.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <libdeflate.h>
#include <memory>
#include <stdexcept>
#include <zlib.h>

namespace fake_api {

namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

bool iequals(std::string_view a, std::string_view b) {
    const auto lower = [](char c) { return std::tolower(static_cast<unsigned char>(c)); };
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

/// Whether a q parameter ("q=0", "q=0.000") refuses the coding.
bool refused(std::string_view params) {
    while (!params.empty()) {
        const std::size_t semicolon = params.find(';');
        const std::string_view param = trim(params.substr(0, semicolon));
        params = semicolon == std::string_view::npos ? std::string_view() : params.substr(semicolon + 1);
        if (param.size() < 2 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') continue;
        return param.substr(2).find_first_not_of("0.") == std::string_view::npos;
    }
    return false;
}

/// Raw deflate (no header) of pieces of data, each ended by a full flush or the final block.
class RawDeflate {
public:
    RawDeflate() {
        if (deflateInit2(&m_stream, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) != Z_OK) {
            throw std::runtime_error("deflateInit2 failed");
        }
    }
    ~RawDeflate() { deflateEnd(&m_stream); }
    RawDeflate(const RawDeflate&) = delete;
    RawDeflate& operator=(const RawDeflate&) = delete;

    /// Compresses data; a full flush (not `last`) ends byte-aligned with no reference to earlier data, so the
    /// bytes returned decode to `data` wherever they are placed in a stream.
    std::string piece(std::string_view data, bool last) {
        m_stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
        m_stream.avail_in = static_cast<uInt>(data.size());
        std::string out;
        int result = Z_OK;
        do {
            char buffer[16384];
            m_stream.next_out = reinterpret_cast<Bytef*>(buffer);
            m_stream.avail_out = sizeof buffer;
            result = deflate(&m_stream, last ? Z_FINISH : Z_FULL_FLUSH);
            if (result == Z_STREAM_ERROR) throw std::runtime_error("deflate failed");
            out.append(buffer, sizeof buffer - m_stream.avail_out);
        } while (m_stream.avail_out == 0 || (last && result != Z_STREAM_END));
        return out;
    }

private:
    z_stream m_stream{};
};

void append_le32(std::string& out, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

}  // namespace

bool accepts_gzip(std::string_view accept_encoding) {
    while (!accept_encoding.empty()) {
        const std::size_t comma = accept_encoding.find(',');
        const std::string_view item = accept_encoding.substr(0, comma);
        accept_encoding =
            comma == std::string_view::npos ? std::string_view() : accept_encoding.substr(comma + 1);
        const std::size_t semicolon = item.find(';');
        const std::string_view coding = trim(item.substr(0, semicolon));
        if (!iequals(coding, "gzip") && !iequals(coding, "x-gzip")) continue;
        return semicolon == std::string_view::npos || !refused(item.substr(semicolon + 1));
    }
    return false;
}

std::string gzip(std::string_view data, int level) {
    // libdeflate compresses a whole buffer two to three times faster than zlib at the same level: on two
    // shared cores the fake must not be what a benchmark measures. One compressor per thread and level, kept.
    struct Free {
        void operator()(libdeflate_compressor* c) const { libdeflate_free_compressor(c); }
    };
    thread_local std::unique_ptr<libdeflate_compressor, Free> compressor;
    thread_local int compressor_level = 0;
    if (!compressor || compressor_level != level) {
        compressor.reset(libdeflate_alloc_compressor(level));
        compressor_level = level;
        if (!compressor) throw std::runtime_error("libdeflate_alloc_compressor failed");
    }
    std::string out(libdeflate_gzip_compress_bound(compressor.get(), data.size()), '\0');
    const std::size_t size =
        libdeflate_gzip_compress(compressor.get(), data.data(), data.size(), out.data(), out.size());
    if (size == 0) throw std::runtime_error("libdeflate_gzip_compress failed");
    out.resize(size);
    return out;
}

Payload encode(std::string body, bool gzip_it, int level) {
    Payload payload;
    payload.plain_bytes = body.size();
    payload.gzipped = gzip_it;
    payload.wire = std::make_shared<const std::string>(gzip_it ? gzip(body, level) : std::move(body));
    return payload;
}

std::optional<Payload> GzipCache::find(std::uint64_t request) const {
    if (m_budget == 0) return std::nullopt;
    std::lock_guard lock(m_mutex);
    const auto it = m_entries.find(request);
    if (it == m_entries.end()) return std::nullopt;
    return it->second;
}

void GzipCache::add(std::uint64_t request, const Payload& payload) {
    const std::size_t cost = payload.wire->size() + 64;  // the body and about a map node
    std::lock_guard lock(m_mutex);
    if (m_used + cost > m_budget) return;
    if (m_entries.emplace(request, payload).second) m_used += cost;
}

std::string gzip_bomb(std::size_t inflated) {
    const std::string_view head = R"({"pad":")", tail = R"("})";
    if (inflated < head.size() + tail.size()) throw std::invalid_argument("gzip bomb smaller than its JSON");
    // Deflating a GiB takes seconds; deflating one MiB of 'x' after a full flush gives bytes that can be
    // repeated as they are, and the CRC of the whole is combined from the parts' CRCs without the data.
    const std::string block(std::size_t{1} << 20, 'x');
    const std::size_t pad = inflated - head.size() - tail.size();
    const std::size_t blocks = pad / block.size();
    const std::string rest = std::string(pad % block.size(), 'x') + std::string(tail);
    const auto crc_of = [](std::string_view data) {
        const auto* bytes = reinterpret_cast<const Bytef*>(data.data());
        return static_cast<std::uint32_t>(crc32(0L, bytes, static_cast<uInt>(data.size())));
    };
    RawDeflate deflater;
    std::string out("\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03", 10);  // gzip header: deflate, best, Unix
    out += deflater.piece(head, false);
    const std::string compressed_block = deflater.piece(block, false);
    out.reserve(out.size() + blocks * compressed_block.size() + 1024);
    std::uint32_t crc = crc_of(head);
    const std::uint32_t block_crc = crc_of(block);
    for (std::size_t b = 0; b < blocks; ++b) {
        out += compressed_block;
        crc = static_cast<std::uint32_t>(crc32_combine(crc, block_crc, static_cast<z_off_t>(block.size())));
    }
    out += deflater.piece(rest, true);
    crc = static_cast<std::uint32_t>(crc32_combine(crc, crc_of(rest), static_cast<z_off_t>(rest.size())));
    append_le32(out, crc);
    append_le32(out, static_cast<std::uint32_t>(inflated & 0xffffffffU));  // ISIZE: the size modulo 2^32
    return out;
}

}  // namespace fake_api
