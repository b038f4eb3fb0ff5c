"""The pace (docs/pacing.md). With the shipped `concurrency: auto` a harvest keeps enough requests in flight to
reach the key's rate limit at slow answer times, and does reach it; two processes sharing one key and run
directory share its limit; sibling phases of one process share one in-flight budget.

The fake API answers 429 beyond --rate-limit calls per calendar second and counts what it served (/_stats). The
machine running these may be loaded (CI runs tests side by side), so what is asserted is what the pace controls:
the requests in flight (Little's law: rate x answer time), the busiest calendar second reaching the limit, and
at most 3 x 429. The whole-run rate (the fake's count over the wall time of the pipeline processes, start-up
included) is printed; scripts/bench/latency.sh measures it on a quiet machine (README, Benchmarks)."""

import os
import re
import time
import urllib.request
from pathlib import Path

from harness import DATE, FakeApi, PipelineTestCase, Workspace

SOURCE_DIR = Path(os.environ.get("PIPELINE_SOURCE_DIR", Path(__file__).resolve().parents[2]))
RATE = 500
MIN_SHARE = 0.85
MAX_429 = 3


def shipped_api_keys():
    """api.concurrency and api.max_connections as the shipped pipeline.yaml sets them."""
    text = (SOURCE_DIR / "pipeline.yaml").read_text()
    keys = {}
    for key in ("concurrency", "max_connections"):
        match = re.search(rf"^  {key}: *(\S+)", text, re.MULTILINE)
        assert match, f"pipeline.yaml sets no api.{key}"
        keys[key] = match.group(1)
    return keys


def pacing_workspace(api, characters):
    """A workspace with the shipped in-flight settings and the key's limit of 500/s."""
    keys = shipped_api_keys()
    api_keys = {"rate_limit_per_sec": RATE, "concurrency": keys["concurrency"],
                "max_connections": keys["max_connections"], "timeout_ms": 10000}
    return Workspace(api.url, api=api_keys, ranking_pages=(characters + 199) // 200, chunk_records=1000)


def reset_stats(api):
    """Zeroes the fake's counters (the calendar-second limit itself goes on counting)."""
    request = urllib.request.Request(api.url + "/_reset_stats", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def timed(ws, *commands):
    """Starts a pipeline process per command at once and waits for all; returns the wall seconds from the first
    start to the last exit and each one's (stdout, stderr)."""
    started = time.monotonic()
    processes = [ws.spawn(*command) for command in commands]
    results = [process.communicate(timeout=300) for process in processes]
    return time.monotonic() - started, results


class PacingTest(PipelineTestCase):
    def harvest_ids(self, latency_ms, characters=6000):
        """OCID_LOOKUP of `characters` names at the shipped settings against a 500/s fake answering after
        `latency_ms`; returns the fake's stats, the wall seconds, the workspace, the phase's status entry and
        its `status OCID_LOOKUP` text."""
        self.assertEqual(shipped_api_keys()["concurrency"], "auto")
        with FakeApi("--rate-limit", RATE, "--latency-ms", latency_ms, "--threads", 700,
                     characters=characters) as api:
            ws = pacing_workspace(api, characters)
            result = ws.run("run", "RANKING_FETCH", "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr)
            reset_stats(api)
            wall, [(_, stderr)] = timed(ws, ("-q", "run", "OCID_LOOKUP", "--date", DATE))
            stats = api.stats()
            entry = ws.status()["OCID_LOOKUP"]
            self.assertEqual(entry["state"], "COMPLETED", stderr)
            _, records = ws.snapshot("OCID_LOOKUP", entry["run_id"])
            self.assertEqual(len(records), api.expected()["ocids"])
            detail = ws.run("status", "OCID_LOOKUP")
            return stats, wall, ws, entry, detail.stdout

    def assert_reaches_the_limit(self, stats, wall, what, latency_ms=150):
        rate = stats["total"] / wall
        n429 = stats["answered"].get("429", 0)
        # Printed so that a run on a loaded machine shows how close it came.
        print(f"\n{what}: {stats['total']} calls in {wall:.2f} s = {rate:.0f}/s ({100 * rate / RATE:.1f} % of "
              f"{RATE}/s), {n429} x 429, max {stats['max_per_second']} in one second, "
              f"max {stats['max_in_flight']} in flight")
        self.assertGreaterEqual(stats["max_in_flight"], MIN_SHARE * RATE * latency_ms / 1000, what)
        self.assertGreaterEqual(stats["max_per_second"], MIN_SHARE * RATE, what)
        self.assertLessEqual(n429, MAX_429, what)

    def test_auto_reaches_the_rate_limit_at_150_ms_answers(self):
        stats, wall, _, entry, detail = self.harvest_ids(150)
        self.assert_reaches_the_limit(stats, wall, "150 ms answers")
        # The pace is shown: the in-flight target auto chose, and the median answer time.
        progress = entry["progress"]
        self.assertGreaterEqual(progress["answer_ms_p50"], 140)
        self.assertLess(progress["answer_ms_p50"], 1000)
        self.assertGreaterEqual(progress["in_flight_target"], 75)  # 500/s x 0.15 s
        self.assertLessEqual(progress["in_flight_target"], 256)
        self.assertEqual(progress["in_flight"], 0)
        self.assertIn(f"answer time:     {progress['answer_ms_p50']} ms", detail)
        self.assertIn(f"(the process's target: {progress['in_flight_target']})", detail)

    def test_auto_reaches_the_rate_limit_at_400_ms_answers(self):
        stats, wall, _, entry, _ = self.harvest_ids(400)
        self.assert_reaches_the_limit(stats, wall, "400 ms answers", latency_ms=400)
        self.assertGreaterEqual(entry["progress"]["in_flight_target"], 200)  # 500/s x 0.4 s

    def test_two_processes_on_one_key_and_run_dir_share_the_limit(self):
        characters = 3000
        with FakeApi("--rate-limit", RATE, "--latency-ms", 150, "--threads", 700, characters=characters) as api:
            ws = pacing_workspace(api, characters)
            for phase in ("RANKING_FETCH", "OCID_LOOKUP"):
                result = ws.run("run", phase, "--date", DATE)
                self.assertEqual(result.returncode, 0, result.stderr)
            reset_stats(api)
            # As cron's `run CHARACTER_BASIC` and an operator's `run ITEM_EQUIPMENT`, started together.
            wall, results = timed(ws, *[("-q", "run", phase, "--date", DATE)
                                        for phase in ("CHARACTER_BASIC", "ITEM_EQUIPMENT")])
            stats = api.stats()
            status = ws.status()
            expected = api.expected()
            ocids = {r["ocid"] for r in ws.snapshot("OCID_LOOKUP", status["OCID_LOOKUP"]["run_id"])[1]}
            for phase, (_, stderr) in zip(("CHARACTER_BASIC", "ITEM_EQUIPMENT"), results):
                entry = status[phase]
                self.assertEqual(entry["state"], "COMPLETED", stderr)
                _, records = ws.snapshot(phase, entry["run_id"])
                self.assertEqual(len(records), expected["detail_records"], phase)
                self.assertEqual({r["ocid"] for r in records}, ocids, phase)
                self.assertEqual(len({r["ocid"] for r in records}), len(records), phase)
            self.assert_reaches_the_limit(stats, wall, "two processes")
            self.assertEqual(os.stat(ws.run_dir / "pace").st_mode & 0o777, 0o600)

    def test_sibling_phases_share_one_in_flight_budget(self):
        with FakeApi("--latency-ms", 30, "--threads", 64, characters=600) as api:
            ws = Workspace(api.url, api={"rate_limit_per_sec": 5000, "concurrency": 8}, ranking_pages=3,
                           chunk_records=200)
            result = ws.run("run", "all", "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr)
            stats = api.stats()
            # CHARACTER_BASIC and ITEM_EQUIPMENT ran side by side: 16 in flight had each phase its own 8.
            self.assertLessEqual(stats["max_in_flight"], 8, stats)
            status = ws.status()
            for phase in ("CHARACTER_BASIC", "ITEM_EQUIPMENT"):
                self.assertEqual(status[phase]["state"], "COMPLETED")
                self.assertEqual(status[phase]["progress"]["in_flight_target"], 8)
