#pragma once
// Files that appear whole or not at all: write a hidden temporary, then commit (fsync, rename, fsync folder).

#include <filesystem>
#include <string>
#include <string_view>

namespace pipeline::core {

/// A file written under a hidden temporary name (".<name>.tmp-<pid>-<n>") in the target's folder.
/// commit() publishes it under its final name; the destructor removes an uncommitted temporary.
/// Every failure throws core::Error (exit 1) naming the path and the OS error.
class AtomicFile {
  public:
    explicit AtomicFile(std::filesystem::path target);
    ~AtomicFile();
    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    /// Appends bytes to the temporary.
    void write(std::string_view data);
    /// fsyncs the temporary, renames it onto the target and fsyncs the folder.
    void commit();
    const std::filesystem::path& target() const { return m_target; }
    const std::filesystem::path& temporary() const { return m_temporary; }

  private:
    std::filesystem::path m_target;
    std::filesystem::path m_temporary;
    int m_fd = -1;
    bool m_committed = false;
};

/// Replaces `target` with `data` atomically (AtomicFile in one call).
void write_file_atomically(const std::filesystem::path& target, std::string_view data);

/// Reads a whole file; throws core::Error (exit 1) naming the path and the OS error.
std::string read_file(const std::filesystem::path& path);

/// True for names AtomicFile uses for its temporaries.
bool is_temporary_name(std::string_view file_name);

/// True for a temporary whose writer process is gone (killed before commit): safe to delete.
bool is_stale_temporary(std::string_view file_name);

/// fsyncs a folder so that a rename or unlink in it is durable; throws core::Error on failure.
void sync_directory(const std::filesystem::path& directory);

/// "path: strerror(errno)".
std::string os_error(const std::filesystem::path& path, int error_number);

} // namespace pipeline::core
