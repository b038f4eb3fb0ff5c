"""Issue: resume and crash safety — exactly once per item across stops, kill -9 and disk errors."""

import gzip
import json
import random
import resource
import signal
import subprocess
import time
import unittest

from harness import DATE, FakeApi, PipelineTestCase, Workspace, wait_for


def ocids_of(records):
    return [r["ocid"] for r in records]


class ResumeTest(PipelineTestCase):
    def prepare(self, api, **config):
        ws = Workspace(api.url, **config)
        for phase in ("RANKING_FETCH", "OCID_LOOKUP"):
            result = ws.run("run", phase, "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr)
        _, records = ws.snapshot("OCID_LOOKUP", ws.status()["OCID_LOOKUP"]["run_id"])
        return ws, sorted(ocids_of(records))

    def assert_complete_snapshot(self, ws, run_id, expected_ocids):
        manifest, records = ws.snapshot("ITEM_EQUIPMENT", run_id)
        self.assertEqual(manifest["state"], "COMPLETED")
        got = ocids_of(records)
        self.assertEqual(len(got), len(set(got)), "an item is in the snapshot twice")
        self.assertEqual(sorted(got), expected_ocids)
        self.assertEqual(ws.visible_parts("ITEM_EQUIPMENT", run_id), [c["name"] for c in manifest["chunks"]])
        self.assertEqual(ws.temporaries(), [])

    def test_stop_then_resume_completes_the_same_run_exactly_once(self):
        with FakeApi(characters=600) as fast, FakeApi("--latency-ms", "20", characters=600) as slow:
            ws, expected = self.prepare(fast, ranking_pages=3, chunk_records=25)
            ws.write_config(slow.url, ranking_pages=3, chunk_records=25, api={"concurrency": 4})
            worker = ws.spawn("run", "ITEM_EQUIPMENT", "--date", DATE)
            ws.wait_state("ITEM_EQUIPMENT", lambda e: e["state"] == "RUNNING" and e["progress"]["chunks"] >= 2)
            self.assertEqual(ws.run("stop", "ITEM_EQUIPMENT").returncode, 0)
            worker.communicate(timeout=60)
            self.assertEqual(worker.returncode, 3)
            stopped = ws.status()["ITEM_EQUIPMENT"]
            run_id = stopped["run_id"]
            fetched_before = slow.stats()["requests"]["item"]
            ws.write_config(fast.url, ranking_pages=3, chunk_records=25)
            result = ws.run("run", "ITEM_EQUIPMENT", "--date", DATE, "--resume")
            self.assertEqual(result.returncode, 0, result.stderr)
            entry = ws.status()["ITEM_EQUIPMENT"]
            self.assertEqual((entry["state"], entry["run_id"]), ("COMPLETED", run_id))
            self.assert_complete_snapshot(ws, run_id, expected)
            # Nothing committed before the stop was fetched again.
            self.assertEqual(fetched_before + fast.stats()["requests"]["item"], 600)

    def test_resume_with_nothing_to_resume_is_a_usage_error(self):
        with FakeApi(characters=20) as api:
            ws = Workspace(api.url)
            result = ws.run("run", "RANKING_FETCH", "--date", DATE, "--resume")
            self.assertEqual(result.returncode, 2)
            self.assertIn("nothing to resume", result.stderr)
            self.assertEqual(ws.run("run", "RANKING_FETCH", "--date", DATE).returncode, 0)
            result = ws.run("run", "RANKING_FETCH", "--date", DATE, "--resume")
            self.assertEqual(result.returncode, 2)

    def test_plain_run_after_a_stop_starts_a_new_run(self):
        with FakeApi(characters=300) as fast, FakeApi("--latency-ms", "20", characters=300) as slow:
            ws, expected = self.prepare(fast, ranking_pages=2, chunk_records=10)
            ws.write_config(slow.url, ranking_pages=2, chunk_records=10, api={"concurrency": 2})
            worker = ws.spawn("run", "ITEM_EQUIPMENT", "--date", DATE)
            ws.wait_state("ITEM_EQUIPMENT", lambda e: e["state"] == "RUNNING" and e["progress"]["chunks"] >= 1)
            ws.run("stop", "ITEM_EQUIPMENT")
            worker.communicate(timeout=60)
            old = ws.ledger_entry("ITEM_EQUIPMENT")["run_id"]
            ws.write_config(fast.url, ranking_pages=2, chunk_records=10)
            self.assertEqual(ws.run("run", "ITEM_EQUIPMENT", "--date", DATE).returncode, 0)
            new = ws.status()["ITEM_EQUIPMENT"]["run_id"]
            self.assertNotEqual(new, old)
            states = {m["run_id"]: m["state"] for m in ws.manifests("ITEM_EQUIPMENT")}
            self.assertEqual(states, {old: "STOPPED", new: "COMPLETED"})
            self.assert_complete_snapshot(ws, new, expected)

    def test_kill_9_loop_then_resume_is_exact(self):
        characters = 1500
        with FakeApi(characters=characters) as fast, FakeApi("--latency-ms", "10", characters=characters) as slow:
            ws, expected = self.prepare(fast, ranking_pages=8, chunk_records=10)
            ws.write_config(slow.url, ranking_pages=8, chunk_records=10, api={"concurrency": 8})
            rng = random.Random(11)
            kills = 0
            args = ["run", "ITEM_EQUIPMENT", "--date", DATE]
            run_id = None
            while kills < 25:
                worker = ws.spawn(*args)
                # Running under this worker, or already over: a resume with little left can finish between polls.
                ws.wait_state("ITEM_EQUIPMENT", lambda e: (e["state"] == "RUNNING" and e["pid"] == worker.pid)
                              or worker.poll() is not None)
                time.sleep(rng.uniform(0.0, 0.15))  # a random moment to kill at, not a synchronisation
                worker.kill()
                worker.communicate()
                entry = ws.status()["ITEM_EQUIPMENT"]
                if entry["state"] == "COMPLETED":
                    break  # finished before the kill landed
                kills += 1
                self.assertEqual(entry["state"], "FAILED", entry)
                self.assertIn(str(worker.pid), entry["error"])
                run_id = run_id or entry["run_id"]
                self.assertEqual(entry["run_id"], run_id)
                # Every visible part is complete.
                for name in ws.visible_parts("ITEM_EQUIPMENT", run_id):
                    gzip.decompress((ws.data_dir / DATE / "ITEM_EQUIPMENT" / run_id / name).read_bytes())
                args = ["run", "ITEM_EQUIPMENT", "--date", DATE, "--resume"]
            result = ws.run(*args)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(ws.status()["ITEM_EQUIPMENT"]["run_id"], run_id)
            self.assertGreaterEqual(kills, 20)
            self.assert_complete_snapshot(ws, run_id, expected)
            fetched = slow.stats()["requests"]["item"]
            print(f"\nkill loop: {kills} kills, {fetched} item requests for {characters} items "
                  f"({fetched - characters} fetched again, {(fetched - characters) / kills:.1f} per kill)")

    def test_resume_of_a_failed_run(self):
        with FakeApi(characters=400) as fast:
            ws, expected = self.prepare(fast, ranking_pages=2, chunk_records=20)
            with FakeApi("--latency-ms", "10", characters=400) as doomed:
                ws.write_config(doomed.url, ranking_pages=2, chunk_records=20,
                                api={"concurrency": 4, "max_attempts": 2, "backoff_base_ms": 1, "backoff_max_ms": 5})
                worker = ws.spawn("run", "ITEM_EQUIPMENT", "--date", DATE)
                ws.wait_state("ITEM_EQUIPMENT", lambda e: e["state"] == "RUNNING" and e["progress"]["chunks"] >= 2)
            # The API went away mid-run: retries run out and the phase fails, keeping what it committed.
            _, stderr = worker.communicate(timeout=60)
            self.assertEqual(worker.returncode, 1, stderr)
            failed = ws.status()["ITEM_EQUIPMENT"]
            self.assertEqual(failed["state"], "FAILED")
            self.assertGreater(failed["progress"]["chunks"], 0)
            ws.write_config(fast.url, ranking_pages=2, chunk_records=20)
            result = ws.run("run", "ITEM_EQUIPMENT", "--date", DATE, "--resume")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assert_complete_snapshot(ws, failed["run_id"], expected)

    def test_file_size_limit_fails_cleanly_and_resume_completes(self):
        with FakeApi(characters=300) as api:
            ws, expected = self.prepare(api, ranking_pages=2, chunk_records=100)

            def limit_file_size():
                resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))

            worker = subprocess.run(ws.command("run", "ITEM_EQUIPMENT", "--date", DATE), capture_output=True,
                                    text=True, env=ws.env(), preexec_fn=limit_file_size, timeout=120)
            self.assertEqual(worker.returncode, 1, worker.stderr)
            self.assertIn("File too large", worker.stderr)
            self.assertIn(str(ws.data_dir), worker.stderr)
            entry = ws.status()["ITEM_EQUIPMENT"]
            self.assertEqual(entry["state"], "FAILED")
            self.assertIn("File too large", entry["error"])
            self.assertEqual(ws.temporaries(), [])
            # What was committed before the failing write stays, complete and listed; nothing partial.
            manifest, _ = ws.snapshot("ITEM_EQUIPMENT", entry["run_id"])
            self.assertEqual(manifest["state"], "FAILED")
            self.assertEqual(ws.visible_parts("ITEM_EQUIPMENT", entry["run_id"]), [c["name"] for c in manifest["chunks"]])
            result = ws.run("run", "ITEM_EQUIPMENT", "--date", DATE, "--resume")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assert_complete_snapshot(ws, entry["run_id"], expected)


if __name__ == "__main__":
    unittest.main()
