"""Write a plan directory in the format of docs/plan-format.md.

Only plain records cross this boundary: the writer knows nothing of how the
solver found the plan, and the checker, documents and app read only what it
writes.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from planner.plan_metrics import summary_blocks
from planner.solve.solver import SolveResult
from planner.solve.problem import ProblemData

TRIP_COLUMNS = [
    "trip_id", "mode", "purpose", "vehicle_type", "vehicle_id", "home_county_code", "service_id",
    "occupancy_rule", "seats_rated", "seats_allowed", "origin_id", "depart", "destination_ids", "arrive",
    "distance_km", "drivers", "passengers", "leader_worker_id",
]
STOP_COLUMNS = ["trip_id", "seq", "place_id", "place_kind", "arrive", "depart", "boarding", "alighting", "distance_km"]
LEG_COLUMNS = ["worker_id", "leg", "trip_id", "seat", "board_place_id", "board_time", "alight_place_id", "alight_time"]
WORKER_COLUMNS = [
    "source_row", "worker_id", "status", "reason", "reason_detail", "village_code", "township_code",
    "county_code", "factory_id", "chain", "depart_day", "planned_arrival", "group_id",
]


def iso(t: datetime | None) -> str:
    """ISO 8601 with the +08:00 offset, or "" for no time."""
    return "" if t is None else t.isoformat(timespec="seconds")


def _iso_col(series: pd.Series) -> pd.Series:
    return series.map(lambda t: iso(t) if isinstance(t, datetime) else "")


def plan_tables(p: ProblemData, res: SolveResult, rejected_workers: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The plan's CSV tables as DataFrames (times already as ISO strings)."""
    parts = res.parts
    trips = pd.DataFrame(parts.trips, columns=TRIP_COLUMNS)
    trips["depart"] = _iso_col(trips["depart"])
    trips["arrive"] = _iso_col(trips["arrive"])
    stops = pd.DataFrame(parts.stops, columns=STOP_COLUMNS)
    stops["arrive"] = _iso_col(stops["arrive"])
    stops["depart"] = _iso_col(stops["depart"])
    w = p.workers
    wid = w["worker_id"].astype(str).to_numpy()
    legs = pd.DataFrame(
        parts.legs,
        columns=["pos", "leg", "trip_id", "seat", "board_place_id", "board_time", "alight_place_id", "alight_time"],
    )
    legs.insert(0, "worker_id", wid[legs["pos"].to_numpy(np.int64)] if len(legs) else [])
    legs["board_time"] = _iso_col(legs["board_time"])
    legs["alight_time"] = _iso_col(legs["alight_time"])
    legs = legs.sort_values(["pos", "leg"]).drop(columns="pos")[LEG_COLUMNS]
    # workers: accepted rows
    n = len(w)
    status = np.full(n, "unassigned", dtype=object)
    reason = res.reasons.to_numpy(dtype=object).copy()
    chain = np.full(n, "", dtype=object)
    depart_day = np.full(n, "", dtype=object)
    arrival = np.full(n, "", dtype=object)
    for pos, (ch, day, arr) in parts.outcome.items():
        status[pos] = "planned"
        reason[pos] = ""
        chain[pos] = ch
        depart_day[pos] = day.isoformat()
        arrival[pos] = iso(arr)
    for pos, why in parts.unplaced.items():
        if status[pos] != "planned":
            reason[pos] = why
    missing = (status == "unassigned") & (reason == "")
    reason[missing] = "no_vehicle_before_needed_by"
    gid = w["group_id"].fillna("").astype(str) if "group_id" in w.columns else pd.Series([""] * n)
    acc = pd.DataFrame(
        {
            "source_row": w["_row"].astype(int).to_numpy(),
            "worker_id": wid,
            "status": status,
            "reason": reason,
            "reason_detail": "",
            "village_code": w["village_code"].astype(str).to_numpy(),
            "township_code": w["township_code"].astype(str).to_numpy(),
            "county_code": w["county_code"].astype(str).to_numpy(),
            "factory_id": w["factory_id"].astype(str).to_numpy(),
            "chain": chain,
            "depart_day": depart_day,
            "planned_arrival": arrival,
            "group_id": gid.to_numpy(),
        }
    )
    rej = rejected_workers
    if rej is not None and len(rej):
        def col(name: str) -> np.ndarray:
            return rej[name].fillna("").astype(str).to_numpy() if name in rej.columns else np.full(len(rej), "")

        vill = col("village_code")
        rj = pd.DataFrame(
            {
                "source_row": rej["_row"].astype(int).to_numpy(),
                "worker_id": col("worker_id"),
                "status": "unassigned",
                "reason": "rejected_input",
                "reason_detail": col("reason"),
                "village_code": vill,
                "township_code": [v[:9] if len(v) == 12 and v.isdigit() else "" for v in vill],
                "county_code": [v[:6] if len(v) == 12 and v.isdigit() else "" for v in vill],
                "factory_id": col("factory_id"),
                "chain": "",
                "depart_day": "",
                "planned_arrival": "",
                "group_id": col("group_id"),
            }
        )
        acc = pd.concat([acc, rj], ignore_index=True)
    workers = acc.sort_values("source_row")[WORKER_COLUMNS]
    return {"trips": trips, "stops": stops, "legs": legs, "workers": workers}


def summary(p: ProblemData, res: SolveResult, tables: dict[str, pd.DataFrame], n_read: int,
            wall: dict[str, float]) -> dict:
    """summary.json contents."""
    trips, workers, legs = tables["trips"], tables["workers"], tables["legs"]
    sc = p.sc
    un = workers[workers["status"] == "unassigned"]
    pas = trips[trips["purpose"] == "passenger"]
    coach = pas[pas["mode"] == "coach"]
    direct_ids = set(
        tables["stops"].loc[(tables["stops"]["place_kind"] == "village") & (tables["stops"]["boarding"] > 0), "trip_id"]
    )
    km = trips.groupby(["mode", "purpose"])["distance_km"].sum()
    trunk = pas[pas["mode"].isin(["coach", "train"])]
    trunk_legs = legs[legs["trip_id"].isin(set(trunk["trip_id"]))]
    vil = workers.set_index("worker_id")["village_code"]
    vil = vil[~vil.index.duplicated()]
    per_vehicle = trunk_legs.assign(v=trunk_legs["worker_id"].map(vil)).groupby("trip_id")["v"].nunique()
    return {
        "scenario": {"name": sc.name, "path": str(sc.source_path), "checksum": sc.checksum},
        "workers": {
            "read": int(n_read),
            "rejected_input": int((workers["reason"] == "rejected_input").sum()),
            "eligible": int(len(workers) - un["reason"].isin(
                ["rejected_input", "job_not_confirmed", "no_recognised_health_proof", "health_proof_expired",
                 "ready_after_needed_by", "ready_after_window", "group_member_ineligible"]).sum()),
            "planned": int((workers["status"] == "planned").sum()),
            "unassigned": int(len(un)),
            "unassigned_by_reason": {str(k): int(v) for k, v in un["reason"].value_counts().sort_index().items()},
            "planned_by_chain": {str(k): int(v) for k, v in workers["chain"][workers["chain"] != ""].value_counts().sort_index().items()},
        },
        "departures": {
            "coach": int(len(coach)),
            "direct_coach": int(coach["trip_id"].isin(direct_ids).sum()),
            "hub_coach": int((~coach["trip_id"].isin(direct_ids)).sum()),
            "train_carriage": int((pas["mode"] == "train").sum()),
            "feeder": int((pas["mode"] == "feeder").sum()),
        },
        "vehicle_km": {
            "coach": round(float(km.get(("coach", "passenger"), 0.0)), 1),
            "coach_empty_return": round(float(km.get(("coach", "empty_return"), 0.0)), 1),
            "feeder": round(float(km.get(("feeder", "passenger"), 0.0)), 1),
        },
        "seats": {
            "used": int(trunk["passengers"].sum()),
            "allowed": int(trunk["seats_allowed"].sum()),
            "fill": round(float(trunk["passengers"].sum() / max(1, trunk["seats_allowed"].sum())), 4),
        },
        "mean_villages_per_vehicle": round(float(per_vehicle.mean()), 3) if len(per_vehicle) else 0.0,
        "lower_bound": res.lower_bound,
        **summary_blocks(p, tables, res.lower_bound),  # throughput_bound, hub_waits, plan_quality (planner.plan_metrics)
        "wall_time_s": {k: round(v, 2) for k, v in wall.items()},
    }


def write_plan(out: Path, p: ProblemData, res: SolveResult, rejected_workers: pd.DataFrame, n_read: int,
               wall: dict[str, float]) -> dict:
    """Write every file of the plan directory; return the summary."""
    out.mkdir(parents=True, exist_ok=True)
    tables = plan_tables(p, res, rejected_workers)
    for name, frame in tables.items():
        frame.to_csv(out / f"{name}.csv", index=False, encoding="utf-8")
    write_gpkg(out / "plan.gpkg", p, tables)
    summ = summary(p, res, tables, n_read, wall)
    (out / "summary.json").write_text(json.dumps(summ, ensure_ascii=False, indent=2), encoding="utf-8")
    return summ


def write_gpkg(path: Path, p: ProblemData, tables: dict[str, pd.DataFrame]) -> None:
    """Trips as lines through their stops and places as points, for maps."""
    import geopandas as gpd
    from shapely.geometry import LineString, Point

    stops = tables["stops"]
    xy: dict[str, tuple[float, float]] = {}
    names: dict[str, str] = {}
    for frame, key, name_col in (
        (p.villages, "village_code", "village_name"),
        (p.hubs, "hub_id", "name"),
        (p.factories, "factory_id", "name"),
        (p.stations, "station_id", "name"),
    ):
        if frame is None or not len(frame):
            continue
        ids = frame[key].astype(str).to_numpy()
        lon = frame["lon"].to_numpy(float)
        lat = frame["lat"].to_numpy(float)
        nm = frame[name_col].astype(str).to_numpy() if name_col in frame.columns else ids
        for i, pid in enumerate(ids):
            xy[pid] = (lon[i], lat[i])
            names[pid] = nm[i]
    real = stops[stops["place_kind"] != "rest"]
    lines = []
    for tid, g in real.groupby("trip_id", sort=False):
        pts = [xy[pid] for pid in g["place_id"] if pid in xy]
        if len(pts) >= 2:
            lines.append((tid, LineString(pts)))
    trips = tables["trips"].set_index("trip_id")
    if lines:
        ids, geoms = zip(*lines)
        tg = gpd.GeoDataFrame(trips.loc[list(ids)].reset_index(), geometry=list(geoms), crs="EPSG:4326")
        tg.to_file(path, layer="trips", driver="GPKG", engine="pyogrio")
    used = real.groupby(["place_id", "place_kind"], as_index=False)[["boarding", "alighting"]].sum()
    used = used[used["place_id"].isin(xy.keys())]
    pg = gpd.GeoDataFrame(
        used.assign(name=used["place_id"].map(names)),
        geometry=[Point(xy[pid]) for pid in used["place_id"]],
        crs="EPSG:4326",
    )
    pg.to_file(path, layer="places", driver="GPKG", engine="pyogrio")
