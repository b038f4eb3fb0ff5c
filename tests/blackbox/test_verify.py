"""`pipeline verify`: a sound snapshot is OK; each kind of damage is reported as BAD naming the file; a date
without runs is MISSING; exit codes 0/1/2. One harvest (gzip and zstd) is made once and copied per test."""

import gzip
import hashlib
import json
import re
import shutil
import tempfile
import unittest
from pathlib import Path

from harness import DATE, PHASES, FakeApi, PipelineTestCase, Workspace

OK_LINE = re.compile(r"^OK (RANKING_FETCH|OCID_LOOKUP|CHARACTER_BASIC|ITEM_EQUIPMENT) (\S+) (\d+) records in (\d+) chunks$")


class Harvest:
    """A finished `run all` in a workspace, kept as a template to copy."""

    def __init__(self, compression):
        self.template = Path(tempfile.mkdtemp(prefix="verify-template-"))
        with FakeApi(characters=120) as api:
            ws = Workspace(api.url, chunk_records=40, sink={"compression": compression})
            result = ws.run("run", "all", "--date", DATE)
            assert result.returncode == 0, result.stderr
            self.status = ws.status()
            shutil.copytree(ws.dir, self.template / "ws")
            self.api_url = api.url

    def workspace(self):
        """A fresh workspace holding a copy of the harvested snapshots (verify reads only the sink)."""
        ws = Workspace(self.api_url, chunk_records=40)
        shutil.copytree(self.template / "ws" / "data", ws.data_dir)
        return ws


HARVESTS = {}


def harvest(compression="gzip"):
    if compression not in HARVESTS:
        HARVESTS[compression] = Harvest(compression)
    return HARVESTS[compression]


def run_folder(ws, phase):
    runs = sorted(p for p in (ws.data_dir / DATE / phase).iterdir() if p.is_dir())  # not _current.json
    return runs[-1]


def rewrite_manifest(folder, change):
    """Changes a run's manifest, and _current.json with it when it is that run's copy (as pipeline writes them)."""
    path = folder / "_manifest.json"
    current = folder.parent / "_current.json"
    copied = current.exists() and current.read_bytes() == path.read_bytes()
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest))
    if copied:
        current.write_text(json.dumps(manifest))


def replace_part(folder, name, data):
    """Replaces a part and makes its manifest entry match its size and sha256 (so only content is wrong)."""
    (folder / name).write_bytes(data)

    def change(manifest):
        for chunk in manifest["chunks"]:
            if chunk["name"] == name:
                chunk["bytes"] = len(data)
                chunk["sha256"] = hashlib.sha256(data).hexdigest()
    rewrite_manifest(folder, change)


class VerifyTest(PipelineTestCase):
    def verify(self, ws, *args):
        return ws.run("verify", "--date", DATE, *args)

    def assert_bad(self, result, phase, folder, file, reason_pattern):
        self.assertEqual(result.returncode, 1, result.stdout + result.stderr)
        lines = result.stdout.splitlines()
        self.assertEqual(len(lines), 4, lines)
        bad = [line for line in lines if line.startswith("BAD ")]
        self.assertEqual(len(bad), 1, lines)
        self.assertRegex(bad[0], rf"^BAD {phase} {folder.name} {re.escape(file)}: {reason_pattern}")
        for line in lines:
            if not line.startswith("BAD "):
                self.assertRegex(line, OK_LINE)

    def test_sound_snapshot_is_ok_for_every_phase(self):
        h = harvest()
        ws = h.workspace()
        result = self.verify(ws)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        lines = result.stdout.splitlines()
        self.assertEqual([OK_LINE.match(line).group(1) for line in lines], PHASES)
        for line in lines:
            phase, run_id, records, chunks = OK_LINE.match(line).groups()
            entry = h.status[phase]
            self.assertEqual(run_id, entry["run_id"])
            self.assertEqual(int(records), entry["progress"]["records"])
            self.assertEqual(int(chunks), entry["progress"]["chunks"])
        # One phase, case-insensitive, and JSON.
        one = ws.run("verify", "item_equipment", "--date", DATE, "--json")
        self.assertEqual(one.returncode, 0, one.stderr)
        document = json.loads(one.stdout)
        self.assertEqual(document["date"], DATE)
        self.assertEqual([p["phase"] for p in document["phases"]], ["ITEM_EQUIPMENT"])
        self.assertEqual(document["phases"][0]["status"], "OK")
        self.assertEqual(document["phases"][0]["run_id"], h.status["ITEM_EQUIPMENT"]["run_id"])

    def test_zstd_snapshot_is_ok_and_a_flipped_byte_is_bad(self):
        ws = harvest("zstd").workspace()
        result = self.verify(ws)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        folder = run_folder(ws, "CHARACTER_BASIC")
        part = folder / "part-00002.jsonl.zst"
        data = bytearray(part.read_bytes())
        data[len(data) // 2] ^= 0x01
        part.write_bytes(bytes(data))
        self.assert_bad(self.verify(ws), "CHARACTER_BASIC", folder, part.name, "sha256 [0-9a-f]{64} does not match")
        # With the manifest made to agree, the damage shows when decompressing (zstd's frame checksum).
        replace_part(folder, part.name, bytes(data))
        self.assert_bad(self.verify(ws), "CHARACTER_BASIC", folder, part.name, "corrupt zstd data")

    def test_flipped_byte(self):
        ws = harvest().workspace()
        folder = run_folder(ws, "ITEM_EQUIPMENT")
        part = folder / "part-00002.jsonl.gz"
        data = bytearray(part.read_bytes())
        data[100] ^= 0x40
        part.write_bytes(bytes(data))
        self.assert_bad(self.verify(ws), "ITEM_EQUIPMENT", folder, "part-00002.jsonl.gz", "sha256 .* does not match")

    def test_truncated_part(self):
        ws = harvest().workspace()
        folder = run_folder(ws, "OCID_LOOKUP")
        part = folder / "part-00001.jsonl.gz"
        size = part.stat().st_size
        part.write_bytes(part.read_bytes()[: size // 2])
        self.assert_bad(self.verify(ws), "OCID_LOOKUP", folder, part.name, f"size {size // 2} bytes, manifest says {size}")
        # Truncated with a manifest that agrees: the gzip stream itself ends early.
        replace_part(folder, part.name, part.read_bytes())
        self.assert_bad(self.verify(ws), "OCID_LOOKUP", folder, part.name, "truncated gzip data")

    def test_missing_part(self):
        ws = harvest().workspace()
        folder = run_folder(ws, "OCID_LOOKUP")
        (folder / "part-00002.jsonl.gz").unlink()
        self.assert_bad(self.verify(ws), "OCID_LOOKUP", folder, "part-00002.jsonl.gz", "missing")

    def test_extra_part(self):
        ws = harvest().workspace()
        folder = run_folder(ws, "CHARACTER_BASIC")
        shutil.copy(folder / "part-00001.jsonl.gz", folder / "part-00099.jsonl.gz")
        self.assert_bad(self.verify(ws), "CHARACTER_BASIC", folder, "part-00099.jsonl.gz", "not listed in the manifest")

    def test_manifest_lying_about_records(self):
        ws = harvest().workspace()
        folder = run_folder(ws, "ITEM_EQUIPMENT")
        rewrite_manifest(folder, lambda m: m.update(records=m["records"] + 1))
        total = json.loads((folder / "_manifest.json").read_text())["records"] - 1
        self.assert_bad(self.verify(ws), "ITEM_EQUIPMENT", folder, "_manifest.json",
                        f"records says {total + 1}, the chunks hold {total}")
        # A chunk entry that lies about its own count.
        rewrite_manifest(folder, lambda m: m.update(records=total))
        rewrite_manifest(folder, lambda m: m["chunks"][0].update(records=m["chunks"][0]["records"] - 1))
        count = json.loads((folder / "_manifest.json").read_text())["chunks"][0]["records"]
        self.assert_bad(self.verify(ws), "ITEM_EQUIPMENT", folder, "part-00001.jsonl.gz",
                        f"holds {count + 1} records, manifest says {count}")

    def test_line_that_is_not_a_json_object(self):
        ws = harvest().workspace()
        folder = run_folder(ws, "OCID_LOOKUP")
        lines = gzip.decompress((folder / "part-00001.jsonl.gz").read_bytes()).decode().splitlines()
        for bad_line, reason in (("[1, 2]", "line 3 is not a JSON object"), ('{"ocid": ', "line 3 is not valid JSON")):
            changed = lines[:2] + [bad_line] + lines[3:]
            replace_part(folder, "part-00001.jsonl.gz", gzip.compress(("\n".join(changed) + "\n").encode()))
            self.assert_bad(self.verify(ws), "OCID_LOOKUP", folder, "part-00001.jsonl.gz", reason)

    def test_unreadable_manifest(self):
        ws = harvest().workspace()
        folder = run_folder(ws, "RANKING_FETCH")
        (folder / "_manifest.json").write_text('{"phase": "RANKING_FETCH"')
        self.assert_bad(self.verify(ws), "RANKING_FETCH", folder, "_manifest.json", "cannot be parsed")
        (folder / "_manifest.json").unlink()
        self.assert_bad(self.verify(ws), "RANKING_FETCH", folder, "_manifest.json", "missing")

    def test_date_without_runs_is_missing(self):
        ws = harvest().workspace()
        result = ws.run("verify", "--date", "2026-11-01")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stdout.splitlines(), [f"MISSING {phase}" for phase in PHASES])

    def test_usage_errors(self):
        ws = harvest().workspace()
        for args, message in ((["verify", "ITEMS"], "INVALID_PHASE: ITEMS"),
                              (["verify", "--date", "2026-13-01"], "--date '2026-13-01'"),
                              (["verify", "--bogus"], "bogus")):
            result = ws.run(*args)
            self.assertEqual(result.returncode, 2, (args, result.stderr))
            self.assertEqual(result.stdout, "")
            self.assertIn(message, result.stderr)


if __name__ == "__main__":
    unittest.main()
