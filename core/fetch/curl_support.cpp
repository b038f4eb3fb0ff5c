// Helpers shared by the two libcurl clients.

#include "core/fetch/curl_support.hpp"
#include "core/fetch/curl_transport.hpp"

#include <algorithm>
#include <charconv>
#include <climits>
#include <mutex>
#include <new>
#include <stdexcept>

#include "core/util/text.hpp"

namespace pipeline::core {
namespace curl {
namespace {

// A hostile or broken Content-Length must not make us allocate gigabytes up front.
constexpr std::size_t k_max_reserve = std::size_t{64} * 1024 * 1024;

} // namespace

HeaderLine parse_header_line(const char* data, std::size_t size) {
    const std::string_view line(data, size);
    HeaderLine out;
    if (line.starts_with("HTTP/")) {
        out.status_line = true;
        return out;
    }
    const auto colon = line.find(':');
    if (colon != std::string_view::npos) {
        out.name = trim(line.substr(0, colon));
        out.value = trim(line.substr(colon + 1));
    }
    return out;
}

void reserve_for_length(std::string& body, std::size_t length) {
    body.reserve(std::min(length, k_max_reserve));
}

void reserve_for_content_length(std::string& body, std::string_view value) {
    std::size_t length = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
    if (ec == std::errc{} && end == value.data() + value.size()) {
        reserve_for_length(body, length);
    }
}

// Exceptions must not unwind through libcurl's C frames; returning a short count aborts the transfer.
std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user) {
    try {
        static_cast<std::string*>(user)->append(data, size * count);
        return size * count;
    } catch (...) {
        return 0;
    }
}

TransportError map_error(CURLcode code) {
    switch (code) {
    case CURLE_OK:
        return TransportError::None;
    case CURLE_OPERATION_TIMEDOUT:
        return TransportError::Timeout;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return TransportError::Connect;
    case CURLE_PARTIAL_FILE:
        return TransportError::Truncated;
    case CURLE_BAD_CONTENT_ENCODING:
        return TransportError::BadEncoding;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CRL_BADFILE:
        return TransportError::Tls;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
        return TransportError::Reset;
    default:
        return TransportError::Other;
    }
}

// Only curl's own wording goes in: it names hosts and syscalls, never request header values (the API
// key and the SigV4 credentials live there).
std::string describe_error(CURLcode code, const char* error_buffer) {
    std::string message = curl_easy_strerror(code);
    if (error_buffer != nullptr && error_buffer[0] != '\0') {
        message += ": ";
        message += error_buffer;
    }
    return message;
}

long clamp_ms(std::chrono::milliseconds duration) {
    return static_cast<long>(std::clamp<std::chrono::milliseconds::rep>(duration.count(), 0, LONG_MAX));
}

/// Builds "Name: value" lines; an empty value needs curl's "Name;" form, since "Name:" would
/// instead remove the header.
curl_slist* build_header_list(const std::vector<std::pair<std::string, std::string>>& headers) {
    curl_slist* list = nullptr;
    for (const auto& [name, value] : headers) {
        std::string line = name;
        line += value.empty() ? ";" : ": ";
        line += value;
        curl_slist* grown = curl_slist_append(list, line.c_str());
        if (grown == nullptr) {
            curl_slist_free_all(list);
            throw std::bad_alloc();
        }
        list = grown;
    }
    return list;
}

} // namespace curl

void http_global_init() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            throw std::runtime_error("curl_global_init failed");
        }
    });
}

} // namespace pipeline::core
