"""With --log-format json every line on stderr is one JSON object with ts, level and message
(and phase and run_id whenever known), control characters escaped, for every message, errors from the network
included. A full harvest through injected faults is parsed line by line."""

import json
import re
import unittest

from harness import DATE, PHASES, FakeApi, PipelineTestCase, Workspace

HOSTILE = "evil\x1b]0;pwned\x07\x1b[2J\nforged: {\"level\": \"info\"}\r\t\u009b31m end"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


class JsonLogTest(PipelineTestCase):
    def parse_log(self, stderr_bytes):
        """Every line of a JSON log, parsed; fails on the first line that is not one JSON object."""
        self.assertTrue(stderr_bytes.endswith(b"\n") or not stderr_bytes)
        lines = []
        for number, raw in enumerate(stderr_bytes.split(b"\n")[:-1], 1):
            # No raw control byte may reach the terminal or a log shipper: JSON escapes them.
            self.assertIsNone(re.search(rb"[\x00-\x1f\x7f]", raw), f"line {number} holds a control byte: {raw!r}")
            line = json.loads(raw.decode("utf-8"))
            self.assertIsInstance(line, dict, raw)
            for key in ("ts", "level", "message"):
                self.assertIsInstance(line.get(key), str, (key, line))
            self.assertRegex(line["ts"], TIMESTAMP)
            self.assertIn(line["level"], ("trace", "debug", "info", "warning", "error", "critical"))
            if "phase" in line:
                self.assertIn(line["phase"], PHASES)
            lines.append(line)
        return lines

    def run_bytes(self, ws, *args):
        import subprocess
        return subprocess.run(ws.command("--log-format", "json", *args), capture_output=True, env=ws.env(),
                              timeout=300)

    def test_a_full_harvest_through_faults_logs_only_json_lines(self):
        with FakeApi("--fail-500", "0.05", "--fail-429", "0.05", "--truncate", "0.03", "--refuse-names", "0.05",
                     "--error-message", HOSTILE, characters=200) as api:
            ws = Workspace(api.url, ranking_pages=1, chunk_records=40,
                           api={"max_attempts": 8, "backoff_base_ms": 1, "backoff_max_ms": 20})
            result = self.run_bytes(ws, "-v", "run", "all", "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))
            lines = self.parse_log(result.stderr)
            self.assertGreater(len(lines), 8)
            status = ws.status()
            for phase in PHASES:
                mine = [line for line in lines if line.get("phase") == phase]
                self.assertTrue(mine, f"no line of {phase} carries its phase")
                # Once the run has an id, each of its lines carries it.
                self.assertTrue(all(line.get("run_id") == status[phase]["run_id"] for line in mine), mine)
                started = [line for line in mine if "started" in line["message"]]
                self.assertTrue(started, phase)

    def test_an_error_from_the_network_stays_one_escaped_json_line(self):
        with FakeApi("--forbid", "--error-message", HOSTILE, characters=10) as api:
            ws = Workspace(api.url)
            result = self.run_bytes(ws, "run", "all", "--date", DATE)
            self.assertEqual(result.returncode, 1)
            lines = self.parse_log(result.stderr)
            errors = [line for line in lines if line["level"] == "error"]
            self.assertTrue(errors, lines)
            self.assertTrue(any(HOSTILE.replace("\u009b", "") in line["message"].replace("\u009b", "")
                                for line in errors), errors)
            self.assertTrue(all(line.get("phase") == "RANKING_FETCH" and line.get("run_id") for line in errors))

    def test_a_command_error_is_a_json_line_too(self):
        with FakeApi(characters=10) as api:
            ws = Workspace(api.url)
            ws.run_dir.mkdir()
            (ws.run_dir / "ledger.json").write_text('{"phases": [{"phase": "RANKING_FETCH", "error": 5}]}')
            result = self.run_bytes(ws, "status")
            self.assertEqual(result.returncode, 1)
            lines = self.parse_log(result.stderr)
            self.assertEqual(len(lines), 1, lines)
            self.assertEqual(lines[0]["level"], "error")
            self.assertIn("ledger.json: field 'phases[0].error'", lines[0]["message"])


if __name__ == "__main__":
    unittest.main()
