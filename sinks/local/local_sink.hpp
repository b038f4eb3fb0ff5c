#pragma once
// The local folder sink: each object is a file, published by temporary + fsync + rename + folder fsync.

#include <filesystem>

#include "core/snapshot/sink.hpp"

namespace pipeline::sinks {

/// Stores objects as files under a root folder (created on first write).
class LocalSink final : public core::Sink {
  public:
    explicit LocalSink(std::filesystem::path root);

    void put(const std::string& key, std::string_view data) override;
    /// Streams into a hidden temporary next to the target; commit() is fsync, rename, folder fsync.
    std::unique_ptr<core::SinkObject> open(const std::string& key) override;
    std::optional<std::string> get(const std::string& key) override;
    std::vector<std::string> list(const std::string& prefix) override;
    void remove(const std::string& key) override;
    void clean_temporaries(const std::string& prefix) override;
    /// Reads regular files only: a symbolic link, FIFO or device under the key is NotAFile (opened with
    /// O_NOFOLLOW | O_NONBLOCK, checked with fstat), and nothing past `max_bytes` is read.
    core::StreamStatus stream(const std::string& key, std::uint64_t max_bytes,
                              const std::function<void(std::string_view)>& consume) override;
    /// Real sub-folders only (not symbolic links); one that cannot be opened is still listed, with a warning.
    std::vector<std::string> list_folders(const std::string& prefix) override;
    void remove_many(const std::vector<std::string>& keys) override;
    std::vector<core::Temporary> stale_temporaries(const std::string& prefix) override;
    void remove_temporary(const core::Temporary& temporary) override;
    std::string describe() const override { return m_root.string(); }

  private:
    std::filesystem::path m_root;
};

} // namespace pipeline::sinks
