"""Benchmark: the figures a county planner judges a plan by, for a scenario.

Plans the scenario (``--out DIR``, checker skipped: the quality figures, not the rules, are
measured here) or reads an existing plan directory (``--plan DIR``), then prints as Markdown:
workers planned against the throughput bound (per county and total), coach departures against
the departure bound, hub waits (median, p90, max, over 2 h and 4 h), coach-days on the road and
idle while people of the county wait, part-filled coach trips and their empty seats.

    python bench/plan_quality.py scenarios/demo-wanzhou.toml --out out/demo
    python bench/plan_quality.py scenarios/chongqing-2020-02.toml --plan out/full --counties 10

All figures are computed from the plan files and the scenario alone
(``planner.plan_metrics.summary_blocks``), the same function the plan writer calls for
summary.json; the time the bound takes is printed too.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from planner.loader import load_and_validate  # noqa: E402
from planner.plan_metrics import summary_blocks  # noqa: E402
from planner.solve.bounds import coach_departure_bound  # noqa: E402
from planner.solve.problem import build_problem  # noqa: E402


def read_tables(plan_dir: Path) -> dict[str, pd.DataFrame]:
    """trips, stops, legs, workers of a plan directory, as written (strings; numbers where needed)."""
    out = {n: pd.read_csv(plan_dir / f"{n}.csv", dtype=str, keep_default_na=False) for n in ("trips", "legs", "workers")}
    out["legs"]["leg"] = out["legs"]["leg"].astype(int)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", type=Path)
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--out", type=Path, help="plan the scenario into this directory first")
    g.add_argument("--plan", type=Path, help="read this existing plan directory")
    ap.add_argument("--processes", type=int, default=1)
    ap.add_argument("--counties", type=int, default=40, help="rows of the per-county table (largest gaps first)")
    args = ap.parse_args(argv)

    plan_dir = args.plan
    if args.out is not None:
        from planner.pipeline import run_plan

        t0 = time.perf_counter()
        run_plan(args.scenario, args.out, check=False, processes=args.processes)
        print(f"planned in {time.perf_counter() - t0:.1f} s (wall) -> {args.out}\n")
        plan_dir = args.out
    tables = read_tables(plan_dir)
    summary = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))
    sc, val = load_and_validate(args.scenario)
    p = build_problem(sc, val.tables)
    w = tables["workers"]
    coach = w[(w["status"] == "planned") & (w["chain"] != "train")]
    t0 = time.perf_counter()
    dep = coach_departure_bound(p, coach[["county_code", "factory_id"]])
    planned_coaches = int(((tables["trips"]["mode"] == "coach") & (tables["trips"]["purpose"] == "passenger")).sum())
    lb = {"coach_departures": dep["coach_departures"], "coach_departures_planned": planned_coaches,
          "gap_pct": round(100.0 * (planned_coaches - dep["coach_departures"]) / dep["coach_departures"], 2)
          if dep["coach_departures"] else 0.0}
    blocks = summary_blocks(p, tables, lb)
    bound_s = time.perf_counter() - t0
    from planner.solve.bounds import throughput_bound

    strict = throughput_bound(p, strict=True)

    tb, waits, q = blocks["throughput_bound"], blocks["hub_waits"], blocks["plan_quality"]
    t = tb["total"]
    print(f"## {sc.name}: plan quality ({plan_dir})\n")
    print("| figure | value |\n|---|---|")
    rows = [
        ("workers read / planned (summary.json)", f"{summary['workers']['read']:,} / {summary['workers']['planned']:,}"),
        ("throughput bound (total; trips timed by the travel model) / planned / gap", f"{t['bound']:,} / {t['planned']:,} / {t['gap']:,} ({t['gap_pct']} %)"),
        ("train seats usable", f"{t['train_seats_usable']:,}"),
        ("bound with the strict timing (great-circle km at the fastest speed) / gap",
         f"{strict.total:,} / {strict.total - t['planned']:,} "
         f"({100 * (strict.total - t['planned']) / max(1, strict.total):.2f} %)"),
        ("coach departures / departure bound", f"{q['coach_departures']:,} / {q['coach_departure_bound']:,} "
                                                f"({q['departure_gap_pct']} % over)"),
        ("hub transfers", f"{waits['transfers']:,}"),
        ("hub wait median / p90 / max (min)", f"{waits['median_min']} / {waits['p90_min']} / {waits['max_min']}"),
        ("hub waits over 2 h / over 4 h", f"{waits['over_2h']:,} ({100 * waits['share_over_2h']:.1f} %) / "
                                          f"{waits['over_4h']:,} ({100 * waits['share_over_4h']:.1f} %)"),
        ("coach-days / on the road", f"{q['coach_days']:,} / {q['coach_days_on_road']:,} "
                                     f"({100 * q['coach_days_on_road_share']:.1f} %)"),
        ("coach-days idle while someone of the county waits", f"{q['coach_days_idle_while_waiting']:,} "
                                                              f"(on {q['county_days_with_idle_coach_and_waiting']:,} county-days)"),
        ("coach trips / part-filled", f"{q['coach_trips']:,} / {q['part_filled_coach_trips']:,} (mean "
                                      f"{q['part_filled_mean_passengers']} of {q['part_filled_mean_seats_allowed']} allowed)"),
        ("empty seats on coach trips", f"{q['empty_seats']:,}"),
        ("bound + metrics computed in", f"{bound_s:.1f} s"),
    ]
    for k, v in rows:
        print(f"| {k} | {v} |")
    per = pd.DataFrame(tb["by_county"]).T.sort_values("gap", ascending=False).head(args.counties)
    print("\n| county | movable | bound | coach only | planned | gap | gap % | coaches | shortest cycle (days) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for c, b in per.iterrows():
        print(f"| {c} | {int(b['movable']):,} | {int(b['bound']):,} | {int(b['coach_only']):,} | {int(b['planned']):,} | "
              f"{int(b['gap']):,} | {b['gap_pct']} | {int(b['coaches'])} | {int(b['shortest_cycle_days'])} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
