#!/usr/bin/env python3
"""Stop latency: starts `pipeline run PHASE` again and again, waits until the ledger shows that run RUNNING with
items_done > 0, calls `pipeline stop PHASE`, and measures from the stop command returning to the run process exiting
(waited on with a pidfd, not polled). Prints one line per stop and a summary; exits non-zero on any anomaly.
Every wait is bounded."""

import argparse
import json
import os
import select
import shutil
import statistics
import subprocess
import sys
import time

LEDGER_POLL_S = 0.005
START_DEADLINE_S = 60.0
EXIT_DEADLINE_S = 60.0


def ledger_entry(ledger_path, phase):
    try:
        with open(ledger_path, encoding="utf-8") as f:
            ledger = json.load(f)
    except (OSError, ValueError):
        return None  # not written yet (it is only ever replaced whole, so never half-read)
    for entry in ledger.get("phases", []):
        if entry.get("phase") == phase:
            return entry
    return None


def wait_exit(proc, timeout):
    """Blocks until proc exits (event-driven via pidfd); returns the monotonic time it was seen exiting."""
    if hasattr(os, "pidfd_open"):
        fd = os.pidfd_open(proc.pid)
        try:
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            if not poller.poll(timeout * 1000):
                raise TimeoutError(f"pid {proc.pid} still running {timeout}s after the stop")
            seen = time.monotonic()
        finally:
            os.close(fd)
        proc.wait()
        return seen
    proc.wait(timeout=timeout)  # fallback: CPython polls here with up to 50 ms sleeps
    return time.monotonic()


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--pipeline", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--run-dir", required=True)
    ap.add_argument("--data-dir", required=True)
    ap.add_argument("--date", required=True)
    ap.add_argument("--phase", default="ITEM_EQUIPMENT")
    ap.add_argument("--stops", type=int, default=20)
    args = ap.parse_args()

    ledger_path = os.path.join(args.run_dir, "ledger.json")
    base = [args.pipeline, "--config", args.config, "-q"]
    latencies, stop_cmd, done_at_stop = [], [], []
    for i in range(1, args.stops + 1):
        shutil.rmtree(os.path.join(args.data_dir, args.date, args.phase), ignore_errors=True)
        log = open(os.path.join(args.run_dir, "..", f"stop-run-{i}.log"), "w", encoding="utf-8")
        proc = subprocess.Popen(base + ["run", args.phase, "--date", args.date],
                                stdout=subprocess.DEVNULL, stderr=log)
        log.close()
        try:
            deadline = time.monotonic() + START_DEADLINE_S
            while True:
                e = ledger_entry(ledger_path, args.phase)
                if (e and e.get("state") == "RUNNING" and e.get("pid") == proc.pid
                        and e.get("progress", {}).get("items_done", 0) > 0):
                    done, total = e["progress"]["items_done"], e["progress"].get("items_total")
                    break
                if proc.poll() is not None:
                    sys.exit(f"stop {i}: the run exited ({proc.returncode}) before it was seen mid-run")
                if time.monotonic() > deadline:
                    sys.exit(f"stop {i}: the run was not seen RUNNING with items_done > 0 in {START_DEADLINE_S}s")
                time.sleep(LEDGER_POLL_S)
            s0 = time.monotonic()
            out = subprocess.run(base + ["stop", args.phase], capture_output=True, text=True, timeout=30)
            t0 = time.monotonic()
            if out.returncode != 0 or not out.stdout.startswith(f"STOP_REQUESTED {args.phase}"):
                sys.exit(f"stop {i}: `pipeline stop` exited {out.returncode}: {out.stdout.strip()} {out.stderr.strip()}")
            t1 = wait_exit(proc, EXIT_DEADLINE_S)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        if proc.returncode != 3:
            sys.exit(f"stop {i}: the run exited {proc.returncode}, expected 3 (STOPPED)")
        e = ledger_entry(ledger_path, args.phase)
        if not e or e.get("state") != "STOPPED":
            sys.exit(f"stop {i}: the ledger shows {e and e.get('state')}, expected STOPPED")
        ms = (t1 - t0) * 1000
        latencies.append(ms)
        stop_cmd.append((t0 - s0) * 1000)
        done_at_stop.append(done)
        print(f"stop {i:2d}: items_done {done}/{total} at stop; `pipeline stop` took {(t0 - s0) * 1000:6.1f} ms; "
              f"process exited {ms:6.1f} ms after it returned", file=sys.stderr, flush=True)

    print(f"STOP_MEDIAN_MS={statistics.median(latencies):.1f}")
    print(f"STOP_MAX_MS={max(latencies):.1f}")
    print(f"STOP_MIN_MS={min(latencies):.1f}")
    print(f"STOP_COMMAND_MEDIAN_MS={statistics.median(stop_cmd):.1f}")
    print(f"STOPS={len(latencies)}")


if __name__ == "__main__":
    main()
