#pragma once
// Where snapshots go: a key/object store rooted at a folder or an S3 prefix (sinks/ holds the real ones).

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pipeline::core {

/// An object store with atomic whole-object writes. Keys are relative to the sink's root and use '/'.
/// One instance is used by one thread at a time. Every failure throws core::Error (exit 1) naming the key,
/// the location and the cause, never a secret.
class Sink {
  public:
    virtual ~Sink() = default;
    /// Publishes `data` under `key` so that a reader sees all of it or nothing (replacing any older object).
    virtual void put(const std::string& key, std::string_view data) = 0;
    /// Reads a whole object; nullopt when there is none.
    virtual std::optional<std::string> get(const std::string& key) = 0;
    /// Every key that starts with `prefix`, sorted.
    virtual std::vector<std::string> list(const std::string& prefix) = 0;
    /// Removes an object (no error when it is absent).
    virtual void remove(const std::string& key) = 0;
    /// Removes what interrupted writes under `prefix` left behind (local: hidden temporaries; S3: incomplete
    /// multipart uploads).
    virtual void clean_temporaries(const std::string& prefix) = 0;
    /// Where the sink writes, for messages and the ledger ("/srv/data", "s3://bucket/prefix").
    virtual std::string describe() const = 0;
};

} // namespace pipeline::core
