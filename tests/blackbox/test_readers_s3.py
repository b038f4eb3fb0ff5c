"""Readers on S3 (issue 21): `_current.json` after complete, stopped, resumed and repeated runs; `pipeline cat`
and `verify` through the signature-checking front (ctest fixtures s3 and s3front, see test_s3.py); verify and cat
stream a 30 MB part with a small peak RSS."""

import base64
import gzip
import hashlib
import json
import os
import random
import subprocess
import sys
import urllib.request

from harness import DATE, FakeApi, PipelineTestCase
from test_readers import PHASE, full_run, prepare, stopped_run
from test_s3 import BUCKET, S3Workspace, s3_get

RSS_LIMIT_KIB = 32 * 1024
RUN_ID = "20261123T010000Z-5a5a5a"


def peak_rss_kib(command, env):
    """Runs `command` in a fresh Python whose only child it is; returns (exit code, stdout, peak RSS in KiB)."""
    probe = ("import resource, subprocess, sys\n"
             "r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)\n"
             "sys.stderr.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
             "sys.stdout.buffer.write(r.stdout)\n"
             "sys.exit(r.returncode)\n")
    result = subprocess.run([sys.executable, "-c", probe, *command], capture_output=True, env=env, timeout=300)
    return result.returncode, result.stdout, int(result.stderr)


def s3_put(ws, key, data):
    """An anonymous PUT to s3rver itself (the front only lets signed requests through)."""
    request = urllib.request.Request(f"{ws.store}/{BUCKET}/{ws.prefix}/{key}", data=data, method="PUT")
    urllib.request.urlopen(request, timeout=120).close()


class ReadersS3Test(PipelineTestCase):
    def s3_workspace(self, api, **config):
        ws = S3Workspace(api.url, **config)
        return ws, dict(config, sink=ws.sink_config)

    def current(self, ws):
        return s3_get(ws.store, f"{ws.prefix}/{DATE}/{PHASE}/_current.json")

    def manifest(self, ws, run_id):
        return s3_get(ws.store, f"{ws.prefix}/{DATE}/{PHASE}/{run_id}/_manifest.json")

    def assert_cat_is_run(self, ws, run_id):
        result = subprocess.run(ws.command("cat", PHASE, "--date", DATE), capture_output=True, env=ws.env(),
                                timeout=120)
        self.assertEqual((result.returncode, result.stderr), (0, b""))
        records = ws.s3_snapshot(PHASE, run_id, json.loads(self.manifest(ws, run_id)))
        self.assertEqual([json.loads(line) for line in result.stdout.decode().splitlines()], records)
        self.assertEqual(len(records), len({r["ocid"] for r in records}))

    def test_current_after_complete_stop_resume_and_repeat(self):
        with FakeApi(characters=200) as fast, FakeApi("--latency-ms", "20", characters=200) as slow:
            ws, config = self.s3_workspace(fast, ranking_pages=1, chunk_records=20)
            for phase in ("RANKING_FETCH", "OCID_LOOKUP"):
                self.assertEqual(ws.run("run", phase, "--date", DATE).returncode, 0)
            stopped = stopped_run(ws, slow, config)
            self.assertNotIn(f"{ws.prefix}/{DATE}/{PHASE}/_current.json", ws.keys(f"{DATE}/{PHASE}/"))
            verify = ws.run("verify", PHASE, "--date", DATE)
            self.assertEqual(verify.returncode, 1)
            self.assertRegex(verify.stdout, rf"^INCOMPLETE {PHASE} {stopped} STOPPED: \d+ records in \d+ chunks\n$")
            cat = ws.run("cat", PHASE, "--date", DATE)
            self.assertEqual((cat.returncode, cat.stdout, cat.stderr), (1, "", f"MISSING {PHASE}\n"))

            first = full_run(ws, fast, config)
            self.assertEqual(self.current(ws), self.manifest(ws, first))
            self.assert_cat_is_run(ws, first)
            full_run(ws, fast, config, "--resume")
            self.assertEqual(self.current(ws), self.manifest(ws, stopped))
            second = full_run(ws, fast, config)
            self.assertEqual(self.current(ws), self.manifest(ws, second))
            later = stopped_run(ws, slow, config)
            self.assertEqual(self.current(ws), self.manifest(ws, second))
            self.assert_cat_is_run(ws, second)
            verify = ws.run("verify", PHASE, "--date", DATE)
            self.assertEqual((verify.returncode, verify.stdout), (0, f"OK {PHASE} {second} 200 records in 10 chunks\n"),
                             verify.stderr)
            self.assertNotEqual(later, second)

            # `cat | head -1` on S3: quiet, exit 1.
            args = ws.command("cat", PHASE, "--date", DATE)
            command = " ".join(f"'{a}'" for a in [os.path.abspath(args[0])] + args[1:])
            result = subprocess.run(["bash", "-c", command + " 2>stderr.txt | head -1; echo ${PIPESTATUS[0]} >rc.txt"],
                                    cwd=ws.dir, capture_output=True, text=True, env=ws.env(), timeout=60)
            self.assertEqual(json.loads(result.stdout)["date"], DATE)
            self.assertEqual(((ws.dir / "stderr.txt").read_text(), (ws.dir / "rc.txt").read_text().strip()), ("", "1"))

    def test_verify_and_cat_stream_a_30_mb_part_in_bounded_memory(self):
        ws = S3Workspace("http://127.0.0.1:9")
        rng = random.Random(21)
        lines = [json.dumps({"ocid": f"{i:032x}", "date": DATE,
                             "data": {"blob": base64.b64encode(rng.randbytes(3000)).decode()}}) + "\n"
                 for i in range(10000)]
        part = gzip.compress("".join(lines).encode(), compresslevel=1)
        self.assertGreater(len(part), 29 << 20)
        manifest = {"phase": PHASE, "date": DATE, "run_id": RUN_ID, "state": "COMPLETED", "records": len(lines),
                    "chunks": [{"name": "part-00001.jsonl.gz", "records": len(lines), "bytes": len(part),
                                "sha256": hashlib.sha256(part).hexdigest()}],
                    "rejected": 0, "started_at": "2026-11-23T01:00:00Z", "finished_at": "2026-11-23T01:10:00Z",
                    "upstream": None}
        text = json.dumps(manifest).encode()
        s3_put(ws, f"{DATE}/{PHASE}/{RUN_ID}/part-00001.jsonl.gz", part)
        s3_put(ws, f"{DATE}/{PHASE}/{RUN_ID}/_manifest.json", text)
        s3_put(ws, f"{DATE}/{PHASE}/_current.json", text)

        code, out, rss = peak_rss_kib(ws.command("verify", PHASE, "--date", DATE), ws.env())
        print(f"\nS3 verify of a {len(part) / 1e6:.1f} MB part: peak RSS {rss / 1024:.1f} MiB", file=sys.stderr)
        self.assertEqual((code, out.decode()), (0, f"OK {PHASE} {RUN_ID} 10000 records in 1 chunks\n"))
        self.assertLessEqual(rss, RSS_LIMIT_KIB)
        code, out, rss = peak_rss_kib(ws.command("cat", PHASE, "--date", DATE), ws.env())
        print(f"S3 cat of the same part: peak RSS {rss / 1024:.1f} MiB", file=sys.stderr)
        self.assertEqual(code, 0)
        self.assertEqual(hashlib.sha256(out).hexdigest(), hashlib.sha256("".join(lines).encode()).hexdigest())
        self.assertLessEqual(rss, RSS_LIMIT_KIB)


if __name__ == "__main__":
    import unittest
    unittest.main()
