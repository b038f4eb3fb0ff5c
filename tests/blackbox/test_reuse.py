"""reuse_days: day 2 of a two-day harvest copies the ids answered on day 1 instead of asking again, writes the
same records, and counts them `reused` in the ledger, status, manifest, log summary and metrics; names the API
refused on day 1 are asked again; a snapshot outside the window is not used."""

import json
import unittest
import urllib.request

from harness import DATE, FakeApi, PipelineTestCase, Workspace

DAY1 = "2026-11-21"
PHASES = """\
  RANKING_FETCH:
    path: /maplestory/v1/ranking/overall
    query: {date: "{date}", page: "{page}"}
    pages: 2
    rows: ranking
  OCID_LOOKUP:
    upstream: RANKING_FETCH
    path: /maplestory/v1/id
    query: {character_name: "{character_name}"}
    expect: ocid
    record: merge
    reuse_days: 7
"""


def reset(api):
    urllib.request.urlopen(urllib.request.Request(api.url + "/_reset_stats", method="POST", data=b""), timeout=10)


class ReuseDays(PipelineTestCase):
    def harvest(self, ws, date):
        for phase in ("RANKING_FETCH", "OCID_LOOKUP"):
            result = ws.run("run", phase, "--date", date, "--metrics-file", ws.dir / "metrics.prom")
            self.assertEqual(result.returncode, 0, result.stderr)
        return result

    def test_day_two_copies_day_one_ids_and_asks_refused_names_again(self):
        with FakeApi("--refuse-names", 0.02, characters=400) as api:
            ws = Workspace(api.url, phases=PHASES, chunk_records=30)
            self.harvest(ws, DAY1)
            day1 = ws.status()["OCID_LOOKUP"]
            _, day1_records = ws.snapshot("OCID_LOOKUP", day1["run_id"], date=DAY1)
            refused = day1["progress"]["rejected"]
            self.assertGreater(refused, 0, "the test needs names the API refuses")
            self.assertEqual(day1["progress"]["reused"], 0)

            reset(api)
            result = self.harvest(ws, DATE)
            stats = api.stats()
            # Only the names refused on day 1 are asked again (and refused again); none answered is asked.
            self.assertEqual(stats["requests"]["id"], refused, stats)
            self.assertEqual(stats["paths"].get("/maplestory/v1/id", 0), 0)

            day2 = ws.status()["OCID_LOOKUP"]
            self.assertEqual(day2["state"], "COMPLETED")
            self.assertEqual(day2["progress"]["reused"], len(day1_records))
            self.assertEqual(day2["progress"]["rejected"], refused)
            manifest, day2_records = ws.snapshot("OCID_LOOKUP", day2["run_id"])
            self.assertEqual(manifest["reused"], len(day1_records))
            self.assertEqual(sorted(map(json.dumps, day2_records)), sorted(map(json.dumps, day1_records)))
            self.assertIn(f"{len(day1_records)} reused", result.stderr)
            self.assertIn(f'pipeline_phase_reused{{phase="OCID_LOOKUP"}} {len(day1_records)}',
                          (ws.dir / "metrics.prom").read_text())
            detail = ws.run("status", "OCID_LOOKUP")
            self.assertIn(f"reused:          {len(day1_records)}", detail.stdout)

    def test_without_reuse_days_every_name_is_asked(self):
        with FakeApi(characters=100) as api:
            ws = Workspace(api.url, phases=PHASES.replace("reuse_days: 7", "reuse_days: 0"))
            self.harvest(ws, DAY1)
            reset(api)
            self.harvest(ws, DATE)
            self.assertEqual(api.stats()["paths"]["/maplestory/v1/id"], 100)
            self.assertEqual(ws.status()["OCID_LOOKUP"]["progress"]["reused"], 0)

    def test_only_the_window_is_reused(self):
        with FakeApi(characters=100) as api:
            ws = Workspace(api.url, phases=PHASES.replace("reuse_days: 7", "reuse_days: 1"))
            self.harvest(ws, "2026-11-20")  # two days before DATE: outside a one-day window
            reset(api)
            self.harvest(ws, DATE)
            self.assertEqual(api.stats()["paths"]["/maplestory/v1/id"], 100)
            self.assertEqual(ws.status()["OCID_LOOKUP"]["progress"]["reused"], 0)


if __name__ == "__main__":
    unittest.main()
