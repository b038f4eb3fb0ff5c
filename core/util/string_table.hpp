#pragma once
// Many short strings in one buffer: a phase's item keys (200,000 ocids and more) cost their bytes plus one
// offset each, instead of a std::string object and a heap block each (docs/compression.md, memory bounds).

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace pipeline::core {

/// An append-only list of strings stored end to end; entries are read as string_views valid until the next
/// change of the table.
class StringTable {
  public:
    /// Appends a copy of `text`.
    void push_back(std::string_view text) {
        m_bytes.append(text);
        m_ends.push_back(m_bytes.size());
    }

    /// Makes room for `entries` entries without growing the offsets again.
    void reserve(std::size_t entries) { m_ends.reserve(entries); }

    /// The entry at `index` (< size()).
    std::string_view operator[](std::size_t index) const {
        const std::size_t begin = index == 0 ? 0 : m_ends[index - 1];
        return std::string_view(m_bytes).substr(begin, m_ends[index] - begin);
    }

    std::size_t size() const { return m_ends.size(); }
    bool empty() const { return m_ends.empty(); }

    /// Removes the entries whose index has `drop[index]` set (drop.size() == size()), keeping the order of the
    /// rest; works in place and gives back the spare capacity.
    void erase_marked(const std::vector<bool>& drop) {
        std::size_t out_bytes = 0;
        std::size_t out = 0;
        std::size_t begin = 0;
        for (std::size_t i = 0; i < m_ends.size(); ++i) {
            const std::size_t end = m_ends[i];
            if (!drop[i]) {
                std::char_traits<char>::move(m_bytes.data() + out_bytes, m_bytes.data() + begin, end - begin);
                out_bytes += end - begin;
                m_ends[out++] = out_bytes;
            }
            begin = end;
        }
        m_bytes.resize(out_bytes);
        m_ends.resize(out);
        m_bytes.shrink_to_fit();
        m_ends.shrink_to_fit();
    }

    /// The entries as strings (tests and small lists).
    std::vector<std::string> to_vector() const {
        std::vector<std::string> out;
        out.reserve(size());
        for (std::size_t i = 0; i < size(); ++i) {
            out.emplace_back((*this)[i]);
        }
        return out;
    }

  private:
    std::string m_bytes;             // every entry, end to end
    std::vector<std::size_t> m_ends; // m_ends[i]: offset just past entry i
};

} // namespace pipeline::core
