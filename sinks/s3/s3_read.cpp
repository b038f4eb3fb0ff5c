// The reading side of the S3 sink: whole and streamed GETs, and the listing of keys. Folders (gc's dates)
// come from that listing (Sink::list_folders' default): s3rver answers a delimiter listing with nothing.

#include <algorithm>
#include <set>
#include <string>

#include "core/util/error.hpp"
#include "sinks/s3/s3_sink.hpp"
#include "sinks/s3/s3_xml.hpp"

namespace pipeline::sinks {

using core::Error;
using core::ExitCode;

std::optional<std::string> S3Sink::get(const std::string& key) {
    HttpResponse response = send({.method = "GET", .key = full_key(key)}, true);
    if (response.status == 404) {
        return std::nullopt;
    }
    return std::move(response.body);
}

// verify and cat read parts of any size: the body goes to `consume` as curl receives it, so memory stays at
// curl's buffer whatever the part's size (a whole-object GET of a 30 MB part held all of it, twice). A
// transfer cut short is retried by send() from the first byte not yet handed on, so `consume` sees each byte
// once; a server that ignores Range (200 instead of 206) resends from the start, and that much is skipped.
core::StreamStatus S3Sink::stream(const std::string& key, std::uint64_t max_bytes,
                                  const std::function<void(std::string_view)>& consume) {
    if (max_bytes == 0) {
        const HttpResponse head = send({.method = "HEAD", .key = full_key(key)}, true);
        return head.status == 404 ? core::StreamStatus::Missing : core::StreamStatus::Streamed;
    }
    std::uint64_t delivered = 0; // bytes handed to consume
    std::uint64_t skip = 0;      // bytes of this attempt's body already handed on by an earlier one
    Call call{.method = "GET", .key = full_key(key)};
    call.prepare = [&](HttpRequest& request) {
        skip = delivered;
        if (delivered > 0 || max_bytes != UINT64_MAX) {
            request.headers.emplace_back(
                "range", "bytes=" + std::to_string(delivered) + "-" +
                             (max_bytes == UINT64_MAX ? std::string() : std::to_string(max_bytes - 1)));
        }
    };
    call.on_body = [&](long status, std::string_view piece) {
        if (status == 206) {
            skip = 0; // the range asked for, from its first byte
        }
        const std::size_t dropped = static_cast<std::size_t>(std::min<std::uint64_t>(skip, piece.size()));
        skip -= dropped;
        piece.remove_prefix(dropped);
        piece = piece.substr(
            0, static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), max_bytes - delivered)));
        if (!piece.empty()) {
            delivered += piece.size();
            consume(piece);
        }
        return delivered < max_bytes;
    };
    const HttpResponse response = send(call, true);
    return response.status == 404 ? core::StreamStatus::Missing : core::StreamStatus::Streamed;
}

std::vector<std::string> S3Sink::list(const std::string& prefix) {
    const std::string root = m_options.prefix.empty() ? std::string() : m_options.prefix + "/";
    const std::string wanted = root + prefix;
    std::vector<std::string> keys;
    std::string token;
    std::set<std::string> seen_tokens;
    for (;;) {
        std::vector<std::pair<std::string, std::string>> params{
            {"list-type", "2"}, {"max-keys", std::to_string(m_options.max_keys)}, {"prefix", wanted}};
        if (!token.empty()) {
            params.emplace_back("continuation-token", token);
        }
        const Call call{.method = "GET", .query = make_query(std::move(params)), .about = wanted};
        const HttpResponse page = send(call, false);
        for (const std::string_view raw : xml_elements(page.body, "Key")) {
            std::string key = xml_decode(raw);
            if (key.starts_with(wanted)) { // always, unless the server ignores the prefix
                keys.push_back(key.substr(root.size()));
            }
        }
        if (xml_value(page.body, "IsTruncated") != "true") {
            break;
        }
        token = xml_value(page.body, "NextContinuationToken");
        if (token.empty()) {
            throw Error(ExitCode::Failed, failure(call, "truncated listing without NextContinuationToken"));
        }
        // A server that hands out a token it gave before would make this loop forever.
        if (!seen_tokens.insert(token).second) {
            throw Error(
                ExitCode::Failed,
                failure(call, "the server repeated the continuation token '" + token +
                                  "' (a listing that would never end); is the endpoint an S3 server?"));
        }
    }
    std::ranges::sort(keys);
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    return keys;
}

} // namespace pipeline::sinks
