#include "app/console.hpp"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace pipeline::app {

namespace {

void write_all(std::string_view text) {
    while (!text.empty()) {
        const ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        text.remove_prefix(static_cast<std::size_t>(n));
    }
}

} // namespace

Console& Console::instance() {
    static Console console;
    return console;
}

Console::Console() {
    const char* term = std::getenv("TERM");
    m_interactive = ::isatty(STDERR_FILENO) == 1 && !(term != nullptr && std::strcmp(term, "dumb") == 0);
}

int Console::columns() {
    winsize size{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) {
        return size.ws_col;
    }
    return 80;
}

// The cursor sits at the start of the line below the block: go up over it and clear to the end of the screen.
std::string Console::erase_sequence() const {
    if (m_block.empty()) {
        return "";
    }
    return "\r\033[" + std::to_string(m_block.size()) + "A\033[J";
}

std::string Console::draw_sequence() const {
    std::string text;
    for (const std::string& line : m_block) {
        text += line + "\n";
    }
    return text;
}

void Console::write_log(std::string_view text) {
    const std::lock_guard lock(m_mutex);
    // One write per log line, block included, so that the terminal never shows a half-drawn state.
    write_all(erase_sequence() + std::string(text) + draw_sequence());
}

void Console::set_block(std::vector<std::string> lines) {
    if (!m_interactive) {
        return;
    }
    // One column short of the width: a line that fills the last column wraps on some terminals, and a
    // wrapped line would make the erase sequence miss a row.
    const std::size_t width = static_cast<std::size_t>(std::max(columns() - 1, 10));
    for (std::string& line : lines) {
        if (line.size() > width) {
            line.resize(width);
        }
    }
    const std::lock_guard lock(m_mutex);
    if (lines == m_block) {
        return;
    }
    std::string text = erase_sequence();
    m_block = std::move(lines);
    text += draw_sequence();
    write_all(text);
}

void ConsoleSink::sink_it_(const spdlog::details::log_msg& msg) {
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    m_console.write_log(std::string_view(formatted.data(), formatted.size()));
}

} // namespace pipeline::app
