#pragma once
// Helpers shared by the two libcurl clients (core/fetch/curl_transport.cpp and sinks/s3/http_client.cpp).
// Internal to them: the only header that includes <curl/curl.h>, and only those two files include it.

#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/fetch/transport.hpp"

namespace pipeline::core::curl {

/// One header line as libcurl hands it over: a status line (a new response begins, e.g. after
/// "100 Continue"), a "name: value" field, or something else (the blank end-of-headers line).
struct HeaderLine {
    bool status_line = false;
    std::string_view name;
    std::string_view value;
};

/// Splits a header line into name and value, both trimmed.
HeaderLine parse_header_line(const char* data, std::size_t size);

/// Reserves room for a body of the announced Content-Length, capped so that a hostile value cannot make us
/// allocate gigabytes up front; ignores a malformed value.
void reserve_for_content_length(std::string& body, std::string_view value);

/// reserve_for_content_length for a length already parsed.
void reserve_for_length(std::string& body, std::size_t length);

/// CURLOPT_WRITEFUNCTION that appends to a std::string; returns 0 (aborting the transfer) on bad_alloc.
std::size_t append_body(char* data, std::size_t size, std::size_t count, void* user);

/// Maps a libcurl result to the transport error classes.
TransportError map_error(CURLcode code);

/// curl's own wording for a failure (never request header values: the API key and SigV4 credentials).
std::string describe_error(CURLcode code, const char* error_buffer);

/// A duration as libcurl's long milliseconds, clamped to [0, LONG_MAX].
long clamp_ms(std::chrono::milliseconds duration);

/// Builds "Name: value" lines; throws std::bad_alloc when curl cannot allocate.
curl_slist* build_header_list(const std::vector<std::pair<std::string, std::string>>& headers);

/// Frees a curl_slist.
struct SlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

} // namespace pipeline::core::curl
