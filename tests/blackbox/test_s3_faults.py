"""S3 faults end to end: `pipeline run all` into s3rver through a front (tests/s3front/front.py) that checks
every signature and injects, at a few percent, 503 SlowDown, 500 InternalError, connection resets in the
middle of uploads, and lost answers to CompleteMultipartUpload. The harvest must end COMPLETED with exactly
the records of a clean local run, and leave no object outside a manifest and no multipart upload behind."""

import json
import os
import signal
import subprocess
import tempfile
import unittest
from pathlib import Path

from harness import DATE, PHASES, FakeApi, PipelineTestCase, Workspace, wait_for
from test_s3 import S3Workspace, s3_get, s3rver_endpoint

FRONT = Path(__file__).resolve().parents[1] / "s3front" / "front.py"
# With this seed each kind of fault strikes at least once in the harvest below (the nth candidate request of
# a kind is hit or not by the seed alone, so this holds in every run; the test checks it).
SEED = 11


class FaultyFront:
    """A front of its own with faults switched on, before the s3rver of the ctest fixture."""

    def __init__(self, *args):
        self.dir = Path(tempfile.mkdtemp(prefix="s3front-"))
        self.args = [str(FRONT), "--upstream", s3rver_endpoint(), "--port-file", str(self.dir / "port"),
                     "--stats-file", str(self.dir / "stats.json"), "--log", str(self.dir / "requests.jsonl"),
                     *args]

    def __enter__(self):
        self.process = subprocess.Popen(self.args, stderr=subprocess.PIPE)
        wait_for(lambda: (self.dir / "port").exists() or self.process.poll() is not None, 20, what="front")
        if self.process.poll() is not None:
            raise RuntimeError("the front did not start: " + self.process.stderr.read().decode())
        self.url = f"http://127.0.0.1:{(self.dir / 'port').read_text().strip()}"
        return self

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(20)
        self.process.stderr.close()
        self.stats = json.loads((self.dir / "stats.json").read_text())


def canonical(records):
    return sorted(json.dumps(r, sort_keys=True) for r in records)


def open_uploads(prefix):
    """Keys of the multipart uploads s3rver still holds under prefix (its data folder: one folder per upload
    in the bucket's uploads folder, with the key in a file)."""
    data = Path(os.environ["PIPELINE_S3_DIR"]) / "data" / "snapshots"
    keys = [p.read_text() for p in data.glob("*uploads*/*/key")]
    return [k for k in keys if k.startswith(prefix)]


class S3FaultTest(PipelineTestCase):
    def test_harvest_through_faults_is_exact_and_leaves_nothing_behind(self):
        # Item bodies of ~64 KiB, uncompressed, 100 records a chunk: ITEM_EQUIPMENT chunks of ~6.4 MB go up
        # as multipart uploads of two parts; every other object is a single PUT.
        config = dict(ranking_pages=3, chunk_records=100)
        with FakeApi("--item-kb", "64", characters=300) as api:
            clean = Workspace(api.url, **config)
            result = clean.run("run", "all", "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr)
            with FaultyFront("--fault-rate", "0.04", "--faults",
                             "slowdown,error500,reset,lose_complete=0.5", "--seed", str(SEED)) as front:
                ws = S3Workspace(api.url, endpoint=front.url, **config)
                ws.sink_config["compression"] = "none"
                ws.sink_config["s3"].update(multipart_threshold_mb=5, part_size_mb=5)
                ws.write_config(api.url, sink=ws.sink_config, **config)
                result = ws.run("run", "all", "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr)

        for kind in ["fault_slowdown", "fault_error500", "fault_reset", "fault_lose_complete", "no_such_upload"]:
            self.assertGreaterEqual(front.stats.get(kind, 0), 1, f"{kind} never happened: {front.stats}")
        self.assertEqual(front.stats.get("refused_SignatureDoesNotMatch", 0), 0, front.stats)

        status = ws.status()
        for phase in PHASES:
            self.assertEqual(status[phase]["state"], "COMPLETED", phase)
            runs = ws.runs(phase)
            self.assertEqual(len(runs), 1, f"{phase}: {sorted(runs)}")
            run_id, manifest = next(iter(runs.items()))
            (local_manifest,) = clean.manifests(phase)
            _, local_records = clean.snapshot(phase, local_manifest["run_id"])
            records = ws.s3_snapshot(phase, run_id, manifest)
            self.assertEqual(canonical(records), canonical(local_records), phase)
            self.assertEqual(manifest["records"], local_manifest["records"], phase)
            # Nothing in the bucket but the listed chunks, the manifest and the rejects.
            present = {k.rsplit("/", 1)[1] for k in ws.keys(f"{DATE}/{phase}/")}
            listed = {c["name"] for c in manifest["chunks"]}
            self.assertEqual({p for p in present if p.startswith("part-")}, listed, phase)
            self.assertTrue(present <= listed | {"_manifest.json", "_rejects.jsonl", "_current.json"}, present)
            # _current.json went up through the same faults, whole: a copy of the manifest.
            current = json.loads(s3_get(ws.store, f"{ws.prefix}/{DATE}/{phase}/_current.json"))
            self.assertEqual(current, manifest, phase)
        self.assertEqual(ws.keys(), sorted(k for k in ws.keys() if f"/{DATE}/" in k))
        multipart = [m for m in ws.runs("ITEM_EQUIPMENT").values()][0]["chunks"]
        self.assertTrue(all(c["bytes"] > 5 << 20 for c in multipart[:-1]), "chunks big enough for multipart")
        self.assertEqual(open_uploads(ws.prefix), [])


if __name__ == "__main__":
    unittest.main()
