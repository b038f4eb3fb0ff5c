"""Shared helpers for black-box tests: the built `pipeline` binary driven as a user would, against the
bundled fake API (`pipeline-fake-api`) on 127.0.0.1."""

import gzip
import hashlib
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest
import urllib.request
from pathlib import Path

PIPELINE = os.environ.get("PIPELINE_BIN", str(Path(__file__).resolve().parents[2] / "build" / "pipeline"))
FAKE_API = os.environ.get("PIPELINE_FAKE_API",
                          str(Path(__file__).resolve().parents[2] / "build" / "pipeline-fake-api"))
API_KEY = "test-key"
PHASES = ["RANKING_FETCH", "OCID_LOOKUP", "CHARACTER_BASIC", "ITEM_EQUIPMENT"]
DATE = "2026-11-22"


def wait_for(predicate, timeout=30.0, interval=0.01, what="condition"):
    """Polls predicate until it returns a truthy value; fails the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def decompress_part(name, data):
    """A part's JSON lines: Python's gzip (which reads several members as one stream), the zstd CLI, or as is."""
    if name.endswith(".gz"):
        return gzip.decompress(data)
    if name.endswith(".zst"):
        return subprocess.run(["zstd", "-dc", "-q"], input=data, capture_output=True, check=True).stdout
    return data


def checked_records(manifest, read_chunk):
    """Every record of the chunks a manifest lists, read with read_chunk(name) -> bytes; checks each chunk's
    size, sha256 and record count against the manifest, and the total."""
    records = []
    for chunk in manifest["chunks"]:
        data = read_chunk(chunk["name"])
        assert len(data) == chunk["bytes"], chunk
        assert hashlib.sha256(data).hexdigest() == chunk["sha256"], chunk
        text = decompress_part(chunk["name"], data).decode()
        lines = [json.loads(line) for line in text.splitlines() if line]
        assert len(lines) == chunk["records"], chunk
        records.extend(lines)
    assert len(records) == manifest["records"], manifest
    return records


class FakeApi:
    """The bundled fake API, started on an OS-chosen port; use as a context manager."""

    def __init__(self, *args, characters=200):
        self.dir = tempfile.mkdtemp(prefix="fakeapi-")
        self.port_file = os.path.join(self.dir, "port")
        self.args = [FAKE_API, "--port", "0", "--port-file", self.port_file, "--characters", str(characters),
                     "--key", API_KEY, *[str(a) for a in args]]
        self.process = None
        self.port = None

    def __enter__(self):
        self.process = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_for(lambda: os.path.exists(self.port_file) or self.process.poll() is not None, 20, what="fake API")
        if self.process.poll() is not None:
            raise RuntimeError("fake API did not start: " + self.process.stderr.read().decode())
        self.port = int(Path(self.port_file).read_text().strip())
        return self

    def __exit__(self, *exc):
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stderr.close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def get(self, path):
        with urllib.request.urlopen(self.url + path, timeout=10) as response:
            return json.loads(response.read())

    def stats(self):
        return self.get("/_stats")

    def expected(self):
        return self.get("/_expected")


class Workspace:
    """A temporary folder with a pipeline.yaml, a run dir and a data dir."""

    def __init__(self, api_url, **config):
        self.dir = Path(tempfile.mkdtemp(prefix="pipeline-test-"))
        self.run_dir = self.dir / "run"
        self.data_dir = self.dir / "data"
        self.config_path = self.dir / "pipeline.yaml"
        self.write_config(api_url, **config)

    def write_config(self, api_url, api=None, sink=None, ranking_pages=1, chunk_records=50, extra="", phases=None):
        """Writes pipeline.yaml; `phases` (YAML text of a `phases:` map's body) replaces `ranking:`."""
        api_lines = {"base_url": api_url, "rate_limit_per_sec": 2000, "concurrency": 16, "timeout_ms": 5000,
                     "max_attempts": 5, "backoff_base_ms": 10, "backoff_max_ms": 200}
        api_lines.update(api or {})
        sink_lines = {"type": "local", "path": str(self.data_dir), "compression": "gzip"}
        sink_lines.update(sink or {})
        text = f"run_dir: {self.run_dir}\napi:\n"
        text += "".join(f"  {k}: {v}\n" for k, v in api_lines.items())
        text += f"phases:\n{phases}" if phases else f"ranking:\n  pages: {ranking_pages}\n"
        text += f"chunk:\n  records: {chunk_records}\nsink:\n"
        for k, v in sink_lines.items():
            if isinstance(v, dict):
                text += f"  {k}:\n" + "".join(f"    {kk}: {vv}\n" for kk, vv in v.items())
            else:
                text += f"  {k}: {v}\n"
        text += extra
        self.config_path.write_text(text)

    def env(self, **extra):
        env = dict(os.environ)
        env["NEXON_API_KEY"] = API_KEY
        env.update(extra)
        return env

    def command(self, *args):
        return [PIPELINE, "--config", str(self.config_path), *[str(a) for a in args]]

    def run(self, *args, timeout=300, env=None):
        """Runs pipeline to completion; returns the CompletedProcess (text)."""
        return subprocess.run(self.command(*args), capture_output=True, text=True, timeout=timeout,
                              env=env or self.env())

    def spawn(self, *args, env=None):
        """Starts pipeline in the background (stdout/stderr piped)."""
        return subprocess.Popen(self.command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=env or self.env())

    def status(self):
        result = self.run("status", "--json")
        assert result.returncode == 0, result.stderr
        return {p["phase"]: p for p in json.loads(result.stdout)["phases"]}

    def ledger_entry(self, phase):
        """The raw ledger entry (no liveness check), or None before the ledger exists."""
        try:
            ledger = json.loads((self.run_dir / "ledger.json").read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None
        for entry in ledger["phases"]:
            if entry["phase"] == phase:
                return entry
        return None

    def wait_state(self, phase, predicate, timeout=60, what=None):
        return wait_for(lambda: (lambda e: e if e and predicate(e) else None)(self.ledger_entry(phase)), timeout,
                        what=what or f"{phase} ledger condition")

    def manifests(self, phase, date=DATE):
        base = self.data_dir / date / phase
        if not base.exists():
            return []
        return [json.loads(p.read_text()) for p in sorted(base.glob("*/_manifest.json"))]

    def snapshot(self, phase, run_id, date=DATE):
        """Records of one run, checked against its manifest (sizes and sha256)."""
        folder = self.data_dir / date / phase / run_id
        manifest = json.loads((folder / "_manifest.json").read_text())
        return manifest, checked_records(manifest, lambda name: (folder / name).read_bytes())

    def visible_parts(self, phase, run_id, date=DATE):
        folder = self.data_dir / date / phase / run_id
        if not folder.exists():
            return []  # nothing published yet
        return sorted(p.name for p in folder.iterdir() if p.name.startswith("part-"))

    def temporaries(self):
        return [str(p) for p in self.data_dir.rglob(".*.tmp-*")]


class PipelineTestCase(unittest.TestCase):
    maxDiff = None
