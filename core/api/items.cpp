#include "core/api/items.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/util/text.hpp"

namespace pipeline::core {

ItemList::ItemList(const PhaseDef& def, std::shared_ptr<const StringTable> tuples)
    : m_def(&def), m_tuples(std::move(tuples)), m_width(def.fields.size()),
      m_tuple_count(m_width == 0 ? 1 : m_tuples->size() / m_width), m_combinations(def.combinations()),
      m_pages(def.pages > 0 ? static_cast<std::size_t>(def.pages) : 1) {}

int ItemList::page(std::size_t index) const {
    return m_def->pages > 0 ? static_cast<int>(index % m_pages) + 1 : 0;
}

// The value of the `param`-th query key (a list) for item `index`: the list keys are the digits of the
// item's combination number, the first key the most significant.
std::string_view ItemList::list_value(std::size_t param, std::size_t index) const {
    std::size_t combination = (index / m_pages) % m_combinations;
    std::size_t radix = m_combinations;
    for (std::size_t i = 0; i < m_def->query.size(); ++i) {
        const QueryParam& q = m_def->query[i];
        if (!q.list) {
            continue;
        }
        radix /= q.values.size();
        const std::size_t digit = combination / radix;
        combination %= radix;
        if (i == param) {
            return q.values[digit];
        }
    }
    return {};
}

std::string_view ItemList::value_of(std::string_view name, std::size_t index, std::string_view date,
                                    std::string& page) const {
    if (name == "date") {
        return date;
    }
    if (name == "page") {
        page = std::to_string(this->page(index));
        return page;
    }
    const auto field = std::ranges::find(m_def->fields, name);
    if (field == m_def->fields.end()) {
        return {}; // the config reader lets no other name through
    }
    const std::size_t tuple = index / (m_pages * m_combinations);
    return (*m_tuples)[tuple * m_width + static_cast<std::size_t>(field - m_def->fields.begin())];
}

std::string ItemList::fill(std::string_view text, std::size_t index, std::string_view date, bool encode) const {
    std::string out;
    out.reserve(text.size() + 32);
    std::string page;
    std::size_t at = 0;
    while (at < text.size()) {
        const std::size_t open = text.find('{', at);
        const std::size_t close = open == std::string_view::npos ? open : text.find('}', open);
        if (close == std::string_view::npos) {
            out += text.substr(at);
            break;
        }
        out += text.substr(at, open - at);
        const std::string_view value = value_of(text.substr(open + 1, close - open - 1), index, date, page);
        out += encode ? percent_encode(value) : std::string(value);
        at = close + 1;
    }
    return out;
}

std::string ItemList::url(std::string_view base_url, std::size_t index, std::string_view date) const {
    std::string url(base_url);
    url += fill(m_def->path, index, date, true);
    char separator = '?';
    for (std::size_t i = 0; i < m_def->query.size(); ++i) {
        const QueryParam& q = m_def->query[i];
        url += separator;
        url += percent_encode(q.key);
        url += '=';
        url += fill(q.list ? list_value(i, index) : std::string_view(q.values.front()), index, date, true);
        separator = '&';
    }
    return url;
}

ItemFields ItemList::fields(std::size_t index, std::string_view date) const {
    ItemFields out;
    std::vector<std::string> covered; // upstream fields a query key already shows
    for (std::size_t i = 0; i < m_def->query.size(); ++i) {
        const QueryParam& q = m_def->query[i];
        const std::string_view text = q.list ? list_value(i, index) : std::string_view(q.values.front());
        std::vector<std::string> named;
        collect_fields(text, named);
        if (q.list || !named.empty() || has_placeholder(text, "page")) {
            out.emplace_back(q.key, fill(text, index, date, false));
            covered.insert(covered.end(), named.begin(), named.end());
        }
    }
    for (const std::string& field : m_def->fields) {
        if (std::ranges::find(covered, field) == covered.end()) {
            out.emplace_back(field, fill("{" + field + "}", index, date, false));
        }
    }
    const bool page_shown = std::ranges::any_of(out, [&](const auto& f) { return f.first == "page"; }) ||
                            std::ranges::any_of(m_def->query, [](const QueryParam& q) {
                                return std::ranges::any_of(q.values, [](const std::string& v) {
                                    return has_placeholder(v, "page");
                                });
                            });
    if (!page_shown && has_placeholder(m_def->path, "page")) {
        out.emplace_back("page", std::to_string(page(index)));
    }
    return out;
}

std::string ItemList::describe(std::size_t index, std::string_view date) const {
    ItemFields own = fields(index, date);
    if (own.size() == 1) {
        return std::move(own.front().second);
    }
    nlohmann::ordered_json object = nlohmann::ordered_json::object();
    for (auto& [key, value] : own) {
        object[key] = std::move(value);
    }
    return object.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void PageEnds::ended_at(const ItemList& items, std::size_t index) {
    const int page = items.page(index);
    const auto [at, added] = m_ends.try_emplace(items.first_page_of(index), page);
    if (!added) {
        at->second = std::min(at->second, page);
    }
}

bool PageEnds::past_end(const ItemList& items, std::size_t index) const {
    const auto found = m_ends.find(items.first_page_of(index));
    return found != m_ends.end() && items.page(index) > found->second;
}

} // namespace pipeline::core
