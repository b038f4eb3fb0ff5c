#include "handlers.hpp"

#include "endpoints.hpp"
#include "serve.hpp"
#include "wire.hpp"

#include <memory>
#include <optional>

namespace fake_api {

namespace {

constexpr const char* k_json = "application/json";
constexpr const char* k_key_header = "x-nxopen-api-key";
constexpr std::string_view k_lb_503_html =
    "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>";

/// Sends a payload with a Content-Length. A content provider with a length is the one way httplib sends a
/// body as it is: it would compress a plain body (or a chunked one) by itself whenever the request accepts
/// gzip or br, and then the fake could neither turn that off nor count the bytes.
void send_body(httplib::Response& res, const Payload& payload, const char* content_type,
               AnswerRecord& record) {
    record.plain_bytes = payload.plain_bytes;
    record.wire_bytes = payload.wire->size();
    record.gzipped = payload.gzipped;
    if (payload.gzipped) res.set_header("Content-Encoding", "gzip");
    res.set_content_provider(
        payload.wire->size(), content_type,
        [wire = payload.wire](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
            return sink.write(wire->data() + offset, length);
        });
}

/// Like send_body, but announces the full Content-Length, sends half and drops the connection.
void send_truncated(httplib::Response& res, const Payload& payload, AnswerRecord& record) {
    record.plain_bytes = payload.plain_bytes;
    record.wire_bytes = payload.wire->size() / 2;
    record.gzipped = payload.gzipped;
    if (payload.gzipped) res.set_header("Content-Encoding", "gzip");
    res.set_content_provider(
        payload.wire->size(), k_json,
        [wire = payload.wire](std::size_t offset, std::size_t, httplib::DataSink& sink) {
            if (offset == 0) sink.write(wire->data(), wire->size() / 2);
            return false;  // httplib treats this as "cancelled" and closes the connection
        });
}

/// Sends exactly `size` bytes of one JSON object, streamed chunked (no Content-Length) and never compressed,
/// as an answer far larger than any real one: the client must cut it off as it arrives. The content type
/// carries a charset so that httplib does not gzip the stream by itself.
void send_huge(httplib::Response& res, std::size_t size, AnswerRecord& record) {
    record.plain_bytes = record.wire_bytes = size;
    constexpr const char* k_json_utf8 = "application/json; charset=utf-8";
    res.set_chunked_content_provider(k_json_utf8, [size](std::size_t offset, httplib::DataSink& sink) {
        static const std::string k_block(64 * 1024, 'x');
        constexpr std::string_view head = R"({"pad":")", tail = R"("})";
        if (offset == 0) return sink.write(head.data(), head.size());
        if (offset + tail.size() >= size) {
            sink.write(tail.data(), tail.size());
            sink.done();
            return true;
        }
        return sink.write(k_block.data(), std::min(k_block.size(), size - tail.size() - offset));
    });
}

/// Sends the precomputed gzip bomb: Content-Encoding gzip whatever the request accepts.
void send_bomb(httplib::Response& res, const WireOptions& wire, AnswerRecord& record) {
    record.plain_bytes = wire.gzip_bomb_inflated;
    record.wire_bytes = wire.gzip_bomb.size();
    record.bomb = true;
    res.set_header("Content-Encoding", "gzip");
    const std::string* bomb = &wire.gzip_bomb;
    res.set_content_provider(bomb->size(), k_json,
                             [bomb](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                                 return sink.write(bomb->data() + offset, length);
                             });
}

/// The error name of an error body ("" for a 200).
std::string error_name_of(int status, const std::string& body) {
    if (status == 200) return {};
    const Json doc = Json::parse(body, nullptr, false);
    return doc.is_object() && doc.contains("error") ? doc["error"].value("name", "") : "";
}

void answer_api(ApiContext& context, const EndpointInfo& info, const httplib::Request& req,
                httplib::Response& res) {
    RequestScope scope(context.stats, info.endpoint);
    AnswerRecord& record = scope.record();
    const bool gzip_it = context.wire.gzip && accepts_gzip(req.get_header_value("Accept-Encoding"));
    const int level = context.wire.gzip_level;
    if (context.faults.load_balancer_503()) {
        // A load balancer in front of the API: no latency of the API, an HTML page, no error name.
        res.status = record.status = 503;
        record.error_name = "lb_503";
        res.set_header("Retry-After", context.faults.options().lb_503_retry_after);
        send_body(res, encode(std::string(k_lb_503_html), gzip_it, level), "text/html", record);
        return;
    }
    context.faults.delay();
    const bool on = context.faults.applies(info.endpoint, req.path);
    const std::uint64_t item = request_hash(req.path, req.params);
    Answer answer;
    std::optional<Payload> payload;
    if (req.get_header_value(k_key_header) != context.key) {
        answer = {400, error_body("OPENAPI00005", "Please input valid api key")};
    } else if (const auto error = context.faults.before_serving(on)) {
        answer = {error->status, error_body(error->code, error->message)};
        if (!error->retry_after.empty()) res.set_header("Retry-After", error->retry_after);
    } else if (gzip_it && (payload = context.gzip_cache.find(item))) {
        answer.status = 200;
    } else {
        const std::string tail = req.matches.size() > 1 ? req.matches[1].str() : std::string();
        answer = info.serve(context.dataset, Query{tail, req.params});
    }
    res.status = record.status = answer.status;
    record.error_name = error_name_of(answer.status, answer.body);
    if (!payload) {
        payload = encode(std::move(answer.body), gzip_it, level);
        if (gzip_it && answer.status == 200) context.gzip_cache.add(item, *payload);
    }
    if (answer.status == 200 && context.faults.truncate_answer(on)) {
        record.truncated = true;
        send_truncated(res, *payload, record);
    } else if (const std::size_t size = answer.status == 200 ? context.faults.huge_answer(on) : 0) {
        record.huge = true;
        send_huge(res, size, record);
    } else if (answer.status == 200 && context.faults.gzip_bomb(on)) {
        send_bomb(res, context.wire, record);
    } else {
        if (answer.status == 200) {
            record.item = item;
            record.path = req.path;
        }
        send_body(res, *payload, k_json, record);
    }
}

}  // namespace

void register_routes(httplib::Server& server, ApiContext& context) {
    for (const EndpointInfo& info : endpoints()) {
        server.Get(std::string(info.route),
                   [&context, &info](const httplib::Request& req, httplib::Response& res) {
                       answer_api(context, info, req, res);
                   });
    }

    const std::string expected = context.dataset.expected().dump();
    server.Get("/_expected", [expected](const httplib::Request&, httplib::Response& res) {
        res.set_content(expected, k_json);
    });
    server.Get("/_stats", [&context](const httplib::Request&, httplib::Response& res) {
        res.set_content(context.stats.to_json().dump(), k_json);
    });
    // httplib 0.11 answers 400 to a POST without Content-Length (plain `curl -X POST`) before routing,
    // so /_reset_stats is served from the pre-routing hook, which runs before the body is read.
    server.set_pre_routing_handler([&context](const httplib::Request& req, httplib::Response& res) {
        if (req.method != "POST" || req.path != "/_reset_stats") return httplib::Server::HandlerResponse::Unhandled;
        context.stats.reset();
        res.set_content(context.stats.to_json().dump(), k_json);
        return httplib::Server::HandlerResponse::Handled;
    });
    server.Get("/_health", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok", "text/plain"); });
}

}  // namespace fake_api
