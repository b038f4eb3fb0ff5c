#include "sinks/s3/s3_xml.hpp"

#include <charconv>
#include <cstdint>
#include <utility>

namespace pipeline::sinks {

namespace {

/// The code point an XML entity name ("amp", "#38", "#x26") stands for; 0 when it is not one.
std::uint32_t entity_code(std::string_view entity) {
    static constexpr std::pair<std::string_view, char> k_named[] = {
        {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};
    for (const auto& [name, c] : k_named) {
        if (entity == name) {
            return static_cast<std::uint32_t>(c);
        }
    }
    const bool hex = entity.starts_with("#x");
    if (!hex && !entity.starts_with("#")) {
        return 0;
    }
    const std::string_view digits = entity.substr(hex ? 2 : 1);
    std::uint32_t code = 0;
    const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), code, hex ? 16 : 10);
    return ec == std::errc{} && end == digits.data() + digits.size() && code <= 0x10FFFF ? code : 0;
}

void append_utf8(std::string& out, std::uint32_t code) {
    if (code < 0x80) {
        out += static_cast<char>(code);
        return;
    }
    // Continuation bytes carry 6 bits each; the lead byte's high bits say how many follow.
    const int extra = code < 0x800 ? 1 : code < 0x10000 ? 2 : 3;
    static constexpr unsigned k_lead[] = {0, 0xC0, 0xE0, 0xF0};
    out += static_cast<char>(k_lead[extra] | (code >> (6 * extra)));
    for (int i = extra - 1; i >= 0; --i) {
        out += static_cast<char>(0x80 | ((code >> (6 * i)) & 0x3F));
    }
}

} // namespace

std::string xml_decode(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const std::size_t semi = text[i] == '&' ? text.find(';', i) : std::string_view::npos;
        if (semi == std::string_view::npos) {
            out += text[i];
            continue;
        }
        const std::string_view entity = text.substr(i + 1, semi - i - 1);
        const std::uint32_t code = entity_code(entity);
        if (code == 0) {
            out += text[i];
            continue;
        }
        append_utf8(out, code); // S3 escapes control characters in keys as numeric entities
        i = semi;
    }
    return out;
}

std::string xml_escape(std::string_view text) {
    std::string out;
    for (const char c : text) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        default:
            out += c;
        }
    }
    return out;
}

/// The raw contents of every <tag>...</tag> in `xml`, in order. Enough for S3's flat, attribute-free
/// answers; "<Upload>" does not match "<UploadId>" because the '>' is part of the needle.
std::vector<std::string_view> xml_elements(std::string_view xml, std::string_view tag) {
    const std::string open = "<" + std::string(tag) + ">";
    const std::string close = "</" + std::string(tag) + ">";
    std::vector<std::string_view> out;
    std::size_t at = 0;
    while ((at = xml.find(open, at)) != std::string_view::npos) {
        const std::size_t begin = at + open.size();
        const std::size_t end = xml.find(close, begin);
        if (end == std::string_view::npos) {
            break;
        }
        out.push_back(xml.substr(begin, end - begin));
        at = end + close.size();
    }
    return out;
}

std::string xml_value(std::string_view xml, std::string_view tag) {
    const std::vector<std::string_view> found = xml_elements(xml, tag);
    return found.empty() ? std::string() : xml_decode(found.front());
}

} // namespace pipeline::sinks
