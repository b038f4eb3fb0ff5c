#pragma once
// Where snapshots go: a key/object store rooted at a folder or an S3 prefix (sinks/ holds the real ones).

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/util/error.hpp"

namespace pipeline::core {

/// One object being written piece by piece. commit() publishes it whole (a reader never sees part of it);
/// destroying it uncommitted discards what was written. Failures throw core::Error naming the key.
class SinkObject {
  public:
    virtual ~SinkObject() = default;
    /// Appends bytes to the unpublished object.
    virtual void write(std::string_view data) = 0;
    /// Publishes everything written so far under the object's key (replacing any older object).
    virtual void commit() = 0;
};

/// Something an interrupted write left behind: a local hidden temporary file, or an S3 multipart upload that was
/// never completed. `key` is relative to the sink's root; `handle` is what removing it takes (the S3 upload id).
struct Temporary {
    std::string key;
    std::string handle;
};

/// What Sink::stream found.
enum class StreamStatus { Streamed, Missing, NotAFile };

/// An object store with atomic whole-object writes. Keys are relative to the sink's root and use '/'.
/// One instance is used by one thread at a time. Every failure throws core::Error (exit 1) naming the key,
/// the location and the cause, never a secret.
class Sink {
  public:
    virtual ~Sink() = default;
    /// Publishes `data` under `key` so that a reader sees all of it or nothing (replacing any older object).
    virtual void put(const std::string& key, std::string_view data) = 0;
    /// Starts writing `key` piece by piece, for objects too large to hold in memory. The default keeps the
    /// pieces in memory and put()s them at commit; the real sinks stream them (a temporary file, multipart parts).
    virtual std::unique_ptr<SinkObject> open(const std::string& key);
    /// Reads a whole object; nullopt when there is none.
    virtual std::optional<std::string> get(const std::string& key) = 0;
    /// Every key that starts with `prefix`, sorted.
    virtual std::vector<std::string> list(const std::string& prefix) = 0;
    /// Removes an object (no error when it is absent).
    virtual void remove(const std::string& key) = 0;
    /// Removes what interrupted writes under `prefix` left behind (local: hidden temporaries; S3: incomplete
    /// multipart uploads).
    virtual void clean_temporaries(const std::string& prefix) = 0;
    /// Streams at most `max_bytes` of an object to `consume` in pieces, in order, holding only a piece at a
    /// time where the sink can. Missing when there is no such object; NotAFile when the key names something a
    /// snapshot never holds (local: a FIFO, a device, a symbolic link), of which nothing is read. The default
    /// reads the object whole with get().
    virtual StreamStatus stream(const std::string& key, std::uint64_t max_bytes,
                                const std::function<void(std::string_view)>& consume) {
        const std::optional<std::string> data = get(key);
        if (!data) {
            return StreamStatus::Missing;
        }
        consume(std::string_view(*data).substr(
            0, static_cast<std::size_t>(std::min<std::uint64_t>(max_bytes, data->size()))));
        return StreamStatus::Streamed;
    }
    /// Streams a whole object (stream() without a limit); false when there is none. Throws core::Error when
    /// the key names something that is not an object.
    bool read(const std::string& key, const std::function<void(std::string_view)>& consume);
    /// The immediate sub-folders (S3: common prefixes) under `prefix` ("" or ending in '/'), by name, sorted:
    /// never a plain object. The default derives them from list().
    virtual std::vector<std::string> list_folders(const std::string& prefix) {
        std::vector<std::string> folders;
        for (const std::string& key : list(prefix)) {
            const std::size_t slash = key.find('/', prefix.size());
            if (slash != std::string::npos) {
                std::string name = key.substr(prefix.size(), slash - prefix.size());
                if (folders.empty() || folders.back() != name) {
                    folders.push_back(std::move(name));
                }
            }
        }
        return folders;
    }
    /// Removes many objects (absent ones are no error), batched where the store allows; the local sink also
    /// removes the folders this empties. The default removes them one by one.
    virtual void remove_many(const std::vector<std::string>& keys) {
        for (const std::string& key : keys) {
            remove(key);
        }
    }
    /// What writers that died before committing left under `prefix`, for gc to print and remove. The default
    /// knows of none.
    virtual std::vector<Temporary> stale_temporaries(const std::string& prefix) {
        (void)prefix;
        return {};
    }
    /// Removes one leftover that stale_temporaries() reported (no error when it is already gone).
    virtual void remove_temporary(const Temporary& temporary) { (void)temporary; }
    /// Where the sink writes, for messages and the ledger ("/srv/data", "s3://bucket/prefix").
    virtual std::string describe() const = 0;
};

namespace detail {
/// Sink::open's default: the whole object in memory, one put() at commit.
class BufferedSinkObject final : public SinkObject {
  public:
    BufferedSinkObject(Sink& sink, std::string key) : m_sink(sink), m_key(std::move(key)) {}
    void write(std::string_view data) override { m_data.append(data); }
    void commit() override { m_sink.put(m_key, m_data); }

  private:
    Sink& m_sink;
    std::string m_key;
    std::string m_data;
};
} // namespace detail

inline std::unique_ptr<SinkObject> Sink::open(const std::string& key) {
    return std::make_unique<detail::BufferedSinkObject>(*this, key);
}

inline bool Sink::read(const std::string& key, const std::function<void(std::string_view)>& consume) {
    const StreamStatus status = stream(key, UINT64_MAX, consume);
    if (status == StreamStatus::NotAFile) {
        throw Error(ExitCode::Failed, describe() + "/" + key + ": not a regular file");
    }
    return status == StreamStatus::Streamed;
}

} // namespace pipeline::core
