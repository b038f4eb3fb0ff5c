#include "core/config/url_check.hpp"

#include "core/util/text.hpp"

namespace pipeline::core {

namespace {
// The host of an http(s) URL, without port or brackets; lower case.
std::string host_of(std::string_view url) {
    const std::size_t scheme = url.find("://");
    std::string_view rest = scheme == std::string_view::npos ? url : url.substr(scheme + 3);
    rest = rest.substr(0, rest.find_first_of("/?#"));
    if (const std::size_t at = rest.rfind('@'); at != std::string_view::npos) {
        rest = rest.substr(at + 1);
    }
    if (rest.starts_with('[')) {
        return to_lower(rest.substr(1, rest.find(']') - 1));
    }
    return to_lower(rest.substr(0, rest.find(':')));
}
} // namespace

bool is_loopback_url(std::string_view url) {
    const std::string host = host_of(url);
    // 127.0.0.0/8 only as an IPv4 literal: "127.0.0.1.example.com" is a name anyone can point anywhere.
    const bool ipv4_literal = host.find_first_not_of("0123456789.") == std::string::npos;
    return host == "localhost" || host.ends_with(".localhost") || host == "::1" ||
           (ipv4_literal && host.starts_with("127."));
}

std::optional<std::string> plain_http_warning(const Config& config) {
    const std::string& url = config.api.base_url;
    if (!url.starts_with("http://") || is_loopback_url(url)) {
        return std::nullopt;
    }
    // Only the host: a URL may hold user:password, which must never be printed.
    return config.source + ": api.base_url is plain http:// to " + escape_controls(host_of(url)) +
           ", another machine: the API key is sent unencrypted (use https://)";
}

} // namespace pipeline::core
