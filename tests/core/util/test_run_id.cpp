// The one form of a run id that readers of state files accept.

#include <doctest/doctest.h>

#include "core/run/phase_runner.hpp"
#include "core/util/run_id.hpp"

using pipeline::core::is_run_id;

TEST_CASE("is_run_id accepts what pipeline generates and nothing that could name another path") {
    CHECK(is_run_id("20261123T010000Z-a1b2c3"));
    for (int i = 0; i < 20; ++i) {
        CHECK(is_run_id(pipeline::core::new_run_id()));
    }
    CHECK_FALSE(is_run_id(""));
    CHECK_FALSE(is_run_id("../../somewhere"));
    CHECK_FALSE(is_run_id("20261123T010000Z-A1B2C3"));   // upper-case hex
    CHECK_FALSE(is_run_id("20261123T010000Z-a1b2c"));    // short
    CHECK_FALSE(is_run_id("20261123T010000Z-a1b2c3/"));  // trailing slash
    CHECK_FALSE(is_run_id("20261123T010000Z-a1b2c3\n")); // newline
    CHECK_FALSE(is_run_id("2026112xT010000Z-a1b2c3"));
    CHECK_FALSE(is_run_id("20261123T010000Z/a1b2c3"));
}
