"""Phases that only the config defines keep every guarantee of the built-in four: a nine-phase config (the
four, CHARACTER_STAT, CHARACTER_SKILL over three grades, GUILD_RANKING with pages and rows, GUILD_ID with
two-field items and merged records, GUILD_BASIC) harvested with `run all` against the bundled API fetches each
item exactly once and writes exact records; status lists the nine in phase order; a stop of GUILD_BASIC
mid-run and --resume complete it exactly; verify says OK for all nine."""

import json
import unittest
import urllib.parse
import urllib.request

from harness import API_KEY, DATE, FakeApi, PipelineTestCase, Workspace

# Written out of phase order on purpose: GUILD_BASIC comes before its upstream GUILD_ID.
NINE_PHASES = """\
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
  CHARACTER_BASIC:
    upstream: OCID_LOOKUP
    path: /maplestory/v1/character/basic
    query: {ocid: "{ocid}", date: "{date}"}
  ITEM_EQUIPMENT:
    upstream: OCID_LOOKUP
    path: /maplestory/v1/character/item-equipment
    query: {ocid: "{ocid}", date: "{date}"}
  CHARACTER_STAT:
    upstream: OCID_LOOKUP
    path: /maplestory/v1/character/stat
    query: {ocid: "{ocid}", date: "{date}"}
  CHARACTER_SKILL:
    upstream: OCID_LOOKUP
    path: /maplestory/v1/character/skill
    query: {ocid: "{ocid}", date: "{date}", character_skill_grade: ["0", "1", "hyperpassive"]}
  GUILD_BASIC:
    upstream: GUILD_ID
    path: /maplestory/v1/guild/basic
    query: {oguild_id: "{oguild_id}", date: "{date}"}
  GUILD_RANKING:
    path: /maplestory/v1/ranking/guild
    query: {date: "{date}", ranking_type: "0", page: "{page}"}
    pages: 3
    rows: ranking
  GUILD_ID:
    upstream: GUILD_RANKING
    path: /maplestory/v1/guild/id
    query: {guild_name: "{guild_name}", world_name: "{world_name}"}
    expect: oguild_id
    record: merge
"""
PHASE_ORDER = ["RANKING_FETCH", "OCID_LOOKUP", "CHARACTER_BASIC", "ITEM_EQUIPMENT", "CHARACTER_STAT",
               "CHARACTER_SKILL", "GUILD_RANKING", "GUILD_ID", "GUILD_BASIC"]
GRADES = ["0", "1", "hyperpassive"]


def api_answer(api, path, **query):
    """The fake API's answer for one request, as the harvester would get it."""
    request = urllib.request.Request(f"{api.url}{path}?{urllib.parse.urlencode(query)}",
                                     headers={"x-nxopen-api-key": API_KEY})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


class NinePhases(PipelineTestCase):
    def records(self, ws, phase):
        status = ws.status()[phase]
        self.assertEqual(status["state"], "COMPLETED", status)
        manifest, records = ws.snapshot(phase, status["run_id"])
        self.assertEqual(manifest["state"], "COMPLETED")
        return records

    def test_run_all_fetches_each_item_once_with_exact_records(self):
        with FakeApi(characters=300) as api:
            ws = Workspace(api.url, phases=NINE_PHASES, chunk_records=40)
            result = ws.run("run", "all", "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr)
            stats = api.stats()

            status = json.loads(ws.run("status", "--json").stdout)
            self.assertEqual([p["phase"] for p in status["phases"]], PHASE_ORDER)
            self.assertEqual({p["state"] for p in status["phases"]}, {"COMPLETED"})

            ranking = self.records(ws, "RANKING_FETCH")
            names = list(dict.fromkeys(r["character_name"] for r in ranking))
            ocids = {r["character_name"]: r["ocid"] for r in self.records(ws, "OCID_LOOKUP")}
            self.assertEqual(sorted(ocids), sorted(names))
            stat = self.records(ws, "CHARACTER_STAT")
            self.assertEqual(sorted(r["ocid"] for r in stat), sorted(ocids.values()))
            skill = self.records(ws, "CHARACTER_SKILL")
            self.assertEqual(sorted((r["ocid"], r["character_skill_grade"]) for r in skill),
                             sorted((o, g) for o in ocids.values() for g in GRADES))
            for record in skill:
                self.assertEqual(list(record), ["ocid", "character_skill_grade", "date", "data"])

            guild_rows = self.records(ws, "GUILD_RANKING")
            guilds = list(dict.fromkeys((r["guild_name"], r["world_name"]) for r in guild_rows))
            self.assertGreater(len(guilds), len({name for name, _ in guilds}),
                               "the dataset must hold one guild name in two worlds")
            guild_ids = self.records(ws, "GUILD_ID")
            self.assertEqual(sorted((r["guild_name"], r["world_name"]) for r in guild_ids), sorted(guilds))
            for record in guild_ids:
                self.assertEqual(list(record), ["guild_name", "world_name", "oguild_id"])
            self.assertEqual(len({r["oguild_id"] for r in guild_ids}), len(guilds))
            guild_basic = self.records(ws, "GUILD_BASIC")
            self.assertEqual(sorted(r["oguild_id"] for r in guild_basic), sorted(r["oguild_id"] for r in guild_ids))

            # Each item was answered exactly once: no request was repeated, none was left out.
            self.assertEqual(stats["items_answered_more_than_once"], 0, stats)
            paths = stats["paths"]
            self.assertEqual(paths["/maplestory/v1/character/stat"], len(ocids))
            self.assertEqual(paths["/maplestory/v1/character/skill"], 3 * len(ocids))
            self.assertEqual(paths["/maplestory/v1/guild/id"], len(guilds))
            self.assertEqual(paths["/maplestory/v1/guild/basic"], len(guilds))

            # The records hold the API's answers, verbatim.
            for record in stat[:5]:
                self.assertEqual(record["data"], api_answer(api, "/maplestory/v1/character/stat",
                                                            ocid=record["ocid"], date=DATE))
                self.assertEqual(record["date"], DATE)
            for record in skill[:6]:
                self.assertEqual(record["data"], api_answer(
                    api, "/maplestory/v1/character/skill", ocid=record["ocid"], date=DATE,
                    character_skill_grade=record["character_skill_grade"]))
            for record in guild_ids[:5]:
                answer = api_answer(api, "/maplestory/v1/guild/id", guild_name=record["guild_name"],
                                    world_name=record["world_name"])
                self.assertEqual(record["oguild_id"], answer["oguild_id"])
            for record in guild_basic[:5]:
                self.assertEqual(record["data"], api_answer(api, "/maplestory/v1/guild/basic",
                                                            oguild_id=record["oguild_id"], date=DATE))

            verify = ws.run("verify", "--date", DATE)
            self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)
            lines = verify.stdout.splitlines()
            self.assertEqual([line.split()[:2] for line in lines], [["OK", p] for p in PHASE_ORDER])

    def test_stop_and_resume_a_config_phase_exactly(self):
        with FakeApi("--latency-ms", 30, characters=800) as api:
            ws = Workspace(api.url, phases=NINE_PHASES, chunk_records=5, api={"concurrency": 2})
            for phase in ("GUILD_RANKING", "GUILD_ID"):
                result = ws.run("run", phase, "--date", DATE)
                self.assertEqual(result.returncode, 0, result.stderr)
            guilds = len(self.records(ws, "GUILD_ID"))
            self.assertGreater(guilds, 40)

            worker = ws.spawn("run", "GUILD_BASIC", "--date", DATE)
            entry = ws.wait_state("GUILD_BASIC", lambda e: e["state"] == "RUNNING"
                                  and e["progress"]["items_done"] >= 10)
            stop = ws.run("stop", "guild_basic")
            self.assertEqual(stop.returncode, 0, stop.stderr)
            self.assertEqual(stop.stdout, f"STOP_REQUESTED GUILD_BASIC {entry['run_id']}\n")
            out, err = worker.communicate(timeout=60)
            self.assertEqual(worker.returncode, 3, err)
            stopped = ws.status()["GUILD_BASIC"]
            self.assertEqual((stopped["state"], stopped["stop_reason"]), ("STOPPED", "operator"))
            self.assertLess(stopped["progress"]["items_done"], guilds, "the stop came too late to test anything")
            self.assertEqual(ws.status()["GUILD_ID"]["state"], "COMPLETED", "other phases are untouched")

            resumed = ws.run("run", "GUILD_BASIC", "--date", DATE, "--resume")
            self.assertEqual(resumed.returncode, 0, resumed.stderr)
            done = ws.status()["GUILD_BASIC"]
            self.assertEqual(done["run_id"], entry["run_id"])
            records = self.records(ws, "GUILD_BASIC")
            self.assertEqual(len(records), guilds)
            self.assertEqual(len({r["oguild_id"] for r in records}), guilds)
            stats = api.stats()
            self.assertEqual(stats["items_answered_more_than_once"], 0, stats)
            self.assertEqual(stats["paths"]["/maplestory/v1/guild/basic"], guilds)
            verify = ws.run("verify", "GUILD_BASIC", "--date", DATE)
            self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)

    def test_phase_removed_from_config_keeps_its_ledger_entry(self):
        with FakeApi(characters=50) as api:
            ws = Workspace(api.url, phases=NINE_PHASES)
            for phase in ("GUILD_RANKING", "GUILD_ID"):
                self.assertEqual(ws.run("run", phase, "--date", DATE).returncode, 0)
            run_id = ws.status()["GUILD_ID"]["run_id"]
            ws.write_config(api.url)  # the built-in four only
            status = ws.run("status", "--json")
            self.assertEqual([p["phase"] for p in json.loads(status.stdout)["phases"]],
                             ["RANKING_FETCH", "OCID_LOOKUP", "CHARACTER_BASIC", "ITEM_EQUIPMENT"])
            detail = ws.run("status", "guild_id", "--json")
            self.assertEqual(detail.returncode, 0, detail.stderr)
            entry = json.loads(detail.stdout)["phases"][0]
            self.assertEqual((entry["phase"], entry["state"], entry["run_id"]), ("GUILD_ID", "COMPLETED", run_id))
            # A run of a configured phase rewrites the ledger without losing it.
            self.assertEqual(ws.run("run", "RANKING_FETCH", "--date", DATE).returncode, 0)
            self.assertEqual(ws.ledger_entry("GUILD_ID")["run_id"], run_id)


if __name__ == "__main__":
    unittest.main()
