"""The orchestrator examples in scripts/examples: the Kubernetes CronJob parses and keeps its promises
(Forbid, the run directory on a volume, a grace period the graceful stop fits in, a config the binary accepts),
and the Airflow DAG compiles and maps the real binary's exit codes (0, 1, 2, 3, 4) as documented."""

import importlib.util
import os
import py_compile
import signal
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

import yaml

from harness import DATE, PIPELINE, FakeApi, PipelineTestCase, Workspace

EXAMPLES = Path(os.environ.get("PIPELINE_SOURCE_DIR", Path(__file__).resolve().parents[2])) / "scripts" / "examples"


def load_dag_module():
    spec = importlib.util.spec_from_file_location("airflow_dag", EXAMPLES / "airflow_dag.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class KubernetesCronJobTest(PipelineTestCase):
    def setUp(self):
        documents = list(yaml.safe_load_all((EXAMPLES / "kubernetes-cronjob.yaml").read_text()))
        self.kinds = {d["kind"]: d for d in documents}
        self.job = self.kinds["CronJob"]

    def test_one_harvest_at_a_time_with_the_run_dir_on_a_volume(self):
        spec = self.job["spec"]
        self.assertEqual(spec["concurrencyPolicy"], "Forbid")
        pod = spec["jobTemplate"]["spec"]["template"]["spec"]
        self.assertEqual(pod["restartPolicy"], "Never")
        container = pod["containers"][0]
        self.assertEqual(container["command"][0], "/usr/bin/pipeline")
        self.assertEqual(container["command"][-2:], ["run", "all"])
        claim = self.kinds["PersistentVolumeClaim"]["metadata"]["name"]
        volumes = {v["name"]: v for v in pod["volumes"]}
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        config = yaml.safe_load(self.kinds["ConfigMap"]["data"]["pipeline.yaml"])
        run_mount = [path for path in mounts if config["run_dir"].startswith(path + "/")]
        self.assertEqual(len(run_mount), 1, "run_dir must be on a mounted volume")
        self.assertEqual(volumes[mounts[run_mount[0]]]["persistentVolumeClaim"]["claimName"], claim)

    def test_the_config_is_one_the_binary_accepts(self):
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "pipeline.yaml"
            path.write_text(self.kinds["ConfigMap"]["data"]["pipeline.yaml"])
            result = subprocess.run([PIPELINE, "--config", str(path), "--run-dir", str(Path(folder) / "run"), "status",
                                     "--json"], capture_output=True, text=True, timeout=30)
            self.assertEqual(result.returncode, 0, result.stderr)

    def test_sigterm_stops_gracefully_within_the_grace_period(self):
        grace = self.job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        with FakeApi(characters=200) as fast, FakeApi("--latency-ms", "50", characters=200) as slow:
            ws = Workspace(fast.url, chunk_records=20)
            self.assertEqual(ws.run("run", "RANKING_FETCH", "--date", DATE).returncode, 0)
            ws.write_config(slow.url, chunk_records=20, api={"concurrency": 2})
            worker = ws.spawn("run", "OCID_LOOKUP", "--date", DATE)
            ws.wait_state("OCID_LOOKUP", lambda e: e["state"] == "RUNNING" and e["progress"]["requests"] > 0)
            sent = time.monotonic()
            worker.send_signal(signal.SIGTERM)
            worker.communicate(timeout=grace)
            self.assertEqual(worker.returncode, 3)
            self.assertLess(time.monotonic() - sent, grace)
            self.assertEqual(ws.status()["OCID_LOOKUP"]["state"], "STOPPED")


class AirflowDagTest(PipelineTestCase):
    def test_compiles_and_imports_without_airflow(self):
        py_compile.compile(str(EXAMPLES / "airflow_dag.py"), doraise=True)
        module = load_dag_module()
        self.assertEqual(module.PHASES, ["RANKING_FETCH", "OCID_LOOKUP", "CHARACTER_BASIC", "ITEM_EQUIPMENT"])

    def test_exit_code_mapping_against_the_real_binary(self):
        m = load_dag_module()
        codes = {}
        with FakeApi(characters=200) as fast, FakeApi("--latency-ms", "50", characters=200) as slow, \
                FakeApi("--forbid", characters=20) as forbidden:
            ws = Workspace(fast.url, chunk_records=20)
            codes["completed"] = ws.run("run", "RANKING_FETCH", "--date", DATE).returncode
            codes["usage"] = ws.run("run", "NOT_A_PHASE").returncode
            ws.write_config(slow.url, chunk_records=20, api={"concurrency": 2})
            worker = ws.spawn("run", "OCID_LOOKUP", "--date", DATE)
            ws.wait_state("OCID_LOOKUP", lambda e: e["state"] == "RUNNING" and e["progress"]["requests"] > 0)
            codes["busy"] = ws.run("run", "OCID_LOOKUP", "--date", DATE).returncode
            self.assertEqual(ws.run("stop", "OCID_LOOKUP").returncode, 0)
            worker.communicate(timeout=60)
            codes["stopped"] = worker.returncode
            other = Workspace(forbidden.url)
            codes["failed"] = other.run("run", "RANKING_FETCH", "--date", DATE).returncode
        self.assertEqual(codes, {"completed": 0, "usage": 2, "busy": 4, "stopped": 3, "failed": 1})
        self.assertEqual(m.pipeline_outcome(codes["completed"]), m.SUCCESS)
        self.assertEqual(m.pipeline_outcome(codes["stopped"]), m.SKIP)
        self.assertEqual(m.pipeline_outcome(codes["stopped"], stopped_retries=2), m.RETRY)
        self.assertEqual(m.pipeline_outcome(codes["busy"]), m.RETRY)
        self.assertEqual(m.pipeline_outcome(codes["failed"]), m.FAIL)
        self.assertEqual(m.pipeline_outcome(codes["usage"]), m.FAIL)


if __name__ == "__main__":
    unittest.main()
