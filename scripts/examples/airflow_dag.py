"""An Airflow DAG running the daily harvest as four tasks, one per phase, in the order pipeline runs them:
RANKING_FETCH >> OCID_LOOKUP >> [CHARACTER_BASIC, ITEM_EQUIPMENT].

Each task runs `pipeline run PHASE --date <the DAG run's date in Seoul> --resume`: a retry (or a rerun the next
morning) continues what an interrupted run committed instead of starting over, and a phase already COMPLETED
is kept. The exit code decides the task's fate (pipeline_outcome below, a pure function that tests check against
the real binary without Airflow installed):

  0  COMPLETED                    -> success
  3  STOPPED (operator, signal, daily quota spent, API asking to wait too long): resumable, not broken
                                  -> AirflowSkipException (the downstream phases are skipped, nothing fails;
                                     the next scheduled run resumes) -- or, with STOPPED_RETRIES > 0, a retry later
  4  the phase is already running -> retry later (another run holds the slot)
  1  FAILED, 2 usage/config error -> failure (alert)

Install: copy to the DAGs folder of a worker that has /usr/bin/pipeline, /etc/pipeline/pipeline.yaml and the
API key in its environment (NEXON_API_KEY). The run directory must be the same for every task (one worker, or a
shared volume): it holds the ledger and checkpoints that --resume reads.
"""

import os
import subprocess
from datetime import timedelta

PIPELINE = os.environ.get("PIPELINE_BIN", "/usr/bin/pipeline")
CONFIG = os.environ.get("PIPELINE_CONFIG", "/etc/pipeline/pipeline.yaml")
PHASES = ["RANKING_FETCH", "OCID_LOOKUP", "CHARACTER_BASIC", "ITEM_EQUIPMENT"]
STOPPED_RETRIES = 0  # > 0: treat exit 3 as "retry later" (the task's retries) instead of skip

SUCCESS, SKIP, RETRY, FAIL = "success", "skip", "retry", "fail"


def pipeline_outcome(exit_code, stopped_retries=STOPPED_RETRIES):
    """What a task does with `pipeline run`'s exit code: SUCCESS, SKIP, RETRY or FAIL (pure; README exit codes)."""
    if exit_code == 0:
        return SUCCESS
    if exit_code == 3:
        return RETRY if stopped_retries > 0 else SKIP
    if exit_code == 4:
        return RETRY
    return FAIL


def run_phase(phase, date, **_context):
    """Runs one phase and turns its exit code into an Airflow outcome."""
    from airflow.exceptions import AirflowException, AirflowSkipException

    command = [PIPELINE, "--config", CONFIG, "--log-format", "json", "run", phase, "--date", date, "--resume"]
    code = subprocess.run(command, check=False).returncode
    outcome = pipeline_outcome(code)
    if outcome == SUCCESS:
        return
    if outcome == SKIP:
        raise AirflowSkipException(f"{phase} STOPPED (exit 3): resumable; `pipeline status {phase}` says why")
    if outcome == RETRY:
        raise AirflowException(f"{phase}: exit {code}, retrying later")  # the task's retries apply
    raise AirflowException(f"{phase} failed with exit {code}: see `pipeline status {phase}`")


def build_dag():
    """The DAG (only where Airflow is installed)."""
    import pendulum
    from airflow import DAG
    from airflow.operators.python import PythonOperator

    with DAG(
        dag_id="pipeline_harvest",
        # 10:30 in Seoul: the API serves a day's data from 02:00 the next day.
        schedule="30 10 * * *",
        start_date=pendulum.datetime(2026, 12, 1, tz="Asia/Seoul"),
        catchup=False,
        max_active_runs=1,
        default_args={"retries": 3, "retry_delay": timedelta(minutes=30)},
        tags=["pipeline"],
    ) as dag:
        # The harvested date: the day before the run, in Seoul (pipeline's own default).
        date = "{{ data_interval_end.in_timezone('Asia/Seoul').subtract(days=1).strftime('%Y-%m-%d') }}"
        tasks = {
            phase: PythonOperator(task_id=phase.lower(), python_callable=run_phase,
                                  op_kwargs={"phase": phase, "date": date})
            for phase in PHASES
        }
        tasks["RANKING_FETCH"] >> tasks["OCID_LOOKUP"] >> [tasks["CHARACTER_BASIC"], tasks["ITEM_EQUIPMENT"]]
    return dag


try:
    import airflow  # noqa: F401
except ImportError:  # imported by tests, or on a machine without Airflow: only the pure parts
    pass
else:
    dag = build_dag()
