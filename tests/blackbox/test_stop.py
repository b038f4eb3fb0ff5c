"""Issue: graceful per-phase stop (docs/contract.md §3, §4), with real processes against the bundled API."""

import json
import random
import signal
import subprocess
import time
import unittest

from harness import DATE, PHASES, FakeApi, PipelineTestCase, Workspace, wait_for

UPSTREAM = {"RANKING_FETCH": [], "OCID_LOOKUP": ["RANKING_FETCH"],
            "CHARACTER_BASIC": ["RANKING_FETCH", "OCID_LOOKUP"], "ITEM_EQUIPMENT": ["RANKING_FETCH", "OCID_LOOKUP"]}


def running_with_requests(entry):
    return entry["state"] == "RUNNING" and entry["progress"]["items_done"] >= 8


class StopTest(PipelineTestCase):
    def prepare(self, fast, phase, **config):
        ws = Workspace(fast.url, **config)
        for upstream in UPSTREAM[phase]:
            result = ws.run("run", upstream, "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr)
        return ws

    def run_all_until_both_detail_phases_run(self, fast, slow):
        """Prepares the upstream with the fast API, then starts `run all` against the slow one and returns
        (workspace, worker) once CHARACTER_BASIC and ITEM_EQUIPMENT both run."""
        ws = self.prepare(fast, "ITEM_EQUIPMENT", ranking_pages=2)
        ws.write_config(slow.url, ranking_pages=2, api={"concurrency": 2})
        worker = ws.spawn("run", "all", "--date", DATE)
        ws.wait_state("ITEM_EQUIPMENT", running_with_requests)
        ws.wait_state("CHARACTER_BASIC", lambda e: e["state"] == "RUNNING")
        return ws, worker

    def test_stop_mid_phase_for_each_phase(self):
        with FakeApi(characters=1200) as fast, FakeApi("--latency-ms", "40", characters=1200) as slow:
            for phase in PHASES:
                with self.subTest(phase=phase):
                    ws = self.prepare(fast, phase, ranking_pages=6, chunk_records=10)
                    # RANKING_FETCH has few items: one page in flight at a time makes its boundaries visible.
                    concurrency = 1 if phase == "RANKING_FETCH" else 4
                    ws.write_config(slow.url, ranking_pages=6, chunk_records=10, api={"concurrency": concurrency})
                    worker = ws.spawn("run", phase.lower(), "--date", DATE)
                    ws.wait_state(phase, lambda e: e["state"] == "RUNNING" and e["progress"]["items_done"] >= (
                        1 if phase == "RANKING_FETCH" else 8), what=f"{phase} progress")
                    stop = ws.run("stop", phase.lower())
                    self.assertEqual(stop.returncode, 0, stop.stderr)
                    run_id = ws.ledger_entry(phase)["run_id"]
                    self.assertEqual(stop.stdout, f"STOP_REQUESTED {phase} {run_id}\n")
                    worker.communicate(timeout=30)
                    self.assertEqual(worker.returncode, 3)
                    entry = ws.status()[phase]
                    self.assertEqual(entry["state"], "STOPPED")
                    self.assertTrue(entry["stop_requested"])
                    self.assertIsNotNone(entry["finished_at"])
                    manifest, records = ws.snapshot(phase, run_id)
                    self.assertEqual(manifest["state"], "STOPPED")
                    self.assertEqual(entry["progress"]["records"], len(records))
                    self.assertLess(entry["progress"]["items_done"], entry["progress"]["items_total"])
                    self.assertEqual(ws.visible_parts(phase, run_id), [c["name"] for c in manifest["chunks"]])
                    self.assertEqual(ws.temporaries(), [])
                    self.assertFalse((ws.run_dir / f"{phase}.stop").exists())
                    # Nothing new is requested once the process is gone, and the slot is free at once.
                    requests = slow.stats()["total"]
                    self.assertEqual(slow.stats()["total"], requests)
                    ws.write_config(fast.url, ranking_pages=6, chunk_records=10)
                    again = ws.run("run", phase, "--date", DATE)
                    self.assertEqual(again.returncode, 0, again.stderr)
                    self.assertNotEqual(ws.status()[phase]["run_id"], run_id)

    def test_stop_during_retry_after_wait(self):
        with FakeApi("--fail-429", "1", "--retry-after", "30", characters=10) as api:
            ws = Workspace(api.url, api={"max_attempts": 3})
            worker = ws.spawn("run", "RANKING_FETCH", "--date", DATE)
            wait_for(lambda: api.stats()["answered"].get("429", 0) >= 1, what="a 429 answer")
            started = time.monotonic()
            stop = ws.run("stop", "RANKING_FETCH")
            self.assertEqual(stop.returncode, 0)
            worker.communicate(timeout=20)
            elapsed = time.monotonic() - started
            self.assertEqual(worker.returncode, 3)
            self.assertLess(elapsed, 10, "the stop waited for Retry-After")
            self.assertEqual(ws.status()["RANKING_FETCH"]["state"], "STOPPED")
            self.assertEqual(api.stats()["total"], 1)

    def test_stop_racing_completion_never_stops_the_next_run(self):
        with FakeApi(characters=20) as api:
            ws = Workspace(api.url)
            rng = random.Random(7)
            outcomes = {0: 0, 3: 0}
            for _ in range(200):
                worker = ws.spawn("run", "RANKING_FETCH", "--date", DATE)
                time.sleep(rng.uniform(0, 0.03))  # a random moment, not a synchronisation
                stop = ws.run("stop", "RANKING_FETCH")
                self.assertEqual(stop.returncode, 0, stop.stderr)
                worker.communicate(timeout=30)
                self.assertIn(worker.returncode, (0, 3))
                outcomes[worker.returncode] += 1
                state = ws.ledger_entry("RANKING_FETCH")["state"]
                self.assertEqual(state, "COMPLETED" if worker.returncode == 0 else "STOPPED")
                after = ws.run("run", "RANKING_FETCH", "--date", DATE)
                self.assertEqual(after.returncode, 0, after.stderr)
                self.assertEqual(ws.ledger_entry("RANKING_FETCH")["state"], "COMPLETED")
            print(f"race outcomes: {outcomes}")

    def test_stale_sentinel_is_ignored(self):
        with FakeApi(characters=20) as api:
            ws = Workspace(api.url)
            self.assertEqual(ws.run("run", "RANKING_FETCH", "--date", DATE).returncode, 0)
            old = ws.ledger_entry("RANKING_FETCH")["run_id"]
            (ws.run_dir / "RANKING_FETCH.stop").write_text(old + "\n")  # landed after completion
            self.assertEqual(ws.run("run", "RANKING_FETCH", "--date", DATE).returncode, 0)
            self.assertEqual(ws.status()["RANKING_FETCH"]["state"], "COMPLETED")
            self.assertFalse((ws.run_dir / "RANKING_FETCH.stop").exists())

    def test_stopping_one_phase_leaves_the_other_running(self):
        with FakeApi(characters=300) as fast, FakeApi("--latency-ms", "30", characters=300) as slow:
            # Same process: run all, stop ITEM_EQUIPMENT while both detail phases run.
            ws, worker = self.run_all_until_both_detail_phases_run(fast, slow)
            self.assertEqual(ws.run("stop", "item_equipment").returncode, 0)
            worker.communicate(timeout=120)
            self.assertEqual(worker.returncode, 3)
            status = ws.status()
            self.assertEqual(status["ITEM_EQUIPMENT"]["state"], "STOPPED")
            self.assertEqual(status["CHARACTER_BASIC"]["state"], "COMPLETED")
            self.assertFalse(status["CHARACTER_BASIC"]["stop_requested"])
            self.assertEqual(status["CHARACTER_BASIC"]["progress"]["records"], 300)

    def test_a_stopped_phase_of_run_all_resumes_while_its_sibling_still_runs(self):
        with FakeApi(characters=300) as fast, FakeApi("--latency-ms", "30", characters=300) as slow:
            ws, worker = self.run_all_until_both_detail_phases_run(fast, slow)
            stop = ws.run("stop", "ITEM_EQUIPMENT", "--wait", "--timeout", "60")
            self.assertEqual(stop.returncode, 0, stop.stderr)
            self.assertEqual(ws.status()["CHARACTER_BASIC"]["state"], "RUNNING")
            # The stopped phase's slot is free at once, although `run all` still runs CHARACTER_BASIC.
            resumed = ws.run("run", "ITEM_EQUIPMENT", "--resume", "--date", DATE)
            self.assertEqual(resumed.returncode, 0, resumed.stderr)
            worker.communicate(timeout=120)
            self.assertEqual(worker.returncode, 3)
            status = ws.status()
            self.assertEqual(status["ITEM_EQUIPMENT"]["state"], "COMPLETED")
            self.assertEqual(status["ITEM_EQUIPMENT"]["progress"]["records"], 300)
            self.assertEqual(status["CHARACTER_BASIC"]["state"], "COMPLETED")

    def test_stopping_a_phase_in_another_process(self):
        with FakeApi(characters=300) as fast, FakeApi("--latency-ms", "30", characters=300) as slow:
            ws = self.prepare(fast, "ITEM_EQUIPMENT", ranking_pages=2)
            ws.write_config(slow.url, ranking_pages=2, api={"concurrency": 2})
            basic = ws.spawn("run", "CHARACTER_BASIC", "--date", DATE)
            item = ws.spawn("run", "ITEM_EQUIPMENT", "--date", DATE)
            ws.wait_state("ITEM_EQUIPMENT", running_with_requests)
            self.assertEqual(ws.run("stop", "ITEM_EQUIPMENT").returncode, 0)
            item.communicate(timeout=60)
            self.assertEqual(item.returncode, 3)
            self.assertEqual(ws.ledger_entry("CHARACTER_BASIC")["state"], "RUNNING")
            basic.communicate(timeout=120)
            self.assertEqual(basic.returncode, 0)
            self.assertEqual(ws.status()["CHARACTER_BASIC"]["state"], "COMPLETED")

    def test_not_running_and_stop_all(self):
        with FakeApi(characters=20) as api:
            ws = Workspace(api.url)
            result = ws.run("stop", "all")
            self.assertEqual(result.returncode, 0)
            self.assertEqual(result.stdout, "".join(f"NOT_RUNNING {p}\n" for p in PHASES))
            self.assertEqual(ws.run("run", "RANKING_FETCH", "--date", DATE).returncode, 0)
            result = ws.run("stop", "Ranking_Fetch")
            self.assertEqual((result.returncode, result.stdout), (0, "NOT_RUNNING RANKING_FETCH\n"))
            self.assertEqual(ws.status()["RANKING_FETCH"]["state"], "COMPLETED")

    def test_stop_all_and_wait(self):
        with FakeApi(characters=300) as fast, FakeApi("--latency-ms", "30", characters=300) as slow:
            ws, worker = self.run_all_until_both_detail_phases_run(fast, slow)
            result = ws.run("stop", "all", "--wait", "--timeout", "60")
            self.assertEqual(result.returncode, 0, result.stderr)
            lines = result.stdout.splitlines()
            self.assertEqual(lines[:2], ["NOT_RUNNING RANKING_FETCH", "NOT_RUNNING OCID_LOOKUP"])
            self.assertTrue(lines[2].startswith("STOP_REQUESTED CHARACTER_BASIC "))
            self.assertTrue(lines[3].startswith("STOP_REQUESTED ITEM_EQUIPMENT "))
            # --wait returned only once both were terminal.
            status = {p: ws.ledger_entry(p)["state"] for p in ("CHARACTER_BASIC", "ITEM_EQUIPMENT")}
            self.assertEqual(status, {"CHARACTER_BASIC": "STOPPED", "ITEM_EQUIPMENT": "STOPPED"})
            worker.communicate(timeout=30)
            self.assertEqual(worker.returncode, 3)

    def test_wait_timeout_exits_5(self):
        with FakeApi("--latency-ms", "4000", characters=20) as api:
            ws = Workspace(api.url, api={"timeout_ms": 20000})
            worker = ws.spawn("run", "RANKING_FETCH", "--date", DATE)
            wait_for(lambda: api.stats()["in_flight"] >= 1, what="a request in flight")
            result = ws.run("stop", "RANKING_FETCH", "--wait", "--timeout", "0.3")
            self.assertEqual(result.returncode, 5)
            self.assertTrue(result.stdout.startswith("STOP_REQUESTED RANKING_FETCH "))
            self.assertEqual(ws.ledger_entry("RANKING_FETCH")["stop_requested"], True)
            self.assertEqual(ws.status()["RANKING_FETCH"]["stop_requested"], True)
            worker.communicate(timeout=30)
            self.assertEqual(worker.returncode, 3)

    def test_sigterm_stops_every_phase_of_the_process(self):
        with FakeApi(characters=300) as fast, FakeApi("--latency-ms", "30", characters=300) as slow:
            ws, worker = self.run_all_until_both_detail_phases_run(fast, slow)
            worker.send_signal(signal.SIGTERM)
            _, stderr = worker.communicate(timeout=30)
            self.assertEqual(worker.returncode, 3, stderr)
            status = ws.status()
            self.assertEqual(status["CHARACTER_BASIC"]["state"], "STOPPED")
            self.assertEqual(status["ITEM_EQUIPMENT"]["state"], "STOPPED")
            self.assertEqual(ws.temporaries(), [])

    def test_second_sigint_aborts_at_once(self):
        with FakeApi("--latency-ms", "5000", characters=20) as api:
            ws = Workspace(api.url, api={"timeout_ms": 20000})
            worker = ws.spawn("run", "RANKING_FETCH", "--date", DATE)
            wait_for(lambda: api.stats()["in_flight"] >= 1, what="a request in flight")
            worker.send_signal(signal.SIGINT)
            ws.wait_state("RANKING_FETCH", lambda e: e["state"] == "RUNNING")
            time.sleep(0.2)  # let the first signal be handled (no event to await from outside)
            worker.send_signal(signal.SIGINT)
            worker.communicate(timeout=3)
            self.assertEqual(worker.returncode, 130)
            entry = ws.status()["RANKING_FETCH"]
            self.assertEqual(entry["state"], "FAILED")
            self.assertIn(str(worker.pid), entry["error"])

    def test_polling_fallback(self):
        with FakeApi(characters=300) as fast, FakeApi("--latency-ms", "30", characters=300) as slow:
            ws = self.prepare(fast, "OCID_LOOKUP", ranking_pages=2)
            ws.write_config(slow.url, ranking_pages=2, api={"concurrency": 2})
            worker = ws.spawn("run", "OCID_LOOKUP", "--date", DATE, env=ws.env(PIPELINE_STOP_POLL="1"))
            ws.wait_state("OCID_LOOKUP", running_with_requests)
            self.assertEqual(ws.run("stop", "OCID_LOOKUP").returncode, 0)
            _, stderr = worker.communicate(timeout=30)
            self.assertEqual(worker.returncode, 3)
            self.assertIn("polled", stderr)


if __name__ == "__main__":
    unittest.main()
