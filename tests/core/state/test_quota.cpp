// The daily call budget: counts per key and API-calendar day, shared through the file, never the key itself.

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/state/quota.hpp"
#include "core/util/atomic_file.hpp"
#include "core/util/error.hpp"
#include "core/util/file_lock.hpp"
#include "fakes/temp_dir.hpp"

using namespace std::chrono_literals;
using pipeline::core::DailyQuota;
using pipeline::core::Error;
using pipeline::core::ExitCode;
using pipeline::core::FileLock;
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

namespace {

// The error reading `text` as quota.json gives, through read_quota (status) and take() (run).
void check_refused(const std::string& text, const std::string& field, const std::string& problem) {
    CAPTURE(text);
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    const FixedNow now("2026-11-23T03:00:00Z");
    const std::filesystem::path path = pipeline::core::quota_path(run_dir);
    pipeline::core::write_file_atomically(path, text);
    for (int reader = 0; reader < 2; ++reader) {
        CAPTURE(reader);
        try {
            if (reader == 0) {
                read_quota(run_dir, "", 100);
            } else {
                DailyQuota(run_dir, key_fingerprint("k"), 100).take();
            }
            FAIL("no error");
        } catch (const Error& e) {
            const std::string message = e.what();
            CHECK(e.code() == ExitCode::Failed);
            CHECK(message.find(path.string()) != std::string::npos);
            CHECK(message.find(field) != std::string::npos);
            CHECK(message.find(problem) != std::string::npos);
        }
    }
    // The budget is never reset behind the operator's back: the damaged file is left as it was.
    CHECK(pipeline::core::read_file(path) == text);
}

} // namespace

TEST_CASE("a damaged quota.json is refused naming the file and the field, never silently reset") {
    const std::string fp = key_fingerprint("k");
    check_refused(R"({"day": 20261123, "calls": {}})", "field 'day'", "expected a string, got the integer");
    check_refused(R"({"day": "23/11/2026", "calls": {}})", "field 'day'", "not a date YYYY-MM-DD");
    check_refused(R"({"day": "2026-02-30", "calls": {}})", "field 'day'", "not a date YYYY-MM-DD");
    check_refused(R"({"calls": {}})", "field 'day'", "missing");
    check_refused(R"({"day": "2026-11-23"})", "field 'calls'", "missing");
    check_refused(R"({"day": "2026-11-23", "calls": [1, 2]})", "field 'calls'", "expected a JSON object");
    check_refused(R"({"day": "2026-11-23", "calls": {")" + fp + R"(": -5}})", "field 'calls." + fp + "'",
                  "expected an integer from 0");
    check_refused(R"({"day": "2026-11-23", "calls": {")" + fp + R"(": 1.5e3}})", "field 'calls." + fp + "'",
                  "expected an integer from 0");
    check_refused(R"({"day": "2026-11-23", "calls": {")" + fp + R"(": 12.0}})", "field 'calls." + fp + "'",
                  "expected an integer from 0");
    check_refused(R"({"day": "2026-11-23", "calls": {")" + fp + R"(": "12"}})", "field 'calls." + fp + "'",
                  "got the string");
    check_refused(R"({"day": "2026-11-23", "calls": {"my-api-key": 3}})", "field 'calls.my-api-key'",
                  "not a key fingerprint");
    check_refused(R"([{"day": "2026-11-23"}])", "the file", "expected a JSON object");
    check_refused(R"({"day": "2026-11-23", "calls": {)", "not valid JSON", "call budget file");
}

TEST_CASE("another day's counts are validated too, then start again from zero") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    const FixedNow now("2026-11-23T03:00:00Z");
    const std::string fp = key_fingerprint("k");
    pipeline::core::write_file_atomically(pipeline::core::quota_path(run_dir),
                                          R"({"day": "2026-11-22", "calls": {")" + fp + R"(": 999}})");
    CHECK(read_quota(run_dir, fp, 1000).used == 0);
    check_refused(R"({"day": "2026-11-22", "calls": {")" + fp + R"(": -1}})", "calls.",
                  "expected an integer");
}

TEST_CASE("an empty quota.json (left by older versions) counts as no calls") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    const FixedNow now("2026-11-23T03:00:00Z");
    pipeline::core::write_file_atomically(pipeline::core::quota_path(run_dir), "");
    CHECK(read_quota(run_dir, "", 10).used == 0);
    DailyQuota quota(run_dir, key_fingerprint("k"), 10);
    CHECK(quota.take());
    CHECK(read_quota(run_dir, "", 10).used == 1);
}

TEST_CASE("every count replaces quota.json whole (a new file each time), and reading it takes no lock") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    run_dir.create();
    const FixedNow now("2026-11-23T03:00:00Z");
    DailyQuota quota(run_dir, key_fingerprint("k"), 10);
    REQUIRE(quota.take());
    const std::filesystem::path path = pipeline::core::quota_path(run_dir);
    struct stat first{};
    REQUIRE(::stat(path.c_str(), &first) == 0);
    REQUIRE(quota.take());
    struct stat second{};
    REQUIRE(::stat(path.c_str(), &second) == 0);
    CHECK(first.st_ino != second.st_ino); // renamed over, not rewritten in place
    // No temporaries are left behind.
    for (const auto& entry : std::filesystem::directory_iterator(run_dir.root())) {
        CHECK_FALSE(pipeline::core::is_temporary_name(entry.path().filename().string()));
    }

    // While a run holds the lock (here: this thread), status still reads at once.
    std::optional<FileLock> held = FileLock::acquire(pipeline::core::quota_lock_path(run_dir));
    std::future<std::uint64_t> used = std::async(std::launch::async, [&] {
        CHECK(quota.use().used == 2);
        return read_quota(run_dir, key_fingerprint("k"), 10).used;
    });
    const bool at_once = used.wait_for(5s) == std::future_status::ready;
    CHECK(at_once);
    held.reset(); // lets a reader that waited finish, so that the test ends either way
    CHECK(used.get() == 2);
}
