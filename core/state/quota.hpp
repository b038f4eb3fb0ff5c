#pragma once
// The daily call budget (api.daily_quota): every request of every phase and every process that shares the run
// directory counts against one counter per API-calendar day (Asia/Seoul) and key, kept in
// <run_dir>/quota.json (replaced whole, under a flock on <run_dir>/quota.lock). The key itself is never
// stored: only a fingerprint (docs/live-api.md).

#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <string_view>

#include "core/state/run_dir.hpp"
#include "core/util/time_util.hpp"

namespace pipeline::core {

/// Calls made through a run directory on one API-calendar day.
struct QuotaUse {
    std::string day;         ///< "2026-11-23" in Asia/Seoul
    std::uint64_t used = 0;  ///< calls made that day (by the key, or by every key when none is known)
    std::uint64_t limit = 0; ///< api.daily_quota
    /// Calls left today (0 once spent).
    std::uint64_t remaining() const { return used >= limit ? 0 : limit - used; }
};

/// "sha256:" and the first 16 hex digits of the key's SHA-256: enough to tell keys apart, useless to a thief.
std::string key_fingerprint(std::string_view key);

/// <run_dir>/quota.json
std::filesystem::path quota_path(const RunDir& run_dir);

/// <run_dir>/quota.lock: held (flock) while a call is counted.
std::filesystem::path quota_lock_path(const RunDir& run_dir);

/// Reads today's use (calendar_now()) without any lock: the file is only ever replaced whole, so this never
/// waits for a run. `fingerprint` empty: the calls of every key. A missing file means none used; throws
/// core::Error (exit 1) naming the file (and the field) when it cannot be read or is damaged.
QuotaUse read_quota(const RunDir& run_dir, const std::string& fingerprint, std::uint64_t limit);

/// The budget of one key, shared by every phase of this process (thread-safe) and, through the file's lock,
/// with other processes.
class DailyQuota {
  public:
    /// `limit` calls per day for the key with this fingerprint (key_fingerprint). Calls are claimed in the
    /// file `batch` at a time (1: each call), so that a fast harvest does not fsync the file per call; a
    /// crash can cost the budget at most one batch, never count a call too few.
    DailyQuota(RunDir run_dir, std::string fingerprint, std::uint64_t limit, std::uint64_t batch = 1);

    /// Gives the calls claimed and not made back to the budget (best effort: a failure is logged).
    ~DailyQuota();
    DailyQuota(const DailyQuota&) = delete;
    DailyQuota& operator=(const DailyQuota&) = delete;

    /// Counts one call against today's budget and returns true, or returns false (counting nothing) when
    /// the call would pass it. A call comes from the batch this process claimed; claiming the next batch
    /// replaces the file whole and fsyncs it before it returns. Throws core::Error naming the file (and the
    /// field) when it cannot be read, is damaged, or cannot be written.
    bool take();

    /// Today's use (read_quota for this key); throws as read_quota.
    QuotaUse use() const;

  private:
    RunDir m_run_dir;
    std::string m_fingerprint;
    std::uint64_t m_limit;
    std::uint64_t m_batch;
    std::uint64_t m_claimed = 0; // calls counted in the file and not made yet (of day m_claimed_day)
    std::string m_claimed_day;
    std::mutex m_mutex; // flock is per open file: threads of this process take turns here first
};

} // namespace pipeline::core
