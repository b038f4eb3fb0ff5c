"""Issue: operator-facing features. Logs (text/JSON, -q, --log-file, retry summaries), the live progress
display (only on a terminal), the Prometheus metrics file, status for people, secrets never written, and help."""

import datetime
import fcntl
import gzip
import http.server
import json
import os
import pty
import re
import struct
import subprocess
import termios
import threading
import time

from harness import DATE, PHASES, FakeApi, PipelineTestCase, Workspace, wait_for

TEXT_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (trace|debug|info|warning|error|critical) \S")
PROGRESS_LINE = re.compile(r"^(RANKING_FETCH|OCID_LOOKUP|CHARACTER_BASIC|ITEM_EQUIPMENT) +\[[#.]{20}\] +\d+\.\d% "
                           r" \d+/\d+ items  \d+ records  (\d+|--) req/s  in flight \d+/\d+  answer (\d+ ms|--)  "
                           r"\d+ retries  ETA \S+$")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
RETRY_SUMMARY = re.compile(r"^([A-Z_]+): (\d+) retr(?:y|ies) in the last (\d+) s \((.+)\)$")
SUMMARY_CLASSES = {"429": "rate_limited", "5xx": "server_error", "data preparing": "data_preparing",
                   "transport": "transport", "bad body": "bad_body"}

METRIC_FAMILIES = {
    "pipeline_phase_state": {"phase", "state"},
    "pipeline_phase_stop_requested": {"phase"},
    "pipeline_phase_stop_reason": {"phase", "reason"},
    "pipeline_phase_empty": {"phase"},
    "pipeline_phase_reused": {"phase"},
    "pipeline_phase_items_done": {"phase"},
    "pipeline_phase_items_planned": {"phase"},
    "pipeline_phase_records": {"phase"},
    "pipeline_phase_chunks": {"phase"},
    "pipeline_phase_requests": {"phase"},
    "pipeline_phase_retries": {"phase", "class"},
    "pipeline_phase_rejected": {"phase"},
    "pipeline_phase_duration_seconds": {"phase"},
    "pipeline_phase_last_success_timestamp_seconds": {"phase"},
    "pipeline_metrics_updated_timestamp_seconds": set(),
}
SAMPLE_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^{}]*)\})? (\S+)$")
LABEL_PAIR = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"')


def parse_prometheus(text):
    """A strict reader of the Prometheus text format: returns ({name: type}, [(name, {labels}, value)]).
    Every line is a HELP, TYPE or sample line; TYPE comes before a family's samples; a family is one group."""
    if not text.endswith("\n"):
        raise ValueError("does not end with a newline (a torn write?)")
    types, helps, samples, closed, current = {}, set(), [], set(), None
    for line in text.split("\n")[:-1]:
        if line.startswith("# HELP "):
            name = line[7:].split(" ", 1)[0]
            if name in helps:
                raise ValueError(f"second HELP for {name}")
            helps.add(name)
        elif line.startswith("# TYPE "):
            parts = line[7:].split(" ")
            if len(parts) != 2 or parts[1] not in ("counter", "gauge", "histogram", "summary", "untyped"):
                raise ValueError(f"bad TYPE line: {line!r}")
            if parts[0] in types:
                raise ValueError(f"second TYPE for {parts[0]}")
            types[parts[0]] = parts[1]
        else:
            match = SAMPLE_LINE.match(line)
            if not match:
                raise ValueError(f"not a sample line: {line!r}")
            name, label_text, value = match.groups()
            if name not in types:
                raise ValueError(f"sample before its TYPE line: {line!r}")
            if name != current:
                if name in closed:
                    raise ValueError(f"family {name} is split into several groups")
                if current:
                    closed.add(current)
                current = name
            labels = {}
            if label_text:
                position = 0
                while position < len(label_text):
                    pair = LABEL_PAIR.match(label_text, position)
                    if not pair:
                        raise ValueError(f"bad labels: {line!r}")
                    labels[pair.group(1)] = pair.group(2)
                    position = pair.end()
                    if position < len(label_text):
                        if label_text[position] != ",":
                            raise ValueError(f"bad labels: {line!r}")
                        position += 1
            samples.append((name, labels, float(value)))
    return types, samples


def parse_utc(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def metric(samples, name, **labels):
    values = [v for n, l, v in samples if n == name and l == labels]
    if len(values) != 1:
        raise AssertionError(f"{len(values)} samples of {name}{labels}")
    return values[0]


def state_of(samples, phase):
    states = [l["state"] for n, l, v in samples if n == "pipeline_phase_state" and l["phase"] == phase and v == 1]
    assert len(states) == 1, states
    return states[0]


def prepared(fast, *phases, **config):
    """A workspace whose upstream phases are harvested (quickly, against `fast`)."""
    ws = Workspace(fast.url, **config)
    for phase in phases:
        result = ws.run("run", phase, "--date", DATE)
        assert result.returncode == 0, result.stderr
    return ws


def run_on_pty(ws, args, env=None, columns=160):
    """Runs pipeline with stderr on a pseudo-terminal (stdout piped); returns (exit code, stdout, terminal bytes)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    process = subprocess.Popen(ws.command(*args), stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL,
                               env=env or ws.env(TERM="xterm"))
    os.close(slave)
    chunks = []

    def drain():  # the terminal must be read while the process writes, or it blocks on a full buffer
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: every writer closed the terminal
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    stdout = process.stdout.read()
    process.stdout.close()
    process.wait(120)
    reader.join(30)
    os.close(master)
    return process.returncode, stdout.decode(), b"".join(chunks).decode(errors="replace")


def terminal_lines(output):
    """What a terminal shows line by line, once cursor movements are removed."""
    return [ANSI.sub("", line).replace("\r", "") for line in output.split("\n")]


class FailingS3(http.server.BaseHTTPRequestHandler):
    """Answers every S3 request like a real endpoint that refuses the signature (after one 500)."""
    calls = 0

    def answer(self):
        FailingS3.calls += 1
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(length)
        status = 500 if FailingS3.calls == 1 else 403
        code = "InternalError" if status == 500 else "SignatureDoesNotMatch"
        body = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>The request "
                f"signature we calculated does not match</Message></Error>").encode()
        self.send_response(status)
        self.send_header("content-type", "application/xml")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = answer

    def log_message(self, *args):
        pass


class LogsTest(PipelineTestCase):
    def test_json_lines_carry_phase_and_run_id_and_the_log_file_gets_them_too(self):
        with FakeApi("--fail-429", "0.1", "--fail-500", "0.05", "--seed", "7", characters=300) as api:
            ws = Workspace(api.url, ranking_pages=2)
            log_file = ws.dir / "harvest.log"
            result = ws.run("--log-format", "json", "--log-file", log_file, "run", "all", "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr)
            status = ws.status()
            lines = [json.loads(line) for line in result.stderr.splitlines()]  # every line parses
            self.assertTrue(lines)
            for line in lines:
                self.assertTrue({"ts", "level", "message"} <= set(line), line)
                self.assertRegex(line["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
                phase = line["message"].split(":")[0]
                if phase in PHASES:  # a phase's line: from its thread, with its run
                    self.assertEqual(line.get("phase"), phase, line)
                    self.assertEqual(line.get("run_id"), status[phase]["run_id"], line)
            for phase in PHASES:
                messages = [l["message"] for l in lines if l.get("phase") == phase]
                run_id = status[phase]["run_id"]
                self.assertIn(f"{phase}: run {run_id} started for {DATE}", messages[0])
                progress = status[phase]["progress"]
                end = [m for m in messages if m.startswith(f"{phase}: run {run_id} COMPLETED in ")]
                self.assertEqual(len(end), 1, messages)
                self.assertIn(f"{progress['records']} records", end[0])
                self.assertIn(f"{progress['requests']} requests", end[0])
            file_lines = [json.loads(line) for line in log_file.read_text().splitlines()]
            self.assertEqual([l["message"] for l in file_lines], [l["message"] for l in lines])

    def test_retries_are_summarised_not_logged_one_by_one(self):
        with FakeApi("--fail-429", "0.25", "--fail-500", "0.1", "--seed", "3", characters=400) as api:
            ws = Workspace(api.url, ranking_pages=2, api={"max_attempts": 10})
            result = ws.run("run", "all", "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr)
            status = ws.status()
            total_retries = sum(status[p]["progress"]["retries"] for p in PHASES)
            self.assertGreater(total_retries, 50)
            summed = {p: {"retries": 0, "lines": 0, **{c: 0 for c in SUMMARY_CLASSES.values()}} for p in PHASES}
            for line in result.stderr.splitlines():
                self.assertRegex(line, TEXT_LOG_LINE)
                message = line.split(" ", 2)[2]
                match = RETRY_SUMMARY.match(message)
                if not match:
                    self.assertNotIn("retrying", message)
                    continue
                phase, count, _, causes = match.groups()
                summed[phase]["lines"] += 1
                summed[phase]["retries"] += int(count)
                for cause in causes.split(", "):
                    name, value = cause.rsplit(": ", 1)
                    summed[phase][SUMMARY_CLASSES[name]] += int(value)
            # A few lines (at most one per phase per 10 s, plus one at its end), not one per retry; together
            # they account for every retry, by class.
            for phase in PHASES:
                seconds = (parse_utc(status[phase]["finished_at"]) - parse_utc(status[phase]["started_at"]))
                self.assertLessEqual(summed[phase]["lines"], 2 + seconds.total_seconds() / 10, phase)
            self.assertLess(sum(summed[p]["lines"] for p in PHASES) * 5, total_retries)
            for phase in PHASES:
                progress = status[phase]["progress"]
                self.assertEqual(summed[phase]["retries"], progress["retries"], phase)
                for cls in SUMMARY_CLASSES.values():
                    self.assertEqual(summed[phase][cls], progress["retries_by_class"][cls], (phase, cls))

    def test_quiet_keeps_stderr_for_problems_and_the_log_file_complete(self):
        with FakeApi("--refuse-names", "0.03", characters=100) as api:
            ws = Workspace(api.url)
            log_file = ws.dir / "harvest.log"
            result = ws.run("-q", "--log-file", log_file, "run", "all", "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stderr, "")
            logged = log_file.read_text()
            for phase in PHASES:
                self.assertIn(f"{phase}: run {ws.status()[phase]['run_id']} COMPLETED", logged)
            # -v adds debug lines (here: each refused name); an unwritable --log-file is a usage error.
            verbose = ws.run("-v", "run", "ocid_lookup", "--date", DATE)
            self.assertEqual(verbose.returncode, 0, verbose.stderr)
            self.assertIn(" debug ", verbose.stderr)
            bad = ws.run("--log-file", ws.config_path / "x.log", "status")  # below a file: cannot exist
            self.assertEqual(bad.returncode, 2)
            self.assertIn("--log-file", bad.stderr)


class ProgressTest(PipelineTestCase):
    def test_no_progress_when_stderr_is_not_a_terminal(self):
        with FakeApi(characters=200) as fast, FakeApi("--latency-ms", "20", characters=200) as slow:
            ws = prepared(fast, "RANKING_FETCH", "OCID_LOOKUP")
            ws.write_config(slow.url, api={"concurrency": 4})
            result = ws.run("run", "character_basic", "--date", DATE, env=ws.env(TERM="xterm"))
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertNotIn("\x1b", result.stderr)
            self.assertNotIn("\r", result.stderr)
            lines = result.stderr.splitlines()
            self.assertGreaterEqual(len(lines), 2)
            for line in lines:
                self.assertRegex(line, TEXT_LOG_LINE)
                self.assertNotIn("req/s", line)

    def test_progress_is_drawn_on_a_terminal_between_log_lines(self):
        with FakeApi(characters=300) as fast, FakeApi("--latency-ms", "20", "--fail-429", "0.05",
                                                      characters=300) as slow:
            ws = prepared(fast, "RANKING_FETCH", "OCID_LOOKUP")
            ws.write_config(slow.url, api={"concurrency": 4})
            code, stdout, output = run_on_pty(ws, ["run", "all", "--resume", "--date", DATE])
            self.assertEqual(code, 0, output)
            self.assertEqual(stdout, "")
            self.assertIn("req/s", output)
            self.assertIn("\x1b[", output)
            lines = [line for line in terminal_lines(output) if line]
            progress = [line for line in lines if PROGRESS_LINE.match(line)]
            self.assertTrue(any(line.startswith("CHARACTER_BASIC") for line in progress), lines)
            self.assertTrue(any(line.startswith("ITEM_EQUIPMENT") for line in progress), lines)
            # Every line on the terminal is a whole log line or a whole progress line: never a mix.
            for line in lines:
                self.assertTrue(TEXT_LOG_LINE.match(line) or PROGRESS_LINE.match(line), repr(line))
            # A phase's line is gone before its end is logged; after the last phase's end nothing is drawn.
            tail = output[output.rindex("COMPLETED in"):]
            self.assertNotIn("req/s", tail)

    def test_quiet_on_a_terminal_draws_nothing(self):
        with FakeApi(characters=200) as fast, FakeApi("--latency-ms", "20", characters=200) as slow:
            ws = prepared(fast, "RANKING_FETCH", "OCID_LOOKUP")
            ws.write_config(slow.url, api={"concurrency": 4})
            code, _, output = run_on_pty(ws, ["-q", "run", "item_equipment", "--date", DATE])
            self.assertEqual(code, 0, output)
            self.assertEqual(output, "")


class MetricsTest(PipelineTestCase):
    def test_metrics_file_is_replaced_atomically_and_covers_all_phases(self):
        with FakeApi(characters=300) as fast, FakeApi("--latency-ms", "25", "--fail-429", "0.05",
                                                      characters=300) as slow:
            ws = prepared(fast, "RANKING_FETCH", "OCID_LOOKUP", ranking_pages=2)
            ws.write_config(slow.url, ranking_pages=2, api={"concurrency": 4})
            folder = ws.dir / "textfile"
            folder.mkdir()
            path = folder / "pipeline.prom"
            worker = ws.spawn("run", "character_basic", "--date", DATE, "--metrics-file", path)
            reads, running_seen, contents = 0, False, set()
            while worker.poll() is None:  # read it as node_exporter does, often
                time.sleep(0.005)
                try:
                    text = path.read_text()
                except FileNotFoundError:
                    continue
                types, samples = parse_prometheus(text)  # every read parses: never a half-written file
                reads += 1
                contents.add(text)
                running_seen = running_seen or state_of(samples, "CHARACTER_BASIC") == "RUNNING"
            _, stderr = worker.communicate(timeout=10)
            self.assertEqual(worker.returncode, 0, stderr)
            self.assertTrue(running_seen, "no read showed CHARACTER_BASIC RUNNING")
            self.assertGreaterEqual(len(contents), 2, "the file was not rewritten during the run")
            self.assertEqual(sorted(p.name for p in folder.iterdir()), ["pipeline.prom"])  # no temporaries
            types, samples = parse_prometheus(path.read_text())
            self.assertEqual(types, {name: "gauge" for name in METRIC_FAMILIES})
            for name, _, _ in samples:
                self.assertTrue(name.startswith("pipeline_"))
            for name, labels, _ in samples:
                self.assertEqual(set(labels), METRIC_FAMILIES[name], name)
            status = ws.status()
            for phase in PHASES:
                entry, progress = status[phase], status[phase]["progress"]
                self.assertEqual(state_of(samples, phase), entry["state"])
                # The metric for items_total is _items_planned: _total is for counters only (promtool).
                for key, name in (("items_done", "items_done"), ("items_total", "items_planned"), ("records", "records"),
                                  ("chunks", "chunks"), ("requests", "requests"), ("rejected", "rejected")):
                    self.assertEqual(metric(samples, f"pipeline_phase_{name}", phase=phase), progress[key],
                                     (phase, key))
                for cls, value in progress["retries_by_class"].items():
                    self.assertEqual(metric(samples, "pipeline_phase_retries", phase=phase, **{"class": cls}),
                                     value)
            self.assertEqual(state_of(samples, "ITEM_EQUIPMENT"), "IDLE")
            self.assertGreater(metric(samples, "pipeline_phase_retries", phase="CHARACTER_BASIC",
                                      **{"class": "rate_limited"}), 0)
            # Phases this process did not run come from the ledger, with their last success.
            for phase in ("RANKING_FETCH", "OCID_LOOKUP", "CHARACTER_BASIC"):
                self.assertEqual(metric(samples, "pipeline_phase_last_success_timestamp_seconds", phase=phase),
                                 parse_utc(status[phase]["finished_at"]).timestamp())
            self.assertEqual([l for n, l, v in samples if n == "pipeline_phase_last_success_timestamp_seconds"
                              and l["phase"] == "ITEM_EQUIPMENT"], [])
            self.assertGreater(metric(samples, "pipeline_phase_duration_seconds", phase="CHARACTER_BASIC"), 0)

    def test_config_key_and_the_option_that_wins_over_it(self):
        with FakeApi(characters=30) as api:
            ws = Workspace(api.url)
            from_config = ws.dir / "from-config.prom"
            ws.write_config(api.url, extra=f"metrics_file: {from_config}\n")
            result = ws.run("run", "ranking_fetch", "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr)
            _, samples = parse_prometheus(from_config.read_text())
            self.assertEqual(state_of(samples, "RANKING_FETCH"), "COMPLETED")
            self.assertEqual(state_of(samples, "OCID_LOOKUP"), "IDLE")
            from_config.unlink()
            option = ws.dir / "option.prom"
            result = ws.run("run", "ocid_lookup", "--date", DATE, "--metrics-file", option)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertFalse(from_config.exists())
            _, samples = parse_prometheus(option.read_text())
            self.assertEqual(state_of(samples, "OCID_LOOKUP"), "COMPLETED")

    def test_stopped_and_failed_phases_are_visible(self):
        with FakeApi(characters=300) as fast, FakeApi("--latency-ms", "40", characters=300) as slow:
            ws = prepared(fast, "RANKING_FETCH", "OCID_LOOKUP", ranking_pages=2)
            ws.write_config(slow.url, ranking_pages=2, api={"concurrency": 2})
            path = ws.dir / "pipeline.prom"
            worker = ws.spawn("run", "item_equipment", "--date", DATE, "--metrics-file", path)
            ws.wait_state("ITEM_EQUIPMENT", lambda e: e["state"] == "RUNNING" and e["progress"]["items_done"] > 0)
            self.assertEqual(ws.run("stop", "item_equipment").returncode, 0)
            worker.communicate(timeout=30)
            self.assertEqual(worker.returncode, 3)
            _, samples = parse_prometheus(path.read_text())
            self.assertEqual(state_of(samples, "ITEM_EQUIPMENT"), "STOPPED")
            self.assertEqual(metric(samples, "pipeline_phase_stop_requested", phase="ITEM_EQUIPMENT"), 1)
            with FakeApi("--forbid", characters=30) as forbidden:
                ws.write_config(forbidden.url, ranking_pages=2)
                result = ws.run("run", "ranking_fetch", "--date", DATE, "--metrics-file", path)
                self.assertEqual(result.returncode, 1)
            _, samples = parse_prometheus(path.read_text())
            self.assertEqual(state_of(samples, "RANKING_FETCH"), "FAILED")
            # The last success survives a later failure (remembered from the ledger before the new run).
            self.assertGreater(metric(samples, "pipeline_phase_last_success_timestamp_seconds",
                                      phase="RANKING_FETCH"), 0)


class StatusTest(PipelineTestCase):
    def test_table_for_people_and_detail_of_a_phase(self):
        with FakeApi(characters=30) as api, FakeApi("--forbid") as forbidden:
            ws = prepared(api, "RANKING_FETCH", "OCID_LOOKUP")
            ws.write_config(forbidden.url)
            self.assertEqual(ws.run("run", "character_basic", "--date", DATE).returncode, 1)
            status = ws.status()
            table = ws.run("status")
            self.assertEqual(table.returncode, 0, table.stderr)
            self.assertNotIn("\x1b", table.stdout)  # not a terminal: no colour
            lines = table.stdout.splitlines()
            header = lines[0]
            self.assertTrue(header.startswith("PHASE"))
            columns = [header.index(name) for name in ("STATE", "RUN ID", "DATE", "ITEMS", "RECORDS")]
            rows = {line.split()[0]: line for line in lines[1:] if line.split() and line.split()[0] in PHASES}
            self.assertEqual(list(rows), PHASES)
            for phase, row in rows.items():
                for column in columns:  # every cell starts under its heading
                    self.assertNotEqual(row[column], " ", (phase, row))
                    self.assertEqual(row[column - 1], " ", (phase, row))
                self.assertEqual(row[columns[0]:].split()[0], status[phase]["state"])
            self.assertIn(status["OCID_LOOKUP"]["run_id"], rows["OCID_LOOKUP"])
            self.assertRegex(rows["OCID_LOOKUP"], r"finished \d+s ago$")
            # The failed phase's error on a line of its own, right below it.
            error_line = lines[lines.index(rows["CHARACTER_BASIC"]) + 1]
            self.assertTrue(error_line.startswith("  error: "), error_line)
            self.assertIn(status["CHARACTER_BASIC"]["error"], error_line)

            detail = ws.run("status", "character_basic")
            self.assertEqual(detail.returncode, 0, detail.stderr)
            fields = dict(line.split(":", 1) for line in detail.stdout.splitlines() if not line.startswith(" "))
            fields = {k.strip(): v.strip() for k, v in fields.items()}
            self.assertEqual(fields["phase"], "CHARACTER_BASIC")
            self.assertEqual(fields["state"], "FAILED")
            self.assertEqual(fields["run id"], status["CHARACTER_BASIC"]["run_id"])
            self.assertEqual(fields["stop requested"], "no")
            self.assertEqual(fields["upstream run"], "OCID_LOOKUP " + status["OCID_LOOKUP"]["run_id"])
            self.assertEqual(fields["last error"], status["CHARACTER_BASIC"]["error"])
            self.assertIn("checkpoint", fields)
            self.assertIn("--resume", fields["resume with"])
            ocid = ws.run("status", "OCID_LOOKUP").stdout
            self.assertIn(f"2026-11-22.OCID_LOOKUP.{status['OCID_LOOKUP']['run_id']}.json", ocid)
            self.assertIn("last error:      -", ocid)
            # --json is the docs/contract.md §5 document, whatever the terminal.
            document = json.loads(ws.run("status", "--json").stdout)
            self.assertEqual(set(document), {"run_dir", "phases"})
            self.assertEqual([p["phase"] for p in document["phases"]], PHASES)

    def test_colour_only_on_a_terminal_without_no_color(self):
        with FakeApi(characters=30) as api:
            ws = prepared(api, "RANKING_FETCH")
            for no_color, coloured in ((None, True), ("1", False)):
                env = ws.env(TERM="xterm")
                env.pop("NO_COLOR", None)
                if no_color:
                    env["NO_COLOR"] = no_color
                master, slave = pty.openpty()
                process = subprocess.run(ws.command("status"), stdout=slave, stderr=subprocess.PIPE, env=env,
                                         timeout=30)
                os.close(slave)
                output = b""
                while True:
                    try:
                        data = os.read(master, 65536)
                    except OSError:  # EIO: the terminal has no writer left and is drained
                        break
                    if not data:
                        break
                    output += data
                output = output.decode()
                os.close(master)
                self.assertEqual(process.returncode, 0)
                self.assertEqual("\x1b[32mCOMPLETED" in output, coloured, repr(output))
                self.assertIn("RANKING_FETCH", output)


class SecretsTest(PipelineTestCase):
    API_KEY = "nx-LIVE-7f3a9c0d1e2b-APIKEY"
    S3_SECRET = "s3-SECRET-9b8a7c6d5e4f-KEY"

    def assert_nowhere(self, ws, *texts):
        for secret in (self.API_KEY, self.S3_SECRET):
            for text in texts:
                self.assertNotIn(secret, text)
            for path in ws.dir.rglob("*"):
                if path.is_file():
                    data = path.read_bytes()
                    if path.name.endswith(".gz"):
                        data = gzip.decompress(data)
                    self.assertNotIn(secret.encode(), data, str(path))
                    self.assertNotIn(secret[4:-4].encode(), data, str(path))  # nor a part of it

    def test_secrets_never_logged_or_written(self):
        api = FakeApi("--fail-500", "0.05", "--truncate", "0.02", "--refuse-names", "0.03", characters=100)
        api.args[api.args.index("--key") + 1] = self.API_KEY
        with api:
            ws = Workspace(api.url, extra=f"metrics_file: metrics.prom\n")
            env = ws.env(NEXON_API_KEY=self.API_KEY, S3_ACCESS_KEY="AKIDEXAMPLE", S3_SECRET_KEY=self.S3_SECRET)
            log_file = ws.dir / "harvest.log"
            for log_format in ("text", "json"):
                result = ws.run("-v", "--log-format", log_format, "--log-file", log_file, "run", "all", "--date",
                                DATE, env=env)
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertIn(" debug " if log_format == "text" else '"debug"', result.stderr)
                self.assert_nowhere(ws, result.stdout, result.stderr)
            # A wrong key: the failure is explained without echoing the key.
            wrong = ws.run("-v", "run", "ranking_fetch", "--date", DATE,
                           env=ws.env(NEXON_API_KEY=self.API_KEY + "x", S3_SECRET_KEY=self.S3_SECRET))
            self.assertEqual(wrong.returncode, 1)
            self.assertNotIn(self.API_KEY, wrong.stderr)
            self.assertTrue(list((ws.run_dir / "checkpoints").iterdir()))
            self.assertTrue(ws.manifests("ITEM_EQUIPMENT"))
            for status_args in (["status"], ["status", "--json"], ["status", "item_equipment"]):
                shown = ws.run("-v", *status_args, env=env)
                self.assert_nowhere(ws, shown.stdout, shown.stderr)
            self.assert_nowhere(ws)

    def test_s3_secret_not_in_errors_of_a_refusing_endpoint(self):
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FailingS3)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            with FakeApi(characters=20) as api:
                s3 = {"endpoint": f"http://127.0.0.1:{server.server_address[1]}", "bucket": "snapshots",
                      "prefix": "ops", "region": "us-east-1", "access_key_env": "S3_ACCESS_KEY",
                      "secret_key_env": "S3_SECRET_KEY"}
                ws = Workspace(api.url, sink={"type": "s3", "s3": s3}, api={"max_attempts": 2},
                               extra="metrics_file: metrics.prom\n")
                env = ws.env(S3_ACCESS_KEY="AKIDEXAMPLE", S3_SECRET_KEY=self.S3_SECRET)
                log_file = ws.dir / "harvest.log"
                result = ws.run("-v", "--log-file", log_file, "run", "ranking_fetch", "--date", DATE, env=env)
                self.assertNotEqual(result.returncode, 0)
                self.assertGreater(FailingS3.calls, 0, result.stderr)
                self.assert_nowhere(ws, result.stdout, result.stderr)
        finally:
            server.shutdown()
            server.server_close()


class HelpTest(PipelineTestCase):
    def test_help_lists_options_defaults_exit_codes_and_an_example(self):
        ws = Workspace("http://127.0.0.1:9")
        expected = {
            (): ["--config", "--run-dir", "--log-format", "=text", "--log-file", "--verbose", "--quiet",
                 "--version", "run", "stop", "status", "NO_COLOR"],
            ("run",): ["--date", "yesterday in Asia/Seoul", "--resume", "--metrics-file", "metrics_file"],
            ("stop",): ["--wait", "--timeout", "=300", "STOP_REQUESTED"],
            ("status",): ["--json", "NO_COLOR"],
        }
        for command, needles in expected.items():
            with self.subTest(command=command):
                result = ws.run(*command, "--help")
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertIn("Exit codes: 0 ", result.stdout)
                self.assertIn("Example: pipeline ", result.stdout)
                self.assertIn("Usage: pipeline", result.stdout)
                for needle in needles:
                    self.assertIn(needle, result.stdout)
        version = ws.run("--version")
        self.assertEqual(version.returncode, 0)
        self.assertRegex(version.stdout, r"^pipeline \d+\.\d+\.\d+\n$")


if __name__ == "__main__":
    import unittest

    unittest.main()
