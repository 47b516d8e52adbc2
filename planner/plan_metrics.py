"""Figures a county planner judges a plan by, computed from the plan's own tables.

``summary_blocks`` returns the summary.json blocks ``throughput_bound``, ``hub_waits`` and
``plan_quality``; the plan writer calls it with the tables it is about to write, and
``bench/plan_quality.py`` with the tables read back from a plan directory. Times may be ISO
8601 strings (as written) or datetimes.

- ``hub_waits``: each traveller's wait at the hub between the feeder's arrival (leg alight
  time) and the boarding of the trunk vehicle (coach or train carriage) of the next leg.
- ``plan_quality``: coach-days idle while someone of the county waits for a vehicle, part-filled
  coach trips and their empty seats, the gap to the throughput bound, coach departures against
  the departure bound.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from planner.solve.bounds import ThroughputBound, throughput_bound
from planner.solve.problem import ProblemData, worker_eligibility

# reasons a worker stays home that no vehicle could change (everything else: waiting for a vehicle)
NOT_WAITING = ("rejected_input", "job_not_confirmed", "no_recognised_health_proof", "health_proof_expired",
               "ready_after_needed_by", "ready_after_window", "group_member_ineligible", "no_road_to_village")


def _local(s: pd.Series) -> pd.Series:
    """Times (ISO strings with +08:00, or datetimes) as naive Asia/Shanghai datetimes."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    if pd.api.types.is_datetime64_dtype(s):
        return s
    t = pd.to_datetime(s.astype(str).where(s.astype(str) != "", None), utc=True, errors="coerce", format="ISO8601")
    return t.dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)


def hub_transfers(trips: pd.DataFrame, legs: pd.DataFrame) -> pd.DataFrame:
    """Every feeder -> trunk transfer: worker_id, place_id, trunk trip_id, wait_min."""
    mode = trips.drop_duplicates("trip_id").set_index("trip_id")["mode"]
    lg = legs.sort_values(["worker_id", "leg"], kind="stable").reset_index(drop=True)
    m = lg["trip_id"].map(mode).fillna("")
    nxt = lg.shift(-1)
    nm = m.shift(-1).fillna("")
    sel = ((nxt["worker_id"] == lg["worker_id"]) & (m == "feeder") & nm.isin(["coach", "train"])).to_numpy()
    wait = (_local(nxt["board_time"][sel]) - _local(lg["alight_time"][sel])).dt.total_seconds() / 60
    return pd.DataFrame({"worker_id": lg["worker_id"][sel].to_numpy(), "place_id": lg["alight_place_id"][sel].to_numpy(),
                         "trip_id": nxt["trip_id"][sel].to_numpy(), "wait_min": wait.to_numpy()})


def hub_wait_distribution(trips: pd.DataFrame, legs: pd.DataFrame, limit_min: int | None = None) -> dict:
    """Median, 90th percentile and maximum wait (minutes), and how many wait over 2 h, 4 h and the limit."""
    w = hub_transfers(trips, legs)["wait_min"].dropna().to_numpy(float)
    n = len(w)
    out = {"transfers": n,
           "median_min": round(float(np.median(w)), 1) if n else 0.0,
           "p90_min": round(float(np.percentile(w, 90)), 1) if n else 0.0,
           "max_min": round(float(w.max()), 1) if n else 0.0,
           "over_2h": int((w > 120).sum()), "over_4h": int((w > 240).sum()),
           "share_over_2h": round(float((w > 120).mean()), 4) if n else 0.0,
           "share_over_4h": round(float((w > 240).mean()), 4) if n else 0.0}
    if limit_min is not None:
        out["limit_min"] = int(limit_min)
        out["over_limit"] = int((w > limit_min).sum())
    return out


def _coach_days(p: ProblemData, trips: pd.DataFrame) -> pd.DataFrame:
    """Per county and window day: coaches (fleet), coaches with a trip touching that day."""
    coach_types = {t for t, m in p.vehicle_modes.items() if m == "coach"}
    fl = p.fleet[p.fleet["type_id"].astype(str).isin(coach_types)]
    fleet = fl.groupby(fl["county_code"].astype(str))["count"].sum()
    days = pd.DatetimeIndex([pd.Timestamp(d) for d in p.days])
    c = trips[trips["mode"] == "coach"]
    dep, arr = _local(c["depart"]).dt.normalize(), _local(c["arrive"]).dt.normalize()
    rows = []
    for county, k in fleet.items():
        sel = (c["home_county_code"].astype(str) == county).to_numpy()
        vid, a, b = c["vehicle_id"][sel].to_numpy(), dep[sel].to_numpy(), arr[sel].to_numpy()
        for d in days:
            on = len(set(vid[(a <= np.datetime64(d)) & (b >= np.datetime64(d))]))
            rows.append((county, d, int(k), on))
    return pd.DataFrame(rows, columns=["county_code", "day", "coaches", "on_road"])


def _waiting(p: ProblemData, workers: pd.DataFrame) -> pd.DataFrame:
    """Per county and window day: workers who end unassigned for want of a vehicle and could leave that day."""
    elig = worker_eligibility(p)
    pos = pd.Series(np.arange(len(p.workers)), index=p.workers["_row"].astype(int).to_numpy()) \
        if "_row" in p.workers.columns else pd.Series(dtype=int)
    un = workers[(workers["status"] == "unassigned") & ~workers["reason"].isin(NOT_WAITING)]
    at = un["source_row"].astype(int).map(pos).dropna().astype(int).to_numpy()
    last = len(p.days) - 1
    a = elig["earliest"].to_numpy()[at]
    b = np.minimum(np.minimum(elig["expiry"].to_numpy()[at], elig["needed"].to_numpy()[at]), last)
    county = p.workers["county_code"].astype(str).to_numpy()[at]
    rows = []
    for d in range(len(p.days)):
        m = (a <= d) & (d <= b)
        if m.any():
            for c, n in pd.Series(county[m]).value_counts().items():
                rows.append((c, pd.Timestamp(p.days[d]), int(n)))
    return pd.DataFrame(rows, columns=["county_code", "day", "waiting"])


def plan_quality(p: ProblemData, tables: Mapping[str, pd.DataFrame], bound: dict, lower_bound: Mapping) -> dict:
    """Coach-days idle while people wait, part-filled coach trips, gaps to the bounds."""
    trips, workers = tables["trips"], tables["workers"]
    cd = _coach_days(p, trips)
    wt = _waiting(p, workers)
    cd = cd.merge(wt, on=["county_code", "day"], how="left").fillna({"waiting": 0})
    cd["idle"] = (cd["coaches"] - cd["on_road"]).clip(lower=0)
    idle_waiting = cd[cd["waiting"] > 0]
    coach = trips[(trips["mode"] == "coach") & (trips["purpose"] == "passenger")]
    pax = pd.to_numeric(coach["passengers"]).to_numpy(float)
    allowed = pd.to_numeric(coach["seats_allowed"]).to_numpy(float)
    part = pax < allowed
    coach_days = int(cd["coaches"].sum())
    tot = bound.get("total", {})
    return {
        "coach_days": coach_days,
        "coach_days_on_road": int(cd["on_road"].sum()),
        "coach_days_on_road_share": round(float(cd["on_road"].sum() / coach_days), 4) if coach_days else 0.0,
        "coach_days_idle_while_waiting": int(idle_waiting["idle"].sum()),
        "county_days_with_idle_coach_and_waiting": int((idle_waiting["idle"] > 0).sum()),
        "coach_trips": int(len(coach)),
        "part_filled_coach_trips": int(part.sum()),
        "part_filled_mean_passengers": round(float(pax[part].mean()), 2) if part.any() else 0.0,
        "part_filled_mean_seats_allowed": round(float(allowed[part].mean()), 2) if part.any() else 0.0,
        "empty_seats": int((allowed - pax).clip(min=0).sum()),
        "throughput_gap": int(tot.get("gap", 0)),
        "throughput_gap_pct": float(tot.get("gap_pct", 0.0)),
        "coach_departures": int(lower_bound.get("coach_departures_planned", len(coach))),
        "coach_departure_bound": int(lower_bound.get("coach_departures", 0)),
        "departure_gap_pct": float(lower_bound.get("gap_pct", 0.0)),
    }


def summary_blocks(p: ProblemData, tables: Mapping[str, pd.DataFrame], lower_bound: Mapping,
                   bound: ThroughputBound | None = None) -> dict:
    """The summary.json blocks ``throughput_bound``, ``hub_waits`` and ``plan_quality`` of a plan.

    ``bound``: ``throughput_bound(p)`` when the caller has it (the solver computes it beside the
    county plans); else it is computed here.
    """
    workers = tables["workers"]
    planned = workers[workers["status"] == "planned"]
    by_county = planned["county_code"].astype(str).value_counts().to_dict()
    tb = (bound if bound is not None else throughput_bound(p)).as_dict(by_county)
    return {
        "throughput_bound": tb,
        "hub_waits": hub_wait_distribution(tables["trips"], tables["legs"], p.sc.hub.max_wait_min),
        "plan_quality": plan_quality(p, tables, tb, lower_bound),
    }
