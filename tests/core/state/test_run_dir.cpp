// The run directory is private: created 0700, and an existing one that others may write is refused.

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "core/state/run_dir.hpp"
#include "core/util/error.hpp"
#include "fakes/temp_dir.hpp"

using pipeline::core::Error;
using pipeline::core::ExitCode;
using pipeline::core::RunDir;
using pipeline::tests::TempDir;

namespace {
mode_t mode_of(const std::filesystem::path& path) {
    struct stat info {};
    REQUIRE(::stat(path.c_str(), &info) == 0);
    return info.st_mode & 07777;
}
} // namespace

TEST_CASE("create makes the run directory and checkpoints/ mode 0700 whatever the umask") {
    const TempDir dir;
    const mode_t old_mask = ::umask(0);
    const RunDir run_dir(dir / "a" / "run");
    run_dir.create();
    ::umask(old_mask);
    CHECK(mode_of(run_dir.root()) == 0700);
    CHECK(mode_of(run_dir.checkpoints()) == 0700);
    CHECK_NOTHROW(run_dir.check_existing());
}

TEST_CASE("a run directory group or others may write is refused with exit 2, naming it and its mode") {
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    CHECK_NOTHROW(run_dir.check_existing()); // missing: nothing to check yet
    REQUIRE(::mkdir(run_dir.root().c_str(), 0700) == 0);
    for (const mode_t mode : {0777, 0770, 0702, 01777}) {
        CAPTURE(mode);
        REQUIRE(::chmod(run_dir.root().c_str(), mode) == 0);
        for (const bool creating : {false, true}) {
            try {
                creating ? run_dir.create() : run_dir.check_existing();
                FAIL("accepted");
            } catch (const Error& e) {
                CHECK(e.code() == ExitCode::Usage);
                const std::string message = e.what();
                CHECK(message.find(run_dir.root().string()) != std::string::npos);
                char mode_text[8];
                std::snprintf(mode_text, sizeof mode_text, "%04o", static_cast<unsigned>(mode));
                CHECK(message.find(std::string("mode ") + mode_text) != std::string::npos);
            }
        }
    }
    REQUIRE(::chmod(run_dir.root().c_str(), 0755) == 0); // readable by others is fine, writable is not
    CHECK_NOTHROW(run_dir.create());
    REQUIRE(::chmod(run_dir.checkpoints().c_str(), 0777) == 0);
    CHECK_THROWS_AS(run_dir.check_existing(), Error);
}

TEST_CASE("a run directory owned by another user is refused") {
    if (::geteuid() != 0) {
        MESSAGE("skipped: needs root to give a folder away (chown)");
        return;
    }
    const TempDir dir;
    const RunDir run_dir(dir / "run");
    REQUIRE(::mkdir(run_dir.root().c_str(), 0700) == 0);
    REQUIRE(::chown(run_dir.root().c_str(), 65534, 65534) == 0);
    try {
        run_dir.check_existing();
        FAIL("accepted");
    } catch (const Error& e) {
        CHECK(e.code() == ExitCode::Usage);
        CHECK(std::string(e.what()).find("owned by uid 65534") != std::string::npos);
    }
}
