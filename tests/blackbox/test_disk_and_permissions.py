"""Real disk-full and permission failures. As root, a small tmpfs holds the sink: a chunk
that does not fit ends the phase FAILED naming the path and the error, nothing partial is visible, the ledger
stays readable, and --resume after space is freed completes exactly. Permission failures run as the
unprivileged user nobody (setpriv): a read-only sink and an unwritable run directory each give a clear exit
code and message."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from harness import DATE, PIPELINE, FakeApi, PipelineTestCase, Workspace

NOBODY = 65534


def can_mount_tmpfs():
    """Why a tmpfs cannot be mounted here, or None when it can."""
    if os.geteuid() != 0:
        return "needs root to mount a tmpfs"
    probe = tempfile.mkdtemp(prefix="pipeline-mount-probe-")
    try:
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], capture_output=True,
                                text=True)
        if result.returncode != 0:
            return "mount -t tmpfs is not permitted here: " + result.stderr.strip()
        subprocess.run(["umount", probe], check=True)
        return None
    finally:
        os.rmdir(probe)


def can_drop_privileges():
    if os.geteuid() != 0:
        return "needs root to run pipeline as the user nobody"
    if shutil.which("setpriv") is None:
        return "setpriv (util-linux) is not installed"
    binary = PIPELINE
    probe = subprocess.run(["setpriv", "--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups", "test",
                            "-x", binary], capture_output=True)
    if probe.returncode != 0:
        return f"the user nobody cannot execute {binary} (a parent folder is not world-executable)"
    return None


MOUNT_PROBLEM = can_mount_tmpfs()
PRIVILEGE_PROBLEM = can_drop_privileges()


def ocids_of(records):
    return sorted(r["ocid"] for r in records)


@unittest.skipIf(MOUNT_PROBLEM, MOUNT_PROBLEM or "")
class DiskFullTest(PipelineTestCase):
    def setUp(self):
        self.mount_point = Path(tempfile.mkdtemp(prefix="pipeline-tmpfs-"))
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m,mode=0755", "tmpfs", str(self.mount_point)],
                       check=True)

    def tearDown(self):
        subprocess.run(["umount", "-l", str(self.mount_point)], check=False)
        os.rmdir(self.mount_point)

    def test_disk_full_mid_chunk_fails_cleanly_and_resume_completes_exactly(self):
        with FakeApi("--item-kb", "16", characters=120) as api:
            ws = Workspace(api.url, ranking_pages=1, chunk_records=10,
                           sink={"path": str(self.mount_point / "data"), "compression": "none"})
            ws.data_dir = self.mount_point / "data"
            for phase in ("RANKING_FETCH", "OCID_LOOKUP"):
                result = ws.run("run", phase, "--date", DATE)
                self.assertEqual(result.returncode, 0, result.stderr)
            _, ocid_records = ws.snapshot("OCID_LOOKUP", ws.status()["OCID_LOOKUP"]["run_id"])
            expected = ocids_of(ocid_records)
            # About 1.9 MB of item records: leave room for a few chunks only.
            free = shutil.disk_usage(self.mount_point).free
            filler = self.mount_point / "filler"
            filler.write_bytes(b"\0" * (free - 700 * 1024))

            result = ws.run("run", "ITEM_EQUIPMENT", "--date", DATE)
            self.assertEqual(result.returncode, 1, result.stderr)
            self.assertIn("No space left on device", result.stderr)
            self.assertIn(str(self.mount_point / "data"), result.stderr)
            entry = ws.status()["ITEM_EQUIPMENT"]  # the ledger stays readable
            self.assertEqual(entry["state"], "FAILED")
            self.assertIn("No space left on device", entry["error"])
            run_id = entry["run_id"]
            checkpoint = json.loads((ws.run_dir / "checkpoints" / f"{DATE}.ITEM_EQUIPMENT.{run_id}.json").read_text())
            committed = [c["name"] for c in checkpoint["chunks"]]
            self.assertGreater(len(committed), 0, "the disk filled before the first chunk: enlarge the room left")
            self.assertLess(checkpoint["records"], len(expected))
            # Nothing partial: every visible part is a committed one, no temporaries.
            self.assertEqual(ws.visible_parts("ITEM_EQUIPMENT", run_id), committed)
            self.assertEqual(ws.temporaries(), [])

            filler.unlink()
            result = ws.run("run", "ITEM_EQUIPMENT", "--date", DATE, "--resume")
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(ws.status()["ITEM_EQUIPMENT"]["run_id"], run_id)
            manifest, records = ws.snapshot("ITEM_EQUIPMENT", run_id)
            self.assertEqual(manifest["state"], "COMPLETED")
            got = ocids_of(records)
            self.assertEqual(len(got), len(set(got)), "an item is in the snapshot twice")
            self.assertEqual(got, expected)
            self.assertEqual(ws.visible_parts("ITEM_EQUIPMENT", run_id), [c["name"] for c in manifest["chunks"]])


@unittest.skipIf(PRIVILEGE_PROBLEM, PRIVILEGE_PROBLEM or "")
class PermissionTest(PipelineTestCase):
    """pipeline run as nobody, in a workspace whose parts belong to nobody unless the test says otherwise."""

    def workspace(self, api):
        ws = Workspace(api.url)
        os.chmod(ws.dir, 0o755)
        os.chown(ws.config_path, NOBODY, NOBODY)
        return ws

    def run_as_nobody(self, ws, *args):
        command = ["setpriv", "--reuid", str(NOBODY), "--regid", str(NOBODY), "--clear-groups", *ws.command(*args)]
        return subprocess.run(command, capture_output=True, text=True, env=ws.env(), timeout=120, cwd=ws.dir)

    def test_a_read_only_sink_fails_the_phase_naming_the_path(self):
        with FakeApi(characters=10) as api:
            ws = self.workspace(api)
            ws.run_dir.mkdir(mode=0o700)
            os.chown(ws.run_dir, NOBODY, NOBODY)
            ws.data_dir.mkdir(mode=0o755)  # root's: nobody may read, not write
            result = self.run_as_nobody(ws, "run", "RANKING_FETCH", "--date", DATE)
            self.assertEqual(result.returncode, 1, result.stderr)
            self.assertIn(str(ws.data_dir), result.stderr)
            self.assertIn("Permission denied", result.stderr)
            status = self.run_as_nobody(ws, "status", "--json")
            self.assertEqual(status.returncode, 0, status.stderr)
            entry = json.loads(status.stdout)["phases"][0]
            self.assertEqual(entry["state"], "FAILED")
            self.assertIn("Permission denied", entry["error"])

    def test_an_unwritable_run_directory_is_a_clear_error(self):
        with FakeApi(characters=10) as api:
            ws = self.workspace(api)
            ws.run_dir.mkdir(mode=0o500)  # nobody's, but not writable even by nobody
            os.chown(ws.run_dir, NOBODY, NOBODY)
            result = self.run_as_nobody(ws, "run", "RANKING_FETCH", "--date", DATE)
            self.assertEqual(result.returncode, 1, result.stderr)
            self.assertIn(f"run directory {ws.run_dir}", result.stderr)
            self.assertIn("Permission denied", result.stderr)
            stop = self.run_as_nobody(ws, "stop", "all")
            self.assertEqual(stop.returncode, 0, stop.stderr)  # nothing runs: nothing to write
            # A run directory that belongs to someone else (root) is refused outright.
            os.chown(ws.run_dir, 0, 0)
            os.chmod(ws.run_dir, 0o700)
            result = self.run_as_nobody(ws, "run", "RANKING_FETCH", "--date", DATE)
            self.assertEqual(result.returncode, 2, result.stderr)
            self.assertIn("owned by uid 0", result.stderr)


if __name__ == "__main__":
    unittest.main()
