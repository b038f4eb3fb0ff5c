"""What comes over the wire: answers are asked for gzip-encoded and decompressed into exact records; a gzip
bomb (a small body that inflates to a gigabyte) is cut off at api.max_body_mb after decompression, with memory
bounded and the size named, then retried; a load balancer's HTML 503 asking for an hour's wait stops the phase
STOPPED (unavailable) at once instead of sleeping, and --resume finishes it exactly."""

import json
import subprocess
import sys
import time
import unittest
import urllib.request

from harness import DATE, FakeApi, PipelineTestCase, Workspace

# Runs the command line after it in a fresh process and prints its peak RSS in KiB (getrusage of the child).
PEAK_RSS = ("import resource, subprocess, sys\n"
            "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=open(sys.argv[0] + '.err', 'w'))"
            ".returncode\n"
            "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n")


class Wire(PipelineTestCase):
    def prepare(self, fake, **config):
        ws = Workspace(fake.url, **config)
        for phase in ("RANKING_FETCH", "OCID_LOOKUP"):
            result = ws.run("run", phase, "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr)
        return ws

    def test_answers_come_gzipped_and_are_written_exactly(self):
        with FakeApi(characters=60) as api:
            ws = self.prepare(api)
            result = ws.run("run", "CHARACTER_BASIC", "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr)
            stats = api.stats()
            self.assertGreater(stats["gzipped"], 60, stats)  # every answer was asked for, and sent, gzipped
            self.assertLess(stats["bytes_sent"], stats["bytes_plain"])
            entry = ws.status()["CHARACTER_BASIC"]
            _, records = ws.snapshot("CHARACTER_BASIC", entry["run_id"])
            self.assertEqual(len(records), 60)
            ocid = records[0]["ocid"]
            request = f"/maplestory/v1/character/basic?ocid={ocid}&date={DATE}"
            with urllib.request.urlopen(urllib.request.Request(api.url + request,
                                                               headers={"x-nxopen-api-key": "test-key"})) as r:
                self.assertEqual(records[0]["data"], json.loads(r.read()))

    def test_gzip_bomb_is_cut_at_max_body_with_bounded_memory(self):
        with FakeApi("--gzip-bomb-first", 2, "--gzip-bomb-mb", 1024, "--faults-on", "item", characters=40) as api:
            ws = self.prepare(api, api={"max_body_mb": 16})
            probe = ws.dir / "peak.py"
            probe.write_text(PEAK_RSS)
            result = subprocess.run([sys.executable, str(probe), *ws.command("-v", "run", "ITEM_EQUIPMENT", "--date", DATE)],
                                    capture_output=True, text=True, timeout=300, env=ws.env())
            code, peak_kib = map(int, result.stdout.split())
            stderr = (ws.dir / "peak.py.err").read_text()
            self.assertEqual(code, 0, stderr)
            self.assertEqual(api.stats()["gzip_bombs"], 2)
            self.assertIn("larger than api.max_body_mb (16 MB decompressed)", stderr)
            self.assertLessEqual(peak_kib, 64 * 1024, f"peak RSS {peak_kib} KiB")
            entry = ws.status()["ITEM_EQUIPMENT"]
            self.assertEqual(entry["progress"]["retries"], 2)
            _, records = ws.snapshot("ITEM_EQUIPMENT", entry["run_id"])
            self.assertEqual(len({r["ocid"] for r in records}), 40)

    def test_load_balancer_503_with_an_hour_retry_after_stops_unavailable_and_resumes(self):
        with FakeApi("--lb-503-first", 3, "--lb-503-retry-after", 3600, characters=30) as api:
            ws = Workspace(api.url, api={"max_wait_s": 600})
            started = time.monotonic()
            result = ws.run("run", "RANKING_FETCH", "--date", DATE, timeout=120)
            self.assertLess(time.monotonic() - started, 30)
            self.assertEqual(result.returncode, 3, result.stderr)
            entry = ws.status()["RANKING_FETCH"]
            self.assertEqual((entry["state"], entry["stop_reason"]), ("STOPPED", "unavailable"))
            self.assertEqual(api.stats()["errors"]["lb_503"], 1)
            # The load balancer's answers run out (3 in all): the resumed run gets through.
            for _ in range(3):
                again = ws.run("run", "RANKING_FETCH", "--date", DATE, "--resume", timeout=120)
                if again.returncode == 0:
                    break
                self.assertEqual(again.returncode, 3, again.stderr)
            done = ws.status()["RANKING_FETCH"]
            self.assertEqual((done["state"], done["run_id"]), ("COMPLETED", entry["run_id"]))
            _, records = ws.snapshot("RANKING_FETCH", done["run_id"])
            self.assertEqual(len(records), 30)


if __name__ == "__main__":
    unittest.main()
