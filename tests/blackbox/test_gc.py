"""`pipeline gc --keep-days N [--dry-run]`: old dated folders and their checkpoints go, recent ones stay, a
RUNNING run is never touched, temporaries of killed runs go, a second pass removes nothing; local and S3 (the
S3 tests need ctest's s3 fixture)."""

import datetime
import os
import re
import unittest
import urllib.request

from harness import FakeApi, PipelineTestCase, Workspace

SEOUL = datetime.timezone(datetime.timedelta(hours=9))


def days_ago(n):
    """A date n days before today in the API's calendar (Asia/Seoul), as YYYY-MM-DD."""
    return (datetime.datetime.now(SEOUL).date() - datetime.timedelta(days=n)).isoformat()


OLD, OLDER, RECENT = days_ago(8), days_ago(10), days_ago(2)
DEAD_PID = 2147483646  # above any pid_max: never a live process


def harvest_dates(ws, *dates, phases=("RANKING_FETCH",)):
    """Runs `phases` for each date; returns {date: run id of the first phase}."""
    run_ids = {}
    for date in dates:
        for phase in phases:
            result = ws.run("run", phase, "--date", date)
            assert result.returncode == 0, result.stderr
        run_ids[date] = ws.status()[phases[0]]["run_id"]
    return run_ids


class GcLocalTest(PipelineTestCase):
    def test_removes_old_dates_and_their_checkpoints_dry_run_first_then_idempotent(self):
        with FakeApi(characters=100) as api:
            ws = Workspace(api.url, chunk_records=30)
            run_ids = harvest_dates(ws, OLDER, OLD, RECENT)
        checkpoints = ws.run_dir / "checkpoints"
        before = sorted(p.name for p in checkpoints.iterdir())
        self.assertEqual(len(before), 3, before)

        dry = ws.run("gc", "--keep-days", "5", "--dry-run")
        self.assertEqual(dry.returncode, 0, dry.stderr)
        expected = sorted(
            [f"{ws.data_dir}/{date}/RANKING_FETCH/{run_ids[date]}/ (2 files)" for date in (OLDER, OLD)] +
            [f"{ws.data_dir}/{date}/RANKING_FETCH/_current.json" for date in (OLDER, OLD)] +
            [str(checkpoints / f"{date}.RANKING_FETCH.{run_ids[date]}.json") for date in (OLDER, OLD)])
        self.assertEqual(sorted(line.removeprefix("WOULD_REMOVE ") for line in dry.stdout.splitlines()), expected)
        self.assertTrue(all(line.startswith("WOULD_REMOVE ") for line in dry.stdout.splitlines()))
        self.assertTrue((ws.data_dir / OLDER).exists())
        self.assertEqual(sorted(p.name for p in checkpoints.iterdir()), before)

        real = ws.run("gc", "--keep-days", "5")
        self.assertEqual(real.returncode, 0, real.stderr)
        self.assertEqual(sorted(line.removeprefix("REMOVED ") for line in real.stdout.splitlines()), expected)
        self.assertEqual(sorted(p.name for p in ws.data_dir.iterdir()), [RECENT])
        self.assertEqual([p.name for p in checkpoints.iterdir()],
                         [f"{RECENT}.RANKING_FETCH.{run_ids[RECENT]}.json"])
        self.assertEqual(ws.run("verify", "RANKING_FETCH", "--date", RECENT).returncode, 0)

        again = ws.run("gc", "--keep-days", "5")
        self.assertEqual((again.returncode, again.stdout), (0, ""), again.stderr)
        # Keeping 0 days removes everything dated before today.
        last = ws.run("gc", "--keep-days", "0")
        self.assertEqual(last.returncode, 0, last.stderr)
        self.assertEqual(len(last.stdout.splitlines()), 3, last.stdout)  # _current.json, run folder, checkpoint
        self.assertEqual(list(ws.data_dir.iterdir()), [])

    def test_removes_temporaries_of_killed_runs_but_not_of_live_ones(self):
        with FakeApi(characters=50) as api:
            ws = Workspace(api.url, chunk_records=30)
            run_ids = harvest_dates(ws, RECENT)
        folder = ws.data_dir / RECENT / "RANKING_FETCH" / run_ids[RECENT]
        dead = [folder / f".part-00009.jsonl.gz.tmp-{DEAD_PID}-1", ws.run_dir / "checkpoints" / f".x.json.tmp-{DEAD_PID}-2",
                ws.run_dir / f".ledger.json.tmp-{DEAD_PID}-3"]
        live = folder / f".part-00010.jsonl.gz.tmp-{os.getpid()}-1"
        for path in dead + [live]:
            path.write_text("partial")
        result = ws.run("gc", "--keep-days", "30")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(sorted(result.stdout.splitlines()), sorted(f"REMOVED {p}" for p in dead))
        self.assertFalse(any(p.exists() for p in dead))
        self.assertTrue(live.exists())
        self.assertEqual(ws.run("verify", "RANKING_FETCH", "--date", RECENT).returncode, 0)

    def test_never_touches_a_running_run(self):
        with FakeApi(characters=100) as fast, FakeApi("--latency-ms", "400", characters=1000) as slow:
            ws = Workspace(fast.url, chunk_records=30)
            harvest_dates(ws, OLDER)
            ws.write_config(slow.url, ranking_pages=5, chunk_records=30, api={"concurrency": 1})
            worker = ws.spawn("run", "RANKING_FETCH", "--date", OLD)
            try:
                entry = ws.wait_state("RANKING_FETCH",
                                      lambda e: e["state"] == "RUNNING" and e["date"] == OLD and e["progress"]["chunks"] >= 1)
                running = ws.data_dir / OLD / "RANKING_FETCH" / entry["run_id"]
                parts = sorted(p.name for p in running.iterdir())
                result = ws.run("gc", "--keep-days", "5")
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertNotIn(OLD, result.stdout)
                self.assertIn(f"{ws.data_dir}/{OLDER}/RANKING_FETCH/", result.stdout)
                self.assertTrue(set(parts) <= set(p.name for p in running.iterdir()))
                self.assertTrue((ws.run_dir / "checkpoints" / f"{OLD}.RANKING_FETCH.{entry['run_id']}.json").exists())
            finally:
                ws.run("stop", "RANKING_FETCH", "--wait", "--timeout", "60")
                worker.communicate(timeout=60)
            self.assertEqual(worker.returncode, 3)
            # Once it is no longer running, it goes like any other.
            after = ws.run("gc", "--keep-days", "5")
            self.assertEqual(after.returncode, 0, after.stderr)
            self.assertIn(f"REMOVED {running}/", after.stdout)
            self.assertFalse((ws.data_dir / OLD).exists())

    def test_ignores_what_is_not_a_dated_folder(self):
        with FakeApi(characters=20) as api:
            ws = Workspace(api.url)
            harvest_dates(ws, OLD)
        (ws.data_dir / "README.txt").write_text("not a snapshot")
        (ws.data_dir / "notes").mkdir()
        (ws.data_dir / "notes" / "a.txt").write_text("x")
        result = ws.run("gc", "--keep-days", "1")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(sorted(p.name for p in ws.data_dir.iterdir()), ["README.txt", "notes"])

    def test_usage_errors(self):
        ws = Workspace("http://127.0.0.1:9")
        for args in (["gc"], ["gc", "--keep-days", "-1"], ["gc", "--keep-days", "x"]):
            result = ws.run(*args)
            self.assertEqual(result.returncode, 2, (args, result.stderr))
            self.assertEqual(result.stdout, "")

    @unittest.skipIf(os.geteuid() == 0, "root may remove files from a read-only folder")
    def test_what_cannot_be_removed_is_named_and_exit_1(self):
        with FakeApi(characters=20) as api:
            ws = Workspace(api.url)
            run_ids = harvest_dates(ws, OLDER, OLD)
        locked = ws.data_dir / OLD / "RANKING_FETCH" / run_ids[OLD]
        locked.chmod(0o555)
        try:
            result = ws.run("gc", "--keep-days", "5")
        finally:
            locked.chmod(0o755)
        self.assertEqual(result.returncode, 1)
        self.assertIn(f"cannot remove {locked}/", result.stderr)
        self.assertIn(f"REMOVED {ws.data_dir}/{OLDER}/", result.stdout)
        self.assertNotIn(str(locked), result.stdout)


class GcS3Test(PipelineTestCase):
    def test_gc_in_s3_removes_old_runs_and_is_idempotent(self):
        from test_s3 import S3Workspace
        with FakeApi(characters=300) as api:
            # 5-record chunks: 60 OCID_LOOKUP parts per date, so one gc deletes well over a hundred objects.
            ws = S3Workspace(api.url, ranking_pages=2, chunk_records=5)
            run_ids = harvest_dates(ws, OLDER, OLD, RECENT, phases=("RANKING_FETCH", "OCID_LOOKUP"))
        total = len(ws.keys())
        self.assertGreater(total, 150)
        dry = ws.run("gc", "--keep-days", "5", "--dry-run")
        self.assertEqual(dry.returncode, 0, dry.stderr)
        self.assertEqual(len(ws.keys()), total)
        result = ws.run("gc", "--keep-days", "5")
        self.assertEqual(result.returncode, 0, result.stderr)
        root = f"s3://snapshots/{ws.prefix}"
        for date in (OLDER, OLD):
            self.assertRegex(result.stdout, re.escape(f"REMOVED {root}/{date}/RANKING_FETCH/{run_ids[date]}/ (") + r"\d+ files\)")
            self.assertRegex(result.stdout, re.escape(f"REMOVED {root}/{date}/OCID_LOOKUP/") + r"\S+/ \(61 files\)")
        self.assertEqual(dry.stdout.replace("WOULD_REMOVE ", "REMOVED "), result.stdout)
        left = ws.keys()
        self.assertTrue(left and all(key.startswith(f"{ws.prefix}/{RECENT}/") for key in left), left[:5])
        self.assertEqual(ws.run("verify", "RANKING_FETCH", "--date", RECENT).returncode, 0)
        # verify reads S3 too: an object no manifest lists is BAD (s3rver itself, not the front, takes anonymous PUTs).
        extra = f"{ws.prefix}/{RECENT}/RANKING_FETCH/{run_ids[RECENT]}/part-00999.jsonl.gz"
        request = urllib.request.Request(f"{ws.store}/snapshots/{extra}", data=b"x", method="PUT")
        urllib.request.urlopen(request, timeout=10).close()
        bad = ws.run("verify", "RANKING_FETCH", "--date", RECENT)
        self.assertEqual(bad.returncode, 1)
        self.assertEqual(bad.stdout, f"BAD RANKING_FETCH {run_ids[RECENT]} part-00999.jsonl.gz: not listed in the manifest\n")
        again = ws.run("gc", "--keep-days", "5")
        self.assertEqual((again.returncode, again.stdout), (0, ""), again.stderr)


if __name__ == "__main__":
    unittest.main()
