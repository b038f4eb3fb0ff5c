"""Readers (issue 21): `<date>/<PHASE>/_current.json` after complete, stopped, resumed and repeated runs;
`pipeline cat` prints the current run's records exactly once; `verify` checks the current run (INCOMPLETE when
no run of the date completed) and `_current.json`; a part that is a FIFO, a link to /dev/zero or longer than
its manifest says is BAD at once; `--date` validation of verify and cat. Local sink (S3: test_readers_s3.py)."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from harness import DATE, FakeApi, PipelineTestCase, Workspace, decompress_part

PHASE = "ITEM_EQUIPMENT"
INCOMPLETE = re.compile(rf"^INCOMPLETE {PHASE} (\S+) (STOPPED|FAILED|RUNNING): (\d+) records in (\d+) chunks$")


def prepare(api, **config):
    """A workspace whose RANKING_FETCH and OCID_LOOKUP of DATE are complete."""
    ws = Workspace(api.url, **config)
    for phase in ("RANKING_FETCH", "OCID_LOOKUP"):
        result = ws.run("run", phase, "--date", DATE)
        assert result.returncode == 0, result.stderr
    return ws


def stopped_run(ws, slow, config):
    """Starts PHASE against the slow API, stops it after its first chunk; returns the stopped run's id."""
    ws.write_config(slow.url, api={"concurrency": 2}, **config)
    worker = ws.spawn("run", PHASE, "--date", DATE)
    try:
        ws.wait_state(PHASE, lambda e: e["state"] == "RUNNING" and e["progress"]["chunks"] >= 1)
        ws.run("stop", PHASE)
    finally:
        worker.communicate(timeout=120)
    assert worker.returncode == 3, worker.returncode
    return ws.ledger_entry(PHASE)["run_id"]


def full_run(ws, fast, config, *extra):
    ws.write_config(fast.url, **config)
    result = ws.run("run", PHASE, "--date", DATE, *extra)
    assert result.returncode == 0, result.stderr
    return ws.ledger_entry(PHASE)["run_id"]


def folder_of(ws, date=DATE):
    return ws.data_dir / date / PHASE


class CurrentTest(PipelineTestCase):
    def assert_current(self, ws, run_id):
        """_current.json is byte for byte the run's _manifest.json, and that run COMPLETED."""
        current = (folder_of(ws) / "_current.json").read_bytes()
        self.assertEqual(current, (folder_of(ws) / run_id / "_manifest.json").read_bytes())
        self.assertEqual(json.loads(current)["state"], "COMPLETED")

    def assert_cat_is_run(self, ws, run_id):
        result = subprocess.run(ws.command("cat", PHASE.lower(), "--date", DATE), capture_output=True,
                                env=ws.env(), timeout=120)
        self.assertEqual((result.returncode, result.stderr), (0, b""))
        _, records = ws.snapshot(PHASE, run_id)
        self.assertEqual([json.loads(line) for line in result.stdout.decode().splitlines()], records)
        ocids = [r["ocid"] for r in records]
        self.assertEqual(len(ocids), len(set(ocids)))
        return records

    def assert_verify(self, ws, exit_code, line):
        result = ws.run("verify", PHASE, "--date", DATE)
        self.assertEqual((result.returncode, result.stdout), (exit_code, line + "\n"), result.stderr)

    def test_current_follows_completed_runs_only_and_cat_reads_it(self):
        config = {"ranking_pages": 2, "chunk_records": 20}
        with FakeApi(characters=300) as fast, FakeApi("--latency-ms", "20", characters=300) as slow:
            ws = prepare(fast, **config)
            # A stopped run: no _current.json yet; verify says INCOMPLETE, cat says MISSING.
            stopped = stopped_run(ws, slow, config)
            self.assertFalse((folder_of(ws) / "_current.json").exists())
            manifest = json.loads((folder_of(ws) / stopped / "_manifest.json").read_text())
            self.assert_verify(ws, 1, f"INCOMPLETE {PHASE} {stopped} STOPPED: {manifest['records']} records in "
                                      f"{len(manifest['chunks'])} chunks")
            as_json = json.loads(ws.run("verify", PHASE, "--date", DATE, "--json").stdout)["phases"][0]
            self.assertEqual((as_json["status"], as_json["state"], as_json["run_id"]), ("INCOMPLETE", "STOPPED", stopped))
            cat = ws.run("cat", PHASE, "--date", DATE)
            self.assertEqual((cat.returncode, cat.stdout, cat.stderr), (1, "", f"MISSING {PHASE}\n"))

            first = full_run(ws, fast, config)
            self.assert_current(ws, first)
            records = self.assert_cat_is_run(ws, first)
            self.assertEqual(len(records), 300)
            self.assert_verify(ws, 0, f"OK {PHASE} {first} 300 records in 15 chunks")

            # The stopped run, resumed to completion, is now the newest COMPLETED run.
            full_run(ws, fast, config, "--resume")
            self.assert_current(ws, stopped)
            self.assert_cat_is_run(ws, stopped)
            resumed = json.loads((folder_of(ws) / stopped / "_manifest.json").read_text())
            self.assert_verify(ws, 0, f"OK {PHASE} {stopped} 300 records in {len(resumed['chunks'])} chunks")

            time.sleep(1.1)  # manifests' finished_at has whole seconds: the stale check below needs them apart
            second = full_run(ws, fast, config)
            self.assert_current(ws, second)
            # A later stopped run leaves _current.json alone, and verify still checks the current run.
            later = stopped_run(ws, slow, config)
            self.assertNotEqual(later, second)
            self.assert_current(ws, second)
            self.assert_verify(ws, 0, f"OK {PHASE} {second} 300 records in 15 chunks")
            records = self.assert_cat_is_run(ws, second)

        # Four runs share the folder: a glob of every part counts characters more than once.
        globbed = sum(len(decompress_part(p.name, p.read_bytes()).splitlines())
                      for p in folder_of(ws).glob("*/part-*"))
        self.assertGreater(globbed, 2 * len(records))

        # A stale or wrong _current.json is BAD, naming it.
        current = folder_of(ws) / "_current.json"
        current.write_bytes((folder_of(ws) / first / "_manifest.json").read_bytes())
        self.assert_verify(ws, 1, f"BAD {PHASE} {first} _current.json: names run {first}, but run {second} "
                                  f"completed after it")
        edited = json.loads((folder_of(ws) / second / "_manifest.json").read_text())
        edited["chunks"] = edited["chunks"][:-1]
        current.write_text(json.dumps(edited))
        self.assert_verify(ws, 1, f"BAD {PHASE} {second} _current.json: differs from {second}/_manifest.json")
        current.write_bytes((folder_of(ws) / later / "_manifest.json").read_bytes())
        result = ws.run("verify", PHASE, "--date", DATE)
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stdout, rf"^BAD {PHASE} \S+ _current\.json: .*names run {later} in state STOPPED")
        current.unlink()
        self.assert_verify(ws, 1, f"BAD {PHASE} {second} _current.json: missing, but run {second} COMPLETED")

    def test_a_running_run_is_incomplete_not_bad(self):
        config = {"ranking_pages": 2, "chunk_records": 20}
        with FakeApi(characters=300) as fast, FakeApi("--latency-ms", "20", characters=300) as slow:
            ws = prepare(fast, **config)
            ws.write_config(slow.url, api={"concurrency": 2}, **config)
            worker = ws.spawn("run", PHASE, "--date", DATE)
            try:
                entry = ws.wait_state(PHASE, lambda e: e["state"] == "RUNNING" and e["progress"]["chunks"] >= 1)
                result = ws.run("verify", PHASE, "--date", DATE)
                self.assertEqual(result.returncode, 1, result.stderr)
                match = INCOMPLETE.match(result.stdout.strip())
                self.assertTrue(match, result.stdout)
                self.assertEqual(match.group(1, 2), (entry["run_id"], "RUNNING"))
            finally:
                ws.run("stop", PHASE)
                worker.communicate(timeout=120)

    def test_run_all_publishes_current_for_every_phase_and_gc_removes_it(self):
        with FakeApi(characters=40) as api:
            ws = Workspace(api.url, chunk_records=15)
            self.assertEqual(ws.run("run", "all", "--date", DATE).returncode, 0)
            for phase, entry in ws.status().items():
                current = ws.data_dir / DATE / phase / "_current.json"
                self.assertEqual(current.read_bytes(),
                                 (ws.data_dir / DATE / phase / entry["run_id"] / "_manifest.json").read_bytes())
            self.assertEqual(ws.run("verify", "--date", DATE).returncode, 0)
            result = ws.run("gc", "--keep-days", "5")
            self.assertEqual(result.returncode, 0, result.stderr)
            lines = result.stdout.splitlines()
            # Each phase's _current.json goes first: a reader never follows it to removed parts.
            currents = [i for i, line in enumerate(lines) if line.endswith("/_current.json")]
            self.assertEqual(currents, [0, 1, 2, 3], lines)
            self.assertFalse((ws.data_dir / DATE).exists())


class CatTest(PipelineTestCase):
    @classmethod
    def setUpClass(cls):
        cls.template = Path(tempfile.mkdtemp(prefix="readers-template-"))
        with FakeApi(characters=300) as api:
            ws = Workspace(api.url, chunk_records=100, ranking_pages=2)
            result = ws.run("run", "all", "--date", DATE)
            assert result.returncode == 0, result.stderr
            cls.api_url = api.url
            cls.run_id = ws.status()[PHASE]["run_id"]
            shutil.copytree(ws.data_dir, cls.template / "data")

    def workspace(self):
        ws = Workspace(self.api_url, chunk_records=100)
        shutil.copytree(self.template / "data", ws.data_dir)
        return ws

    def part(self, ws, n):
        return folder_of(ws) / self.run_id / f"part-{n:05d}.jsonl.gz"

    def test_cat_under_head_exits_quietly(self):
        ws = self.workspace()
        args = ws.command("cat", PHASE, "--date", DATE)
        command = " ".join(f"'{a}'" for a in [os.path.abspath(args[0])] + args[1:])
        result = subprocess.run(["bash", "-c", command + " 2>stderr.txt | head -1; echo ${PIPESTATUS[0]} >rc.txt"],
                                cwd=ws.dir, capture_output=True, text=True, env=ws.env(), timeout=60)
        self.assertEqual(len(result.stdout.splitlines()), 1)
        self.assertEqual(json.loads(result.stdout)["date"], DATE)
        self.assertEqual((ws.dir / "stderr.txt").read_text(), "")
        self.assertEqual((ws.dir / "rc.txt").read_text().strip(), "1")

    def test_cat_names_a_bad_part_and_exits_1(self):
        ws = self.workspace()
        data = bytearray(self.part(ws, 2).read_bytes())
        data[len(data) // 2] ^= 0x10
        self.part(ws, 2).write_bytes(bytes(data))
        # Bytes: what part 2 decompressed to before its fault showed is on stdout too.
        result = subprocess.run(ws.command("cat", PHASE, "--date", DATE), capture_output=True, env=ws.env(),
                                timeout=60)
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stderr.decode(), rf"{re.escape(str(self.part(ws, 2)))}: (sha256|corrupt gzip)")
        self.assertGreaterEqual(len(result.stdout.splitlines()), 100)  # part 1 was written before

    def test_a_fifo_part_is_bad_at_once(self):
        ws = self.workspace()
        self.part(ws, 2).unlink()
        os.mkfifo(self.part(ws, 2))
        result = ws.run("verify", PHASE, "--date", DATE, timeout=30)
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stdout, rf"^BAD {PHASE} {self.run_id} part-00002.jsonl.gz: not a regular file")
        cat = ws.run("cat", PHASE, "--date", DATE, timeout=30)
        self.assertEqual(cat.returncode, 1)
        self.assertIn("part-00002.jsonl.gz: not a regular file", cat.stderr)

    def test_a_fifo_current_json_is_refused_at_once(self):
        ws = self.workspace()
        current = folder_of(ws) / "_current.json"
        current.unlink()
        os.mkfifo(current)
        result = ws.run("verify", PHASE, "--date", DATE, timeout=30)
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stdout, rf"^BAD {PHASE} \S+ _current.json: .*not a regular file")
        cat = ws.run("cat", PHASE, "--date", DATE, timeout=30)
        self.assertEqual((cat.returncode, cat.stdout), (1, ""))
        self.assertIn("_current.json: not a regular file", cat.stderr)

    def test_a_link_to_dev_zero_is_bad_at_once(self):
        ws = self.workspace()
        self.part(ws, 3).unlink()
        os.symlink("/dev/zero", self.part(ws, 3))
        result = ws.run("verify", PHASE, "--date", DATE, timeout=30)
        self.assertEqual(result.returncode, 1)
        self.assertRegex(result.stdout, rf"^BAD {PHASE} {self.run_id} part-00003.jsonl.gz: not a regular file")

    def test_a_part_longer_than_its_manifest_says_is_bad(self):
        ws = self.workspace()
        size = self.part(ws, 1).stat().st_size
        with open(self.part(ws, 1), "ab") as part:
            part.write(b"\0" * (8 << 20))
        result = ws.run("verify", PHASE, "--date", DATE)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout, f"BAD {PHASE} {self.run_id} part-00001.jsonl.gz: longer than the {size} "
                                        "bytes the manifest says\n")

    def test_dates_are_validated_like_run(self):
        ws = self.workspace()
        for date, message in (("2099-01-01", "is not served yet"), ("2020-01-01", "is before 2023-12-21"),
                              ("", "invalid --date ''"), ("2026-13-01", "invalid --date")):
            for command in (["verify"], ["cat", PHASE]):
                result = ws.run(*command, "--date", date)
                self.assertEqual((result.returncode, result.stdout), (2, ""), (command, date, result.stderr))
                self.assertIn(message, result.stderr)
        # run too: an empty --date is not "yesterday".
        result = ws.run("run", PHASE, "--date", "")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("invalid --date ''", result.stderr)
        for args in (["cat"], ["cat", "all"], ["cat", "ITEMS"], ["cat", PHASE, "--bogus"]):
            result = ws.run(*args)
            self.assertEqual((result.returncode, result.stdout), (2, ""), (args, result.stderr))
        # A date no run covers.
        result = ws.run("cat", PHASE, "--date", "2026-11-01")
        self.assertEqual((result.returncode, result.stdout, result.stderr), (1, "", f"MISSING {PHASE}\n"))


if __name__ == "__main__":
    import unittest
    unittest.main()
