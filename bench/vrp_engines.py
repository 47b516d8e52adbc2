"""Compare the routing engines on CVRPLIB instances: cost and gap to the best-known cost.

    .venv/bin/python bench/vrp_engines.py                        # every instance, 10 s and 60 s, 1 seed
    .venv/bin/python bench/vrp_engines.py --seconds 10 --seeds 2 --instances X-n101-k25 X-n439-k37

Instances are the ``.vrp`` files in ``bench/instances`` that have a row in ``best_known.csv``.
Runs are sequential: OR-Tools routing is not thread-parallel and parallel runs would steal
CPU from each other and distort the comparison. Prints a Markdown table and the mean gap per
engine and time limit.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from planner.routing import ENGINES, read_cvrplib, solve_vrp
from planner.routing.cvrplib import load_best_known

HERE = Path(__file__).resolve().parent / "instances"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seconds", type=float, nargs="+", default=[10.0, 60.0], help="time limits (default 10 60)")
    p.add_argument("--seeds", type=int, default=1, help="seeds per engine and time limit (1, 2, ...)")
    p.add_argument("--engines", nargs="+", default=list(ENGINES), choices=list(ENGINES))
    p.add_argument("--instances", nargs="+", help="instance names (default: all with a best-known cost)")
    p.add_argument("--dir", default=str(HERE), help="folder with the .vrp files and best_known.csv")
    args = p.parse_args(argv)

    folder = Path(args.dir)
    best = load_best_known(folder / "best_known.csv")
    names = args.instances or [n for n in best if (folder / f"{n}.vrp").is_file()]
    missing = [n for n in names if not (folder / f"{n}.vrp").is_file()]
    if missing:
        print(f"missing instance files: {', '.join(missing)}", file=sys.stderr)
        names = [n for n in names if n not in missing]

    gaps: dict[tuple[str, float], list[float]] = {}
    print("| instance | engine | seconds | seed | cost | best known | gap % | routes |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for name in names:
        problem = read_cvrplib(folder / f"{name}.vrp")
        bk = best.get(name)
        for secs in args.seconds:
            for engine in args.engines:
                for seed in range(1, args.seeds + 1):
                    sol = solve_vrp(problem, engine=engine, seconds=secs, seed=seed)
                    gap = 100 * (sol.cost - bk) / bk if bk and sol.feasible else float("nan")
                    if bk and sol.feasible:
                        gaps.setdefault((engine, secs), []).append(gap)
                    flag = "" if sol.feasible else " (infeasible)"
                    print(f"| {name} | {engine} | {secs:g} | {seed} | {sol.cost}{flag} | {bk or ''} | "
                          f"{gap:.2f} | {sol.num_routes} |", flush=True)
    print()
    print("| engine | seconds | runs | mean gap % |")
    print("|---|---:|---:|---:|")
    for (engine, secs), values in sorted(gaps.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        print(f"| {engine} | {secs:g} | {len(values)} | {statistics.fmean(values):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
