#include "core/state/quota.hpp"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/snapshot/codec.hpp"
#include "core/util/atomic_file.hpp"
#include "core/util/error.hpp"
#include "core/util/file_lock.hpp"
#include "core/util/json_fields.hpp"
#include "core/util/text.hpp"

namespace pipeline::core {

using nlohmann::json;

namespace {

constexpr std::string_view k_fingerprint_prefix = "sha256:";
constexpr std::size_t k_fingerprint_hex = 16;

std::string today() {
    return format_date(api_today(calendar_now()));
}

bool is_fingerprint(std::string_view key) {
    if (!key.starts_with(k_fingerprint_prefix) ||
        key.size() != k_fingerprint_prefix.size() + k_fingerprint_hex) {
        return false;
    }
    return std::ranges::all_of(key.substr(k_fingerprint_prefix.size()),
                               [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The calls of one day, by key fingerprint.
struct Counts {
    std::string day;
    std::map<std::string, std::uint64_t> calls;
};

// Reads {"day": "YYYY-MM-DD", "calls": {fingerprint: count}} field by field, like the ledger: a damaged file
// is an error naming the file and the field, never a silently reset budget. An empty file (left by versions
// that created the file before counting) holds no counts. Other top-level fields are ignored.
Counts parse_counts(const std::string& text, const std::filesystem::path& path) {
    if (text.empty()) {
        return Counts{};
    }
    const json root = json::parse(text, nullptr, false);
    if (root.is_discarded()) {
        throw Error(ExitCode::Failed, path.string() +
                                          ": the call budget file is not valid JSON (fix it, or remove it to "
                                          "forget today's counts)");
    }
    const JsonFields fields(root, path.string());
    Counts counts;
    counts.day = fields.string("day", 64);
    if (!parse_date(counts.day)) {
        fields.fail("day", "'" + escape_controls(counts.day) + "' is not a date YYYY-MM-DD");
    }
    const std::optional<JsonFields> calls = fields.optional_object("calls");
    if (!calls) {
        fields.fail("calls", "missing (an object of call counts by key fingerprint is required)");
    }
    for (const auto& item : root.at("calls").items()) {
        const std::string& key = item.key();
        if (!is_fingerprint(key)) {
            calls->fail(key, "not a key fingerprint (sha256: and 16 lower-case hex digits)");
        }
        counts.calls[key] = calls->uint(key);
    }
    return counts;
}

json to_json(const Counts& counts) {
    json calls = json::object();
    for (const auto& [key, value] : counts.calls) {
        calls[key] = value;
    }
    return json{{"day", counts.day}, {"calls", calls}};
}

// The file's counts for `day`: another day's are history and start again from zero.
Counts counts_of_day(const std::filesystem::path& path, const std::string& day) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        return Counts{day, {}};
    }
    Counts counts = parse_counts(read_file(path), path);
    if (counts.day != day) {
        return Counts{day, {}};
    }
    return counts;
}

// The calls of one key, or of every key when `fingerprint` is empty (saturating: the file may be damaged).
std::uint64_t used_by(const Counts& counts, const std::string& fingerprint) {
    std::uint64_t used = 0;
    for (const auto& [key, value] : counts.calls) {
        if (fingerprint.empty() || key == fingerprint) {
            used = value > UINT64_MAX - used ? UINT64_MAX : used + value;
        }
    }
    return used;
}

} // namespace

std::string key_fingerprint(std::string_view key) {
    return std::string(k_fingerprint_prefix) + sha256_hex(key).substr(0, k_fingerprint_hex);
}

std::filesystem::path quota_path(const RunDir& run_dir) {
    return run_dir.root() / "quota.json";
}

std::filesystem::path quota_lock_path(const RunDir& run_dir) {
    return run_dir.root() / "quota.lock";
}

// quota.json is only ever replaced whole by a rename, so a reader without the lock sees the old or the new
// file, never half of one: status never waits for a run.
QuotaUse read_quota(const RunDir& run_dir, const std::string& fingerprint, std::uint64_t limit) {
    const std::string day = today();
    return QuotaUse{day, used_by(counts_of_day(quota_path(run_dir), day), fingerprint), limit};
}

DailyQuota::DailyQuota(RunDir run_dir, std::string fingerprint, std::uint64_t limit, std::uint64_t batch)
    : m_run_dir(std::move(run_dir)), m_fingerprint(std::move(fingerprint)), m_limit(limit),
      m_batch(std::max<std::uint64_t>(batch, 1)) {}

DailyQuota::~DailyQuota() {
    if (m_claimed == 0) {
        return;
    }
    try {
        const FileLock file_lock = FileLock::acquire(quota_lock_path(m_run_dir));
        const std::filesystem::path path = quota_path(m_run_dir);
        Counts counts = counts_of_day(path, m_claimed_day);
        const std::uint64_t used = used_by(counts, m_fingerprint);
        if (counts.day == m_claimed_day && used > 0) { // a new day starts from zero: nothing to give back
            counts.calls[m_fingerprint] = used - std::min(used, m_claimed);
            write_file_atomically(path, to_json(counts).dump() + "\n");
        }
    } catch (const std::exception& e) {
        spdlog::warn("could not give {} unused calls back to the daily budget: {}", m_claimed, e.what());
    }
}

// Under the lock file, read, claim the next batch and replace the file whole (temporary, fsync, rename, fsync
// the folder: core/util/atomic_file.hpp), so a crash keeps the last count and never leaves a torn file. The
// fsyncs cost a few milliseconds, once a batch (docs/live-api.md).
bool DailyQuota::take() {
    const std::lock_guard lock(m_mutex);
    const std::string day = today();
    if (m_claimed > 0 && m_claimed_day == day) {
        --m_claimed;
        return true;
    }
    m_claimed = 0; // a claim of an earlier day is spent with that day
    const FileLock file_lock = FileLock::acquire(quota_lock_path(m_run_dir));
    const std::filesystem::path path = quota_path(m_run_dir);
    Counts counts = counts_of_day(path, day);
    const std::uint64_t used = used_by(counts, m_fingerprint);
    if (used >= m_limit) {
        return false;
    }
    const std::uint64_t claim = std::min(m_batch, m_limit - used);
    counts.calls[m_fingerprint] = used + claim;
    write_file_atomically(path, to_json(counts).dump() + "\n");
    m_claimed = claim - 1;
    m_claimed_day = day;
    return true;
}

QuotaUse DailyQuota::use() const {
    return read_quota(m_run_dir, m_fingerprint, m_limit);
}

} // namespace pipeline::core
