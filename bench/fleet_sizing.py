"""Benchmark: ``planner size-fleet`` on a scenario, wall and CPU time, and what the answer was.

    nice -n 5 python bench/fleet_sizing.py scenarios/demo-wanzhou.toml --out /tmp/size \\
        --vehicle feeder --target 0.95 --processes 2

Prints a Markdown block for bench/RESULTS.md: the command, the machine load, wall seconds, CPU
seconds of this process and of its probe processes, the probes, and per county the answer
(extra vehicles, workers moved, target, reachable, bounds, checker).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from planner.fleet_sizing import VEHICLES, size_fleet  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenario")
    ap.add_argument("--out", required=True)
    ap.add_argument("--target", default="all")
    ap.add_argument("--vehicle", choices=VEHICLES, default="coach")
    ap.add_argument("--county", action="append")
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--tolerance", type=int, default=1)
    ap.add_argument("--gain-tolerance", type=int, default=0)
    ap.add_argument("--base-plan")
    ap.add_argument("--scheduler", help="dask scheduler address: each county group is a task there")
    a = ap.parse_args()
    target = a.target if a.target == "all" else float(a.target)
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    res = size_fleet(a.scenario, a.out, target=target, counties=a.county, vehicle=a.vehicle,
                     processes=a.processes, tolerance=a.tolerance, gain_tolerance=a.gain_tolerance,
                     base_plan=a.base_plan, scheduler=a.scheduler,
                     progress=lambda m: print(f"  … {m}", file=sys.stderr, flush=True))
    wall = time.perf_counter() - t0
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_me, cpu_kids = me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime
    print(f"command: python bench/fleet_sizing.py {a.scenario} --out {a.out} --vehicle {a.vehicle} "
          f"--target {a.target} --processes {a.processes} --tolerance {a.tolerance}"
          + (f" --gain-tolerance {a.gain_tolerance}" if a.gain_tolerance else "")
          + (f" --base-plan {a.base_plan}" if a.base_plan else "")
          + (f" --county {' --county '.join(a.county)}" if a.county else "")
          + (f" --scheduler {a.scheduler}" if a.scheduler else ""))
    print(f"load average at start {load0:.1f}, at end {os.getloadavg()[0]:.1f} (2 cores)")
    print(f"wall {wall:.0f} s; CPU {cpu_me + cpu_kids:.0f} s (main {cpu_me:.0f} s, probe processes {cpu_kids:.0f} s)")
    print()
    print("| county | extra coaches | extra feeders | moved | target | reachable | LP / simple bound | probes | checker |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for c in res.counties:
        ec, ef = c.extra(c.answer, res.vehicle) if c.answer is not None else ("–", "–")
        moved = next((p.moved for p in c.probes if (p.extra_coaches, p.extra_feeders) == (ec, ef)),
                     max((p.moved for p in c.probes), default=0))
        print(f"| {c.county} | {ec} | {ef} | {moved:,} | {c.target:,} | {c.reachable:,} | {c.lp_extra} / {c.simple_extra} "
              f"| {len(c.probes)} | {c.checked} |")
    print()
    print("probes: " + "; ".join(f"{p.county} +{p.extra_coaches}/+{p.extra_feeders} -> {p.moved:,} ({p.cpu_s:.0f} s CPU)"
                                 for c in res.counties for p in c.probes))
    for c in res.counties:
        if c.note:
            print(f"{c.county}: {c.note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
