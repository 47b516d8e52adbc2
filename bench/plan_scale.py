"""Benchmark: plan a scenario end to end and report wall time, peak memory and plan quality.

Runs ``planner plan SCENARIO --out DIR`` as a separate process ``--runs`` times
(the checker included, as a user runs it), and prints one Markdown table row per
run plus the medians: wall seconds, peak resident memory of the process, workers
planned and unassigned, departures by mode, and the gap to the lower bound.

    python bench/plan_scale.py scenarios/demo-wanzhou.toml --runs 3
    python bench/plan_scale.py scenarios/chongqing-2020-02.toml --runs 1 --processes 2

The full-scale scenario generates its synthetic workers on first use; run it
once before timing so that generation is not counted (or count it on purpose).
Peak memory is the largest resident set of the planner's main process; with
``--processes 2`` the forked workers add their own (measure them with ``ps``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_once(scenario: Path, out: Path, processes: int) -> dict:
    """One end-to-end run in a child process; returns its measurements."""
    cmd = [sys.executable, "-m", "planner.cli", "plan", str(scenario), "--out", str(out),
           "--processes", str(processes)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    # peak RSS of the largest child so far (KiB on Linux): the runs repeat the same
    # work, so this is the peak of any one run
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stderr[-4000:])
        msg = f"planner plan failed with exit status {proc.returncode}"
        raise SystemExit(msg)
    summ = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    return {
        "wall_s": wall,
        "peak_mb": peak_kib / 1024,
        "checked_clean": proc.returncode == 0,
        "summary": summ,
    }


def row(m: dict) -> str:
    s = m["summary"]
    w, d, lb = s["workers"], s["departures"], s["lower_bound"]
    return (
        f"| {m['wall_s']:.0f} | {m['peak_mb']:,.0f} | {w['read']:,} | {w['planned']:,} | {w['unassigned']:,} "
        f"| {d['coach']:,} ({d['direct_coach']:,} direct) | {d['train_carriage']:,} | {d['feeder']:,} "
        f"| {lb['coach_departures']:,} | {lb['gap_pct']:.2f}% | {'yes' if m['checked_clean'] else 'NO'} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", type=Path)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--processes", type=int, default=1, help="worker processes for the county plans")
    args = ap.parse_args()
    print(f"{date.today()} · {platform.processor() or platform.machine()} · {os.cpu_count()} cores · "
          f"Python {platform.python_version()} · {args.scenario} · {args.processes} process(es)")
    print("| wall s | peak MB | read | planned | unassigned | coaches | carriages | feeder runs "
          "| coach LB | gap | checks clean |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    walls = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            m = run_once(args.scenario.resolve(), Path(tmp) / f"run{i}", args.processes)
            walls.append(m["wall_s"])
            print(row(m), flush=True)
            stages = m["summary"].get("wall_time_s", {})
            print("  stages (s): " + ", ".join(f"{k} {v}" for k, v in stages.items()), file=sys.stderr)
    print(f"median wall {statistics.median(walls):.1f} s over {len(walls)} run(s)")


if __name__ == "__main__":
    main()
