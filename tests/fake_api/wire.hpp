#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace fake_api {

/// Whether an Accept-Encoding header value accepts gzip ("gzip" or "x-gzip" without q=0).
bool accepts_gzip(std::string_view accept_encoding);

/// The data as one gzip member at a compression level (1..12, as zlib's up to 9); throws
/// std::runtime_error if the compressor cannot be made.
std::string gzip(std::string_view data, int level);

/// A gzip member that inflates to exactly `inflated` bytes (at least 10) of one JSON object {"pad":"xxx…"},
/// compressed by zlib as it is generated (the inflated text is never held); about inflated / 1000 bytes.
std::string gzip_bomb(std::size_t inflated);

/// A body as it goes on the wire.
struct Payload {
    std::shared_ptr<const std::string> wire;  ///< the bytes sent
    std::size_t plain_bytes = 0;              ///< their size before gzip
    bool gzipped = false;                     ///< wire is gzip-encoded
};

/// The payload of a body: gzipped at `level` if `gzip_it`, else as it is.
Payload encode(std::string body, bool gzip_it, int level);

/// Gzipped 200 answers by request (a hash of path and query), kept until a byte budget is spent. An answer
/// is a function of its request, so a repeated request (a benchmark's next round) costs neither generation
/// nor compression again. Thread-safe.
class GzipCache {
public:
    /// A cache that keeps at most budget_bytes of gzipped bodies (0: keeps nothing).
    explicit GzipCache(std::size_t budget_bytes) : m_budget(budget_bytes) {}

    /// The gzipped answer to the request, if kept.
    std::optional<Payload> find(std::uint64_t request) const;

    /// Keeps a gzipped answer to the request if the budget allows.
    void add(std::uint64_t request, const Payload& payload);

private:
    mutable std::mutex m_mutex;
    std::unordered_map<std::uint64_t, Payload> m_entries;
    std::size_t m_budget;
    std::size_t m_used = 0;
};

}  // namespace fake_api
