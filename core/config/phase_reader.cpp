#include "core/config/phase_reader.hpp"

#include <algorithm>

#include "core/util/text.hpp"

namespace pipeline::core {

namespace {

// A definition and the nodes its errors point at.
struct ReadPhase {
    PhaseDef def;
    YAML::Node name_node;
    YAML::Node body;
};

// The node at `key` of `map`, read without adding it (yaml-cpp's non-const [] would).
YAML::Node child(const YAML::Node& map, const char* key) { return map[key]; }

// A query value is a scalar (strings, numbers) or a list of them; a number keeps the text the file gives.
QueryParam read_param(const Reader& r, const std::string& key, const YAML::Node& value, const std::string& where) {
    QueryParam param;
    param.key = key;
    if (value.IsSequence()) {
        param.list = true;
        if (value.size() == 0) {
            r.fail(value, "'" + where + "' is an empty list: give at least one value");
        }
        for (const YAML::Node& element : value) {
            param.values.push_back(r.get<std::string>(element, where, "a list of strings or numbers"));
        }
    } else {
        param.values.push_back(r.get<std::string>(value, where, "a string, a number or a list of them"));
    }
    return param;
}

ReadPhase read_one(const Reader& r, const YAML::Node& name_node, const YAML::Node& body) {
    ReadPhase read{PhaseDef{}, name_node, body};
    PhaseDef& def = read.def;
    def.name = name_node.as<std::string>();
    def.line = name_node.Mark().line + 1;
    const std::string at = "phases." + def.name;
    if (body.IsNull()) {
        r.fail(name_node, "'" + at + "' is empty: give at least its 'path'");
    }
    if (!is_phase_name(def.name)) {
        r.fail(name_node, "'" + escape_controls(def.name) +
                              "' is not a phase name: an upper-case letter, then up to 31 upper-case letters, "
                              "digits or '_' (like CHARACTER_STAT)");
    }
    r.check_keys(body, at, {"path", "query", "upstream", "pages", "rows", "expect", "record", "reuse_days"});
    for (const auto& entry : body) {
        const std::string key = entry.first.as<std::string>();
        const std::string name = at + "." + key;
        const YAML::Node& v = entry.second;
        if (key == "path") {
            def.path = r.string(v, name);
            if (!def.path.starts_with('/')) {
                r.fail(v, "'" + name + "' must start with '/', got '" + escape_controls(def.path) + "'");
            }
        } else if (key == "query") {
            if (!v.IsMap()) {
                r.fail(v, "'" + name + "' must be a mapping of parameter names to values");
            }
            r.check_plain_keys(v, name);
        } else if (key == "upstream") {
            def.upstream = r.string(v, name);
        } else if (key == "pages") {
            def.pages = static_cast<int>(r.integer(v, name, 1, 100000));
        } else if (key == "rows") {
            def.rows = r.string(v, name);
        } else if (key == "expect") {
            def.expect = r.string(v, name);
        } else if (key == "record") {
            const std::string shape = r.string(v, name);
            if (shape != "wrap" && shape != "merge") {
                r.fail(v, "'" + name + "' must be 'wrap' or 'merge', got '" + escape_controls(shape) + "'");
            }
            def.record = shape == "merge" ? RecordShape::Merge : RecordShape::Wrap;
        } else if (key == "reuse_days") {
            def.reuse_days = static_cast<int>(r.integer(v, name, 0, 3650));
        }
    }
    if (def.path.empty()) {
        r.fail(name_node, "'" + at + "' has no 'path' (the endpoint, such as /maplestory/v1/character/stat)");
    }
    return read;
}

// The rules that need the whole definition: placeholders, pages, rows, reuse.
void check_one(const Reader& r, ReadPhase& read) {
    PhaseDef& def = read.def;
    const std::string at = "phases." + def.name;
    if (!collect_fields(def.path, def.fields)) {
        r.fail(child(read.body, "path"), "'" + at + ".path' has a placeholder that is empty or not closed");
    }
    bool names_date = has_placeholder(def.path, "date");
    bool names_page = has_placeholder(def.path, "page");
    const YAML::Node query = child(read.body, "query");
    for (const auto& entry : query) {
        const std::string key = entry.first.as<std::string>();
        const std::string where = at + ".query." + key;
        QueryParam param = read_param(r, key, entry.second, where);
        for (const std::string& value : param.values) {
            if (!collect_fields(value, def.fields)) {
                r.fail(entry.second, "'" + where + "' has a placeholder that is empty or not closed");
            }
            names_date = names_date || has_placeholder(value, "date");
            names_page = names_page || has_placeholder(value, "page");
        }
        def.query.push_back(std::move(param));
    }
    if (def.upstream.empty() && def.pages == 0) {
        r.fail(read.name_node, "'" + at + "' has neither 'upstream' nor 'pages': say where its items come from");
    }
    if (!def.rows.empty() && def.pages == 0) {
        r.fail(child(read.body, "rows"), "'" + at + ".rows' needs 'pages' (rows are read from paged answers)");
    }
    if (names_page && def.pages == 0) {
        r.fail(child(read.body, "query") ? child(read.body, "query") : child(read.body, "path"),
               "'" + at + "' names {page} but has no 'pages'");
    }
    if (def.pages > 0 && !names_page) {
        r.fail(child(read.body, "pages"), "'" + at + ".pages' is set but neither path nor query names {page}");
    }
    if (def.upstream.empty() && !def.fields.empty()) {
        r.fail(read.name_node, "'" + at + "' names {" + def.fields.front() +
                                   "}, a field of an upstream record, but has no 'upstream'");
    }
    if (!def.upstream.empty() && def.fields.empty()) {
        r.fail(child(read.body, "upstream"), "'" + at + "' reads " + def.upstream +
                                          " but names none of its fields ({field}) in path or query");
    }
    if (def.reuse_days > 0 && names_date) {
        r.fail(child(read.body, "reuse_days"), "'" + at + ".reuse_days' needs a request that does not depend on the "
                                                   "date, but the phase names {date}");
    }
    if (!def.rows.empty() && child(read.body, "record")) {
        r.fail(child(read.body, "record"), "'" + at + ".record' does not apply with 'rows' (rows are written as returned)");
    }
}

// Every upstream names another phase (all checked first), and following upstreams never comes back to where
// it started.
void check_upstreams(const Reader& r, const std::vector<ReadPhase>& phases) {
    const auto find = [&](const std::string& name) {
        return std::ranges::find_if(phases, [&](const ReadPhase& p) { return p.def.name == name; });
    };
    for (const ReadPhase& read : phases) {
        const std::string& up = read.def.upstream;
        if (!up.empty() && find(up) == phases.end()) {
            r.fail(child(read.body, "upstream"), "'phases." + read.def.name + ".upstream' names '" +
                                                     escape_controls(up) + "', which is not a phase of this file");
        }
    }
    for (const ReadPhase& read : phases) {
        std::string path = read.def.name;
        std::string at = read.def.upstream;
        for (std::size_t steps = 0; !at.empty() && steps <= phases.size(); ++steps) {
            path += " -> " + at;
            if (at == read.def.name) {
                r.fail(child(read.body, "upstream"), "'phases." + read.def.name + ".upstream' makes a cycle: " + path);
            }
            at = find(at)->def.upstream;
        }
    }
}

} // namespace

std::vector<PhaseDef> read_phases(const Reader& r, const YAML::Node& node) {
    if (!node.IsMap() || node.size() == 0) {
        r.fail(node, "'phases' must be a mapping of phase names to definitions (or left out for the built-in four)");
    }
    r.check_plain_keys(node, "phases");
    std::vector<ReadPhase> phases;
    for (const auto& entry : node) {
        const std::string name = entry.first.as<std::string>();
        if (std::ranges::any_of(phases, [&](const ReadPhase& p) { return p.def.name == name; })) {
            r.fail(entry.first, "phase '" + escape_controls(name) + "' is defined twice");
        }
        phases.push_back(read_one(r, entry.first, entry.second));
    }
    for (ReadPhase& read : phases) {
        check_one(r, read);
    }
    check_upstreams(r, phases);
    std::vector<PhaseDef> defs;
    defs.reserve(phases.size());
    for (ReadPhase& read : phases) {
        defs.push_back(std::move(read.def));
    }
    return in_phase_order(std::move(defs));
}

} // namespace pipeline::core
