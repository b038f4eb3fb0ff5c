"""What the live API does that the plain fake never did — long Retry-Afters, maintenance, the daily call
budget, nameless ranking rows, empty answers, oversized answers and https (docs/live-api.md)."""

import fcntl
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

from harness import API_KEY, DATE, PHASES, FakeApi, PipelineTestCase, Workspace

DAY_1 = "2026-11-23T03:00:00Z"  # the test seam's clock: a morning in Seoul, DATE is yesterday
DAY_2 = "2026-11-24T03:00:00Z"


class TlsFakeApi(FakeApi):
    """The fake API over https with a self-signed certificate for 127.0.0.1."""

    def __init__(self, cert, key, *args, **kwargs):
        super().__init__("--tls-cert", cert, "--tls-key", key, *args, **kwargs)
        self.cert = cert

    @property
    def url(self):
        return f"https://127.0.0.1:{self.port}"

    def get(self, path):
        result = subprocess.run(["curl", "-sf", "--cacert", self.cert, self.url + path], capture_output=True,
                                text=True, timeout=10, check=True)
        return json.loads(result.stdout)


class LiveApiTest(PipelineTestCase):
    def prepare(self, api, **config):
        """A workspace with RANKING_FETCH and OCID_LOOKUP completed against `api`."""
        ws = Workspace(api.url, **config)
        for phase in ("RANKING_FETCH", "OCID_LOOKUP"):
            result = ws.run("run", phase, "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr)
        return ws

    def assert_exact(self, ws, phase, expected_count, key):
        entry = ws.status()[phase]
        self.assertEqual(entry["state"], "COMPLETED", entry)
        manifest, records = ws.snapshot(phase, entry["run_id"])
        values = [r[key] for r in records]
        self.assertEqual(len(values), len(set(values)), f"{phase}: an item is in the snapshot twice")
        self.assertEqual(len(values), expected_count)
        self.assertIsNone(manifest["stop_reason"])
        return entry

    def test_retry_after_86400_stops_within_max_wait_with_rate_limited_and_resumes_exactly(self):
        with FakeApi(characters=300) as fast, \
                FakeApi("--fail-429", "1", "--retry-after", "86400", "--faults-on", "item", characters=300) as limited:
            ws = self.prepare(fast, ranking_pages=2, chunk_records=40)
            expected = fast.expected()
            ws.write_config(limited.url, ranking_pages=2, chunk_records=40, api={"max_wait_s": 20})
            metrics = ws.dir / "pipeline.prom"
            began = time.monotonic()
            result = ws.run("run", "ITEM_EQUIPMENT", "--date", DATE, "--metrics-file", metrics)
            self.assertLess(time.monotonic() - began, 20)
            self.assertEqual(result.returncode, 3, result.stderr)
            self.assertIn("STOPPED (rate_limited)", result.stderr)
            entry = ws.status()["ITEM_EQUIPMENT"]
            self.assertEqual((entry["state"], entry["stop_reason"]), ("STOPPED", "rate_limited"))
            answered_429 = limited.stats()["answered"]["429"]
            self.assertGreater(answered_429, 0)
            self.assertEqual(entry["progress"]["retries_by_class"]["rate_limited"], answered_429)
            self.assertEqual(entry["progress"]["requests"], answered_429)
            self.assertIn('pipeline_phase_stop_reason{phase="ITEM_EQUIPMENT",reason="rate_limited"} 1',
                          metrics.read_text().splitlines())
            manifest = ws.manifests("ITEM_EQUIPMENT")[0]
            self.assertEqual((manifest["state"], manifest["stop_reason"]), ("STOPPED", "rate_limited"))
            table = ws.run("status")
            self.assertIn("stopped: rate_limited", table.stdout)

            ws.write_config(fast.url, ranking_pages=2, chunk_records=40)
            result = ws.run("run", "all", "--date", DATE, "--resume")
            self.assertEqual(result.returncode, 0, result.stderr)
            done = self.assert_exact(ws, "ITEM_EQUIPMENT", expected["detail_records"], "ocid")
            self.assertEqual(done["run_id"], entry["run_id"])
            self.assertIsNone(done["stop_reason"])
            # Nothing was answered by the limited API, so every item was fetched once from the fast one.
            self.assertEqual(fast.stats()["requests"]["item"], expected["ocids"])

    def test_maintenance_for_a_while_is_waited_out_and_counted(self):
        with FakeApi("--code", "OPENAPI00010", "--code-first", "30", characters=200) as api:
            ws = Workspace(api.url, ranking_pages=1, api={"max_attempts": 2, "max_wait_s": 60})
            result = ws.run("run", "all", "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr)
            expected = api.expected()
            status = ws.status()
            self.assert_exact(ws, "OCID_LOOKUP", expected["ocids"], "ocid")
            self.assert_exact(ws, "ITEM_EQUIPMENT", expected["detail_records"], "ocid")
            maintenance = sum(status[p]["progress"]["retries_by_class"]["maintenance"] for p in PHASES)
            self.assertEqual(api.stats()["errors"]["OPENAPI00010"], 30)
            self.assertEqual(maintenance, 30)
            self.assertEqual(sum(status[p]["progress"]["requests"] for p in PHASES), api.stats()["total"])

    def test_maintenance_and_data_not_ready_past_max_wait_stop_the_phase(self):
        for code, reason in (("OPENAPI00011", "maintenance"), ("OPENAPI00009", "not_ready")):
            with self.subTest(code=code), FakeApi("--code", code, "--faults-on", "ranking", characters=50) as api:
                ws = Workspace(api.url, api={"max_attempts": 2, "max_wait_s": 1, "backoff_base_ms": 100,
                                             "backoff_max_ms": 300})
                result = ws.run("run", "all", "--date", DATE)
                self.assertEqual(result.returncode, 3, result.stderr)
                entry = ws.status()["RANKING_FETCH"]
                self.assertEqual((entry["state"], entry["stop_reason"]), ("STOPPED", reason))
                self.assertGreater(api.stats()["total"], 2)  # not limited by max_attempts
                self.assertEqual(ws.status()["OCID_LOOKUP"]["state"], "IDLE")

    def test_a_retry_after_of_an_hour_on_a_server_error_stops_unavailable_at_once_and_resumes_exactly(self):
        # A 500 OPENAPI00001 carrying Retry-After: 3600 (the same path as a load balancer's 503 page): no wait of
        # an hour, no FAILED after max_attempts, but STOPPED (unavailable) and resumable.
        with FakeApi("--code", "OPENAPI00001", "--code-first", "1", "--retry-after", "3600",
                     "--faults-on", "ranking", characters=300) as api:
            ws = Workspace(api.url, ranking_pages=2, chunk_records=50, api={"max_wait_s": 5})
            metrics = ws.dir / "pipeline.prom"
            began = time.monotonic()
            result = ws.run("run", "RANKING_FETCH", "--date", DATE, "--metrics-file", metrics, timeout=60)
            self.assertLess(time.monotonic() - began, 30)
            self.assertEqual(result.returncode, 3, result.stderr)
            self.assertIn("STOPPED (unavailable)", result.stderr)
            self.assertIn("OPENAPI00001", result.stderr)
            entry = ws.status()["RANKING_FETCH"]
            self.assertEqual((entry["state"], entry["stop_reason"]), ("STOPPED", "unavailable"))
            self.assertEqual(api.stats()["errors"]["OPENAPI00001"], 1)
            self.assertEqual(entry["progress"]["retries_by_class"]["server_error"], 1)
            manifest = ws.manifests("RANKING_FETCH")[0]
            self.assertEqual((manifest["state"], manifest["stop_reason"]), ("STOPPED", "unavailable"))
            self.assertIn('pipeline_phase_stop_reason{phase="RANKING_FETCH",reason="unavailable"} 1',
                          metrics.read_text().splitlines())
            self.assertIn("stopped: unavailable", ws.run("status").stdout)

            # The API answers normally again (--code-first 1): --resume completes the same run, each row once.
            result = ws.run("run", "RANKING_FETCH", "--date", DATE, "--resume")
            self.assertEqual(result.returncode, 0, result.stderr)
            done = ws.status()["RANKING_FETCH"]
            self.assertEqual((done["state"], done["run_id"]), ("COMPLETED", entry["run_id"]))
            self.assertIsNone(done["stop_reason"])
            _, records = ws.snapshot("RANKING_FETCH", done["run_id"])
            self.assertEqual(len(records), api.expected()["ranking_rows"])
            self.assertEqual(len({r["character_name"] for r in records}), len(records))

    def test_operator_and_signal_stops_say_so(self):
        with FakeApi(characters=300) as fast, FakeApi("--latency-ms", "30", characters=300) as slow:
            ws = self.prepare(fast, ranking_pages=2, chunk_records=10)
            ws.write_config(slow.url, ranking_pages=2, chunk_records=10, api={"concurrency": 2})
            for how, reason in (("stop", "operator"), ("signal", "signal")):
                with self.subTest(how=how):
                    worker = ws.spawn("run", "ITEM_EQUIPMENT", "--date", DATE)
                    ws.wait_state("ITEM_EQUIPMENT",
                                  lambda e: e["state"] == "RUNNING" and e["progress"]["chunks"] >= 1
                                  and e["pid"] == worker.pid)
                    if how == "stop":
                        self.assertEqual(ws.run("stop", "ITEM_EQUIPMENT").returncode, 0)
                    else:
                        worker.send_signal(signal.SIGTERM)
                    _, stderr = worker.communicate(timeout=60)
                    self.assertEqual(worker.returncode, 3, stderr)
                    self.assertIn(f"STOPPED ({reason})", stderr)
                    entry = ws.status()["ITEM_EQUIPMENT"]
                    self.assertEqual((entry["state"], entry["stop_reason"]), ("STOPPED", reason))
                    manifest = ws.snapshot("ITEM_EQUIPMENT", entry["run_id"])[0]
                    self.assertEqual(manifest["stop_reason"], reason)

    def test_a_daily_budget_of_300_stops_with_quota_and_the_harvest_completes_exactly_later(self):
        with FakeApi(characters=1000) as api:
            ws = Workspace(api.url, ranking_pages=5, chunk_records=100,
                           api={"daily_quota": 300, "concurrency": 8})
            day1 = ws.env(PIPELINE_TEST_NOW=DAY_1)
            result = ws.run("run", "all", "--date", DATE, env=day1)
            self.assertEqual(result.returncode, 3, result.stderr)
            self.assertIn("300 of 300 calls left today (2026-11-23", result.stderr)
            self.assertIn("STOPPED (quota)", result.stderr)
            self.assertEqual(api.stats()["total"], 300)
            status = json.loads(ws.run("status", "--json", env=day1).stdout)
            self.assertEqual(status["quota"], {"day": "2026-11-23", "used": 300, "limit": 300})
            ocid = {p["phase"]: p for p in status["phases"]}["OCID_LOOKUP"]
            self.assertEqual((ocid["state"], ocid["stop_reason"]), ("STOPPED", "quota"))
            self.assertEqual(ocid["progress"]["requests"], 295)
            self.assertIn("quota: 300 of 300 calls used today", ws.run("status", env=day1).stdout)
            self.assertNotIn(API_KEY, (ws.run_dir / "quota.json").read_text())
            # Still the same day: nothing is sent.
            self.assertEqual(ws.run("run", "all", "--date", DATE, "--resume", env=day1).returncode, 3)
            self.assertEqual(api.stats()["total"], 300)

            # The next day brings 300 more calls.
            day2 = ws.env(PIPELINE_TEST_NOW=DAY_2)
            result = ws.run("run", "all", "--date", DATE, "--resume", env=day2)
            self.assertEqual(result.returncode, 3, result.stderr)
            self.assertEqual(api.stats()["total"], 600)
            self.assertEqual(ws.status()["OCID_LOOKUP"]["progress"]["requests"], 595)

            # A raised budget lets the harvest finish; each item was asked for exactly once.
            ws.write_config(api.url, ranking_pages=5, chunk_records=100, api={"daily_quota": 5000, "concurrency": 8})
            result = ws.run("run", "all", "--date", DATE, "--resume", env=day2)
            self.assertEqual(result.returncode, 0, result.stderr)
            expected = api.expected()
            self.assertEqual(api.stats()["total"], 5 + 1000 + 2 * 1000)
            self.assert_exact(ws, "OCID_LOOKUP", expected["ocids"], "ocid")
            self.assert_exact(ws, "CHARACTER_BASIC", expected["detail_records"], "ocid")
            self.assert_exact(ws, "ITEM_EQUIPMENT", expected["detail_records"], "ocid")
            status = json.loads(ws.run("status", "--json", env=day2).stdout)
            self.assertEqual(status["quota"], {"day": "2026-11-24", "used": 3005 - 300, "limit": 5000})

    def test_status_answers_at_once_while_a_run_holds_the_call_budget_lock(self):
        with FakeApi(characters=50) as api:
            ws = Workspace(api.url, api={"daily_quota": 1000})
            day1 = ws.env(PIPELINE_TEST_NOW=DAY_1)
            result = ws.run("run", "RANKING_FETCH", "--date", DATE, env=day1)
            self.assertEqual(result.returncode, 0, result.stderr)
            # Runs count calls under quota.lock (earlier versions locked quota.json itself): hold both.
            with open(ws.run_dir / "quota.lock", "a") as lock, open(ws.run_dir / "quota.json", "r") as counts:
                fcntl.flock(lock, fcntl.LOCK_EX)
                fcntl.flock(counts, fcntl.LOCK_EX)
                for args in (("status", "--json"), ("status",)):
                    with self.subTest(args=args):
                        began = time.monotonic()
                        result = ws.run(*args, env=day1, timeout=30)
                        self.assertLess(time.monotonic() - began, 5)
                        self.assertEqual(result.returncode, 0, result.stderr)
                        if args == ("status", "--json"):
                            self.assertEqual(json.loads(result.stdout)["quota"],
                                             {"day": "2026-11-23", "used": 1, "limit": 1000})
                        else:
                            self.assertIn("quota: 1 of 1000 calls used today (2026-11-23", result.stdout)

    def test_a_damaged_quota_file_fails_run_and_status_naming_file_and_field_and_is_left_alone(self):
        with FakeApi(characters=50) as api:
            ws = Workspace(api.url, api={"daily_quota": 1000})
            day1 = ws.env(PIPELINE_TEST_NOW=DAY_1)
            ws.run_dir.mkdir(mode=0o700)
            quota = ws.run_dir / "quota.json"
            damaged = '{"day": "2026-11-23", "calls": {"sha256:0123456789abcdef": 1.5e3}}\n'
            quota.write_text(damaged)
            result = ws.run("run", "RANKING_FETCH", "--date", DATE, env=day1)
            self.assertEqual(result.returncode, 1, result.stderr)
            self.assertIn(str(quota), result.stderr)
            self.assertIn("calls.sha256:0123456789abcdef", result.stderr)
            self.assertEqual(api.stats()["total"], 0)
            result = ws.run("status", "--json", env=day1)
            self.assertEqual(result.returncode, 1, result.stderr)
            self.assertEqual(result.stdout, "")
            self.assertIn(str(quota), result.stderr)
            self.assertIn("calls.sha256:0123456789abcdef", result.stderr)
            self.assertEqual(quota.read_text(), damaged)  # never reset behind the operator's back

    def test_nameless_ranking_rows_are_rejected_and_empty_answers_are_counted(self):
        with FakeApi("--nameless-every", "50", "--empty-every", "7", characters=400) as api:
            ws = Workspace(api.url, ranking_pages=2)
            result = ws.run("run", "all", "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr)
            expected = api.expected()
            self.assertEqual(expected["nameless_rows"], 8)
            entry = self.assert_exact(ws, "OCID_LOOKUP", expected["ocids"], "ocid")
            self.assertEqual(entry["progress"]["rejected"], 8)
            rejects = [json.loads(line) for line in
                       (ws.data_dir / DATE / "OCID_LOOKUP" / entry["run_id"] / "_rejects.jsonl").read_text().splitlines()]
            self.assertEqual(len(rejects), 8)
            self.assertEqual({r["error"] for r in rejects}, {"NO_CHARACTER_NAME"})
            # The ranking snapshot keeps the rows as the API sent them.
            _, ranking = ws.snapshot("RANKING_FETCH", ws.status()["RANKING_FETCH"]["run_id"])
            self.assertEqual(sum(1 for r in ranking if not r.get("character_name")), 8)
            for phase in ("CHARACTER_BASIC", "ITEM_EQUIPMENT"):
                detail = self.assert_exact(ws, phase, expected["detail_records"], "ocid")
                self.assertEqual(detail["progress"]["empty"], expected["empty_records"])
            self.assertGreater(expected["empty_records"], 0)

    def test_a_100_mb_answer_is_cut_off_and_retried_with_peak_rss_under_64_mib(self):
        with FakeApi(characters=40) as fast, \
                FakeApi("--huge-mb", "100", "--huge-first", "2", "--faults-on", "item", characters=40) as huge:
            ws = self.prepare(fast)
            ws.write_config(huge.url, api={"concurrency": 2})
            log = ws.dir / "stderr.log"
            with open(log, "w") as stderr:
                process = subprocess.Popen(ws.command("run", "ITEM_EQUIPMENT", "--date", DATE),
                                           stdout=subprocess.DEVNULL, stderr=stderr, env=ws.env())
                _, status, usage = os.wait4(process.pid, 0)
                process.returncode = os.waitstatus_to_exitcode(status)
            self.assertEqual(process.returncode, 0, log.read_text())
            peak_mib = usage.ru_maxrss / 1024
            print(f"peak RSS with two 100 MB answers: {peak_mib:.1f} MiB")
            self.assertLess(peak_mib, 64)
            entry = self.assert_exact(ws, "ITEM_EQUIPMENT", fast.expected()["detail_records"], "ocid")
            self.assertEqual(huge.stats()["huge"], 2)
            self.assertEqual(entry["progress"]["retries_by_class"]["bad_body"], 2)

    def test_https_needs_the_ca_file_of_a_self_signed_server(self):
        certs = Path(tempfile.mkdtemp(prefix="pipeline-tls-"))
        cert, key = certs / "cert.pem", certs / "key.pem"
        subprocess.run([shutil.which("openssl") or "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
        with TlsFakeApi(cert, key, characters=30) as api:
            ws = Workspace(api.url)
            result = ws.run("run", "RANKING_FETCH", "--date", DATE)
            self.assertEqual(result.returncode, 1, result.stderr)
            self.assertIn("TLS", result.stderr)
            self.assertIn("api.ca_file", result.stderr)
            self.assertEqual(ws.status()["RANKING_FETCH"]["progress"]["requests"], 1)  # fatal: not retried
            self.assertEqual(api.stats()["total"], 0)

            ws.write_config(api.url, api={"ca_file": cert})
            result = ws.run("run", "all", "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assert_exact(ws, "ITEM_EQUIPMENT", api.expected()["detail_records"], "ocid")


if __name__ == "__main__":
    unittest.main()
