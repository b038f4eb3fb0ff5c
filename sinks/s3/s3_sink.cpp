#include "sinks/s3/s3_sink.hpp"

#include <openssl/evp.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <functional>
#include <cctype>
#include <charconv>
#include <set>
#include <thread>
#include <utility>

#include "core/snapshot/codec.hpp"
#include "core/util/error.hpp"
#include "core/util/text.hpp"
#include "core/util/time_util.hpp"
#include "sinks/s3/s3_object.hpp"
#include "sinks/s3/s3_xml.hpp"

namespace pipeline::sinks {

using core::Error;
using core::ExitCode;

namespace {

/// What to do with one answer: use it, report an absent object, try again, or give up.
enum class Verdict { Done, Missing, Retry, Fail };

std::string trim_slashes(std::string text) {
    const std::size_t first = text.find_first_not_of('/');
    if (first == std::string::npos) {
        return {};
    }
    return text.substr(first, text.find_last_not_of('/') - first + 1);
}

/// A canonical query string: parameters sorted by name, values encoded, "name=" for empty values.
std::string make_query(std::vector<std::pair<std::string, std::string>> params) {
    std::ranges::sort(params);
    std::string out;
    for (const auto& [name, value] : params) {
        out += (out.empty() ? "" : "&") + core::percent_encode(name, false) + "=" + core::percent_encode(value, false);
    }
    return out;
}

Verdict classify(const HttpResponse& response, const std::string& code, bool missing_ok) {
    switch (response.error) {
    case TransportError::None:
        break;
    case TransportError::Timeout:
    case TransportError::Connect:
    case TransportError::Reset:
    case TransportError::Truncated:
    case TransportError::TooLarge:
    case TransportError::BadEncoding:
        return Verdict::Retry;
    case TransportError::Tls:
    case TransportError::Other:
        return Verdict::Fail;
    }
    if (response.status >= 200 && response.status < 300) {
        return Verdict::Done;
    }
    if (response.status == 404 && missing_ok && code != "NoSuchBucket") {
        return Verdict::Missing;
    }
    if (code == "SlowDown" || code == "InternalError" || code == "ServiceUnavailable" ||
        code == "RequestTimeout" || response.status == 429) {
        return Verdict::Retry;
    }
    // NotImplemented (501) is an answer about the request, not a passing server trouble.
    return response.status >= 500 && code != "NotImplemented" ? Verdict::Retry : Verdict::Fail;
}

std::string strip_quotes(std::string text) {
    std::erase(text, '"');
    return text;
}

/// The ETag AWS gives a multipart object: the MD5 of the parts' binary MD5s, '-', the number of parts.
/// "" when a part's ETag is not an MD5 (some S3-compatible servers), so that it cannot be predicted.
std::string multipart_etag(const std::vector<std::string>& part_etags) {
    std::string digests;
    for (const std::string& quoted : part_etags) {
        const std::string hex = strip_quotes(quoted);
        if (hex.size() != 32) {
            return {};
        }
        for (std::size_t i = 0; i < hex.size(); i += 2) {
            unsigned value = 0;
            const auto [end, ec] = std::from_chars(hex.data() + i, hex.data() + i + 2, value, 16);
            if (ec != std::errc{} || end != hex.data() + i + 2) {
                return {};
            }
            digests += static_cast<char>(value);
        }
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(digests.data(), digests.size(), digest, &length, EVP_md5(), nullptr);
    static constexpr char k_hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
        out += k_hex[digest[i] >> 4];
        out += k_hex[digest[i] & 0xF];
    }
    return out + "-" + std::to_string(part_etags.size());
}

std::string describe_transport(const HttpResponse& response) {
    switch (response.error) {
    case TransportError::Connect:
        return "cannot connect: " + response.error_message;
    case TransportError::Timeout:
        return "timed out: " + response.error_message;
    case TransportError::Reset:
        return "connection lost: " + response.error_message;
    case TransportError::Truncated:
        return "response cut short: " + response.error_message;
    default:
        return response.error_message;
    }
}

std::string describe_answer(const HttpResponse& response) {
    if (response.error != TransportError::None) {
        return describe_transport(response);
    }
    const std::string code = xml_value(response.body, "Code");
    if (code.empty()) {
        return "HTTP " + std::to_string(response.status);
    }
    const std::string message = xml_value(response.body, "Message");
    return message.empty() ? code : code + ": " + message;
}

/// Base64 of the MD5 digest of `data` (the Content-MD5 header).
std::string base64_md5(std::string_view data) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_Digest(data.data(), data.size(), digest, &length, EVP_md5(), nullptr);
    unsigned char encoded[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    const int size = EVP_EncodeBlock(encoded, digest, static_cast<int>(length));
    return std::string(reinterpret_cast<const char*>(encoded), static_cast<std::size_t>(size));
}

} // namespace

S3Sink::S3Sink(S3SinkOptions options) : m_options(std::move(options)), m_backoff(m_options.backoff_base, m_options.backoff_max) {
    while (m_options.endpoint.ends_with('/')) {
        m_options.endpoint.pop_back();
    }
    m_options.prefix = trim_slashes(m_options.prefix);
    m_options.max_attempts = std::max(m_options.max_attempts, 1);
    m_options.part_size_bytes = std::max<std::uint64_t>(m_options.part_size_bytes, 1);
}

std::string S3Sink::describe() const {
    return "s3://" + m_options.bucket + (m_options.prefix.empty() ? "" : "/" + m_options.prefix);
}

std::string S3Sink::full_key(const std::string& key) const {
    return m_options.prefix.empty() ? key : m_options.prefix + "/" + key;
}

std::string S3Sink::failure(const Call& call, const std::string& cause) const {
    return "S3 " + call.method + " s3://" + m_options.bucket + "/" +
           (call.key.empty() ? call.about : call.key) + " at " + m_options.endpoint + ": " + cause;
}

HttpResponse S3Sink::send(const Call& call, bool missing_ok) {
    HttpRequest request;
    request.method = call.method;
    request.url = m_options.endpoint + "/" + m_options.bucket;
    if (!call.key.empty()) {
        request.url += "/" + core::percent_encode(call.key, true);
    }
    if (!call.query.empty()) {
        request.url += "?" + call.query;
    }
    request.body = call.body;
    request.headers.emplace_back("x-amz-content-sha256", core::sha256_hex(call.body));
    if (!call.content_type.empty()) {
        request.headers.emplace_back("content-type", call.content_type);
    }
    if (!call.content_md5.empty()) {
        request.headers.emplace_back("content-md5", call.content_md5);
    }
    request.signing = AwsSigning{m_options.access_key, m_options.secret_key, m_options.region, "s3"};
    request.timeout = m_options.timeout;

    for (int attempt = 1;; ++attempt) {
        HttpResponse response = m_http.perform(request);
        // Only error answers are scanned: a successful body may be a large object that merely contains
        // "<Code>".
        const bool answered_error = response.error == TransportError::None && response.status / 100 != 2;
        const std::string code = answered_error ? xml_value(response.body, "Code") : "";
        const Verdict verdict = classify(response, code, missing_ok);
        if (verdict == Verdict::Done || verdict == Verdict::Missing) {
            return response;
        }
        if (verdict == Verdict::Fail || attempt >= m_options.max_attempts) {
            const std::string tries =
                attempt > 1 ? " (gave up after " + std::to_string(attempt) + " attempts)" : "";
            throw Error(ExitCode::Failed, failure(call, describe_answer(response)) + tries);
        }
        const std::chrono::milliseconds wait = m_backoff.next(attempt);
        spdlog::debug("{} (attempt {} of {}), retrying in {} ms", failure(call, describe_answer(response)),
                      attempt, m_options.max_attempts, wait.count());
        std::this_thread::sleep_for(wait);
    }
}

void S3Sink::put(const std::string& key, std::string_view data) {
    if (data.size() > m_options.multipart_threshold_bytes) {
        put_multipart(full_key(key), data);
        return;
    }
    send({.method = "PUT", .key = full_key(key), .body = data}, false);
}

// The object appears only when the upload is completed, so readers never see part of it; any failure
// aborts the upload so that its parts do not linger (and cost) on the server.
void S3Sink::put_multipart(const std::string& key, std::string_view data) {
    const std::string upload_id = begin_multipart(key);
    try {
        std::string parts_xml;
        int part_number = 0;
        for (std::size_t offset = 0; offset < data.size(); offset += m_options.part_size_bytes) {
            parts_xml += upload_part(key, upload_id, ++part_number, data.substr(offset, m_options.part_size_bytes));
        }
        complete_multipart(key, upload_id, parts_xml, data.size());
    } catch (const Error&) {
        abort_upload(key, upload_id);
        throw;
    }
}

std::string S3Sink::begin_multipart(const std::string& key) {
    const HttpResponse started =
        send({.method = "POST", .key = key, .query = make_query({{"uploads", ""}})}, false);
    std::string upload_id = xml_value(started.body, "UploadId");
    if (upload_id.empty()) {
        throw Error(ExitCode::Failed, failure({.method = "POST", .key = key}, "no UploadId in the answer"));
    }
    return upload_id;
}

std::string S3Sink::upload_part(const std::string& key, const std::string& upload_id, int part_number,
                                std::string_view data) {
    const Call call{.method = "PUT",
                    .key = key,
                    .query = make_query({{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}}),
                    .body = data};
    const HttpResponse answer = send(call, false);
    const auto etag = answer.headers.find("etag");
    if (etag == answer.headers.end() || etag->second.empty()) {
        throw Error(ExitCode::Failed, failure(call, "no ETag for part " + std::to_string(part_number)));
    }
    return "<Part><PartNumber>" + std::to_string(part_number) + "</PartNumber><ETag>" + xml_escape(etag->second) +
           "</ETag></Part>";
}

// A completion whose answer is lost (a reset, a timeout, a 5xx after the server finished) is retried by
// send(); S3 then answers NoSuchUpload because the upload already became the object. Only a HEAD tells
// that success from an upload that was really aborted.
void S3Sink::complete_multipart(const std::string& key, const std::string& upload_id, const std::string& parts_xml,
                                std::uint64_t size) {
    const std::string body = "<CompleteMultipartUpload>" + parts_xml + "</CompleteMultipartUpload>";
    const Call complete{.method = "POST",
                        .key = key,
                        .query = make_query({{"uploadId", upload_id}}),
                        .body = body,
                        .content_type = "application/xml"};
    const HttpResponse done = send(complete, true);
    if (done.status == 404) {
        const std::string code = xml_value(done.body, "Code");
        std::vector<std::string> part_etags;
        for (const std::string_view etag : xml_elements(parts_xml, "ETag")) {
            part_etags.push_back(xml_decode(etag));
        }
        if (code != "NoSuchUpload" || !object_is_complete(key, size, multipart_etag(part_etags))) {
            throw Error(ExitCode::Failed, failure(complete, describe_answer(done)));
        }
        spdlog::info("completion of s3://{}/{} answered NoSuchUpload, but the object is there with the "
                     "expected size: an earlier answer was lost",
                     m_options.bucket, key);
        return;
    }
    // S3 may answer 200 and still report an error in the body of a completion.
    if (done.body.find("<Error>") != std::string::npos) {
        throw Error(ExitCode::Failed, failure(complete, describe_answer(done)));
    }
}

std::unique_ptr<core::SinkObject> S3Sink::open(const std::string& key) {
    return std::make_unique<S3Object>(*this, key);
}

bool S3Sink::object_is_complete(const std::string& key, std::uint64_t size, const std::string& etag) {
    const HttpResponse head = send({.method = "HEAD", .key = key}, true);
    if (head.status == 404) {
        return false;
    }
    const auto length = head.headers.find("content-length");
    std::uint64_t found_size = 0;
    if (length == head.headers.end() ||
        std::from_chars(length->second.data(), length->second.data() + length->second.size(), found_size).ec !=
            std::errc{} ||
        found_size != size) {
        return false;
    }
    // AWS names a multipart object "<md5 of the parts' md5s>-<parts>": when the server uses that form, it
    // must be ours. Other servers (s3rver: the md5 of the whole) leave only the size to compare.
    const auto found = head.headers.find("etag");
    const std::string found_etag = found == head.headers.end() ? "" : strip_quotes(found->second);
    if (!etag.empty() && found_etag.find('-') != std::string::npos) {
        return found_etag == etag;
    }
    return true;
}

void S3Sink::abort_upload(const std::string& key, const std::string& upload_id) {
    try {
        send({.method = "DELETE", .key = key, .query = make_query({{"uploadId", upload_id}})}, true);
    } catch (const Error& error) {
        // The upload's own failure is what the caller must see; this one is only worth a note.
        spdlog::warn("could not abort multipart upload of s3://{}/{}: {}", m_options.bucket, key,
                     error.what());
    }
}

std::optional<std::string> S3Sink::get(const std::string& key) {
    HttpResponse response = send({.method = "GET", .key = full_key(key)}, true);
    if (response.status == 404) {
        return std::nullopt;
    }
    return std::move(response.body);
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
            throw Error(ExitCode::Failed,
                        failure(call, "the server repeated the continuation token '" + token +
                                          "' (a listing that would never end); is the endpoint an S3 server?"));
        }
    }
    std::ranges::sort(keys);
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    return keys;
}

void S3Sink::remove(const std::string& key) {
    send({.method = "DELETE", .key = full_key(key)}, true);
}

// Pages through the multipart uploads under `wanted` (a full key prefix), calling visit(key, id, upload
// element) for each. A server that repeats its markers would loop forever, so paging stops when they do not
// advance. Some S3-compatible servers (s3rver) do not list uploads: a listing error is then logged at debug
// level and ends the walk, since leftovers are the server's business and real trouble shows on the next put.
void S3Sink::for_each_upload(const std::string& wanted,
                             const std::function<void(const std::string&, const std::string&, std::string_view)>& visit) {
    std::string key_marker;
    std::string id_marker;
    try {
        for (int page_count = 0; page_count < 100000; ++page_count) {
            std::vector<std::pair<std::string, std::string>> params{{"uploads", ""}, {"prefix", wanted}};
            if (!key_marker.empty()) {
                params.emplace_back("key-marker", key_marker);
                params.emplace_back("upload-id-marker", id_marker);
            }
            const HttpResponse page =
                send({.method = "GET", .query = make_query(std::move(params)), .about = wanted}, false);
            for (const std::string_view upload : xml_elements(page.body, "Upload")) {
                visit(xml_value(upload, "Key"), xml_value(upload, "UploadId"), upload);
            }
            const std::string next_key = xml_value(page.body, "NextKeyMarker");
            const std::string next_id = xml_value(page.body, "NextUploadIdMarker");
            if (xml_value(page.body, "IsTruncated") != "true" || next_key.empty() ||
                (next_key == key_marker && next_id == id_marker)) {
                break;
            }
            key_marker = next_key;
            id_marker = next_id;
        }
    } catch (const Error& error) {
        spdlog::debug("cannot list multipart uploads under s3://{}/{}: {}", m_options.bucket, wanted,
                      error.what());
    }
}

void S3Sink::clean_temporaries(const std::string& prefix) {
    for_each_upload(full_key(prefix), [&](const std::string& key, const std::string& id, std::string_view) {
        if (!key.empty() && !id.empty()) {
            spdlog::info("aborting an interrupted multipart upload of s3://{}/{}", m_options.bucket, key);
            abort_upload(key, id);
        }
    });
}

// Added for gc: batched deletes and the listing of interrupted uploads, apart from the write path.
void S3Sink::remove_many(const std::vector<std::string>& keys) {
    constexpr std::size_t k_batch = 1000; // the most one DeleteObjects request may name
    for (std::size_t begin = 0; begin < keys.size(); begin += k_batch) {
        delete_batch(keys, begin, std::min(keys.size(), begin + k_batch));
    }
}

void S3Sink::delete_batch(const std::vector<std::string>& keys, std::size_t begin, std::size_t end) {
    std::string body = "<Delete><Quiet>true</Quiet>";
    for (std::size_t i = begin; i < end; ++i) {
        body += "<Object><Key>" + xml_escape(full_key(keys[i])) + "</Key></Object>";
    }
    body += "</Delete>";
    const Call call{.method = "POST",
                    .query = make_query({{"delete", ""}}),
                    .body = body,
                    .content_type = "application/xml",
                    .about = full_key(keys[begin]) + " and " + std::to_string(end - begin - 1) + " more",
                    .content_md5 = base64_md5(body)};
    const HttpResponse answer = send(call, false);
    // Quiet mode lists only the keys that could not be deleted, each in an <Error> element.
    std::string problems;
    for (const std::string_view error : xml_elements(answer.body, "Error")) {
        problems += (problems.empty() ? "" : "; ") + xml_value(error, "Key") + ": " + xml_value(error, "Code");
    }
    if (!problems.empty()) {
        throw Error(ExitCode::Failed, failure(call, "could not delete " + problems));
    }
}

std::vector<core::Temporary> S3Sink::stale_temporaries(const std::string& prefix) {
    const std::string root = m_options.prefix.empty() ? std::string() : m_options.prefix + "/";
    std::vector<core::Temporary> found;
    for_each_upload(full_key(prefix), [&](const std::string& key, const std::string& id, std::string_view upload) {
        // Another worker sharing the bucket may be uploading right now: only an upload started a day ago or
        // more is surely abandoned (no chunk takes that long to send).
        std::string initiated = xml_value(upload, "Initiated");
        if (const std::size_t dot = initiated.find('.'); dot != std::string::npos) {
            initiated = initiated.substr(0, dot) + "Z";
        }
        const std::optional<core::SystemTime> started = core::parse_utc(initiated);
        const bool old = started && *started < std::chrono::system_clock::now() - std::chrono::hours(24);
        if (key.starts_with(root) && !id.empty() && old) {
            found.push_back({key.substr(root.size()), id});
        }
    });
    return found;
}

void S3Sink::remove_temporary(const core::Temporary& temporary) {
    send({.method = "DELETE", .key = full_key(temporary.key), .query = make_query({{"uploadId", temporary.handle}})},
         true);
}

} // namespace pipeline::sinks
