#include "handlers.hpp"

#include <charconv>
#include <memory>

namespace fake_api {

namespace {

constexpr const char* k_json = "application/json";
constexpr const char* k_key_header = "x-nxopen-api-key";

using ServeFn = Answer (*)(const Dataset&, const httplib::Params&);

std::string param(const httplib::Params& params, const std::string& name) {
    const auto it = params.find(name);
    return it == params.end() ? std::string() : it->second;
}

Answer bad_parameter(std::string_view what) {
    return {400, error_body("OPENAPI00004", "Please input valid parameter: " + std::string(what))};
}

Answer bad_identifier(std::string_view what) {
    return {400, error_body("OPENAPI00003", "Please input valid id: " + std::string(what))};
}

/// Looks up a served (known, not refused) character by the ocid and date parameters.
const Character* detail_target(const Dataset& dataset, const httplib::Params& params, Answer& error) {
    const std::string ocid = param(params, "ocid");
    const Character* character = dataset.find_by_ocid(ocid);
    if (ocid.empty()) {
        error = bad_parameter("ocid");
    } else if (!is_valid_date(param(params, "date"))) {
        error = bad_parameter("date");
    } else if (character == nullptr || character->name_refused || character->ocid_refused) {
        error = bad_identifier("ocid");
    } else {
        return character;
    }
    return nullptr;
}

/// Replaces the body by a provider that announces the full Content-Length, sends half and drops the connection.
void truncate_body(httplib::Response& res) {
    auto body = std::make_shared<std::string>(std::move(res.body));
    res.body.clear();
    res.set_content_provider(body->size(), k_json, [body](std::size_t offset, std::size_t, httplib::DataSink& sink) {
        if (offset == 0) sink.write(body->data(), body->size() / 2);
        return false;  // httplib treats this as "cancelled" and closes the connection
    });
}

/// Replaces the body by `size` bytes of one JSON object, streamed chunked (no Content-Length), as an answer
/// far larger than any real one: the client must cut it off as it arrives.
void huge_body(httplib::Response& res, std::size_t size) {
    res.body.clear();
    res.set_chunked_content_provider(k_json, [size](std::size_t offset, httplib::DataSink& sink) {
        static const std::string k_block(64 * 1024, 'x');
        if (offset == 0) {
            const std::string head = R"({"pad":")";
            return sink.write(head.data(), head.size());
        }
        if (offset + k_block.size() + 2 >= size) {
            const std::string tail = "\"}";
            sink.write(tail.data(), tail.size());
            sink.done();
            return true;
        }
        return sink.write(k_block.data(), k_block.size());
    });
}

/// The error name of an error body ("" for a 200).
std::string error_name_of(const httplib::Response& res) {
    if (res.status == 200) return {};
    const Json body = Json::parse(res.body, nullptr, false);
    return body.is_object() && body.contains("error") ? body["error"].value("name", "") : "";
}

void api_route(httplib::Server& server, const char* path, Endpoint endpoint, ServeFn serve, ApiContext& context) {
    server.Get(path, [&context, endpoint, serve](const httplib::Request& req, httplib::Response& res) {
        RequestScope scope(context.stats, endpoint);
        context.faults.delay();
        bool truncated = false;
        bool huge = false;
        if (req.get_header_value(k_key_header) != context.key) {
            res.status = 400;
            res.set_content(error_body("OPENAPI00005", "Please input valid api key"), k_json);
        } else if (const auto error = context.faults.before_serving(endpoint)) {
            res.status = error->status;
            if (!error->retry_after.empty()) res.set_header("Retry-After", error->retry_after);
            res.set_content(error_body(error->code, error->message), k_json);
        } else {
            Answer answer = serve(context.dataset, req.params);
            res.status = answer.status;
            res.set_content(std::move(answer.body), k_json);
            if (res.status == 200 && context.faults.truncate_answer(endpoint)) {
                truncate_body(res);
                truncated = true;
            } else if (const std::size_t size = res.status == 200 ? context.faults.huge_answer(endpoint) : 0) {
                huge_body(res, size);
                huge = true;
            }
        }
        scope.answer(res.status, truncated, error_name_of(res), huge);
    });
}

}  // namespace

Answer serve_ranking(const Dataset& dataset, const httplib::Params& params) {
    const std::string date = param(params, "date");
    if (!is_valid_date(date)) return bad_parameter("date");
    int page = 1;
    if (params.count("page") != 0) {
        const std::string text = param(params, "page");
        const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), page);
        if (ec != std::errc() || end != text.data() + text.size() || page < 1) return bad_parameter("page");
    }
    return {200, dataset.ranking_page(date, page).dump()};
}

Answer serve_id(const Dataset& dataset, const httplib::Params& params) {
    const std::string name = param(params, "character_name");
    if (name.empty()) return bad_parameter("character_name");
    const Character* character = dataset.find_by_name(name);
    if (character == nullptr || character->name_refused) return bad_identifier("character_name");
    return {200, dataset.id_document(*character).dump()};
}

Answer serve_basic(const Dataset& dataset, const httplib::Params& params) {
    Answer error;
    const Character* character = detail_target(dataset, params, error);
    if (character == nullptr) return error;
    return {200, dataset.basic_document(*character, param(params, "date")).dump()};
}

Answer serve_item(const Dataset& dataset, const httplib::Params& params) {
    Answer error;
    const Character* character = detail_target(dataset, params, error);
    if (character == nullptr) return error;
    return {200, dataset.item_body(*character, param(params, "date"))};
}

void register_routes(httplib::Server& server, ApiContext& context) {
    api_route(server, "/maplestory/v1/ranking/overall", Endpoint::Ranking, serve_ranking, context);
    api_route(server, "/maplestory/v1/id", Endpoint::Id, serve_id, context);
    api_route(server, "/maplestory/v1/character/basic", Endpoint::Basic, serve_basic, context);
    api_route(server, "/maplestory/v1/character/item-equipment", Endpoint::Item, serve_item, context);

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
