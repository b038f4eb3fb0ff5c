#!/usr/bin/env python3
"""Samples a run's progress from its ledger and reports, per phase, the time per 10,000 items over the first
and the last tenth of the phase's items (scripts/bench/scale.sh).

Usage: progress_tenths.py LEDGER PID
Polls LEDGER every 10 ms while process PID lives, then prints one line per phase with at least 20,000 items.
The moment a phase crossed 10 %, 90 % and 100 % of its items is interpolated between the two samples around
it, so the figures do not depend on when a sample happened to be taken. The first tenth is measured from the
first progress the ledger shows (items_done > 0), not from the phase's start, which includes listing items.
"""

import json
import os
import sys
import time

PER = 10_000


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def sample(ledger, pid):
    """{phase: [(t, items_done, items_total)]}, one entry per change of items_done."""
    series = {}

    def read():
        try:
            with open(ledger, encoding="utf-8") as f:
                phases = json.load(f).get("phases", [])
        except (OSError, ValueError):
            return
        now = time.monotonic()
        for entry in phases:
            progress = entry.get("progress") or {}
            done, total = progress.get("items_done", 0), progress.get("items_total", 0)
            points = series.setdefault(entry["phase"], [])
            if not points or points[-1][1] != done:
                points.append((now, done, total))

    while alive(pid):
        read()
        time.sleep(0.01)
    read()
    return series


def crossing(points, target):
    """Interpolated time at which items_done reached `target`, or None."""
    for (t0, d0, _), (t1, d1, _) in zip(points, points[1:]):
        if d0 < target <= d1:
            return t0 + (t1 - t0) * (target - d0) / (d1 - d0)
    return None


def main():
    ledger, pid = sys.argv[1], int(sys.argv[2])
    series = sample(ledger, pid)
    for phase in sorted(series):
        points = [p for p in series[phase] if p[1] > 0]
        if not points:
            continue
        total = points[-1][2]
        if total < 2 * PER:
            continue
        t_first, d_first = points[0][0], points[0][1]
        t10, t90, t100 = (crossing(points, total * x / 10) for x in (1, 9, 10))
        if None in (t10, t90, t100) or total / 10 <= d_first:
            print(f"  {phase:<16} {total:7d} items: too few progress samples to measure tenths")
            continue
        first = (t10 - t_first) / (total / 10 - d_first) * PER
        last = (t100 - t90) / (total / 10) * PER
        print(f"  {phase:<16} {total:7d} items: first tenth {first:.2f} s / 10k items, last tenth "
              f"{last:.2f} s / 10k items, last/first {last / first:.3f} (goal <= 1.15)")


if __name__ == "__main__":
    main()
