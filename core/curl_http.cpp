// libcurl behind the Transport and HttpClient seams. The only file that includes <curl/curl.h>.

#include "core/curl_transport.hpp"
#include "core/http_request.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

namespace pipeline::core {
namespace {

// A hostile or broken Content-Length must not make us allocate gigabytes up front.
constexpr std::size_t k_max_reserve = std::size_t{64} * 1024 * 1024;

constexpr std::string_view k_blanks = " \t\r\n";

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(k_blanks);
    if (first == std::string_view::npos) {
        return {};
    }
    const auto last = text.find_last_not_of(k_blanks);
    return text.substr(first, last - first + 1);
}

std::string to_lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}

/// One header line as libcurl hands it over: a status line (a new response begins, e.g. after
/// "100 Continue"), a "name: value" field, or something else (the blank end-of-headers line).
struct HeaderLine {
    bool status_line = false;
    std::string_view name;
    std::string_view value;
};

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

void reserve_for_content_length(std::string& body, std::string_view value) {
    std::size_t length = 0;
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
    if (ec == std::errc{} && end == value.data() + value.size()) {
        body.reserve(std::min(length, k_max_reserve));
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

struct SlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

} // namespace

void http_global_init() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
            throw std::runtime_error("curl_global_init failed");
        }
    });
}

// ---------------------------------------------------------------------------------------------------
// CurlTransport

namespace {

/// Per-transfer state, owned by the transport and reused together with its easy handle.
struct Transfer {
    CURL* easy = nullptr;
    std::uint64_t tag = 0;
    std::string body;
    std::optional<std::string> retry_after;
    char error_buffer[CURL_ERROR_SIZE] = {};

    void reset_for(std::uint64_t new_tag) {
        tag = new_tag;
        body.clear(); // may be a moved-from string: clear() makes it a known empty state
        retry_after.reset();
        error_buffer[0] = '\0';
    }
};

std::size_t transfer_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto& transfer = *static_cast<Transfer*>(user);
    const HeaderLine line = parse_header_line(data, size * count);
    try {
        if (line.status_line) {
            // Headers of an interim or earlier response must not leak into the final one.
            transfer.retry_after.reset();
        } else if (const std::string name = to_lower(line.name); name == "retry-after") {
            transfer.retry_after = std::string(line.value);
        } else if (name == "content-length") {
            reserve_for_content_length(transfer.body, line.value);
        }
    } catch (...) {
        return 0;
    }
    return size * count;
}

} // namespace

struct CurlTransport::Impl {
    CurlTransportOptions options;
    CURLM* multi = nullptr;
    SlistPtr headers;
    // Every Transfer ever created (at most max_connections); those not in the multi are also in idle.
    std::vector<std::unique_ptr<Transfer>> transfers;
    std::vector<Transfer*> idle;
    std::size_t running = 0; // easy handles inside the multi
    // Transfers beyond max_connections wait here rather than in the multi: curl counts the time a
    // transfer queues for a connection against CURLOPT_TIMEOUT_MS, so they would time out spuriously.
    std::deque<std::pair<std::uint64_t, std::string>> waiting;
    std::vector<TransportResult> failed_starts; // handed out by the next poll()
    std::atomic<bool> woken{false};

    Transfer* make_transfer() {
        auto transfer = std::make_unique<Transfer>();
        CURL* easy = curl_easy_init();
        if (easy == nullptr) {
            return nullptr;
        }
        transfer->easy = easy;
        // Set once per handle and kept across transfers; only the URL changes per start().
        curl_easy_setopt(easy, CURLOPT_PRIVATE, transfer.get());
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &append_body);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, &transfer->body);
        curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &transfer_header);
        curl_easy_setopt(easy, CURLOPT_HEADERDATA, transfer.get());
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error_buffer);
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, clamp_ms(options.timeout));
        curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, clamp_ms(options.connect_timeout));
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers.get());
        Transfer* raw = transfer.get();
        transfers.push_back(std::move(transfer));
        return raw;
    }

    void drain(std::vector<TransportResult>& out) {
        int queued = 0;
        while (CURLMsg* message = curl_multi_info_read(multi, &queued)) {
            if (message->msg != CURLMSG_DONE) {
                continue;
            }
            CURL* easy = message->easy_handle;
            const CURLcode code = message->data.result;
            char* priv = nullptr;
            curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
            auto& transfer = *reinterpret_cast<Transfer*>(priv);

            TransportResult result;
            result.tag = transfer.tag;
            result.error = map_error(code);
            if (code == CURLE_OK) {
                curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &result.status);
            } else {
                result.error_message = describe_error(code, transfer.error_buffer);
            }
            result.body = std::move(transfer.body);
            result.retry_after = std::move(transfer.retry_after);
            out.push_back(std::move(result));

            // `message` is invalid after removing its handle.
            curl_multi_remove_handle(multi, easy);
            idle.push_back(&transfer);
            --running;
        }
        while (!waiting.empty() && running < max_running()) {
            auto [tag, url] = std::move(waiting.front());
            waiting.pop_front();
            launch(tag, url, out);
        }
    }

    std::size_t max_running() const { return std::max<std::size_t>(options.max_connections, 1); }

    /// Puts a transfer into the multi; a failure becomes a result in `failures` instead.
    void launch(std::uint64_t tag, const std::string& url, std::vector<TransportResult>& failures) {
        const auto fail = [&](std::string message) {
            TransportResult result;
            result.tag = tag;
            result.error = TransportError::Other;
            result.error_message = std::move(message);
            failures.push_back(std::move(result));
        };
        Transfer* transfer = nullptr;
        if (!idle.empty()) {
            transfer = idle.back();
            idle.pop_back();
        } else {
            transfer = make_transfer();
        }
        if (transfer == nullptr) {
            fail("curl_easy_init failed");
            return;
        }
        transfer->reset_for(tag);
        curl_easy_setopt(transfer->easy, CURLOPT_URL, url.c_str());
        const CURLMcode code = curl_multi_add_handle(multi, transfer->easy);
        if (code != CURLM_OK) {
            idle.push_back(transfer);
            fail(std::string("curl_multi_add_handle: ") + curl_multi_strerror(code));
            return;
        }
        ++running;
    }
};

CurlTransport::CurlTransport(CurlTransportOptions options) : m_impl(std::make_unique<Impl>()) {
    http_global_init();
    auto& impl = *m_impl;
    impl.options = std::move(options);
    impl.headers.reset(build_header_list(impl.options.headers));
    impl.multi = curl_multi_init();
    if (impl.multi == nullptr) {
        throw std::runtime_error("curl_multi_init failed");
    }
    const auto max_connections = static_cast<long>(impl.max_running());
    curl_multi_setopt(impl.multi, CURLMOPT_MAX_HOST_CONNECTIONS, max_connections);
    // The cache must hold every parallel connection, or idle ones get closed and re-opened.
    curl_multi_setopt(impl.multi, CURLMOPT_MAXCONNECTS, max_connections);
}

CurlTransport::~CurlTransport() {
    auto& impl = *m_impl;
    for (const auto& transfer : impl.transfers) {
        // Removing an idle handle is a harmless no-op; in-flight ones must leave the multi first.
        curl_multi_remove_handle(impl.multi, transfer->easy);
        curl_easy_cleanup(transfer->easy);
    }
    curl_multi_cleanup(impl.multi);
}

void CurlTransport::start(std::uint64_t tag, const std::string& url) {
    auto& impl = *m_impl;
    if (impl.running < impl.max_running()) {
        impl.launch(tag, url, impl.failed_starts);
    } else {
        impl.waiting.emplace_back(tag, url);
    }
}

std::vector<TransportResult> CurlTransport::poll(std::chrono::milliseconds timeout) {
    auto& impl = *m_impl;
    std::vector<TransportResult> results = std::move(impl.failed_starts);
    impl.failed_starts.clear();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int still_running = 0;
        curl_multi_perform(impl.multi, &still_running);
        impl.drain(results);
        // curl_multi_poll also returns early for curl's own timers, so the wake-up is tracked
        // separately to tell it apart from those.
        if (!results.empty() || impl.woken.exchange(false)) {
            break;
        }
        const auto remaining = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (remaining.count() <= 0) {
            break;
        }
        const int wait_ms =
            static_cast<int>(std::min<std::chrono::milliseconds::rep>(remaining.count(), INT_MAX));
        if (curl_multi_poll(impl.multi, nullptr, 0, wait_ms, nullptr) != CURLM_OK) {
            break;
        }
    }
    return results;
}

void CurlTransport::wake() {
    // The flag goes first so that the poll loop, once woken, is sure to see it.
    m_impl->woken.store(true);
    curl_multi_wakeup(m_impl->multi);
}

std::size_t CurlTransport::in_flight() const {
    return m_impl->running + m_impl->waiting.size() + m_impl->failed_starts.size();
}

// ---------------------------------------------------------------------------------------------------
// HttpClient

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

std::size_t client_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto& response = *static_cast<HttpResponse*>(user);
    const HeaderLine line = parse_header_line(data, size * count);
    try {
        if (line.status_line) {
            response.headers.clear();
        } else if (!line.name.empty()) {
            auto [it, inserted] = response.headers.try_emplace(to_lower(line.name), line.value);
            if (!inserted) {
                // Repeated fields are equivalent to one comma-separated field (RFC 9110 5.3).
                it->second += ", ";
                it->second += line.value;
            }
            if (it->first == "content-length") {
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
    http_global_init();
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
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &append_body);
    curl_easy_setopt(easy, CURLOPT_WRITEDATA, &response.body);
    curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &client_header);
    curl_easy_setopt(easy, CURLOPT_HEADERDATA, &response);

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
    if (code == CURLE_OK) {
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &response.status);
    } else {
        response.error_message = describe_error(code, error_buffer);
    }
    // Nothing may keep pointing at this call's locals (error buffer, header list, upload source);
    // this also drops the credentials from the handle.
    curl_easy_reset(easy);
    return response;
}

} // namespace pipeline::core
