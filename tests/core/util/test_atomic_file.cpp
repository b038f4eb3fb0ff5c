// AtomicFile: a hidden temporary until commit, nothing under the final name after a crash, no leftovers.

#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "core/state/run_dir.hpp"
#include "core/util/atomic_file.hpp"
#include "core/util/error.hpp"
#include "fakes/temp_dir.hpp"

using pipeline::core::AtomicFile;
using pipeline::core::Error;
using pipeline::core::ExitCode;
using pipeline::core::is_temporary_name;
using pipeline::core::read_file;
using pipeline::core::write_file_atomically;
using pipeline::tests::TempDir;

namespace {

// Names in `folder` that AtomicFile uses for temporaries.
std::vector<std::string> temporaries(const std::filesystem::path& folder) {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(folder)) {
        if (is_temporary_name(entry.path().filename().string())) {
            names.push_back(entry.path().filename().string());
        }
    }
    return names;
}

// Runs `body` in a child process that ends with _exit(0) (no destructors: a crash) and reaps it.
template <typename Body> pid_t crash_in_child(Body body) {
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        try {
            body();
        } catch (...) {
            ::_exit(2);
        }
        ::_exit(0);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
    return child;
}

} // namespace

TEST_CASE("the temporary is hidden next to the target and the target appears only at commit") {
    const TempDir dir;
    const std::filesystem::path target = dir / "ledger.json";
    AtomicFile file(target);
    CHECK(file.target() == target);
    CHECK(file.temporary().parent_path() == dir.path());
    const std::string name = file.temporary().filename().string();
    CHECK(name.starts_with("."));
    CHECK(is_temporary_name(name));
    CHECK(name.find("ledger.json") != std::string::npos);
    CHECK(std::filesystem::exists(file.temporary()));
    CHECK_FALSE(std::filesystem::exists(target));

    file.write("hello ");
    file.write("world\n");
    CHECK_FALSE(std::filesystem::exists(target));
    CHECK(read_file(file.temporary()) == "hello world\n");

    file.commit();
    CHECK(read_file(target) == "hello world\n");
    CHECK_FALSE(std::filesystem::exists(file.temporary()));
    CHECK(temporaries(dir.path()).empty());
}

TEST_CASE("a replaced file keeps its old contents until the new ones are committed") {
    const TempDir dir;
    const std::filesystem::path target = dir / "state.json";
    write_file_atomically(target, "old");
    {
        AtomicFile file(target);
        file.write("new");
        CHECK(read_file(target) == "old");
        file.commit();
    }
    CHECK(read_file(target) == "new");
    write_file_atomically(target, "");
    CHECK(read_file(target).empty());
    CHECK(temporaries(dir.path()).empty());
}

TEST_CASE("the destructor removes an uncommitted temporary and leaves the target untouched") {
    const TempDir dir;
    const std::filesystem::path target = dir / "manifest.json";
    write_file_atomically(target, "committed");
    std::filesystem::path temporary;
    {
        AtomicFile file(target);
        temporary = file.temporary();
        file.write("abandoned");
        CHECK(std::filesystem::exists(temporary));
    }
    CHECK_FALSE(std::filesystem::exists(temporary));
    CHECK(read_file(target) == "committed");
    CHECK(temporaries(dir.path()).empty());
}

TEST_CASE("two AtomicFiles of the same target use different temporaries") {
    const TempDir dir;
    AtomicFile first(dir / "x");
    AtomicFile second(dir / "x");
    CHECK(first.temporary() != second.temporary());
    first.write("1");
    second.write("2");
    first.commit();
    second.commit();
    CHECK(read_file(dir / "x") == "2");
}

TEST_CASE("a process that dies between write and rename leaves nothing under the final name") {
    const TempDir dir;
    const std::filesystem::path target = dir / "part-00001.jsonl.gz";
    const pid_t child = crash_in_child([&] {
        AtomicFile file(target);
        file.write(std::string(100000, 'x'));
        ::_exit(0); // dies before commit(): the destructor never runs
    });
    CHECK_FALSE(std::filesystem::exists(target));
    const std::vector<std::string> left = temporaries(dir.path());
    REQUIRE(left.size() == 1);
    CHECK(left[0].find(std::to_string(child)) != std::string::npos);

    // The parent's cleanup removes the temporaries of writers that are gone, and only those: its own
    // file in progress stays.
    AtomicFile own(dir / "ledger.json");
    own.write("in progress");
    CHECK(pipeline::core::is_stale_temporary(left[0]));
    CHECK_FALSE(pipeline::core::is_stale_temporary(own.temporary().filename().string()));
    for (const std::string& name : temporaries(dir.path())) {
        if (pipeline::core::is_stale_temporary(name)) {
            std::filesystem::remove(dir / name);
        }
    }
    CHECK(temporaries(dir.path()) == std::vector<std::string>{own.temporary().filename().string()});
    own.commit();
    CHECK(temporaries(dir.path()).empty());
    CHECK_FALSE(std::filesystem::exists(target));
}

TEST_CASE("creating a run directory removes the temporaries of crashed writers") {
    const TempDir dir;
    const pipeline::core::RunDir run_dir(dir / "run");
    run_dir.create();
    crash_in_child([&] {
        AtomicFile ledger(run_dir.ledger());
        ledger.write("{\"phases\": [");
        AtomicFile checkpoint(run_dir.checkpoints() / "2026-11-22.OCID_LOOKUP.r1.json");
        checkpoint.write("{");
        ::_exit(0);
    });
    CHECK(temporaries(run_dir.root()).size() == 1);
    CHECK(temporaries(run_dir.checkpoints()).size() == 1);
    run_dir.create();
    CHECK(temporaries(run_dir.root()).empty());
    CHECK(temporaries(run_dir.checkpoints()).empty());
    CHECK_FALSE(std::filesystem::exists(run_dir.ledger()));
}

TEST_CASE("a process that dies while replacing a file leaves the old contents in place") {
    const TempDir dir;
    const std::filesystem::path target = dir / "ledger.json";
    write_file_atomically(target, "{\"version\": 1}");
    crash_in_child([&] {
        AtomicFile file(target);
        file.write("{\"version\": 2, \"trunc");
        ::_exit(0);
    });
    CHECK(read_file(target) == "{\"version\": 1}");
    CHECK(temporaries(dir.path()).size() == 1);
}

TEST_CASE("is_temporary_name tells temporaries from published names") {
    CHECK(is_temporary_name(".ledger.json.tmp-4242-1"));
    CHECK(is_temporary_name(".part-00001.jsonl.gz.tmp-1-99"));
    CHECK_FALSE(is_temporary_name("ledger.json"));
    CHECK_FALSE(is_temporary_name("part-00001.jsonl.gz"));
    CHECK_FALSE(is_temporary_name("_manifest.json"));
    CHECK_FALSE(is_temporary_name(".hidden"));
    CHECK_FALSE(is_temporary_name("x.tmp-1-2")); // not hidden
}

TEST_CASE("failures throw an error naming the path and the cause") {
    const TempDir dir;
    try {
        AtomicFile file(dir / "no-such-folder/file");
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == ExitCode::Failed);
        CHECK(std::string(e.what()).find((dir / "no-such-folder").string()) != std::string::npos);
        CHECK(std::string(e.what()).find("No such file or directory") != std::string::npos);
    }
    try {
        read_file(dir / "missing");
        FAIL("no error");
    } catch (const Error& e) {
        CHECK(e.code() == ExitCode::Failed);
        CHECK(std::string(e.what()).find((dir / "missing").string() + ": No such file or directory") !=
              std::string::npos);
    }
    CHECK(pipeline::core::os_error("/x/y", ENOSPC) == "/x/y: No space left on device");
}
