"""The S3 sink end to end: `pipeline run` into s3rver (started by ctest's s3 fixture, see scripts/s3rver.sh)
through the front that checks every signature with botocore (fixture s3front, tests/s3front/front.py),
checked by reading the bucket back from s3rver over plain HTTP (s3rver serves anonymous requests)."""

import json
import os
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

from harness import DATE, PHASES, FakeApi, PipelineTestCase, Workspace, checked_records

BUCKET = "snapshots"
SECRET = "S3RVER"
S3_NS = "{http://doc.s3.amazonaws.com/2006-03-01/}"


def _port_of(variable, how):
    folder = os.environ.get(variable)
    if not folder:
        raise RuntimeError(f"{variable} is not set: run through ctest (-R s3), or run {how}")
    port_file = Path(folder) / "port"
    if not port_file.exists():
        raise RuntimeError(f"{port_file} is missing: is it running ({how})?")
    return f"http://127.0.0.1:{port_file.read_text().strip()}"


def s3rver_endpoint():
    """s3rver itself, which serves anonymous reads: the tests read the bucket back from it."""
    return _port_of("PIPELINE_S3_DIR", "scripts/s3rver.sh start DIR and export PIPELINE_S3_DIR=DIR")


def front_endpoint():
    """The front that checks every signature before s3rver (tests/s3front): what `pipeline` writes to."""
    return _port_of("PIPELINE_S3_FRONT_DIR", "scripts/s3front.sh start FRONT DIR and export "
                    "PIPELINE_S3_FRONT_DIR=FRONT")


def s3_list(endpoint, prefix):
    """Every key under prefix (ListObjectsV2, following continuation tokens)."""
    keys, token = [], None
    while True:
        query = {"list-type": "2", "prefix": prefix}
        if token:
            query["continuation-token"] = token
        url = f"{endpoint}/{BUCKET}?{urllib.parse.urlencode(query)}"
        with urllib.request.urlopen(url, timeout=10) as response:
            root = ET.fromstring(response.read())
        keys += [e.text for e in root.iter(S3_NS + "Key")]
        if root.findtext(S3_NS + "IsTruncated") != "true":
            return sorted(keys)
        token = root.findtext(S3_NS + "NextContinuationToken")


def s3_get(endpoint, key):
    with urllib.request.urlopen(f"{endpoint}/{BUCKET}/{urllib.parse.quote(key)}", timeout=10) as response:
        return response.read()


class S3Workspace(Workspace):
    """A workspace whose sink is a fresh prefix of the s3rver bucket."""

    def __init__(self, api_url, bucket=BUCKET, endpoint=None, **config):
        self.endpoint = endpoint or front_endpoint()
        self.store = s3rver_endpoint()
        self.prefix = f"blackbox/{uuid.uuid4().hex}"
        s3 = {"endpoint": self.endpoint, "bucket": bucket, "prefix": self.prefix, "region": "us-east-1",
              "access_key_env": "S3_ACCESS_KEY", "secret_key_env": "S3_SECRET_KEY"}
        self.sink_config = {"type": "s3", "s3": s3}
        super().__init__(api_url, sink=self.sink_config, **config)

    def env(self, **extra):
        values = {"S3_ACCESS_KEY": "S3RVER", "S3_SECRET_KEY": SECRET}
        values.update(extra)
        env = super().env(**values)
        return {k: v for k, v in env.items() if v is not None}

    def keys(self, below=""):
        return s3_list(self.store, f"{self.prefix}/{below}")

    def runs(self, phase):
        """{run_id: manifest} of every run of phase that has a manifest in the bucket."""
        base = f"{self.prefix}/{DATE}/{phase}/"
        return {key[len(base):].split("/")[0]: json.loads(s3_get(self.store, key))
                for key in self.keys(f"{DATE}/{phase}/") if key.endswith("/_manifest.json")}

    def s3_snapshot(self, phase, run_id, manifest):
        """Records of one run read from the bucket, checked against the manifest (sizes, sha256, counts)."""
        folder = f"{self.prefix}/{DATE}/{phase}/{run_id}"
        return checked_records(manifest, lambda name: s3_get(self.store, f"{folder}/{name}"))


class S3SinkTest(PipelineTestCase):
    def test_run_all_into_s3_publishes_exact_counts_and_only_listed_parts(self):
        with FakeApi("--refuse-names", "0.02", "--duplicate-every", "9", characters=450) as api:
            expected = api.expected()
            ws = S3Workspace(api.url, ranking_pages=expected["ranking_pages"], chunk_records=40)
            result = ws.run("run", "all", "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr)

        wanted = {"RANKING_FETCH": expected["ranking_rows"], "OCID_LOOKUP": expected["ocids"],
                  "CHARACTER_BASIC": expected["detail_records"], "ITEM_EQUIPMENT": expected["detail_records"]}
        run_ids = {}
        for phase in PHASES:
            runs = ws.runs(phase)
            self.assertEqual(len(runs), 1, f"{phase}: {sorted(runs)}")
            run_id, manifest = next(iter(runs.items()))
            run_ids[phase] = run_id
            self.assertEqual(manifest["state"], "COMPLETED", phase)
            records = ws.s3_snapshot(phase, run_id, manifest)
            self.assertEqual(len(records), wanted[phase], phase)
            self.assertEqual(manifest["records"], wanted[phase], phase)
            # Every part in the bucket is listed in the manifest, and nothing else is there.
            present = [k.rsplit("/", 1)[1] for k in ws.keys(f"{DATE}/{phase}/{run_id}/")]
            listed = sorted(c["name"] for c in manifest["chunks"])
            self.assertEqual(sorted(p for p in present if p.startswith("part-")), listed, phase)
            self.assertTrue(set(present) <= set(listed) | {"_manifest.json", "_rejects.jsonl"}, present)
        self.assertEqual(ws.runs("OCID_LOOKUP")[run_ids["OCID_LOOKUP"]]["rejected"], expected["refused_names"])
        # Each downstream phase read the snapshot of its upstream from the bucket.
        for phase, upstream in [("OCID_LOOKUP", "RANKING_FETCH"), ("CHARACTER_BASIC", "OCID_LOOKUP"),
                                ("ITEM_EQUIPMENT", "OCID_LOOKUP")]:
            self.assertEqual(ws.runs(phase)[run_ids[phase]]["upstream"],
                             {"phase": upstream, "run_id": run_ids[upstream]})
        self.assertFalse(ws.data_dir.exists(), "nothing may go to the local data dir")

        status = ws.status()
        for phase in PHASES:
            self.assertEqual(status[phase]["state"], "COMPLETED", phase)
            self.assertEqual(status[phase]["run_id"], run_ids[phase], phase)
            self.assertEqual(status[phase]["sink"], f"s3://{BUCKET}/{ws.prefix}", phase)

    def test_stop_and_resume_into_s3_is_exact(self):
        with FakeApi(characters=400) as fast, FakeApi("--latency-ms", "20", characters=400) as slow:
            ws = S3Workspace(fast.url, ranking_pages=2, chunk_records=20)
            for phase in ("RANKING_FETCH", "OCID_LOOKUP"):
                self.assertEqual(ws.run("run", phase, "--date", DATE).returncode, 0)
            ws.write_config(slow.url, ranking_pages=2, chunk_records=20, sink=ws.sink_config, api={"concurrency": 4})
            worker = ws.spawn("run", "ITEM_EQUIPMENT", "--date", DATE)
            ws.wait_state("ITEM_EQUIPMENT", lambda e: e["state"] == "RUNNING" and e["progress"]["chunks"] >= 2)
            self.assertEqual(ws.run("stop", "ITEM_EQUIPMENT").returncode, 0)
            worker.communicate(timeout=60)
            self.assertEqual(worker.returncode, 3)
            run_id = ws.status()["ITEM_EQUIPMENT"]["run_id"]
            self.assertEqual(ws.runs("ITEM_EQUIPMENT")[run_id]["state"], "STOPPED")
            fetched_before = slow.stats()["requests"]["item"]
            ws.write_config(fast.url, ranking_pages=2, chunk_records=20, sink=ws.sink_config)
            result = ws.run("run", "ITEM_EQUIPMENT", "--date", DATE, "--resume")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(fetched_before + fast.stats()["requests"]["item"], 400)
        manifest = ws.runs("ITEM_EQUIPMENT")[run_id]
        self.assertEqual(manifest["state"], "COMPLETED")
        records = ws.s3_snapshot("ITEM_EQUIPMENT", run_id, manifest)
        ocids = [r["ocid"] for r in records]
        self.assertEqual(len(ocids), 400)
        self.assertEqual(len(set(ocids)), 400)
        present = sorted(k.rsplit("/", 1)[1] for k in ws.keys(f"{DATE}/ITEM_EQUIPMENT/{run_id}/part-"))
        self.assertEqual(present, sorted(c["name"] for c in manifest["chunks"]))

    def test_wrong_access_key_fails_naming_the_code_but_never_the_secret(self):
        secret = "never-print-this-" + uuid.uuid4().hex
        with FakeApi(characters=50) as api:
            ws = S3Workspace(api.url)
            result = ws.run("run", "all", "--date", DATE, env=ws.env(S3_ACCESS_KEY="NO-SUCH-KEY", S3_SECRET_KEY=secret))
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("InvalidAccessKeyId", result.stderr)
        self.assertIn(f"s3://{BUCKET}/{ws.prefix}/", result.stderr)
        self.assertIn(ws.endpoint, result.stderr)
        self.assertNotIn(secret, result.stderr + result.stdout)
        self.assertNotIn(secret, (ws.run_dir / "ledger.json").read_text())
        self.assertEqual(ws.keys(), [])

    def test_wrong_secret_fails_fast_with_signature_does_not_match_and_never_prints_it(self):
        secret = "never-print-this-" + uuid.uuid4().hex
        with FakeApi(characters=50) as api:
            ws = S3Workspace(api.url)
            started = time.monotonic()
            result = ws.run("run", "all", "--date", DATE, env=ws.env(S3_SECRET_KEY=secret))
            elapsed = time.monotonic() - started
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("SignatureDoesNotMatch", result.stderr)
        self.assertIn(ws.endpoint, result.stderr)
        self.assertLess(elapsed, 20, "a refused signature is not retried")
        for text in [result.stderr, result.stdout, (ws.run_dir / "ledger.json").read_text()]:
            self.assertNotIn(secret, text)
        for checkpoint in (ws.run_dir / "checkpoints").glob("*"):
            self.assertNotIn(secret, checkpoint.read_text())
        self.assertEqual(ws.keys(), [])

    def test_missing_bucket_fails_with_no_such_bucket(self):
        with FakeApi(characters=50) as api:
            ws = S3Workspace(api.url, bucket="no-such-bucket")
            result = ws.run("run", "all", "--date", DATE)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("NoSuchBucket", result.stderr)
        self.assertIn("s3://no-such-bucket/", result.stderr)

    def test_missing_secret_variable_is_a_usage_error_naming_it(self):
        for variable in ["S3_ACCESS_KEY", "S3_SECRET_KEY"]:
            with self.subTest(variable=variable), FakeApi(characters=50) as api:
                ws = S3Workspace(api.url)
                result = ws.run("run", "all", "--date", DATE, env=ws.env(**{variable: None}))
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(variable, result.stderr)
                self.assertEqual(ws.keys(), [])


if __name__ == "__main__":
    unittest.main()
