#include "core/snapshot/verify.hpp"

#include <simdjson.h>

#include <cstring>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/snapshot/codec.hpp"
#include "core/snapshot/decompressor.hpp"
#include "core/snapshot/part_reader.hpp"
#include "core/util/bounded_queue.hpp"
#include "core/util/error.hpp"

namespace pipeline::core {

namespace {

/// Splits decompressed bytes into lines and checks that each is a JSON object. The buffer always keeps
/// simdjson's padding readable after its content, so lines are parsed where they lie, without a copy.
class LineChecker {
  public:
    void add(std::string_view piece) {
        if (m_problem || piece.empty()) {
            return;
        }
        reserve(m_size + piece.size());
        std::memcpy(m_buffer.data() + m_size, piece.data(), piece.size());
        const std::size_t scan_from = m_size;
        m_size += piece.size();
        std::size_t start = 0;
        const char* at = m_buffer.data() + scan_from;
        const char* end = m_buffer.data() + m_size;
        while (const void* found = std::memchr(at, '\n', static_cast<std::size_t>(end - at))) {
            const char* newline = static_cast<const char*>(found);
            const std::size_t line_end = static_cast<std::size_t>(newline - m_buffer.data());
            check_line(start, line_end - start);
            if (m_problem) {
                return;
            }
            start = line_end + 1;
            at = newline + 1;
        }
        if (start > 0) {
            std::memmove(m_buffer.data(), m_buffer.data() + start, m_size - start);
            m_size -= start;
        }
    }

    /// Checks an unterminated last line; afterwards lines() is final.
    void finish() {
        if (!m_problem && m_size > 0) {
            check_line(0, m_size);
            m_size = 0;
        }
    }

    std::uint64_t lines() const { return m_lines; }
    const std::optional<std::string>& problem() const { return m_problem; }

  private:
    void reserve(std::size_t size) {
        if (m_buffer.size() < size + simdjson::SIMDJSON_PADDING) {
            m_buffer.resize(std::max(m_buffer.size() * 2, size + simdjson::SIMDJSON_PADDING));
        }
    }

    void check_line(std::size_t start, std::size_t length) {
        ++m_lines;
        simdjson::dom::element root;
        if (m_parser.parse(m_buffer.data() + start, length, false).get(root) != simdjson::SUCCESS) {
            m_problem = "line " + std::to_string(m_lines) + " is not valid JSON";
        } else if (root.type() != simdjson::dom::element_type::OBJECT) {
            m_problem = "line " + std::to_string(m_lines) + " is not a JSON object";
        }
    }

    simdjson::dom::parser m_parser;
    std::vector<char> m_buffer;
    std::size_t m_size = 0;
    std::uint64_t m_lines = 0;
    std::optional<std::string> m_problem;
};

std::string base_name(const std::string& key) {
    const std::size_t slash = key.rfind('/');
    return slash == std::string::npos ? key : key.substr(slash + 1);
}

void set_bad(VerifyResult& result, std::string file, std::string reason) {
    result.status = VerifyStatus::Bad;
    result.file = std::move(file);
    result.reason = std::move(reason);
}

/// The manifest of the run result.run_id names; nullopt with `result` BAD when it is missing or unreadable.
std::optional<Manifest> load_manifest(Sink& sink, VerifyResult& result, const std::string& date) {
    const std::string manifest_name(k_manifest_name);
    const std::optional<std::string> text =
        sink.get(run_prefix(date, result.phase, result.run_id) + manifest_name);
    if (!text) {
        set_bad(result, manifest_name, "missing (the run is in progress, or died before finishing)");
        return std::nullopt;
    }
    Manifest manifest;
    try {
        manifest = manifest_from_json(nlohmann::json::parse(*text), manifest_name);
    } catch (const std::exception& e) {
        set_bad(result, manifest_name, std::string("cannot be parsed: ") + e.what());
        return std::nullopt;
    }
    result.state = std::string(state_name(manifest.state));
    if (manifest.phase != result.phase || manifest.date != date || manifest.run_id != result.run_id) {
        set_bad(result, manifest_name,
                "names " + manifest.phase + " " + manifest.date + " " + manifest.run_id +
                    ", not its own folder");
        return std::nullopt;
    }
    return manifest;
}

/// Checks _current.json (`current`, as read) against the run it names (`manifest`) and the newest COMPLETED
/// run; leaves `result` BAD naming _current.json when it is stale or wrong.
void check_current(Sink& sink, VerifyResult& result, const Manifest& current, const Manifest& manifest) {
    const std::string file(k_current_name);
    if (manifest.state != RunState::Completed) {
        set_bad(result, file, "names run " + current.run_id + ", whose manifest says " + result.state);
    } else if (manifest_to_json(current) != manifest_to_json(manifest)) {
        set_bad(result, file, "differs from " + manifest.run_id + "/" + std::string(k_manifest_name));
    } else if (const std::optional<Manifest> newest =
                   newest_completed_manifest(sink, result.phase, manifest.date);
               newest && newest->finished_at > current.finished_at) {
        // finished_at has whole seconds: a run that completed in the same second as the current one is not
        // "after it" (_current.json follows the order of completion, which such manifests cannot tell).
        set_bad(result, file,
                "names run " + current.run_id + ", but run " + newest->run_id + " completed after it");
    }
}

/// Checks every part `manifest` lists, and (unless the run is still going) that no part is unlisted; sets
/// `result` OK or INCOMPLETE with the counts, or BAD.
void check_parts(Sink& sink, VerifyResult& result, const Manifest& manifest,
                 const std::vector<std::string>& keys, bool live) {
    const std::string prefix = run_prefix(manifest.date, manifest.phase, manifest.run_id);
    const std::string manifest_name(k_manifest_name);
    std::set<std::string> listed;
    std::uint64_t total = 0;
    for (const ChunkEntry& chunk : manifest.chunks) {
        if (!is_chunk_name(chunk.name) || chunk.name.find('/') != std::string::npos ||
            !listed.insert(chunk.name).second) {
            return set_bad(result, manifest_name, "lists a bad or repeated chunk name '" + chunk.name + "'");
        }
        const PartCheck check = check_part(sink, prefix + chunk.name, chunk);
        if (check.problem) {
            return set_bad(result, chunk.name, *check.problem);
        }
        total += check.lines;
    }
    if (manifest.state != RunState::Running && !live) {
        for (const std::string& key : keys) {
            if (key.starts_with(prefix) && is_chunk_name(base_name(key)) &&
                !listed.contains(base_name(key))) {
                return set_bad(result, base_name(key), "not listed in the manifest");
            }
        }
    }
    if (total != manifest.records) {
        return set_bad(result, manifest_name,
                       "records says " + std::to_string(manifest.records) + ", the chunks hold " +
                           std::to_string(total));
    }
    result.status =
        manifest.state == RunState::Completed && !live ? VerifyStatus::Ok : VerifyStatus::Incomplete;
    result.records = total;
    result.chunks = manifest.chunks.size();
}

} // namespace

// Decompressing and parsing JSON take about as long as each other, so the lines are checked on a second
// thread while this one reads, hashes and decompresses: verify then keeps pace with `zstd -d` alone.
PartCheck check_part(Sink& sink, const std::string& key, const ChunkEntry& entry) {
    PartCheck check;
    LineChecker lines;
    constexpr std::size_t k_block = 1u << 20;
    BoundedQueue<std::string> blocks(16); // room to run ahead while the checker waits for a core
    std::thread checker([&blocks, &lines] {
        while (!blocks.drained()) {
            if (std::optional<std::string> block = blocks.pop(std::chrono::milliseconds(100))) {
                lines.add(*block);
            }
        }
    });
    struct Join {
        BoundedQueue<std::string>& queue;
        std::thread& thread;
        ~Join() {
            queue.close();
            if (thread.joinable()) {
                thread.join();
            }
        }
    } join{blocks, checker};

    std::string block;
    const Decompressor::Output to_lines = [&block, &blocks](std::string_view piece) {
        block.append(piece);
        if (block.size() >= k_block) {
            blocks.push(std::move(block));
            block = std::string();
            block.reserve(k_block + (1u << 17));
        }
    };
    const PartRead read = read_part(sink, key, entry, to_lines);
    blocks.push(std::move(block));
    blocks.close();
    checker.join();
    lines.finish();
    check.bytes = read.bytes;
    check.sha256 = read.sha256;
    check.lines = lines.lines();
    if (read.problem) {
        check.problem = read.problem;
    } else if (lines.problem()) {
        check.problem = *lines.problem();
    } else if (check.lines != entry.records) {
        check.problem = "holds " + std::to_string(check.lines) + " records, manifest says " +
                        std::to_string(entry.records);
    }
    return check;
}

VerifyResult verify_phase(Sink& sink, const std::string& phase, const std::string& date,
                          const std::optional<LiveRun>& live) {
    VerifyResult result;
    result.phase = phase;
    const std::string phase_prefix = date + "/" + phase + "/";
    const std::vector<std::string> keys = sink.list(phase_prefix);
    std::set<std::string> runs; // run ids sort by start time: the newest run is the last
    for (const std::string& key : keys) {
        const std::size_t slash = key.find('/', phase_prefix.size());
        if (slash != std::string::npos) {
            runs.insert(key.substr(phase_prefix.size(), slash - phase_prefix.size()));
        }
    }
    // Read whether or not the listing shows it: a local listing leaves out what is not a regular file.
    std::optional<Manifest> current;
    try {
        current = read_current(sink, phase, date);
    } catch (const Error& e) {
        result.run_id = runs.empty() ? "-" : *runs.rbegin();
        set_bad(result, std::string(k_current_name), e.what());
        return result;
    }
    if (runs.empty() && !current) {
        return result; // MISSING
    }
    if (current) {
        result.run_id = current->run_id;
    } else if (const std::optional<Manifest> completed = newest_completed_manifest(sink, phase, date)) {
        result.run_id = completed->run_id;
        set_bad(result, std::string(k_current_name), "missing, but run " + completed->run_id + " COMPLETED");
        return result;
    } else {
        result.run_id = *runs.rbegin();
    }
    const bool is_live = live && live->run_id == result.run_id && !current;
    if (is_live && !sink.get(run_prefix(date, phase, result.run_id) + std::string(k_manifest_name))) {
        // Its first manifest comes at its end; until then the ledger's committed counts are all there is.
        result.status = VerifyStatus::Incomplete;
        result.state = "RUNNING";
        result.records = live->records;
        result.chunks = live->chunks;
        return result;
    }
    const std::optional<Manifest> manifest = load_manifest(sink, result, date);
    if (!manifest) {
        return result;
    }
    if (current) {
        check_current(sink, result, *current, *manifest);
        if (result.status == VerifyStatus::Bad) {
            return result;
        }
    }
    check_parts(sink, result, *manifest, keys, is_live);
    if (is_live && result.status == VerifyStatus::Incomplete) {
        result.state = "RUNNING"; // resumed: its manifest still says how it ended last time
    }
    return result;
}

std::string_view verify_status_name(VerifyStatus status) {
    switch (status) {
    case VerifyStatus::Ok:
        return "OK";
    case VerifyStatus::Incomplete:
        return "INCOMPLETE";
    case VerifyStatus::Bad:
        return "BAD";
    case VerifyStatus::Missing:
        break;
    }
    return "MISSING";
}

std::string verify_line(const VerifyResult& r) {
    const std::string phase(r.phase);
    const std::string counts =
        std::to_string(r.records) + " records in " + std::to_string(r.chunks) + " chunks";
    switch (r.status) {
    case VerifyStatus::Ok:
        return "OK " + phase + " " + r.run_id + " " + counts;
    case VerifyStatus::Incomplete:
        return "INCOMPLETE " + phase + " " + r.run_id + " " + r.state + ": " + counts;
    case VerifyStatus::Bad:
        return "BAD " + phase + " " + r.run_id + " " + r.file + ": " + r.reason;
    case VerifyStatus::Missing:
        break;
    }
    return "MISSING " + phase;
}

} // namespace pipeline::core
