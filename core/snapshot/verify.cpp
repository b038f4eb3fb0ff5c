#include "core/snapshot/verify.hpp"

#include <openssl/evp.h>
#include <simdjson.h>

#include <cstring>
#include <memory>
#include <set>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/snapshot/codec.hpp"
#include "core/snapshot/decompressor.hpp"
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

VerifyResult bad(VerifyResult result, std::string file, std::string reason) {
    result.status = VerifyStatus::Bad;
    result.file = std::move(file);
    result.reason = std::move(reason);
    return result;
}

} // namespace

// Decompressing and parsing JSON take about as long as each other, so the lines are checked on a second
// thread while this one reads, hashes and decompresses: verify then keeps pace with `zstd -d` alone.
PartCheck check_part(Sink& sink, const std::string& key, const ChunkEntry& entry) {
    PartCheck check;
    Sha256 hash;
    LineChecker lines;
    const std::unique_ptr<Decompressor> decompressor =
        make_decompressor(compression_of(base_name(key)).value_or(Compression::None));
    std::optional<std::string> decode_problem;

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
    const bool found = sink.read(key, [&](std::string_view piece) {
        check.bytes += piece.size();
        hash.update(piece);
        if (decode_problem) {
            return; // keep hashing: a wrong size or sha256 is the better explanation
        }
        try {
            decompressor->add(piece, to_lines);
        } catch (const Error& e) {
            decode_problem = e.what();
        }
    });
    blocks.push(std::move(block));
    blocks.close();
    checker.join();
    checker = std::thread(); // the guard's join() is now a no-op
    if (!found) {
        check.problem = "missing (listed in the manifest)";
        return check;
    }
    check.sha256 = hash.hex();
    if (!decode_problem) {
        try {
            decompressor->finish();
        } catch (const Error& e) {
            decode_problem = e.what();
        }
    }
    lines.finish();
    check.lines = lines.lines();
    if (check.bytes != entry.bytes) {
        check.problem = "size " + std::to_string(check.bytes) + " bytes, manifest says " + std::to_string(entry.bytes);
    } else if (check.sha256 != entry.sha256) {
        check.problem = "sha256 " + check.sha256 + " does not match the manifest's " + entry.sha256;
    } else if (decode_problem) {
        check.problem = *decode_problem;
    } else if (lines.problem()) {
        check.problem = *lines.problem();
    } else if (check.lines != entry.records) {
        check.problem = "holds " + std::to_string(check.lines) + " records, manifest says " +
                        std::to_string(entry.records);
    }
    return check;
}

VerifyResult verify_phase(Sink& sink, const std::string& phase, const std::string& date) {
    VerifyResult result;
    result.phase = phase;
    const std::string phase_prefix = date + "/" + phase + "/";
    const std::vector<std::string> keys = sink.list(phase_prefix);
    // Run ids sort by start time, so the newest run is the greatest folder name.
    for (const std::string& key : keys) {
        const std::size_t slash = key.find('/', phase_prefix.size());
        if (slash != std::string::npos) {
            result.run_id = std::max(result.run_id, key.substr(phase_prefix.size(), slash - phase_prefix.size()));
        }
    }
    if (result.run_id.empty()) {
        return result; // MISSING
    }
    const std::string prefix = run_prefix(date, phase, result.run_id);
    const std::string manifest_name(k_manifest_name);
    const std::optional<std::string> text = sink.get(prefix + manifest_name);
    if (!text) {
        return bad(result, manifest_name, "missing (the run is in progress, or died before finishing)");
    }
    Manifest manifest;
    try {
        const nlohmann::json json = nlohmann::json::parse(*text);
        manifest = manifest_from_json(json, manifest_name);
    } catch (const std::exception& e) {
        return bad(result, manifest_name, std::string("cannot be parsed: ") + e.what());
    }
    result.state = std::string(state_name(manifest.state));
    if (manifest.phase != phase || manifest.date != date || manifest.run_id != result.run_id) {
        return bad(result, manifest_name, "names " + manifest.phase + " " +
                                              manifest.date + " " + manifest.run_id + ", not its own folder");
    }

    std::set<std::string> listed;
    std::uint64_t total = 0;
    for (const ChunkEntry& chunk : manifest.chunks) {
        if (!is_chunk_name(chunk.name) || chunk.name.find('/') != std::string::npos || !listed.insert(chunk.name).second) {
            return bad(result, manifest_name, "lists a bad or repeated chunk name '" + chunk.name + "'");
        }
        const PartCheck check = check_part(sink, prefix + chunk.name, chunk);
        if (check.problem) {
            return bad(result, chunk.name, *check.problem);
        }
        total += check.lines;
    }
    if (manifest.state != RunState::Running) {
        for (const std::string& key : keys) {
            if (key.starts_with(prefix) && is_chunk_name(base_name(key)) && !listed.contains(base_name(key))) {
                return bad(result, base_name(key), "not listed in the manifest");
            }
        }
    }
    if (total != manifest.records) {
        return bad(result, manifest_name,
                   "records says " + std::to_string(manifest.records) + ", the chunks hold " + std::to_string(total));
    }
    result.status = VerifyStatus::Ok;
    result.records = total;
    result.chunks = manifest.chunks.size();
    return result;
}

std::string_view verify_status_name(VerifyStatus status) {
    switch (status) {
    case VerifyStatus::Ok:
        return "OK";
    case VerifyStatus::Bad:
        return "BAD";
    case VerifyStatus::Missing:
        break;
    }
    return "MISSING";
}

std::string verify_line(const VerifyResult& r) {
    const std::string phase(r.phase);
    switch (r.status) {
    case VerifyStatus::Ok:
        return "OK " + phase + " " + r.run_id + " " + std::to_string(r.records) + " records in " +
               std::to_string(r.chunks) + " chunks";
    case VerifyStatus::Bad:
        return "BAD " + phase + " " + r.run_id + " " + r.file + ": " + r.reason;
    case VerifyStatus::Missing:
        break;
    }
    return "MISSING " + phase;
}

} // namespace pipeline::core
