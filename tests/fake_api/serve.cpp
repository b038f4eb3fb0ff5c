// The fault-free answer of every endpoint: parameters checked as the live API checks them (docs/fake-api.md).
#include "serve.hpp"

#include <array>
#include <charconv>

namespace fake_api {

namespace {

/// A query parameter some endpoint requires, with the values it accepts (listed once, for every use).
struct RequiredParam {
    std::string_view tail;   ///< character/<tail>
    std::string_view name;   ///< the parameter
    std::array<std::string_view, 11> values;
};

constexpr std::array<RequiredParam, 1> k_required_params{{
    {"skill",
     "character_skill_grade",
     {"0", "1", "1.5", "2", "2.5", "3", "4", "hyperpassive", "hyperactive", "5", "6"}},
}};

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

/// The 1-based page parameter (1 when absent); false if it is not a positive integer.
bool page_of(const httplib::Params& params, int& page) {
    page = 1;
    if (params.count("page") == 0) return true;
    const std::string text = param(params, "page");
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), page);
    return ec == std::errc() && end == text.data() + text.size() && page >= 1;
}

/// character/<x> and user/<x>: the checks of basic, then the parameter the endpoint requires, if any.
Answer serve_detail(const Dataset& dataset, const Query& query, std::string_view family) {
    Answer error;
    const Character* character = detail_target(dataset, query.params, error);
    if (character == nullptr) return error;
    std::string grade;
    for (const RequiredParam& required : k_required_params) {
        if (family != "character" || required.tail != query.tail) continue;
        grade = param(query.params, std::string(required.name));
        bool known = false;
        for (std::string_view value : required.values) known = known || (!value.empty() && value == grade);
        if (!known) return bad_parameter(required.name);
    }
    const std::string date = param(query.params, "date");
    return {200, dataset.detail_document(*character, family, query.tail, date, grade).dump()};
}

}  // namespace

Answer serve_ranking(const Dataset& dataset, const Query& query) {
    const std::string date = param(query.params, "date");
    if (!is_valid_date(date)) return bad_parameter("date");
    int page = 1;
    if (!page_of(query.params, page)) return bad_parameter("page");
    return {200, dataset.ranking_page(date, page).dump()};
}

Answer serve_guild_ranking(const Dataset& dataset, const Query& query) {
    const std::string date = param(query.params, "date");
    if (!is_valid_date(date)) return bad_parameter("date");
    const std::string type = param(query.params, "ranking_type");
    if (type.size() != 1 || type[0] < '0' || type[0] >= '0' + Dataset::k_guild_ranking_types) {
        return bad_parameter("ranking_type");
    }
    int page = 1;
    if (!page_of(query.params, page)) return bad_parameter("page");
    return {200, dataset.guild_ranking_page(date, type[0] - '0', page).dump()};
}

Answer serve_other_ranking(const Dataset& dataset, const Query& query) {
    if (!Dataset::has_other_ranking(query.tail)) return serve_unknown(dataset, query);
    const std::string date = param(query.params, "date");
    if (!is_valid_date(date)) return bad_parameter("date");
    int page = 1;
    if (!page_of(query.params, page)) return bad_parameter("page");
    return {200, dataset.other_ranking_page(query.tail, date, page).dump()};
}

Answer serve_id(const Dataset& dataset, const Query& query) {
    const std::string name = param(query.params, "character_name");
    if (name.empty()) return bad_parameter("character_name");
    const Character* character = dataset.find_by_name(name);
    if (character == nullptr || character->name_refused) return bad_identifier("character_name");
    return {200, dataset.id_document(*character).dump()};
}

Answer serve_basic(const Dataset& dataset, const Query& query) {
    Answer error;
    const Character* character = detail_target(dataset, query.params, error);
    if (character == nullptr) return error;
    return {200, dataset.basic_document(*character, param(query.params, "date")).dump()};
}

Answer serve_item(const Dataset& dataset, const Query& query) {
    Answer error;
    const Character* character = detail_target(dataset, query.params, error);
    if (character == nullptr) return error;
    return {200, dataset.item_body(*character, param(query.params, "date"))};
}

Answer serve_character(const Dataset& dataset, const Query& query) {
    return serve_detail(dataset, query, "character");
}

Answer serve_user(const Dataset& dataset, const Query& query) {
    return serve_detail(dataset, query, "user");
}

Answer serve_guild_id(const Dataset& dataset, const Query& query) {
    const std::string name = param(query.params, "guild_name");
    const std::string world = param(query.params, "world_name");
    if (name.empty()) return bad_parameter("guild_name");
    if (world.empty()) return bad_parameter("world_name");
    const Guild* guild = dataset.find_guild(name, world);
    if (guild == nullptr) return bad_identifier("guild_name");
    return {200, dataset.guild_id_document(*guild).dump()};
}

Answer serve_guild_basic(const Dataset& dataset, const Query& query) {
    const std::string id = param(query.params, "oguild_id");
    if (id.empty()) return bad_parameter("oguild_id");
    const std::string date = param(query.params, "date");
    if (!is_valid_date(date)) return bad_parameter("date");
    const Guild* guild = dataset.find_guild_by_id(id);
    if (guild == nullptr) return bad_identifier("oguild_id");
    return {200, dataset.guild_document(*guild, date).dump()};
}

Answer serve_unknown(const Dataset&, const Query&) {
    return {400, error_body("OPENAPI00006", "Please input valid path")};
}

}  // namespace fake_api
