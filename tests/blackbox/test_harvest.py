"""Issue: the whole harvest end to end, as a user runs it."""

import gzip
import json
import os
import unittest

from harness import DATE, PHASES, FakeApi, PipelineTestCase, Workspace


class HarvestTest(PipelineTestCase):
    def test_run_all_produces_exact_counts_and_status(self):
        with FakeApi("--refuse-names", "0.02", "--refuse-ocids", "0.02", "--duplicate-every", "50",
                     characters=450) as api:
            ws = Workspace(api.url, ranking_pages=3, chunk_records=100)
            result = ws.run("run", "all", "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stdout, "")
            expected = api.expected()
            status = ws.status()
            self.assertEqual([p for p in status], PHASES)
            counts = {}
            for phase in PHASES:
                entry = status[phase]
                self.assertEqual(entry["state"], "COMPLETED", entry)
                self.assertEqual(entry["date"], DATE)
                self.assertIsNone(entry["error"])
                self.assertFalse(entry["stop_requested"])
                manifests = ws.manifests(phase)
                self.assertEqual(len(manifests), 1)
                manifest, records = ws.snapshot(phase, entry["run_id"])
                self.assertEqual(manifest["state"], "COMPLETED")
                self.assertEqual(entry["progress"]["records"], len(records))
                self.assertEqual(entry["progress"]["chunks"], len(manifest["chunks"]))
                self.assertEqual(ws.visible_parts(phase, entry["run_id"]), [c["name"] for c in manifest["chunks"]])
                counts[phase] = records
            self.assertEqual(len(counts["RANKING_FETCH"]), expected["ranking_rows"])
            self.assertEqual(len(counts["OCID_LOOKUP"]), expected["ocids"])
            self.assertEqual(len(counts["CHARACTER_BASIC"]), expected["detail_records"])
            self.assertEqual(len(counts["ITEM_EQUIPMENT"]), expected["detail_records"])
            # Each ocid once; detail records carry the API's answer under "data".
            ocids = [r["ocid"] for r in counts["OCID_LOOKUP"]]
            self.assertEqual(len(ocids), len(set(ocids)))
            basic = counts["CHARACTER_BASIC"][0]
            self.assertEqual(set(basic), {"ocid", "date", "data"})
            self.assertEqual(basic["date"], DATE)
            self.assertIn("character_name", basic["data"])
            self.assertIn("item_equipment", counts["ITEM_EQUIPMENT"][0]["data"])
            self.assertEqual(list(counts["RANKING_FETCH"][0])[:3], ["date", "ranking", "character_name"])
            # Refused items are recorded with the API's error name.
            ocid_run = status["OCID_LOOKUP"]["run_id"]
            rejects = (ws.data_dir / DATE / "OCID_LOOKUP" / ocid_run / "_rejects.jsonl").read_text().splitlines()
            self.assertEqual(len(rejects), expected["refused_names"])
            self.assertEqual(json.loads(rejects[0])["error"], "OPENAPI00003")
            # Upstream links and no temporaries left behind.
            self.assertEqual(ws.manifests("OCID_LOOKUP")[0]["upstream"],
                             {"phase": "RANKING_FETCH", "run_id": status["RANKING_FETCH"]["run_id"]})
            self.assertEqual(ws.temporaries(), [])
            self.assertEqual(os.stat(ws.run_dir).st_mode & 0o777, 0o700)

    def test_korean_names_are_looked_up(self):
        with FakeApi(characters=30) as api:
            ws = Workspace(api.url)
            self.assertEqual(ws.run("run", "RANKING_FETCH", "--date", DATE).returncode, 0)
            result = ws.run("run", "ocid_lookup", "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr)
            _, records = ws.snapshot("OCID_LOOKUP", ws.status()["OCID_LOOKUP"]["run_id"])
            names = [r["character_name"] for r in records]
            self.assertTrue(any(not n.isascii() for n in names), names)
            self.assertEqual(len(records), 30)

    def test_zstd_and_plain_chunks(self):
        with FakeApi(characters=40) as api:
            for compression, suffix in (("zstd", ".jsonl.zst"), ("none", ".jsonl")):
                ws = Workspace(api.url, sink={"compression": compression}, chunk_records=15)
                # A chunk never splits one item's records, so chunk sizes are exact with one record per item.
                result = ws.run("run", "RANKING_FETCH", "--date", DATE)
                self.assertEqual(result.returncode, 0, result.stderr)
                result = ws.run("run", "OCID_LOOKUP", "--date", DATE)
                self.assertEqual(result.returncode, 0, result.stderr)
                manifest = ws.manifests("OCID_LOOKUP")[0]
                self.assertEqual([c["name"] for c in manifest["chunks"]],
                                 [f"part-0000{i}{suffix}" for i in (1, 2, 3)])
                self.assertEqual([c["records"] for c in manifest["chunks"]], [15, 15, 10])

    def test_missing_upstream_fails_naming_phase_and_date(self):
        with FakeApi(characters=10) as api:
            ws = Workspace(api.url)
            result = ws.run("run", "ITEM_EQUIPMENT", "--date", DATE)
            self.assertEqual(result.returncode, 1)
            self.assertIn("OCID_LOOKUP", result.stderr)
            self.assertIn(DATE, result.stderr)
            entry = ws.status()["ITEM_EQUIPMENT"]
            self.assertEqual(entry["state"], "FAILED")
            self.assertIn("OCID_LOOKUP", entry["error"])

    def test_second_run_of_a_live_phase_exits_4(self):
        with FakeApi("--latency-ms", "200", characters=400) as api:
            ws = Workspace(api.url, ranking_pages=2, api={"concurrency": 1})
            first = ws.spawn("run", "RANKING_FETCH", "--date", DATE)
            try:
                entry = ws.wait_state("RANKING_FETCH", lambda e: e["state"] == "RUNNING")
                second = ws.run("run", "ranking_fetch", "--date", DATE)
                self.assertEqual(second.returncode, 4, second.stderr)
                self.assertIn(str(first.pid), second.stderr)
                self.assertIn(entry["run_id"], second.stderr)
            finally:
                first.communicate(timeout=60)
            self.assertEqual(first.returncode, 0)
            self.assertEqual(ws.status()["RANKING_FETCH"]["state"], "COMPLETED")

    def test_invalid_key_fails_at_once(self):
        with FakeApi(characters=10) as api:
            ws = Workspace(api.url)
            result = ws.run("run", "RANKING_FETCH", "--date", DATE, env=ws.env(NEXON_API_KEY="wrong-secret-key"))
            self.assertEqual(result.returncode, 1)
            self.assertIn("OPENAPI00005", result.stderr)
            self.assertNotIn("wrong-secret-key", result.stderr)
            self.assertNotIn("wrong-secret-key", (ws.run_dir / "ledger.json").read_text())
            self.assertEqual(api.stats()["total"], 1)

    def test_forbidden_fails_the_phase(self):
        with FakeApi("--forbid", characters=10) as api:
            ws = Workspace(api.url)
            result = ws.run("run", "RANKING_FETCH", "--date", DATE)
            self.assertEqual(result.returncode, 1)
            self.assertIn("OPENAPI00002", result.stderr)


class UsageTest(PipelineTestCase):
    def setUp(self):
        self.ws = Workspace("http://127.0.0.1:9")

    def test_invalid_phase_name(self):
        for command in (["run", "EQUIPMENT"], ["stop", "EQUIPMENT"], ["status", "EQUIPMENT"]):
            result = self.ws.run(*command)
            self.assertEqual(result.returncode, 2, command)
            self.assertIn("INVALID_PHASE: EQUIPMENT (expected one of RANKING_FETCH, OCID_LOOKUP, CHARACTER_BASIC, "
                          "ITEM_EQUIPMENT)", result.stderr)
            self.assertEqual(result.stdout, "")

    def test_bad_config_names_file_line_and_key(self):
        self.ws.config_path.write_text("run_dir: ./run\napi:\n  concurency: 4\n")
        result = self.ws.run("status")
        self.assertEqual(result.returncode, 2)
        self.assertIn(f"{self.ws.config_path}:3: unknown key 'concurency' under 'api' (did you mean 'concurrency'?)",
                      result.stderr)
        for text, key in (("chunk:\n  records: 0\n", "chunk.records"), ("api:\n  concurrency: -1\n", "api.concurrency"),
                          ("api:\n  base_url: ftp://x\n", "api.base_url"), ("api:\n  timeout_ms: soon\n", "api.timeout_ms")):
            self.ws.config_path.write_text(text)
            result = self.ws.run("run", "all", "--date", DATE)
            self.assertEqual(result.returncode, 2, text)
            self.assertIn(f"{self.ws.config_path}:2:", result.stderr)
            self.assertIn(key, result.stderr)

    def test_missing_api_key_variable(self):
        env = self.ws.env()
        del env["NEXON_API_KEY"]
        result = self.ws.run("run", "RANKING_FETCH", "--date", DATE, env=env)
        self.assertEqual(result.returncode, 2)
        self.assertIn("NEXON_API_KEY", result.stderr)

    def test_bad_dates(self):
        for date in ("2026-13-01", "yesterday", "2020-01-01", "2999-01-01"):
            result = self.ws.run("run", "all", "--date", date)
            self.assertEqual(result.returncode, 2, date)
            self.assertIn("date", result.stderr)

    def test_status_of_a_fresh_run_dir_is_idle(self):
        result = self.ws.run("status", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        phases = json.loads(result.stdout)["phases"]
        self.assertEqual([p["phase"] for p in phases], PHASES)
        self.assertTrue(all(p["state"] == "IDLE" for p in phases))

    def test_unreadable_ledger_is_exit_1(self):
        self.ws.run_dir.mkdir(mode=0o700)
        (self.ws.run_dir / "ledger.json").write_text("{not json")
        result = self.ws.run("status")
        self.assertEqual(result.returncode, 1)
        self.assertIn("ledger.json", result.stderr)


if __name__ == "__main__":
    unittest.main()
