"""Issue: parallel streaming compression of real-sized answers (~220 KB) — parts hold exactly their records
in order whatever the number of compression threads, and a stop or a kill -9 while blocks are being compressed
and streamed leaves only complete parts."""

import subprocess
import unittest

from harness import DATE, FakeApi, PipelineTestCase, Workspace, decompress_part, wait_for

CHARACTERS = 160
CHUNK = 30  # 30 answers of ~230 KB: ~7 MB a part, several gzip members and zstd jobs each


class CompressionTest(PipelineTestCase):
    def prepare(self, api, compression, threads):
        ws = Workspace(api.url, ranking_pages=1, chunk_records=CHUNK,
                       sink={"compression": compression, "compression_threads": threads})
        for phase in ("RANKING_FETCH", "OCID_LOOKUP"):
            result = ws.run("run", phase, "--date", DATE)
            self.assertEqual(result.returncode, 0, result.stderr)
        return ws

    def check_parts(self, ws, run_id, extension):
        """Every visible part decompresses whole, with the standard tools too, and is listed in the manifest."""
        folder = ws.data_dir / DATE / "ITEM_EQUIPMENT" / run_id
        manifest, records = ws.snapshot("ITEM_EQUIPMENT", run_id)
        self.assertEqual(ws.visible_parts("ITEM_EQUIPMENT", run_id), [c["name"] for c in manifest["chunks"]])
        for name in ws.visible_parts("ITEM_EQUIPMENT", run_id):
            self.assertTrue(name.endswith(extension), name)
            tool = ["gzip", "-dc"] if extension == ".gz" else ["zstd", "-dcq"]
            out = subprocess.run([*tool, str(folder / name)], capture_output=True, check=True).stdout
            self.assertEqual(out, decompress_part(name, (folder / name).read_bytes()))
        self.assertEqual(ws.temporaries(), [])
        return manifest, records

    def test_records_in_order_for_every_thread_count(self):
        with FakeApi("--real-items", characters=CHARACTERS) as api:
            for compression, extension in (("gzip", ".gz"), ("zstd", ".zst")):
                for threads in (1, 3):
                    with self.subTest(compression=compression, threads=threads):
                        ws = self.prepare(api, compression, threads)
                        ws.write_config(api.url, ranking_pages=1, chunk_records=CHUNK,
                                        api={"concurrency": 1},
                                        sink={"compression": compression, "compression_threads": threads})
                        result = ws.run("run", "ITEM_EQUIPMENT", "--date", DATE)
                        self.assertEqual(result.returncode, 0, result.stderr)
                        run_id = ws.status()["ITEM_EQUIPMENT"]["run_id"]
                        manifest, records = self.check_parts(ws, run_id, extension)
                        self.assertEqual(manifest["records"], CHARACTERS)
                        self.assertGreater(len(manifest["chunks"]), 1)
                        # Concurrency 1 fetches in input order, so records must come out in exactly that order.
                        _, upstream = ws.snapshot("OCID_LOOKUP", ws.status()["OCID_LOOKUP"]["run_id"])
                        self.assertEqual([r["ocid"] for r in records], [r["ocid"] for r in upstream])
                        self.assertTrue(all(len(r["data"]["item_equipment_preset_3"]) == 24 for r in records))

    def test_stop_during_parallel_compression_ends_with_a_complete_chunk(self):
        with FakeApi("--real-items", characters=CHARACTERS) as fast, \
                FakeApi("--real-items", "--latency-ms", "30", characters=CHARACTERS) as slow:
            for compression, extension in (("gzip", ".gz"), ("zstd", ".zst")):
                with self.subTest(compression=compression):
                    ws = self.prepare(fast, compression, 2)
                    ws.write_config(slow.url, ranking_pages=1, chunk_records=CHUNK, api={"concurrency": 4},
                                    sink={"compression": compression, "compression_threads": 2})
                    worker = ws.spawn("run", "ITEM_EQUIPMENT", "--date", DATE)
                    # Past the first chunk and into the next one, whose blocks are being streamed.
                    ws.wait_state("ITEM_EQUIPMENT", lambda e: e["state"] == "RUNNING" and e["progress"]["chunks"] >= 1
                                  and e["progress"]["items_done"] > CHUNK + 5)
                    stop = ws.run("stop", "ITEM_EQUIPMENT")
                    self.assertEqual(stop.returncode, 0, stop.stderr)
                    worker.communicate(timeout=60)
                    self.assertEqual(worker.returncode, 3)
                    entry = ws.status()["ITEM_EQUIPMENT"]
                    self.assertEqual(entry["state"], "STOPPED")
                    manifest, records = self.check_parts(ws, entry["run_id"], extension)
                    self.assertEqual(manifest["state"], "STOPPED")
                    # The open chunk was finished and published: everything fetched is there.
                    self.assertEqual(len(records), entry["progress"]["items_done"])
                    self.assertGreater(manifest["chunks"][-1]["records"], 0)

    def test_kill_9_while_streaming_leaves_only_complete_parts(self):
        with FakeApi("--real-items", characters=CHARACTERS) as fast, \
                FakeApi("--real-items", "--latency-ms", "30", characters=CHARACTERS) as slow:
            for compression, extension in (("gzip", ".gz"), ("zstd", ".zst")):
                with self.subTest(compression=compression):
                    ws = self.prepare(fast, compression, 2)
                    ws.write_config(slow.url, ranking_pages=1, chunk_records=CHUNK, api={"concurrency": 4},
                                    sink={"compression": compression, "compression_threads": 2})
                    worker = ws.spawn("run", "ITEM_EQUIPMENT", "--date", DATE)
                    ws.wait_state("ITEM_EQUIPMENT", lambda e: e["state"] == "RUNNING" and e["progress"]["chunks"] >= 1)
                    # A chunk is being streamed into its hidden temporary: kill in the middle of it.
                    wait_for(lambda: [t for t in ws.temporaries() if ".part-" in t], what="a part being streamed")
                    worker.kill()
                    worker.communicate()
                    run_id = ws.status()["ITEM_EQUIPMENT"]["run_id"]
                    folder = ws.data_dir / DATE / "ITEM_EQUIPMENT" / run_id
                    visible = ws.visible_parts("ITEM_EQUIPMENT", run_id)
                    self.assertGreater(len(visible), 0)
                    for name in visible:
                        decompress_part(name, (folder / name).read_bytes())  # raises if incomplete
                    result = ws.run("run", "ITEM_EQUIPMENT", "--date", DATE, "--resume")
                    self.assertEqual(result.returncode, 0, result.stderr)
                    manifest, records = self.check_parts(ws, run_id, extension)
                    self.assertEqual(manifest["state"], "COMPLETED")
                    ocids = [r["ocid"] for r in records]
                    self.assertEqual(len(ocids), len(set(ocids)))
                    self.assertEqual(len(ocids), CHARACTERS)


if __name__ == "__main__":
    unittest.main()
