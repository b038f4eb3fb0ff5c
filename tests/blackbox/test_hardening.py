"""SIGPIPE and lost stdout writes, a private run directory and run ids of
pipeline's own form, corrupt state files, control characters from the network, stop --timeout bounds and the
plain-http warning."""

import json
import os
import resource
import stat
import subprocess
import unittest
from pathlib import Path

from harness import DATE, PHASES, FakeApi, PipelineTestCase, Workspace

OSC_TITLE = "\x1b]0;pwned\x07"  # sets the terminal title when printed raw
OLD_RUN_ID = "20261122T000000Z-000000"


def is_root():
    return os.geteuid() == 0


class SigpipeTest(PipelineTestCase):
    def test_run_all_with_its_output_pipe_closed_completes_every_phase(self):
        with FakeApi(characters=60) as api:
            ws = Workspace(api.url)
            read_end, write_end = os.pipe()
            os.close(read_end)  # like a reader that went away: every write gets EPIPE
            try:
                result = subprocess.run(ws.command("run", "all", "--date", DATE), stdout=write_end,
                                        stderr=write_end, env=ws.env(), timeout=300)
            finally:
                os.close(write_end)
            self.assertEqual(result.returncode, 0, "killed by a signal" if result.returncode < 0 else "")
            self.assertEqual({p: e["state"] for p, e in ws.status().items()}, {p: "COMPLETED" for p in PHASES})

    def test_run_all_piped_into_head_completes_every_phase(self):
        with FakeApi(characters=60) as api:
            ws = Workspace(api.url)
            command = " ".join(f"'{part}'" for part in ws.command("run", "all", "--date", DATE))
            result = subprocess.run(["bash", "-c", command + ' 2>&1 | head -1; exit "${PIPESTATUS[0]}"'],
                                    capture_output=True, text=True, env=ws.env(), timeout=300)
            self.assertEqual(result.returncode, 0, result.stdout)
            self.assertEqual(len(result.stdout.splitlines()), 1)
            self.assertEqual({p: e["state"] for p, e in ws.status().items()}, {p: "COMPLETED" for p in PHASES})

    def test_status_to_a_full_device_exits_1(self):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full on this system")
        with FakeApi(characters=10) as api:
            ws = Workspace(api.url)
            for args in (["status", "--json"], ["status"], ["status", "RANKING_FETCH"]):
                with open("/dev/full", "w") as full:
                    result = subprocess.run(ws.command(*args), stdout=full, stderr=subprocess.PIPE, text=True,
                                            env=ws.env(), timeout=60)
                self.assertEqual(result.returncode, 1, args)
                self.assertIn("could not write to standard output", result.stderr)
                self.assertIn("No space left on device", result.stderr)


class RunDirectoryTest(PipelineTestCase):
    def test_a_new_run_directory_is_private_whatever_the_umask(self):
        with FakeApi(characters=10) as api:
            ws = Workspace(api.url)
            result = subprocess.run(ws.command("run", "RANKING_FETCH", "--date", DATE), capture_output=True,
                                    text=True, env=ws.env(), timeout=120, preexec_fn=lambda: os.umask(0))
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(stat.S_IMODE(ws.run_dir.stat().st_mode), 0o700)
            self.assertEqual(stat.S_IMODE((ws.run_dir / "checkpoints").stat().st_mode), 0o700)

    def test_a_run_directory_others_may_write_is_refused(self):
        with FakeApi(characters=10) as api:
            ws = Workspace(api.url)
            ws.run_dir.mkdir()
            os.chmod(ws.run_dir, 0o777)
            for args in (["status"], ["status", "--json"], ["stop", "all"], ["run", "RANKING_FETCH", "--date", DATE]):
                result = ws.run(*args)
                self.assertEqual(result.returncode, 2, (args, result.stderr))
                self.assertIn(str(ws.run_dir), result.stderr)
                self.assertIn("0777", result.stderr)
                self.assertEqual(result.stdout, "")
            self.assertFalse((ws.run_dir / "ledger.json").exists())
            os.chmod(ws.run_dir, 0o700)
            self.assertEqual(ws.run("status").returncode, 0)

    @unittest.skipUnless(is_root(), "needs root to give the run directory to another user")
    def test_a_run_directory_owned_by_another_user_is_refused(self):
        with FakeApi(characters=10) as api:
            ws = Workspace(api.url)
            ws.run_dir.mkdir(mode=0o700)
            os.chown(ws.run_dir, 65534, 65534)
            result = ws.run("status")
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertIn(str(ws.run_dir), result.stderr)
            self.assertIn("owned by uid 65534", result.stderr)

    def test_a_planted_checkpoint_run_id_is_refused_and_deletes_nothing(self):
        with FakeApi(characters=20) as api:
            ws = Workspace(api.url)
            self.assertEqual(ws.run("run", "RANKING_FETCH", "--date", DATE).returncode, 0)
            victim = ws.dir / "victim"
            victim.mkdir()
            (victim / "part-00001.jsonl.gz").write_bytes(b"precious")
            planted = {"phase": "OCID_LOOKUP", "date": DATE, "run_id": "../../../victim", "state": "FAILED",
                       "started_at": "2026-11-23T01:00:00Z", "pid": 1, "pid_start_ticks": 1,
                       "compression": "gzip", "upstream_run_id": "", "items_total": 0, "done": [], "chunks": [],
                       "rejects": [], "records": 0}
            (ws.run_dir / "checkpoints" / f"{DATE}.OCID_LOOKUP.{OLD_RUN_ID}.json").write_text(json.dumps(planted))
            result = ws.run("run", "OCID_LOOKUP", "--date", DATE, "--resume")
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertIn("../../../victim", result.stderr)
            self.assertIn("is not a run id pipeline generates", result.stderr)
            self.assertTrue((victim / "part-00001.jsonl.gz").exists())

    def test_a_planted_ledger_run_id_is_refused_by_status_and_stop(self):
        with FakeApi(characters=10) as api:
            ws = Workspace(api.url)
            self.assertEqual(ws.run("run", "RANKING_FETCH", "--date", DATE).returncode, 0)
            ledger = json.loads((ws.run_dir / "ledger.json").read_text())
            ledger["phases"][0]["run_id"] = "../../elsewhere"
            (ws.run_dir / "ledger.json").write_text(json.dumps(ledger))
            for args in (["status"], ["stop", "RANKING_FETCH"]):
                result = ws.run(*args)
                self.assertIn(result.returncode, (1, 2), result.stderr)
                self.assertIn("ledger.json: field 'phases[0].run_id'", result.stderr)
            self.assertFalse(any(p.name.endswith(".stop") for p in ws.run_dir.iterdir()))


class CorruptStateTest(PipelineTestCase):
    def write_ledger_field(self, ws, key, value):
        ledger = json.loads((ws.run_dir / "ledger.json").read_text())
        ledger["phases"][0][key] = value
        (ws.run_dir / "ledger.json").write_text(json.dumps(ledger))

    def test_a_ledger_field_of_the_wrong_type_names_the_file_and_field(self):
        with FakeApi(characters=10) as api:
            ws = Workspace(api.url)
            self.assertEqual(ws.run("run", "RANKING_FETCH", "--date", DATE).returncode, 0)
            for key, raw in (("pid", "1e30"), ("progress", '{"records": "many"}'), ("stop_requested", '"yes"')):
                text = (ws.run_dir / "ledger.json").read_text()
                ledger = json.loads(text)
                ledger["phases"][0][key] = "@@"
                (ws.run_dir / "ledger.json").write_text(json.dumps(ledger).replace('"@@"', raw))
                result = ws.run("status", "--json")
                self.assertEqual(result.returncode, 1, result.stderr)
                self.assertIn(f"ledger.json: field 'phases[0].{key}", result.stderr)
                self.assertNotIn("json.exception", result.stderr)
                (ws.run_dir / "ledger.json").write_text(text)
            self.assertEqual(ws.run("status").returncode, 0)

    def test_a_checkpoint_range_past_items_total_fails_fast_naming_the_file(self):
        with FakeApi(characters=10) as api:
            ws = Workspace(api.url)
            self.assertEqual(ws.run("run", "RANKING_FETCH", "--date", DATE).returncode, 0)
            path = next((ws.run_dir / "checkpoints").glob(f"{DATE}.RANKING_FETCH.*.json"))
            checkpoint = json.loads(path.read_text())
            checkpoint["state"] = "STOPPED"
            checkpoint["done"] = [[0, 2 ** 64 - 1]]
            path.write_text(json.dumps(checkpoint))
            # Before the fix this looped while memory grew: bound it so a regression fails instead of swapping.
            limit = lambda: resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
            result = subprocess.run(ws.command("run", "RANKING_FETCH", "--date", DATE, "--resume"),
                                    capture_output=True, text=True, env=ws.env(), timeout=60, preexec_fn=limit)
            self.assertEqual(result.returncode, 1, result.stderr)
            self.assertIn(f"{path}: field 'done[0]'", result.stderr)

    def test_an_unreadable_old_checkpoint_or_manifest_does_not_block_resume_or_downstream(self):
        with FakeApi(characters=20) as api:
            ws = Workspace(api.url)
            for phase in ("RANKING_FETCH", "OCID_LOOKUP"):
                self.assertEqual(ws.run("run", phase, "--date", DATE).returncode, 0)
            (ws.run_dir / "checkpoints" / f"{DATE}.RANKING_FETCH.{OLD_RUN_ID}.json").write_text("{garbage")
            (ws.run_dir / "checkpoints" / f"{DATE}.OCID_LOOKUP.{OLD_RUN_ID}.json").write_text('{"pid": 1e30}')
            old = ws.data_dir / DATE / "OCID_LOOKUP" / OLD_RUN_ID
            old.mkdir(parents=True)
            (old / "_manifest.json").write_text('{"phase": "OCID_LOOKUP", "records": "x"}')
            result = ws.run("run", "all", "--date", DATE, "--resume")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertIn("skipping checkpoint", result.stderr)
            self.assertIn("skipping snapshot", result.stderr)
            self.assertEqual({p: e["state"] for p, e in ws.status().items()}, {p: "COMPLETED" for p in PHASES})


class ControlCharacterTest(PipelineTestCase):
    def test_an_error_message_from_the_api_never_reaches_the_terminal_raw(self):
        with FakeApi("--forbid", "--error-message", f"bad{OSC_TITLE}\nforged line", characters=10) as api:
            ws = Workspace(api.url)
            result = ws.run("run", "RANKING_FETCH", "--date", DATE)
            self.assertEqual(result.returncode, 1)
            self.assertIn("OPENAPI00002", result.stderr)
            self.assertNotIn("\x1b", result.stderr)
            self.assertNotIn("\x07", result.stderr)
            self.assertIn("\\x1b]0;pwned\\x07", result.stderr)
            self.assertNotIn("\nforged line", result.stderr)
            for args in (["status"], ["status", "RANKING_FETCH"]):
                shown = ws.run(*args)
                self.assertEqual(shown.returncode, 0, shown.stderr)
                self.assertNotIn("\x1b", shown.stdout)
                self.assertIn("\\x1b]0;pwned\\x07\\nforged line", shown.stdout)
            # JSON keeps the text exactly, escaped by JSON itself.
            raw = ws.run("status", "--json").stdout
            self.assertNotIn("\x1b", raw)
            error = json.loads(raw)["phases"][0]["error"]
            self.assertIn(OSC_TITLE + "\nforged line", error)


class StopTimeoutAndHttpTest(PipelineTestCase):
    def test_stop_timeout_out_of_range_is_a_usage_error(self):
        with FakeApi(characters=10) as api:
            ws = Workspace(api.url)
            for value in ("1e10", "nan", "inf", "0", "-3", "abc"):
                result = ws.run("stop", "all", "--wait", "--timeout", value)
                self.assertEqual(result.returncode, 2, (value, result.stderr))
                self.assertIn("--timeout", result.stderr)
            self.assertEqual(ws.run("stop", "all", "--wait", "--timeout", "31536000").returncode, 0)

    def test_plain_http_to_another_host_warns_once(self):
        with FakeApi(characters=10) as api:
            ws = Workspace("http://192.0.2.7:8080")
            result = ws.run("status")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stderr.count("plain http://"), 1, result.stderr)
            self.assertIn("192.0.2.7", result.stderr)
            ws = Workspace(api.url)
            self.assertNotIn("plain http://", ws.run("status").stderr)


if __name__ == "__main__":
    unittest.main()
