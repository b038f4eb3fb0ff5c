// The pace file: created private, never through a symlink, a damaged one reinitialised; limiters on two opens
// of it (as two processes) share the rate; a lock whose holder was killed blocks nobody.

#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "core/state/pace_file.hpp"
#include "core/util/error.hpp"
#include "fakes/temp_dir.hpp"

using namespace std::chrono_literals;
using pipeline::core::PaceFile;
using pipeline::core::PaceState;
using pipeline::core::RateLimiter;
using pipeline::core::RunDir;
using pipeline::tests::TempDir;
using TimePoint = RateLimiter::TimePoint;

namespace {

const TimePoint k_start = TimePoint{} + 1000h;

RunDir made_run_dir(const TempDir& dir) {
    RunDir run_dir(dir / "run");
    run_dir.create();
    return run_dir;
}

RateLimiter limiter_on(const RunDir& run_dir, double rate) {
    return RateLimiter(rate, std::make_unique<PaceFile>(run_dir));
}

std::size_t busiest_second(const std::vector<TimePoint>& sends) {
    std::size_t most = 0;
    std::size_t last = 0;
    for (std::size_t first = 0; first < sends.size(); ++first) {
        last = std::max(last, first);
        while (last < sends.size() && sends[last] < sends[first] + 1s) {
            ++last;
        }
        most = std::max(most, last - first);
    }
    return most;
}

} // namespace

TEST_CASE("the pace file is created 0600 with its header") {
    const TempDir dir;
    const RunDir run_dir = made_run_dir(dir);
    { const PaceFile pace(run_dir); }
    struct stat info {};
    REQUIRE(::stat(run_dir.pace().c_str(), &info) == 0);
    CHECK(S_ISREG(info.st_mode));
    CHECK((info.st_mode & 0777) == 0600);
    CHECK(static_cast<std::size_t>(info.st_size) == sizeof(PaceState));
}

TEST_CASE("a symlink or a FIFO under the pace file's name is refused") {
    const TempDir dir;
    const RunDir run_dir = made_run_dir(dir);
    SUBCASE("symlink") {
        std::ofstream(dir / "elsewhere") << "keep me";
        std::filesystem::create_symlink(dir / "elsewhere", run_dir.pace());
        CHECK_THROWS_AS(PaceFile{run_dir}, pipeline::core::Error);
        std::ifstream in(dir / "elsewhere");
        std::string text;
        std::getline(in, text);
        CHECK(text == "keep me");
    }
    SUBCASE("fifo") {
        REQUIRE(::mkfifo(run_dir.pace().c_str(), 0600) == 0);
        CHECK_THROWS_AS(PaceFile{run_dir}, pipeline::core::Error);
    }
}

TEST_CASE("a pace file of the wrong size, header or mode is reinitialised") {
    const TempDir dir;
    const RunDir run_dir = made_run_dir(dir);
    SUBCASE("garbage, too short") {
        std::ofstream(run_dir.pace()) << "not a pace file";
    }
    SUBCASE("garbage, too long") {
        std::ofstream(run_dir.pace()) << std::string(sizeof(PaceState) + 100, '\xff');
    }
    SUBCASE("right size, wrong header") {
        std::ofstream(run_dir.pace()) << std::string(sizeof(PaceState), '\x7f');
    }
    ::chmod(run_dir.pace().c_str(), 0644);
    RateLimiter limiter = limiter_on(run_dir, 100);
    const RateLimiter::Booking booking = limiter.reserve(k_start);
    CHECK(booking.booked);
    CHECK(booking.at == k_start);
    struct stat info {};
    REQUIRE(::stat(run_dir.pace().c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
    CHECK(static_cast<std::size_t>(info.st_size) == sizeof(PaceState));
}

TEST_CASE("limiters on two opens of the pace file (two processes) never exceed the rate in any second") {
    const TempDir dir;
    const RunDir run_dir = made_run_dir(dir);
    RateLimiter first = limiter_on(run_dir, 300);
    RateLimiter second = limiter_on(run_dir, 300);
    std::vector<TimePoint> sends;
    std::vector<std::size_t> per_limiter(2);
    std::vector<TimePoint> ready{k_start, k_start};
    while (ready[0] < k_start + 5s || ready[1] < k_start + 5s) {
        const std::size_t who = ready[0] <= ready[1] ? 0 : 1;
        const RateLimiter::Booking booking = (who == 0 ? first : second).reserve(ready[who]);
        ready[who] = booking.at;
        if (booking.booked && booking.at < k_start + 5s) {
            sends.push_back(booking.at);
            ++per_limiter[who];
        }
    }
    CHECK(busiest_second(sends) <= 300);
    CHECK(static_cast<double>(sends.size()) / 5.0 >= 300 * 0.97);
    CHECK(per_limiter[0] > sends.size() / 3);
    CHECK(per_limiter[1] > sends.size() / 3);
}

TEST_CASE("a pace file locked by a process killed with -9 blocks nobody") {
    const TempDir dir;
    const RunDir run_dir = made_run_dir(dir);
    { const PaceFile create(run_dir); }
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // Only async-signal-safe calls here: take the lock, say so, and wait to be killed holding it.
        const int fd = ::open(run_dir.pace().c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0 || ::flock(fd, LOCK_EX) != 0 || ::write(ready[1], "x", 1) != 1) {
            ::_exit(1);
        }
        for (;;) {
            ::pause();
        }
    }
    ::close(ready[1]);
    char byte = 0;
    REQUIRE(::read(ready[0], &byte, 1) == 1);
    ::close(ready[0]);
    ::kill(child, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));

    const auto started = std::chrono::steady_clock::now();
    RateLimiter limiter = limiter_on(run_dir, 100);
    CHECK(limiter.reserve(k_start).booked);
    CHECK(std::chrono::steady_clock::now() - started < 1s);
}
