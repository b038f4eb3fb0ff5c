"""The bundled fake API itself (docs/fake-api.md), asked with urllib as a harvester would: every endpoint
family answers deterministically and checks its parameters, rankings page like the live API, guilds are a
name in a world, answers are counted per item, gzip is negotiated, and the gzip bomb and the load balancer's
503 look as they should on the wire."""

import concurrent.futures
import gzip
import json
import re
import subprocess
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import zlib

from harness import API_KEY, DATE, FAKE_API, FakeApi

V1 = "/maplestory/v1"
SKILL_GRADES = ["0", "1", "1.5", "2", "2.5", "3", "4", "hyperpassive", "hyperactive", "5", "6"]
OTHER_RANKINGS = ["union", "dojang", "theseed", "achievement"]


def request(api, path, params=None, headers=None, key=API_KEY):
    """GET path?params; returns (status, headers, raw body) for any status."""
    url = api.url + path + ("?" + urllib.parse.urlencode(params) if params is not None else "")
    all_headers = {"x-nxopen-api-key": key} if key else {}
    all_headers.update(headers or {})
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=all_headers), timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.headers, error.read()


def get_json(api, path, params=None, **kwargs):
    status, _, body = request(api, path, params, **kwargs)
    return status, json.loads(body)


def error_name(api, path, params=None):
    status, doc = get_json(api, path, params)
    return status, doc["error"]["name"]


def first_name(api):
    return get_json(api, f"{V1}/ranking/overall", {"date": DATE})[1]["ranking"][0]["character_name"]


def first_ocid(api):
    return get_json(api, f"{V1}/id", {"character_name": first_name(api)})[1]["ocid"]


def reset_stats(api):
    reset = urllib.request.Request(api.url + "/_reset_stats", method="POST", data=b"")
    urllib.request.urlopen(reset, timeout=10).close()


class FakeApiEndpoints(unittest.TestCase):
    """One fake of 1000 characters (250 guilds) for the read-only checks."""

    @classmethod
    def setUpClass(cls):
        cls.api = FakeApi(characters=1000).__enter__()
        cls.expected = cls.api.expected()
        cls.ocid = first_ocid(cls.api)

    @classmethod
    def tearDownClass(cls):
        cls.api.__exit__(None, None, None)

    def detail(self, path, **params):
        return get_json(self.api, V1 + path, {"ocid": self.ocid, "date": DATE, **params})

    def test_character_and_user_endpoints_are_deterministic(self):
        for path in ["/character/stat", "/character/hexamatrix-stat", "/character/link-skill", "/user/union",
                     "/user/union-raider", "/user/union-artifact"]:
            with self.subTest(path=path):
                status, doc = self.detail(path)
                self.assertEqual(status, 200)
                self.assertEqual(self.detail(path), (200, doc))
                self.assertEqual(doc["date"], DATE + "T00:00+09:00")
                self.assertEqual("character_class" in doc, path.startswith("/character/"))
                self.assertTrue(300 <= len(json.dumps(doc, ensure_ascii=False).encode()) <= 1500, doc)
                self.assertNotEqual(self.detail(path, date="2026-11-21")[1], doc)  # derived from the date too
        self.assertNotEqual(self.detail("/character/stat")[1], self.detail("/character/ability")[1])

    def test_character_endpoint_errors(self):
        stat = f"{V1}/character/stat"
        self.assertEqual(error_name(self.api, stat, {"ocid": "0" * 32, "date": DATE}), (400, "OPENAPI00003"))
        self.assertEqual(error_name(self.api, stat, {"date": DATE}), (400, "OPENAPI00004"))
        self.assertEqual(error_name(self.api, stat, {"ocid": self.ocid}), (400, "OPENAPI00004"))
        self.assertEqual(error_name(self.api, stat, {"ocid": self.ocid, "date": "2026-13-01"}),
                         (400, "OPENAPI00004"))
        self.assertEqual(error_name(self.api, f"{V1}/user/union", {"ocid": "f" * 32, "date": DATE}),
                         (400, "OPENAPI00003"))
        self.assertEqual(error_name(self.api, f"{V1}/no-such/path", {"date": DATE}), (400, "OPENAPI00006"))
        status, _, body = request(self.api, stat, {"ocid": self.ocid, "date": DATE}, key="wrong")
        self.assertEqual((status, json.loads(body)["error"]["name"]), (400, "OPENAPI00005"))

    def test_skill_needs_a_known_grade(self):
        answers = []
        for grade in SKILL_GRADES:
            status, doc = self.detail("/character/skill", character_skill_grade=grade)
            self.assertEqual(status, 200, grade)
            self.assertEqual(doc["character_skill_grade"], grade)
            answers.append(json.dumps(doc))
        self.assertEqual(len(set(answers)), len(SKILL_GRADES))
        for params in [{}, {"character_skill_grade": "7"}, {"character_skill_grade": ""}]:
            with self.subTest(params=params):
                status, doc = self.detail("/character/skill", **params)
                self.assertEqual((status, doc["error"]["name"]), (400, "OPENAPI00004"))

    def test_the_same_guild_name_in_two_worlds_is_two_guilds(self):
        example = self.expected["repeated_guild_example"]
        name, worlds = example["guild_name"], example["worlds"]
        self.assertGreaterEqual(len(worlds), 2)
        ids = []
        for world in worlds:
            status, doc = get_json(self.api, f"{V1}/guild/id", {"guild_name": name, "world_name": world})
            self.assertEqual(status, 200)
            self.assertRegex(doc["oguild_id"], r"^[0-9a-f]{32}$")
            ids.append(doc["oguild_id"])
            basic_params = {"oguild_id": doc["oguild_id"], "date": DATE}
            status, basic = get_json(self.api, f"{V1}/guild/basic", basic_params)
            self.assertEqual(status, 200)
            self.assertEqual((basic["guild_name"], basic["world_name"]), (name, world))
            for field in ["guild_level", "guild_member_count", "guild_master_name", "guild_point",
                          "guild_member"]:
                self.assertIn(field, basic)
            self.assertEqual(get_json(self.api, f"{V1}/guild/basic", basic_params), (200, basic))
        self.assertEqual(len(set(ids)), len(worlds))
        self.assertEqual(self.expected["guilds"], 250)  # characters / 4
        self.assertGreater(self.expected["guild_names_in_several_worlds"], 8)

    def test_guild_errors(self):
        guild_id, guild_basic = f"{V1}/guild/id", f"{V1}/guild/basic"
        self.assertEqual(error_name(self.api, guild_id, {"guild_name": "없는길드", "world_name": "스카니아"}),
                         (400, "OPENAPI00003"))
        self.assertEqual(error_name(self.api, guild_id, {"guild_name": "리부트"}), (400, "OPENAPI00004"))
        self.assertEqual(error_name(self.api, guild_basic, {"oguild_id": "0" * 32, "date": DATE}),
                         (400, "OPENAPI00003"))
        self.assertEqual(error_name(self.api, guild_basic, {"date": DATE}), (400, "OPENAPI00004"))

    def pages(self, path, rows, **params):
        """Fetches every page of a ranking and the empty one past it; returns all rows."""
        pages = (rows + 199) // 200
        entries = []
        for page in range(1, pages + 2):
            status, doc = get_json(self.api, V1 + path, {"date": DATE, "page": page, **params})
            self.assertEqual(status, 200)
            expected_size = 200 if page < pages else (rows - 200 * (pages - 1) if page == pages else 0)
            self.assertEqual(len(doc["ranking"]), expected_size, (path, page))
            entries.extend(doc["ranking"])
        self.assertEqual([e["ranking"] for e in entries], list(range(1, rows + 1)))
        return entries

    def test_rankings_page_200_rows_and_end_with_an_empty_page(self):
        overall = self.pages("/ranking/overall", self.expected["ranking_rows"])
        names = {e["character_name"] for e in overall}
        for name in OTHER_RANKINGS:
            with self.subTest(ranking=name):
                entries = self.pages(f"/ranking/{name}", self.expected["other_ranking_rows"])
                self.assertEqual({e["character_name"] for e in entries}, names)  # every character once
        self.assertEqual(self.expected["other_rankings"], OTHER_RANKINGS)
        self.assertEqual(error_name(self.api, f"{V1}/ranking/nonesuch", {"date": DATE}),
                         (400, "OPENAPI00006"))

    def test_guild_ranking(self):
        self.assertEqual(self.expected["guild_ranking_pages"]["0"], 2)
        pairs = set()
        for ranking_type in ["0", "1", "2"]:
            rows = self.expected["guild_ranking_rows"][ranking_type]
            entries = self.pages("/ranking/guild", rows, ranking_type=ranking_type)
            for entry in entries:
                for field in ["guild_name", "world_name", "guild_level", "guild_master_name", "guild_point"]:
                    self.assertIn(field, entry)
            points = [e["guild_point"] for e in entries]
            self.assertEqual(points, sorted(points, reverse=True))
            pairs |= {(e["guild_name"], e["world_name"]) for e in entries}
        self.assertEqual(len(pairs), self.expected["guilds"])
        self.assertLess(self.expected["guild_ranking_rows"]["2"], self.expected["guilds"])
        for name, world in sorted(pairs)[:40]:  # the rows name guilds that exist
            params = {"guild_name": name, "world_name": world}
            self.assertEqual(get_json(self.api, f"{V1}/guild/id", params)[0], 200)
        for params in [{"date": DATE}, {"date": DATE, "ranking_type": "3"},
                       {"date": DATE, "ranking_type": "x"}]:
            self.assertEqual(error_name(self.api, f"{V1}/ranking/guild", params), (400, "OPENAPI00004"))

    def test_help_lists_the_endpoint_kinds(self):
        text = subprocess.run([FAKE_API, "--help"], capture_output=True, text=True, check=True).stdout
        for option in ["--gzip-bomb-first", "--lb-503-first", "--no-gzip", "--guilds", "ranking-guild",
                       "guild-id"]:
            self.assertIn(option, text)


class FakeApiWire(unittest.TestCase):
    """Counting, compression and the faults that live on the wire; each test starts its own small fake."""

    def test_answers_are_counted_per_item(self):
        with FakeApi(characters=20) as api:
            ocid = first_ocid(api)
            reset_stats(api)
            stat = f"{V1}/character/stat"
            request(api, stat, [("ocid", ocid), ("date", DATE)])
            request(api, stat, [("date", DATE), ("ocid", ocid)])  # the same item, parameters in another order
            request(api, f"{V1}/character/skill", {"ocid": ocid, "date": DATE, "character_skill_grade": "5"})
            request(api, f"{V1}/character/skill", {"ocid": ocid, "date": DATE, "character_skill_grade": "6"})
            request(api, stat, {"ocid": "0" * 32, "date": DATE})  # an error: not an answered item
            stats = api.stats()
            self.assertEqual(stats["items_answered"], 3)
            self.assertEqual(stats["items_answered_more_than_once"], 1)
            self.assertEqual(stats["items_answered_max"], 2)
            self.assertEqual(stats["paths"], {stat: 2, f"{V1}/character/skill": 2})
            self.assertEqual(stats["requests"]["character"], 5)
            reset_stats(api)
            stats = api.stats()
            self.assertEqual((stats["items_answered"], stats["paths"], stats["bytes_sent"]), (0, {}, 0))

    def test_gzip_when_the_request_accepts_it(self):
        with FakeApi(characters=20) as api, FakeApi("--no-gzip", characters=20) as plain_api:
            path = f"{V1}/ranking/overall"
            status, headers, plain = request(api, path, {"date": DATE})
            self.assertEqual((status, headers.get("Content-Encoding")), (200, None))
            plain_bytes = api.stats()["bytes_sent"]
            self.assertEqual(plain_bytes, len(plain))
            accepts = {"Accept-Encoding": "deflate, gzip, br"}
            status, headers, packed = request(api, path, {"date": DATE}, accepts)
            self.assertEqual((status, headers.get("Content-Encoding")), (200, "gzip"))
            self.assertEqual(gzip.decompress(packed), plain)
            self.assertEqual(int(headers["Content-Length"]), len(packed))
            self.assertLess(len(packed) * 4, len(plain))
            stats = api.stats()
            self.assertEqual((stats["bytes_sent"], stats["bytes_plain"]),
                             (plain_bytes + len(packed), 2 * len(plain)))
            self.assertEqual(stats["gzipped"], 1)
            _, headers, body = request(api, path, {"date": DATE}, {"Accept-Encoding": "gzip;q=0, identity"})
            self.assertEqual((headers.get("Content-Encoding"), body), (None, plain))
            _, _, body = request(api, f"{V1}/id", {"character_name": "nobody"}, {"Accept-Encoding": "gzip"})
            self.assertEqual(json.loads(gzip.decompress(body))["error"]["name"], "OPENAPI00003")  # errors too
            _, headers, body = request(plain_api, path, {"date": DATE}, {"Accept-Encoding": "gzip"})
            self.assertEqual((headers.get("Content-Encoding"), body), (None, plain))

    def test_gzip_bomb(self):
        bomb = ["--gzip-bomb-first", "2", "--gzip-bomb-mb", "64", "--faults-on", "basic"]
        with FakeApi(*bomb, characters=20) as api:
            name = first_name(api)
            ocid = first_ocid(api)  # id: not a --faults-on kind
            for _ in range(2):
                status, headers, body = request(api, f"{V1}/character/basic", {"ocid": ocid, "date": DATE})
                self.assertEqual((status, headers["Content-Encoding"]), (200, "gzip"))  # though not asked for
                self.assertEqual(int(headers["Content-Length"]), len(body))
                self.assertLess(len(body), 64 * 1024 * 1024 // 500)
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                size, head, tail = 0, b"", b""
                for start in range(0, len(body), 4096):
                    chunk = inflater.decompress(body[start:start + 4096])
                    head = head or chunk[:8]
                    tail = (tail + chunk)[-2:]
                    size += len(chunk)
                self.assertTrue(inflater.eof)
                self.assertEqual((size, head, tail), (64 * 1024 * 1024, b'{"pad":"', b'"}'))
            status, headers, body = request(api, f"{V1}/character/basic", {"ocid": ocid, "date": DATE})
            self.assertEqual((status, headers.get("Content-Encoding"), json.loads(body)["character_name"]),
                             (200, None, name))
            stats = api.stats()
            self.assertEqual(stats["gzip_bombs"], 2)
            self.assertEqual(stats["items_answered"], 3)  # ranking, id, the third basic; not the bombs

    def test_load_balancer_503(self):
        with FakeApi("--lb-503-first", "3", "--lb-503-retry-after", "120", characters=20) as api:
            for _ in range(3):
                status, headers, body = request(api, f"{V1}/ranking/overall", {"date": DATE})
                self.assertEqual((status, headers["Retry-After"]), (503, "120"))
                self.assertTrue(headers["Content-Type"].startswith("text/html"))
                self.assertEqual(body,
                                 b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>")
            self.assertEqual(request(api, f"{V1}/ranking/overall", {"date": DATE})[0], 200)
            stats = api.stats()
            self.assertEqual((stats["errors"]["lb_503"], stats["answered"]["503"], stats["total"]), (3, 3, 4))
        with FakeApi("--lb-503-for-ms", "300", characters=20) as api:
            self.assertEqual(request(api, f"{V1}/ranking/overall", {"date": DATE})[0], 503)
            self.assertEqual(request(api, f"{V1}/ranking/overall", {"date": DATE})[0], 503)
            time.sleep(0.4)
            self.assertEqual(request(api, f"{V1}/ranking/overall", {"date": DATE})[0], 200)

    def test_faults_on_a_path(self):
        with FakeApi("--code", "OPENAPI00009", "--faults-on", f"{V1}/character/stat", characters=20) as api:
            ocid = first_ocid(api)
            self.assertEqual(error_name(api, f"{V1}/character/stat", {"ocid": ocid, "date": DATE}),
                             (400, "OPENAPI00009"))
            self.assertEqual(get_json(api, f"{V1}/character/ability", {"ocid": ocid, "date": DATE})[0], 200)

    def test_hundreds_of_requests_in_flight(self):
        with FakeApi("--latency-ms", "300", characters=20) as api:
            def fetch(page):
                return request(api, f"{V1}/ranking/overall", {"date": DATE, "page": page})[0]

            started = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(300) as pool:
                statuses = list(pool.map(fetch, range(1, 301)))
            elapsed = time.monotonic() - started
            self.assertEqual(statuses, [200] * 300)
            self.assertGreaterEqual(api.stats()["max_in_flight"], 200)
            self.assertLess(elapsed, 3.0)  # one latency or two, not 300 / 64 of them


if __name__ == "__main__":
    unittest.main()
