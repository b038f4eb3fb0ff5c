// The daily call budget: counts per key and API-calendar day, shared through the file, never the key itself.

#include <doctest/doctest.h>

#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "core/state/quota.hpp"
#include "core/util/atomic_file.hpp"
#include "fakes/temp_dir.hpp"

using pipeline::core::DailyQuota;
using pipeline::core::key_fingerprint;
using pipeline::core::QuotaUse;
using pipeline::core::read_quota;
using pipeline::core::RunDir;
using pipeline::tests::TempDir;

namespace {

// Sets PIPELINE_TEST_NOW for the scope of a test.
struct FixedNow {
    explicit FixedNow(const char* when) { ::setenv("PIPELINE_TEST_NOW", when, 1); }
    ~FixedNow() { ::unsetenv("PIPELINE_TEST_NOW"); }
    FixedNow(const FixedNow&) = delete;
    FixedNow& operator=(const FixedNow&) = delete;
};

} // namespace

TEST_CASE("the budget gives exactly `limit` calls a day, shared by threads and by other instances") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    const FixedNow now("2026-11-23T03:00:00Z");
    DailyQuota first(run_dir, key_fingerprint("secret-key"), 100);
    DailyQuota second(run_dir, key_fingerprint("secret-key"), 100); // as another process would
    std::vector<std::thread> threads;
    std::atomic<int> granted{0};
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            DailyQuota& quota = t % 2 == 0 ? first : second;
            for (int i = 0; i < 40; ++i) {
                granted += quota.take() ? 1 : 0;
            }
        });
    }
    for (std::thread& thread : threads) {
        thread.join();
    }
    CHECK(granted == 100);
    const QuotaUse use = read_quota(run_dir, key_fingerprint("secret-key"), 100);
    CHECK(use.day == "2026-11-23");
    CHECK(use.used == 100);
    CHECK(use.remaining() == 0);
    // Another key has its own count; the file never holds a key.
    DailyQuota other(run_dir, key_fingerprint("other-key"), 100);
    CHECK(other.take());
    CHECK(read_quota(run_dir, "", 100).used == 101);
    const std::string text = pipeline::core::read_file(pipeline::core::quota_path(run_dir));
    CHECK(text.find("secret-key") == std::string::npos);
    CHECK(text.find(key_fingerprint("secret-key")) != std::string::npos);
}

TEST_CASE("a new day in Seoul starts from zero") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    {
        const FixedNow now("2026-11-23T14:59:59Z"); // 23:59:59 in Seoul
        DailyQuota quota(run_dir, key_fingerprint("k"), 2);
        CHECK(quota.take());
        CHECK(quota.take());
        CHECK_FALSE(quota.take());
    }
    const FixedNow now("2026-11-23T15:00:00Z"); // midnight in Seoul
    DailyQuota quota(run_dir, key_fingerprint("k"), 2);
    CHECK(quota.use().used == 0);
    CHECK(quota.use().day == "2026-11-24");
    CHECK(quota.take());
}

TEST_CASE("a fingerprint tells keys apart and does not show the key") {
    CHECK(key_fingerprint("a") != key_fingerprint("b"));
    CHECK(key_fingerprint("a").starts_with("sha256:"));
    CHECK(key_fingerprint("a").size() == 7 + 16);
    CHECK(key_fingerprint("my-api-key").find("my-api-key") == std::string::npos);
}
