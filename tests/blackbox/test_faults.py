"""Issue: the HTTP engine stays correct under a fault storm (docs/contract.md §8 failure classes)."""

import unittest

from harness import DATE, PHASES, FakeApi, PipelineTestCase, Workspace


class FaultStormTest(PipelineTestCase):
    def test_run_all_completes_exactly_through_500s_429s_and_truncated_bodies(self):
        faults = ["--fail-500", "0.05", "--fail-429", "0.05", "--retry-after", "0", "--truncate", "0.03",
                  "--fail-503", "0.01", "--fail-prepare", "0.01", "--seed", "3"]
        with FakeApi(*faults, "--refuse-ocids", "0.01", characters=800) as api:
            ws = Workspace(api.url, ranking_pages=4, chunk_records=100,
                           api={"max_attempts": 12, "concurrency": 16, "backoff_base_ms": 5, "backoff_max_ms": 100})
            result = ws.run("run", "all", "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr)
            expected = api.expected()
            status = ws.status()
            sizes = {}
            for phase in PHASES:
                self.assertEqual(status[phase]["state"], "COMPLETED")
                _, records = ws.snapshot(phase, status[phase]["run_id"])
                sizes[phase] = len(records)
            self.assertEqual(sizes, {"RANKING_FETCH": expected["ranking_rows"], "OCID_LOOKUP": expected["ocids"],
                                     "CHARACTER_BASIC": expected["detail_records"],
                                     "ITEM_EQUIPMENT": expected["detail_records"]})
            # Each retry class was met and counted, and the counts add up.
            stats = api.stats()
            total_retries = sum(status[p]["progress"]["retries"] for p in PHASES)
            total_requests = sum(status[p]["progress"]["requests"] for p in PHASES)
            self.assertEqual(total_requests, stats["total"])
            by_class = {}
            for phase in PHASES:
                for name, count in status[phase]["progress"]["retries_by_class"].items():
                    by_class[name] = by_class.get(name, 0) + count
            self.assertEqual(sum(by_class.values()), total_retries)
            self.assertEqual(by_class["rate_limited"], stats["answered"].get("429", 0))
            self.assertEqual(by_class["server_error"], stats["answered"].get("500", 0))
            # 503 OPENAPI00011 is API maintenance: waited out, counted on its own.
            self.assertEqual(by_class["maintenance"], stats["answered"].get("503", 0))
            self.assertEqual(by_class["bad_body"], stats["truncated"])
            self.assertGreater(by_class["data_preparing"], 0)
            rejected = sum(status[p]["progress"]["rejected"] for p in PHASES)
            self.assertEqual(rejected, 2 * expected["refused_ocids"])

    def test_exhausted_retries_fail_the_phase_with_a_clear_message(self):
        with FakeApi("--fail-500", "1", characters=10) as api:
            ws = Workspace(api.url, api={"max_attempts": 3, "backoff_base_ms": 1, "backoff_max_ms": 2})
            result = ws.run("run", "RANKING_FETCH", "--date", DATE)
            self.assertEqual(result.returncode, 1)
            self.assertIn("giving up after 3 attempts", result.stderr)
            self.assertIn("OPENAPI00001", result.stderr)
            self.assertEqual(api.stats()["total"], 3)

    def test_rejects_above_the_share_fail_the_phase(self):
        with FakeApi("--refuse-names", "0.2", characters=200) as api:
            ws = Workspace(api.url)
            self.assertEqual(ws.run("run", "RANKING_FETCH", "--date", DATE).returncode, 0)
            result = ws.run("run", "OCID_LOOKUP", "--date", DATE)
            self.assertEqual(result.returncode, 1)
            entry = ws.status()["OCID_LOOKUP"]
            self.assertEqual(entry["state"], "FAILED")
            self.assertIn("max_reject_share", entry["error"])
            self.assertEqual(entry["progress"]["rejected"], api.expected()["refused_names"])


if __name__ == "__main__":
    unittest.main()
