"""Benchmark: replan the demo after a day of changes, published trips locked.

1. ``base``: the demo planned (or ``--base PLAN``, a plan of the same scenario), published through
   ``--lock`` (default the third day);
2. today's data: ``--cancel`` workers cancelled, ``--new`` new registrations (copies of other
   workers' village, factory and dates, with new ids, ID numbers and phones), ``--no-shows``
   people recorded absent on published trips (in the store), one coach removed from the fleet in each of
   ``--remove-coaches`` counties (spread over the counties in code order); the cancellations and new
   registrations are drawn from all workers, so they spread over every county of the scenario;
3. ``planner replan [--mode repair|fresh]`` run ``--runs`` times, each in its own process into a new folder, timed
   (wall and CPU seconds of the process, and the solver's own ``solve_total`` from summary.json);
   the timed runs use ``--no-check`` and ``planner check`` runs once, apart, on the first result, unless
   ``--with-check`` (the replan as a user runs it, its checker included; ``--processes N`` passed on).

A scenario with a ``[synth]`` section (the full municipality) works too: today's copy names the
generated tables of its cache folder in ``[data]`` (today's workers and fleet replacing two of them).

Run: nice -n 5 .venv/bin/python bench/replan.py --work /tmp/replan-bench [--base /tmp/demo]
Full municipality (base planned beforehand; 10,000 changes)::

    nice -n 10 .venv/bin/python bench/replan.py --work /tmp/replan-full --runs 1 \
        --scenario scenarios/chongqing-2020-02.toml --base /work/exp/full-base \
        --cancel 4000 --new 4000 --no-shows 2000 --remove-coaches 10
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planner.idcard import id_check_char  # noqa: E402

PLANNER = [sys.executable, "-m", "planner.cli"]


def absolute_scenario(src: Path, dst: Path, replace: dict[str, Path]) -> Path:
    """A copy of scenario ``src`` at ``dst`` with every data path absolute (and some replaced).

    The tables a ``[synth]`` section generates are named in ``[data]`` from its cache folder
    (``replace`` taking precedence), so the copy reads exactly the base plan's generated data.
    """
    from planner.scenario import SYNTH_TABLES, load_scenario

    text = src.read_text(encoding="utf-8")

    def fix(m: re.Match) -> str:
        key, rel = m.group(1), m.group(2)
        path = replace.get(key) or (src.parent / rel).resolve()
        return f'{key} = "{path}"'

    text = re.sub(r'^(\w+) = "([^"]+\.(?:csv|gpkg|geojson|parquet|xlsx))"', fix, text, flags=re.M)
    sc = load_scenario(src)
    if sc.synth is not None:
        text = re.sub(r'^(cache_dir|geodata_dir) = "([^"]+)"',
                      lambda m: f'{m.group(1)} = "{(src.parent / m.group(2)).resolve()}"', text, flags=re.M)
        extra = []
        for name in SYNTH_TABLES:
            path = replace.get(name) or sc.synth_dir() / f"{name}.csv"
            if getattr(sc.data, name) is None and Path(path).exists():
                extra.append(f'{name} = "{path}"')
        text = text.replace("[data]\n", "[data]\n" + "".join(f"{e}\n" for e in extra), 1)
    dst.write_text(text, encoding="utf-8")
    return dst


def table_path(src: Path, name: str) -> Path:
    """Absolute path of data table ``name`` of scenario ``src`` (from its ``[synth]`` cache if generated)."""
    from planner.scenario import load_scenario

    return Path(load_scenario(src).file_specs()[name].path)


def run(cmd: list[str]) -> tuple[float, float, str]:
    """Wall and CPU seconds (the child's user + sys) and the output of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if p.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr[-3000:]}")
    return wall, cpu, p.stdout + "\n" + p.stderr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "demo-wanzhou.toml"))
    ap.add_argument("--work", required=True)
    ap.add_argument("--base", help="an existing plan of the scenario (else planned here)")
    ap.add_argument("--lock", default="2020-02-16")
    ap.add_argument("--cancel", type=int, default=475)
    ap.add_argument("--new", type=int, default=475)
    ap.add_argument("--no-shows", type=int, default=50)
    ap.add_argument("--remove-coaches", type=int, default=1,
                    help="counties that lose one coach each (spread over the counties in code order)")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seed", type=int, default=14)
    ap.add_argument("--mode", choices=("repair", "fresh"), default="repair", help="planner replan --mode")
    ap.add_argument("--processes", type=int, default=None, help="planner replan --processes")
    ap.add_argument("--with-check", action="store_true",
                    help="time the replan as a user runs it, its checker included (default: --no-check, "
                         "the checker once apart)")
    a = ap.parse_args()
    work = Path(a.work)
    if work.exists():
        shutil.rmtree(work)
    (work / "ops").mkdir(parents=True)
    src = Path(a.scenario).resolve()
    day1 = work / "ops" / "day1"
    sc1 = absolute_scenario(src, work / "day1.toml", {})
    if a.base:
        shutil.copytree(a.base, day1)
        print(f"base: copied {a.base}")
    else:
        wall, cpu, _ = run([*PLANNER, "plan", str(sc1), "--out", str(day1), "--no-check"])
        print(f"base plan: {wall:.1f} s wall, {cpu:.1f} s CPU")
    run([*PLANNER, "publish", str(day1), "--through", a.lock])
    rng = np.random.default_rng(a.seed)
    legs = pd.read_csv(day1 / "legs.csv", dtype=str, keep_default_na=False)
    trips = pd.read_csv(day1 / "trips.csv", dtype=str, keep_default_na=False)
    pub = set(trips.loc[trips["depart"].str[:10] <= a.lock, "trip_id"])
    first_pub = legs[legs["trip_id"].isin(pub)].sort_values(["worker_id", "leg"]).drop_duplicates("worker_id")
    # no-shows: absent at their first published leg (recorded in the store)
    from planner.plan_format import read_plan
    from planner.store.boarding import BoardingInput, PlanSeats, record_boarding
    from planner.store.cli_support import store_for

    plan = read_plan(day1)
    store = store_for(None, day1)
    seats = PlanSeats.load(store, plan.plan_id, plan.trips["trip_id"].astype(str))
    shows = first_pub.iloc[rng.choice(len(first_pub), size=min(a.no_shows, len(first_pub)), replace=False)]
    res = record_boarding(store, seats, [BoardingInput(r.trip_id, r.worker_id, "absent") for r in shows.itertuples()],
                          by="bench", fever_threshold_c=37.3, source="cli")
    assert not res.problems, res.problems[:3]
    # today's register: cancellations (not among the no-shows), new registrations
    wpath, fpath = table_path(src, "workers"), table_path(src, "fleet")
    w = pd.read_csv(wpath, dtype=str, keep_default_na=False)
    keep_out = set(shows["worker_id"])
    cand = np.flatnonzero(~w["worker_id"].isin(keep_out).to_numpy() & (w["group_id"] == "").to_numpy())
    gone = w.iloc[rng.choice(cand, size=a.cancel, replace=False)]
    w2 = w[~w["worker_id"].isin(set(gone["worker_id"]))]
    singles = w2[w2["group_id"] == ""]
    new = singles.iloc[rng.choice(len(singles), size=a.new, replace=False)].copy()
    county = new["village_code"].str[:6].to_numpy()
    new["worker_id"] = [f"W9{i:06d}" for i in range(a.new)]
    birth = [pd.Timestamp("1985-01-01") + pd.Timedelta(days=i // 99) for i in range(a.new)]  # unique per county
    ids = [f"{c}{b:%Y%m%d}{800 + i % 99:03d}" for i, (c, b) in enumerate(zip(county, birth))]
    new["id_number"] = [s + id_check_char(s) for s in ids]
    new["phone"] = [f"177{i:08d}" for i in range(a.new)]
    new["ready_date"] = pd.Timestamp(a.lock).date().isoformat()
    today = pd.concat([w2, new], ignore_index=True)
    today.to_csv(work / "workers.csv", index=False, encoding="utf-8")
    fleet = pd.read_csv(fpath, dtype=str, keep_default_na=False)
    coach_rows = fleet[fleet["type_id"].str.startswith("C") & (fleet["count"].astype(int) > 0)]
    first = coach_rows.drop_duplicates("county_code").sort_values("county_code", kind="stable")
    k = max(1, min(a.remove_coaches, len(first)))
    picked = first.iloc[np.linspace(0, len(first) - 1, k).round().astype(int)] if k > 1 else first.iloc[:1]
    for coach in picked.index:
        fleet.loc[coach, "count"] = str(int(fleet.loc[coach, "count"]) - 1)
    fleet.to_csv(work / "fleet.csv", index=False, encoding="utf-8")
    sc2 = absolute_scenario(src, work / "today.toml", {"workers": work / "workers.csv", "fleet": work / "fleet.csv"})
    # the scenario's name must match the base plan's: the file differs (absolute paths), the operation not
    removed = ", ".join(f"{r.county_code} {r.type_id}" for r in fleet.loc[picked.index].itertuples())
    per_county = pd.concat([gone["village_code"], new["village_code"]]).str[:6].value_counts()
    print(f"changes: {a.cancel} cancelled, {a.new} new, {len(shows)} no-shows, one coach removed in "
          f"{len(picked)} counties ({removed}); lock {a.lock} ({len(pub)} published trips); "
          f"cancelled + new over {len(per_county)} counties ({per_county.min()}-{per_county.max()} each)")
    walls, cpus, solves = [], [], []
    for k in range(a.runs):
        out = work / "ops" / f"day2-{k}"
        args = [*PLANNER, "replan", str(sc2), "--base", str(day1), "--out", str(out), "--mode", a.mode]
        if a.processes:
            args += ["--processes", str(a.processes)]
        wall, cpu, log = run(args if a.with_check else [*args, "--no-check"])
        summ = json.loads((out / "summary.json").read_text(encoding="utf-8"))
        solve = summ["wall_time_s"].get("solve_total", float("nan"))
        if k == 0:
            print(log.split("\n读取并检查数据")[0][-1500:])
            ch = pd.read_csv(out / "changes.csv", dtype=str)
            print("changes.csv:", ch["change"].value_counts().to_dict())
            if a.with_check:
                print("checker (in the run):", "clean" if "校验通过" in log else log[-1500:])
            else:
                cw, cc, clog = run([*PLANNER, "check", str(out), "--scenario", str(sc2)])
                print(f"checker (apart): {cw:.1f} s wall, {cc:.1f} s CPU:\n"
                      f"{clog.split(chr(10) + chr(10))[0].strip()[-400:]}")
        walls.append(wall)
        cpus.append(cpu)
        solves.append(solve)
        stages = ", ".join(f"{key} {v:.1f}" for key, v in summ["wall_time_s"].items())
        print(f"run {k}: {wall:.1f} s wall, {cpu:.1f} s CPU (process), solve_total {solve} s; stages: {stages}")
    print(f"median: {statistics.median(walls):.1f} s wall, {statistics.median(cpus):.1f} s CPU, "
          f"solve_total {statistics.median(solves):.1f} s")


if __name__ == "__main__":
    main()
