#pragma once
// stderr, shared by log lines and the live progress block under one mutex: a log line first erases the block,
// is written, and the block is redrawn below it, so the two never interleave.

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/sinks/base_sink.h>

namespace pipeline::app {

/// The process's stderr. Thread-safe; write errors are ignored (there is nowhere left to report them).
class Console {
  public:
    /// The one Console of the process.
    static Console& instance();

    /// True when stderr is a terminal that understands cursor movement (a TTY, TERM not "dumb").
    bool interactive() const { return m_interactive; }

    /// Writes finished text (ending in a newline) above the progress block.
    void write_log(std::string_view text);

    /// Replaces the progress block with `lines`, each cut to the terminal's width; empty erases it.
    /// Does nothing when stderr is not interactive.
    void set_block(std::vector<std::string> lines);

    /// The terminal's width in columns (80 when unknown).
    static int columns();

  private:
    Console();
    std::string erase_sequence() const;
    std::string draw_sequence() const;

    std::mutex m_mutex;
    std::vector<std::string> m_block; // lines on screen now, below the last log line
    bool m_interactive = false;
};

/// An spdlog sink that writes formatted lines through the Console.
class ConsoleSink final : public spdlog::sinks::base_sink<std::mutex> {
  public:
    explicit ConsoleSink(Console& console) : m_console(console) {}

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override;
    void flush_() override {}

  private:
    Console& m_console;
};

} // namespace pipeline::app
