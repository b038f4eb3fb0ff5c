"""The README's DuckDB query ("Reading the snapshots", between the readme-duckdb-local markers) run exactly as
written, with real DuckDB (npm's @duckdb/node-api, installed under the build folder like scripts/s3rver.sh
installs s3rver), over a date whose ITEM_EQUIPMENT folder holds a stopped run and two full runs: each character
comes back exactly once, with its whole `data` object."""

import fcntl
import json
import os
import re
import shutil
import subprocess
import unittest
from pathlib import Path

from harness import DATE, PIPELINE, FakeApi, PipelineTestCase
from test_readers import PHASE, full_run, prepare, stopped_run

ROOT = Path(__file__).resolve().parents[2]
DUCKDB_NODE = "@duckdb/node-api@1.5.6-r.1"
MARKERS = re.compile(r"<!-- readme-duckdb-local: begin -->\s*```sql\n(.*?)```\s*<!-- readme-duckdb-local: end -->",
                     re.S)


def readme_query():
    found = MARKERS.findall((ROOT / "README.md").read_text())
    assert len(found) == 1, "README.md must hold exactly one readme-duckdb-local block"
    return found[0]


def duckdb_prefix():
    """The folder npm installed @duckdb/node-api into (under the build folder), installing it once."""
    prefix = Path(PIPELINE).resolve().parent / "duckdb-node"
    prefix.mkdir(parents=True, exist_ok=True)
    with open(prefix / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two test runs at once must not run npm into one folder
        package = prefix / "node_modules" / "@duckdb" / "node-api" / "package.json"
        wanted = DUCKDB_NODE.rsplit("@", 1)[1]
        if not package.exists() or json.loads(package.read_text())["version"] != wanted:
            result = subprocess.run(["npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund",
                                     "--loglevel=error", DUCKDB_NODE], capture_output=True, text=True, timeout=600)
            if result.returncode != 0:
                raise AssertionError(f"npm install {DUCKDB_NODE} failed (is the npm registry reachable?):\n"
                                     + result.stderr)
    return prefix


@unittest.skipIf(shutil.which("node") is None or shutil.which("npm") is None, "node and npm are not installed")
class ReadmeDuckDbTest(PipelineTestCase):
    def test_the_readme_query_reads_each_character_once(self):
        config = {"ranking_pages": 2, "chunk_records": 30}
        with FakeApi(characters=250) as fast, FakeApi("--latency-ms", "20", characters=250) as slow:
            ws = prepare(fast, **config)
            stopped = stopped_run(ws, slow, config)
            full_run(ws, fast, config)
            current = full_run(ws, fast, config)
        runs = sorted(p.name for p in (ws.data_dir / DATE / PHASE).iterdir() if p.is_dir())
        self.assertEqual(len(runs), 3, runs)
        self.assertIn(stopped, runs)
        _, records = ws.snapshot(PHASE, current)
        self.assertEqual(len(records), 250)

        query = ws.dir / "query.sql"
        query.write_text(readme_query())
        result = subprocess.run(["node", str(Path(__file__).with_name("duckdb_query.js")), str(duckdb_prefix()),
                                 str(query)], cwd=ws.dir, capture_output=True, text=True, timeout=300)
        self.assertEqual(result.returncode, 0, result.stderr)
        rows = json.loads(result.stdout)
        self.assertEqual([row["ocid"] for row in rows], sorted(r["ocid"] for r in records))
        by_ocid = {r["ocid"]: r for r in records}
        for row in rows:
            data = row["data"] if isinstance(row["data"], dict) else json.loads(row["data"])
            self.assertEqual(data, by_ocid[row["ocid"]]["data"])
            self.assertEqual(row["date"], DATE)


if __name__ == "__main__":
    unittest.main()
