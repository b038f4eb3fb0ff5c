// CurlTransport: libcurl's multi interface behind the fetcher's Transport seam.

#include "core/fetch/curl_transport.hpp"

#include <algorithm>
#include <charconv>
#include <atomic>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fetch/curl_support.hpp"
#include "core/util/text.hpp"

namespace pipeline::core {

using namespace curl;

namespace {

/// Per-transfer state, owned by the transport and reused together with its easy handle.
struct Transfer {
    CURL* easy = nullptr;
    std::uint64_t tag = 0;
    std::string body;
    std::optional<std::string> retry_after;
    std::optional<std::size_t> content_length; ///< as announced: the size on the wire, compressed or not
    bool encoded = false;     ///< a Content-Encoding other than identity: libcurl decodes it as it arrives
    std::size_t max_body = 0; ///< 0: no limit
    bool too_large = false;   ///< the body passed max_body and the transfer was aborted
    char error_buffer[CURL_ERROR_SIZE] = {};

    void reset_for(std::uint64_t new_tag) {
        tag = new_tag;
        body.clear(); // may be a moved-from string: clear() makes it a known empty state
        reset_headers();
        too_large = false;
        error_buffer[0] = '\0';
    }
    void reset_headers() {
        retry_after.reset();
        content_length.reset();
        encoded = false;
    }
};

// Appends as data arrives and aborts (a short count makes curl fail with CURLE_WRITE_ERROR) as soon as the
// body would pass the cap, so that an oversized answer never sits in memory whole. A compressed answer
// arrives here already decoded, a block at a time, so the cap counts decompressed bytes and a small gzip that
// inflates to gigabytes is cut off at the cap. Past a megabyte the buffer goes straight to the cap: reserved
// pages cost nothing until written, while doubling would hold the old and the new buffer at once (1.5 times
// the cap at the peak).
std::size_t transfer_body(char* data, std::size_t size, std::size_t count, void* user) {
    constexpr std::size_t k_small = std::size_t{1} << 20;
    auto& transfer = *static_cast<Transfer*>(user);
    const std::size_t bytes = size * count;
    const std::size_t needed = transfer.body.size() + bytes;
    if (transfer.max_body != 0 && needed > transfer.max_body) {
        transfer.too_large = true;
        return 0;
    }
    try {
        if (transfer.max_body != 0 && needed > transfer.body.capacity() && needed > k_small) {
            transfer.body.reserve(transfer.max_body);
        }
        transfer.body.append(data, bytes);
        return bytes;
    } catch (...) {
        return 0;
    }
}

std::size_t transfer_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto& transfer = *static_cast<Transfer*>(user);
    const HeaderLine line = parse_header_line(data, size * count);
    try {
        if (line.status_line) {
            // Headers of an interim or earlier response must not leak into the final one.
            transfer.reset_headers();
        } else if (trim(std::string_view(data, size * count)).empty()) {
            // The end of the headers. Content-Length is the size on the wire: only an answer sent as is can
            // be refused on it before a byte arrives; a compressed one is judged by what it inflates to.
            if (transfer.content_length && !transfer.encoded) {
                if (transfer.max_body != 0 && *transfer.content_length > transfer.max_body) {
                    transfer.too_large = true;
                    return 0;
                }
                reserve_for_length(transfer.body, *transfer.content_length);
            }
        } else if (const std::string name = to_lower(line.name); name == "retry-after") {
            transfer.retry_after = std::string(line.value);
        } else if (name == "content-encoding") {
            transfer.encoded = !line.value.empty() && to_lower(line.value) != "identity";
        } else if (name == "content-length") {
            std::size_t length = 0;
            const auto [end, ec] = std::from_chars(line.value.data(), line.value.data() + line.value.size(), length);
            if (ec == std::errc{} && end == line.value.data() + line.value.size()) {
                transfer.content_length = length;
            }
        }
    } catch (...) {
        return 0;
    }
    return size * count;
}

// What every request accepts: "gzip, deflate" when libcurl can decode them (it then decodes as the body
// arrives), else nothing. Never "" (everything libcurl knows): httplib servers, the bundled fake API among
// them, would answer "br" at brotli's slowest quality.
const char* accepted_encodings() {
    const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
    return info != nullptr && (info->features & CURL_VERSION_LIBZ) != 0 ? "gzip, deflate" : nullptr;
}

} // namespace

struct CurlTransport::Impl {
    CurlTransportOptions options;
    CURLM* multi = nullptr;
    // TLS sessions shared by the easy handles, so that a new connection resumes a session another one began
    // (the multi handle already shares connections and DNS). One thread uses them: no lock callbacks.
    CURLSH* share = nullptr;
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
        if (share != nullptr) {
            curl_easy_setopt(easy, CURLOPT_SHARE, share);
        }
        transfer->max_body = options.max_body_bytes;
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, &transfer_body);
        curl_easy_setopt(easy, CURLOPT_WRITEDATA, transfer.get());
        curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, &transfer_header);
        curl_easy_setopt(easy, CURLOPT_HEADERDATA, transfer.get());
        curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, transfer->error_buffer);
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_TCP_NODELAY, 1L);
        curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1));
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, clamp_ms(options.timeout));
        curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, clamp_ms(options.connect_timeout));
        curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers.get());
        if (const char* encodings = accepted_encodings()) {
            curl_easy_setopt(easy, CURLOPT_ACCEPT_ENCODING, encodings);
        }
        if (!options.ca_file.empty()) {
            curl_easy_setopt(easy, CURLOPT_CAINFO, options.ca_file.c_str());
        }
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
                result.body = std::move(transfer.body);
            } else if (transfer.too_large) {
                result.error = TransportError::TooLarge;
                result.error_message = "the answer is larger than api.max_body_mb (" +
                                       std::to_string(transfer.max_body / (1024 * 1024)) + " MB" +
                                       (transfer.encoded ? " decompressed" : "") + "): cut off";
                std::string().swap(transfer.body); // give the memory back now, not when the handle is reused
            } else {
                result.error_message = describe_error(code, transfer.error_buffer);
                result.body = std::move(transfer.body);
            }
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
    impl.share = curl_share_init();
    if (impl.share != nullptr) {
        curl_share_setopt(impl.share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
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
    if (impl.share != nullptr) {
        curl_share_cleanup(impl.share); // after every easy handle that used it
    }
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

} // namespace pipeline::core
