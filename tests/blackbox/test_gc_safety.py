"""gc's review findings (issue 21, item 4): a folder at the sink root that gc may not read (ext4's lost+found,
gc run as nobody) is skipped with one warning; a plain file named like a date at the sink root is not removed;
a planted run id in the ledger is exit 1 naming the file and field."""

import json
import os
import shutil
import subprocess
import unittest

from harness import PIPELINE, FakeApi, PipelineTestCase, Workspace
from test_gc import OLD, OLDER, RECENT, harvest_dates

NOBODY = 65534


def privilege_problem():
    if os.geteuid() != 0:
        return "needs root to make a root-only folder and run gc as the user nobody"
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed"
    probe = subprocess.run(["setpriv", "--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups", "test",
                            "-x", os.path.abspath(PIPELINE)], capture_output=True)
    if probe.returncode != 0:
        return f"the user nobody cannot execute {PIPELINE} (a parent folder is not world-executable)"
    return None


PRIVILEGE_PROBLEM = privilege_problem()


def give_to_nobody(path):
    os.chown(path, NOBODY, NOBODY)
    for folder, folders, files in os.walk(path):
        for name in folders + files:
            os.chown(os.path.join(folder, name), NOBODY, NOBODY, follow_symlinks=False)


class GcSafetyTest(PipelineTestCase):
    @unittest.skipIf(PRIVILEGE_PROBLEM, PRIVILEGE_PROBLEM or "")
    def test_a_folder_gc_may_not_read_is_skipped_with_one_warning(self):
        with FakeApi(characters=20) as api:
            ws = Workspace(api.url)
            run_ids = harvest_dates(ws, OLDER, RECENT)
        # The workspace as a harvest run by nobody would leave it; lost+found as mkfs makes it: root's, 0700.
        os.chmod(ws.dir, 0o755)
        give_to_nobody(ws.run_dir)
        give_to_nobody(ws.data_dir)
        os.chown(ws.config_path, NOBODY, NOBODY)
        lost = ws.data_dir / "lost+found"
        lost.mkdir(mode=0o700)
        (lost / "#1234").write_text("a block fsck found")
        command = ["setpriv", "--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups",
                   os.path.abspath(PIPELINE), *ws.command("gc", "--keep-days", "5")[1:]]
        result = subprocess.run(command, capture_output=True, text=True, env=ws.env(), timeout=120, cwd=ws.dir)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn(f"REMOVED {ws.data_dir}/{OLDER}/RANKING_FETCH/{run_ids[OLDER]}/ (2 files)", result.stdout)
        warnings = [line for line in result.stderr.splitlines() if " info " not in line]
        self.assertEqual(len(warnings), 1, result.stderr)
        self.assertIn(f"{lost}: cannot read this folder (Permission denied); skipping it", warnings[0])
        self.assertEqual(sorted(p.name for p in ws.data_dir.iterdir()), [RECENT, "lost+found"])
        self.assertTrue((lost / "#1234").exists())

    def test_a_file_named_like_a_date_at_the_root_is_not_removed(self):
        with FakeApi(characters=20) as api:
            ws = Workspace(api.url)
            harvest_dates(ws, OLDER)
        planted = ws.data_dir / OLD
        planted.write_text("someone's file, not a snapshot")
        (ws.data_dir / f"{OLD}.txt").write_text("nor this")
        result = ws.run("gc", "--keep-days", "5")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn(OLD, result.stdout)
        self.assertIn(f"REMOVED {ws.data_dir}/{OLDER}/", result.stdout)
        self.assertEqual(planted.read_text(), "someone's file, not a snapshot")
        self.assertEqual(sorted(p.name for p in ws.data_dir.iterdir()), [OLD, f"{OLD}.txt"])

    def test_a_planted_ledger_run_id_is_exit_1_naming_file_and_field(self):
        with FakeApi(characters=20) as api:
            ws = Workspace(api.url)
            harvest_dates(ws, OLDER)
        ledger = json.loads((ws.run_dir / "ledger.json").read_text())
        ledger["phases"][0]["run_id"] = "../../elsewhere"
        (ws.run_dir / "ledger.json").write_text(json.dumps(ledger))
        result = ws.run("gc", "--keep-days", "5")
        self.assertEqual((result.returncode, result.stdout), (1, ""), result.stderr)
        self.assertIn("ledger.json: field 'phases[0].run_id'", result.stderr)
        self.assertTrue((ws.data_dir / OLDER).exists())


if __name__ == "__main__":
    unittest.main()
