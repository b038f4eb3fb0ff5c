// HttpClient: one blocking libcurl easy handle, with SigV4 signing done by libcurl.

#include "sinks/s3/http_client.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string_view>

#include "core/fetch/curl_support.hpp"
#include "core/fetch/curl_transport.hpp"
#include "core/util/text.hpp"

namespace pipeline::sinks {

using namespace core::curl;
using core::TransportError;

namespace {

struct UploadSource {
    std::string_view body;
    std::size_t offset = 0;
};

std::size_t read_upload(char* buffer, std::size_t size, std::size_t count, void* user) {
    auto& source = *static_cast<UploadSource*>(user);
    const std::size_t n = std::min(size * count, source.body.size() - source.offset);
    if (n > 0) { // an empty view may have a null data()
        std::memcpy(buffer, source.body.data() + source.offset, n);
        source.offset += n;
    }
    return n;
}

// curl rewinds when it resends the body, e.g. after a reused connection turned out to be dead.
int seek_upload(void* user, curl_off_t offset, int origin) {
    auto& source = *static_cast<UploadSource*>(user);
    if (origin != SEEK_SET || offset < 0 || static_cast<std::size_t>(offset) > source.body.size()) {
        return CURL_SEEKFUNC_CANTSEEK;
    }
    source.offset = static_cast<std::size_t>(offset);
    return CURL_SEEKFUNC_OK;
}

// Where a response's body goes: into HttpResponse::body, or for a 2xx answer to the request's on_body.
struct BodyTarget {
    const HttpRequest& request;
    HttpResponse& response;
    CURL* easy;
    std::exception_ptr thrown = nullptr;
};

std::size_t client_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto& target = *static_cast<BodyTarget*>(user);
    long status = 0;
    curl_easy_getinfo(target.easy, CURLINFO_RESPONSE_CODE, &status);
    if (!target.request.on_body || status / 100 != 2) {
        return append_body(data, size, count, &target.response.body);
    }
    try {
        if (!target.request.on_body(status, std::string_view(data, size * count))) {
            target.response.stopped = true;
            return 0;
        }
    } catch (...) {
        target.thrown = std::current_exception(); // no exception may cross libcurl's C frames
        return 0;
    }
    return size * count;
}

std::size_t client_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto& target = *static_cast<BodyTarget*>(user);
    auto& response = target.response;
    const HeaderLine line = parse_header_line(data, size * count);
    try {
        if (line.status_line) {
            response.headers.clear();
        } else if (!line.name.empty()) {
            auto [it, inserted] = response.headers.try_emplace(core::to_lower(line.name), line.value);
            if (!inserted) {
                // Repeated fields are equivalent to one comma-separated field (RFC 9110 5.3).
                it->second += ", ";
                it->second += line.value;
            }
            if (it->first == "content-length" && !target.request.on_body) {
                reserve_for_content_length(response.body, line.value);
            }
        }
    } catch (...) {
        return 0;
    }
    return size * count;
}

} // namespace

HttpClient::HttpClient() : m_easy(nullptr) {
    core::http_global_init();
    m_easy = curl_easy_init();
}

HttpClient::~HttpClient() {
    if (m_easy != nullptr) {
        curl_easy_cleanup(static_cast<CURL*>(m_easy));
    }
}

HttpResponse HttpClient::perform(const HttpRequest& request) {
    HttpResponse response;
    auto* easy = static_cast<CURL*>(m_easy);
    if (easy == nullptr) {
        response.error = TransportError::Other;
        response.error_message = "curl_easy_init failed";
        return response;
    }
    // Drops the previous request's options but keeps its live connections for reuse.
    curl_easy_reset(easy);

    char error_buffer[CURL_ERROR_SIZE] = {};
    UploadSource upload{request.body, 0};
    const SlistPtr headers(build_header_list(request.headers));
    const std::string sigv4 = request.signing
                                  ? "aws:amz:" + request.signing->region + ":" + request.signing->service
                                  : std::string();

    curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, clamp_ms(request.timeout));
    curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers.get());
    BodyTarget target{request, response, easy};
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &client_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &target);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &client_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &target);

    const std::string& method = request.method;
    if (method == "GET") {
        curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    } else if (method == "PUT") {
        curl_easy_setopt(easy, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(easy, CURLOPT_READFUNCTION, &read_upload);
        curl_easy_setopt(easy, CURLOPT_READDATA, &upload);
        curl_easy_setopt(easy, CURLOPT_SEEKFUNCTION, &seek_upload);
        curl_easy_setopt(easy, CURLOPT_SEEKDATA, &upload);
        curl_easy_setopt(easy, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
    } else if (method == "HEAD") {
        curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    } else {
        if (method == "POST" || !request.body.empty()) {
            // The size goes first and the data is not copied: the caller keeps the body alive.
            curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
            curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
        }
        if (method != "POST") {
            curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, method.c_str());
        }
    }

    if (request.signing) {
        curl_easy_setopt(easy, CURLOPT_AWS_SIGV4, sigv4.c_str());
        // Separate options rather than USERPWD: a ':' inside the key would split it wrongly.
        curl_easy_setopt(easy, CURLOPT_USERNAME, request.signing->access_key.c_str());
        curl_easy_setopt(easy, CURLOPT_PASSWORD, request.signing->secret_key.c_str());
    }

    const CURLcode code = curl_easy_perform(easy);
    response.error = map_error(code);
    if (code == CURLE_OK || response.stopped) {
        response.error = TransportError::None;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &response.status);
    } else {
        response.error_message = describe_error(code, error_buffer);
    }
    // Nothing may keep pointing at this call's locals (error buffer, header list, upload source);
    // this also drops the credentials from the handle.
    curl_easy_reset(easy);
    if (target.thrown) {
        std::rethrow_exception(target.thrown);
    }
    return response;
}

} // namespace pipeline::sinks
