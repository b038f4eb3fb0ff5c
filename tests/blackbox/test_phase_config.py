"""Phases declared in pipeline.yaml that break a rule of docs/contract.md §1: each is a config error, exit 2,
whose message names the file, the line and the key, and nothing is harvested or written."""

import re
import unittest

from harness import PipelineTestCase, Workspace, DATE

VALID = """\
  RANKING_FETCH:
    path: /maplestory/v1/ranking/overall
    query: {date: "{date}", page: "{page}"}
    pages: 1
    rows: ranking
"""


class PhaseConfigErrors(PipelineTestCase):
    def check_error(self, phases, line, *words):
        """`run all`, `status` and `stop` with `phases` refuse the config naming file:line and `words`."""
        ws = Workspace("http://127.0.0.1:9", phases=phases)
        # The phases: map starts on the config's line `first`; `line` counts from the map's first entry.
        text = ws.config_path.read_text().splitlines()
        first = text.index("phases:") + 2
        for args in (["run", "all", "--date", DATE], ["status"], ["stop", "all"]):
            result = ws.run(*args)
            self.assertEqual(result.returncode, 2, (args, result.stdout, result.stderr))
            self.assertEqual(result.stdout, "")
            where = f"{ws.config_path}:{first + line - 1}:"
            self.assertIn(where, result.stderr, (args, phases))
            for word in words:
                self.assertIn(word, result.stderr)
        self.assertFalse(ws.data_dir.exists(), "nothing may be written on a config error")

    def test_unknown_upstream(self):
        self.check_error(VALID + """\
  OCID_LOOKUP:
    upstream: RANKING_FETCHH
    path: /maplestory/v1/id
    query: {character_name: "{character_name}"}
""", 7, "phases.OCID_LOOKUP.upstream", "RANKING_FETCHH")

    def test_cycle(self):
        self.check_error(VALID + """\
  A_PHASE:
    upstream: B_PHASE
    path: /maplestory/v1/character/stat
    query: {ocid: "{ocid}"}
  B_PHASE:
    upstream: A_PHASE
    path: /maplestory/v1/character/basic
    query: {ocid: "{ocid}"}
""", 7, "phases.A_PHASE.upstream", "cycle", "A_PHASE -> B_PHASE -> A_PHASE")

    def test_self_cycle(self):
        self.check_error(VALID + """\
  SELF:
    upstream: SELF
    path: /maplestory/v1/character/stat
    query: {ocid: "{ocid}"}
""", 7, "phases.SELF.upstream", "cycle")

    def test_no_upstream_and_no_pages(self):
        self.check_error(VALID + """\
  CHARACTER_STAT:
    path: /maplestory/v1/character/stat
    query: {date: "{date}"}
""", 6, "phases.CHARACTER_STAT", "neither 'upstream' nor 'pages'")

    def test_rows_without_pages(self):
        self.check_error(VALID + """\
  OCID_LOOKUP:
    upstream: RANKING_FETCH
    path: /maplestory/v1/id
    query: {character_name: "{character_name}"}
    rows: ranking
""", 10, "phases.OCID_LOOKUP.rows", "needs 'pages'")

    def test_page_placeholder_without_pages(self):
        self.check_error(VALID + """\
  OCID_LOOKUP:
    upstream: RANKING_FETCH
    path: /maplestory/v1/id
    query: {character_name: "{character_name}", page: "{page}"}
""", 9, "phases.OCID_LOOKUP", "{page}", "no 'pages'")

    def test_bad_names(self):
        for name in ("character_stat", "9LIVES", "A" * 33, "HAS-DASH"):
            with self.subTest(name=name):
                self.check_error(VALID + f"""\
  {name}:
    upstream: RANKING_FETCH
    path: /maplestory/v1/id
    query: {{character_name: "{{character_name}}"}}
""", 6, name, "not a phase name")

    def test_empty_list_value(self):
        self.check_error(VALID + """\
  OCID_LOOKUP:
    upstream: RANKING_FETCH
    path: /maplestory/v1/id
    query:
      character_name: "{character_name}"
      grade: []
""", 11, "phases.OCID_LOOKUP.query.grade", "empty list")

    def test_unknown_key_suggests(self):
        self.check_error(VALID + """\
  OCID_LOOKUP:
    upstreem: RANKING_FETCH
    path: /maplestory/v1/id
""", 7, "unknown key 'upstreem'", "did you mean 'upstream'")

    def test_reuse_days_with_date(self):
        self.check_error(VALID + """\
  OCID_LOOKUP:
    upstream: RANKING_FETCH
    path: /maplestory/v1/id
    query: {character_name: "{character_name}", date: "{date}"}
    reuse_days: 7
""", 10, "phases.OCID_LOOKUP.reuse_days", "{date}")

    def test_ranking_with_phases(self):
        ws = Workspace("http://127.0.0.1:9", phases=VALID, extra="ranking:\n  pages: 3\n")
        result = ws.run("status")
        self.assertEqual(result.returncode, 2, result.stderr)
        line = ws.config_path.read_text().splitlines().index("ranking:") + 1
        self.assertIn(f"{ws.config_path}:{line}: 'ranking' applies only without 'phases'", result.stderr)

    def test_invalid_phase_lists_configured_phases(self):
        ws = Workspace("http://127.0.0.1:9", phases=VALID + """\
  OCID_LOOKUP:
    upstream: RANKING_FETCH
    path: /maplestory/v1/id
    query: {character_name: "{character_name}"}
""")
        for args in (["run", "CHARACTER_BASIC"], ["stop", "CHARACTER_BASIC"], ["status", "CHARACTER_BASIC"],
                     ["verify", "CHARACTER_BASIC"]):
            result = ws.run(*args)
            self.assertEqual(result.returncode, 2, (args, result.stderr))
            self.assertIn("INVALID_PHASE: CHARACTER_BASIC (expected one of RANKING_FETCH, OCID_LOOKUP)",
                          result.stderr)
        self.assertTrue(re.fullmatch(r"RANKING_FETCH\nOCID_LOOKUP\n", ws.run("complete-phases").stdout))


if __name__ == "__main__":
    unittest.main()
