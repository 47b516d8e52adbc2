"""Benchmark: one worker traced from a municipality-size legs table, whole plan vs the store's legs index.

Makes a synthetic plan directory (no solver: a shape like the municipality's,
``--workers`` people with a feeder leg village -> hub and a coach leg hub ->
factory, 40 hubs, 30 days; 2 legs a worker, so 350,000 workers give 700,000
legs), then times in separate processes:

1. ``whole``: read_plan + trace_worker (what ``planner trace --no-store`` does);
2. ``index``: building the store's legs index once (``ensure_index``);
3. ``store``: ``planner trace PLAN --worker W --db DB`` as a user runs it
   (process start and imports included), and the trace itself inside it.

Run: nice .venv/bin/python bench/trace_index.py --workers 350000 --out /tmp/trace-bench
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planner.plan_format import SUMMARY_FILE, REQUIRED_FILES, file_manifest, write_table  # noqa: E402

T0 = pd.Timestamp("2020-02-14T05:00:00", tz="Asia/Shanghai")


def make_plan(out: Path, n_workers: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    hubs = np.array([f"T{500100 + i}" for i in range(40)])
    w_hub = rng.integers(0, 40, n_workers)
    w_day = rng.integers(0, 30, n_workers)
    order = np.lexsort((w_day, w_hub))
    w_hub, w_day = w_hub[order], w_day[order]
    wid = np.array([f"W{i:07d}" for i in range(n_workers)])
    # feeders of 17 and coaches of 20, filled in (hub, day) order
    group = w_hub * 100 + w_day
    change = np.r_[True, group[1:] != group[:-1]]
    start = np.flatnonzero(change)
    pos = np.arange(n_workers) - np.repeat(start, np.diff(np.r_[start, n_workers]))
    gid = np.cumsum(change) - 1
    feeder_no = gid * 1000 + pos // 17
    coach_no = gid * 1000 + pos // 20
    f_ids, f_idx = np.unique(feeder_no, return_inverse=True)
    c_ids, c_idx = np.unique(coach_no, return_inverse=True)
    f_trip = np.array([f"F{i:07d}" for i in range(len(f_ids))])[f_idx]
    c_trip = np.array([f"C{i:07d}" for i in range(len(c_ids))])[c_idx]
    day0 = T0 + pd.to_timedelta(w_day, unit="D")
    f_dep = day0 + pd.to_timedelta((pos // 17) % 6 * 20, unit="min")
    f_arr = f_dep + pd.Timedelta(minutes=90)
    c_dep = day0 + pd.Timedelta(hours=4) + pd.to_timedelta((pos // 20) % 6 * 10, unit="min")
    c_arr = c_dep + pd.Timedelta(hours=20)
    village = np.array([f"5001{h:02d}{v:06d}" for h, v in zip(w_hub, rng.integers(0, 200, n_workers))])
    seat_f = np.array([f"{r + 1}{'AC'[c]}" for r, c in zip((pos % 17) // 2, (pos % 17) % 2)])
    seat_c = np.array([f"{r + 1}{'AC'[c]}" for r, c in zip((pos % 20) // 2, (pos % 20) % 2)])
    factory = np.array([f"F{i:04d}" for i in rng.integers(0, 300, n_workers)])
    legs = pd.DataFrame({
        "worker_id": np.r_[wid, wid], "leg": np.r_[np.ones(n_workers, int), np.full(n_workers, 2)],
        "trip_id": np.r_[f_trip, c_trip], "seat": np.r_[seat_f, seat_c],
        "board_place_id": np.r_[village, hubs[w_hub]], "board_time": np.r_[f_dep, c_dep],
        "alight_place_id": np.r_[hubs[w_hub], factory], "alight_time": np.r_[f_arr, c_arr],
    })
    legs["board_time"] = pd.to_datetime(legs["board_time"])
    legs["alight_time"] = pd.to_datetime(legs["alight_time"])
    g = legs.groupby("trip_id", sort=False)
    first = g.first()
    trips = pd.DataFrame({
        "trip_id": first.index, "mode": np.where(first.index.str.startswith("F"), "feeder", "coach"),
        "purpose": "passenger", "vehicle_type": "C45", "vehicle_id": "V-" + first.index,
        "home_county_code": "500101", "service_id": "", "occupancy_rule": "half_seats", "seats_rated": 45,
        "seats_allowed": 20, "origin_id": first["board_place_id"], "depart": first["board_time"],
        "destination_ids": first["alight_place_id"], "arrive": g["alight_time"].max(), "distance_km": 100.0,
        "drivers": 1, "passengers": g.size(), "leader_worker_id": "",
    }).reset_index(drop=True)
    stops_o = pd.DataFrame({"trip_id": trips["trip_id"], "seq": 1, "place_id": trips["origin_id"],
                            "place_kind": np.where(trips["mode"] == "feeder", "village", "hub"), "arrive": pd.NaT,
                            "depart": trips["depart"], "boarding": trips["passengers"], "alighting": 0,
                            "distance_km": 0.0})
    stops_d = pd.DataFrame({"trip_id": trips["trip_id"], "seq": 2, "place_id": trips["destination_ids"],
                            "place_kind": np.where(trips["mode"] == "feeder", "hub", "factory"),
                            "arrive": trips["arrive"], "depart": pd.NaT, "boarding": 0,
                            "alighting": trips["passengers"], "distance_km": 100.0})
    stops = pd.concat([stops_o, stops_d]).sort_values(["trip_id", "seq"])
    workers = pd.DataFrame({"source_row": np.arange(2, n_workers + 2), "worker_id": wid, "status": "planned",
                            "reason": "", "village_code": village, "township_code": [v[:9] for v in village],
                            "county_code": "500101", "factory_id": factory, "chain": "hub_coach",
                            "depart_day": day0.date, "planned_arrival": c_arr})
    for name, df in (("trips", trips), ("stops", stops), ("legs", legs), ("workers", workers)):
        write_table(out / f"{name}.csv", name, df)
    summary = {"scenario": {"name": "synthetic trace bench", "path": "", "checksum": ""},
               "files": file_manifest(out, REQUIRED_FILES), "format_version": 2}
    (out / SUMMARY_FILE).write_text(json.dumps(summary), encoding="utf-8")


def _child(mode: str, plan_dir: str, db: str, worker: str) -> None:
    t = time.perf_counter()
    if mode == "whole":
        from planner.documents.trace import trace_worker
        from planner.plan_format import read_plan

        frame = trace_worker(read_plan(Path(plan_dir)), worker)
    else:
        from planner.store.db import open_store
        from planner.store.legs_index import ensure_index

        ensure_index(open_store(db), Path(plan_dir))
        frame = None
    took = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"mode": mode, "s": round(took, 2), "peak_mb": round(rss), "rows": 0 if frame is None
                      else len(frame)}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=350_000)
    ap.add_argument("--out", default="/tmp/trace-bench")
    ap.add_argument("--child", nargs=4)
    args = ap.parse_args()
    if args.child:
        _child(*args.child)
        return
    out = Path(args.out)
    plan_dir, db = out / "plan", out / "store.sqlite"
    if not (plan_dir / SUMMARY_FILE).exists():
        t = time.perf_counter()
        make_plan(plan_dir, args.workers)
        print(f"synthetic plan: {args.workers:,} workers, {2 * args.workers:,} legs, {time.perf_counter() - t:.1f} s")
    worker = f"W{args.workers // 2:07d}"
    for mode in ("whole", "index"):
        res = subprocess.run([sys.executable, __file__, "--child", mode, str(plan_dir), str(db), worker],
                             capture_output=True, text=True, check=True)
        print(res.stdout.strip())
    planner = Path(sys.executable).with_name("planner")
    times = []
    for _ in range(5):
        t = time.perf_counter()
        res = subprocess.run([str(planner), "trace", str(plan_dir), "--worker", worker, "--db", str(db),
                              "--max-rows", "3"], capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - t)
    print(json.dumps({"mode": "store_cli_process", "median_s": round(sorted(times)[2], 2),
                      "runs_s": [round(x, 2) for x in times], "first_line": res.stdout.splitlines()[0]}))
    t = time.perf_counter()
    from planner.documents.trace import trace_worker_from
    from planner.store.db import open_store
    from planner.store.legs_index import ensure_index, trace_source

    s = open_store(str(db))
    inner = []
    for _ in range(5):
        t = time.perf_counter()
        pid = ensure_index(s, plan_dir)
        frame = trace_worker_from(trace_source(s, pid, worker_id=worker), worker)
        inner.append(time.perf_counter() - t)
    print(json.dumps({"mode": "store_in_process", "median_s": round(sorted(inner)[2], 3), "rows": len(frame),
                      "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}))


if __name__ == "__main__":
    main()
