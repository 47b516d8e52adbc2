"""Coach travel against the travel model: no coach drives a stretch shorter or faster than the model.

A *stretch* of a coach trip (passenger trip or empty return) runs from one stop at a place
(village, hub, station, factory) to the next one, across any ``rest`` stops between them: its
km is the sum of the stops' ``distance_km`` and its driving minutes the sum of depart-to-arrive
times, the stands at the rest stops left out. The travel model of ``planner/travel.py`` (the
scenario's road tables where they cover both places, else great-circle km x the detour factor
of the coach's home county, at ``travel.coach_speed_kmh``) gives the least each stretch can be:

- km >= the model's ``TravelTimes.km`` between the two places, less max(1 %, 0.5 km) (the plan
  rounds each stop's km to 0.01 km and splits stretches at rest stops);
- minutes >= the model's ``TravelTimes.coach_minutes`` less 1 % (plan times are whole minutes:
  a planner rounds driving up, as ``planner.rules.route`` does); a stretch ending at a village
  (an in-county pick-up, which the solver times at the feeder speed) may take the lesser of the
  coach and feeder minutes. The tolerance is a share, not whole minutes, so that the least a
  route through many stops may take stays the straight stretch's (the bound relies on it).

It is what lets the throughput bound (``planner.solve.bounds``) time every coach trip by the
travel model instead of the great-circle km at the fastest speed.

Rules: coach_km_below_model, coach_faster_than_model.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.check.context import CheckContext
from planner.check.fast import isin
from planner.check.plan_files import Plan
from planner.check.violations import concat, hm, num, s, vf

KM_TOLERANCE_SHARE = 0.01  # 1 % of the model's km ...
KM_TOLERANCE_MIN = 0.5  # ... or 0.5 km, whichever is larger
#: a stretch may be up to 1 % faster than the model (the throughput bound scales the model by 1 - this)
MINUTES_TOLERANCE_SHARE = 0.01


def place_stretches(plan: Plan) -> pd.DataFrame:
    """Stretches of coach trips between consecutive stops at places (rest stops merged in).

    Columns: trip_id, county (the trip's home county), from_place, to_place, to_kind, a (depart
    of the first stop), b (arrive at the last), km (sum of distance_km), minutes (driving only).
    Stretches with a missing time or distance are left out (``stop_times`` and ``plan_format``
    report those).
    """
    cols = ["trip_id", "county", "from_place", "to_place", "to_kind", "a", "b", "km", "minutes"]
    tt = plan.trips.drop_duplicates("trip_id")
    coach = tt[tt["mode"] == "coach"]
    st = plan.stops[isin(plan.stops["trip_id"], coach["trip_id"])]
    if len(st) < 2:
        return pd.DataFrame(columns=cols)
    trip = st["trip_id"].to_numpy()
    kind = st["place_kind"].astype(str).to_numpy()
    place = st["place_id"].astype(str).to_numpy()
    dep = st["depart"].to_numpy()
    arr = st["arrive"].to_numpy()
    dist = pd.to_numeric(st["distance_km"], errors="coerce").to_numpy(dtype=float)
    is_place = kind != "rest"
    same = trip[1:] == trip[:-1]  # pair (i, i + 1) inside one trip
    # each stop at a place opens a stretch; the driving i -> i + 1 belongs to the one open at i
    seg = np.cumsum(is_place | np.r_[True, ~same]) - 1
    i = np.flatnonzero(same)
    drive = (arr[i + 1] - dep[i]) / np.timedelta64(1, "m")
    pairs = pd.DataFrame({"seg": seg[i], "km": dist[i + 1], "minutes": drive, "end": i + 1})
    agg = pairs.groupby("seg", sort=True).agg(km=("km", "sum"), minutes=("minutes", "sum"),
                                              n_km=("km", "count"), n_min=("minutes", "count"),
                                              n=("km", "size"), end=("end", "last"))
    first = np.searchsorted(seg, agg.index.to_numpy())  # the stop that opens each stretch
    end = agg["end"].to_numpy()
    ok = (is_place[first] & is_place[end] & (agg["n_km"] == agg["n"]).to_numpy()
          & (agg["n_min"] == agg["n"]).to_numpy())
    info = coach.set_index("trip_id")["home_county_code"].astype(str)
    out = pd.DataFrame({
        "trip_id": trip[first], "from_place": place[first], "to_place": place[end], "to_kind": kind[end],
        "a": dep[first], "b": arr[end], "km": agg["km"].to_numpy(), "minutes": agg["minutes"].to_numpy(),
    })[ok]
    out.insert(1, "county", out["trip_id"].map(info).fillna("").astype(str))
    return out.reset_index(drop=True)[cols]


def model_km_minutes(df: pd.DataFrame, ctx: CheckContext) -> tuple[np.ndarray, np.ndarray]:
    """Per stretch of ``df``: the travel model's km and the least minutes the rule accepts (NaN
    where a place is unknown to the scenario). Each distinct (from, to, county, village end) is
    asked once."""
    travel = ctx.travel
    to_village = (df["to_kind"] == "village").to_numpy()
    keys = pd.DataFrame({"a": df["from_place"], "b": df["to_place"], "c": df["county"], "v": to_village})
    codes, uniq = pd.factorize(pd.MultiIndex.from_frame(keys))
    km = np.full(len(uniq), np.nan)
    minutes = np.full(len(uniq), np.nan)
    for j, (a, b, c, v) in enumerate(uniq):
        if a not in travel.xy or b not in travel.xy:
            continue
        km[j] = travel.km(a, b, c)
        m = travel.coach_minutes(a, b, c)
        minutes[j] = min(m, travel.feeder_minutes(a, b, c)) if v else m
    return km[codes], minutes[codes]


def coach_travel(plan: Plan, ctx: CheckContext) -> pd.DataFrame:
    """Every coach stretch between two places is at least the travel model's km and minutes."""
    df = place_stretches(plan)
    if df.empty:
        return concat([])
    km, minutes = model_km_minutes(df, ctx)
    known = np.isfinite(km) & np.isfinite(minutes)
    short = known & (df["km"].to_numpy() < km - np.maximum(KM_TOLERANCE_SHARE * km, KM_TOLERANCE_MIN))
    least = minutes * (1.0 - MINUTES_TOLERANCE_SHARE)
    fast = known & (df["minutes"].to_numpy() < least - 1e-6)
    where = "从 " + s(df["from_place"]) + " 到 " + s(df["to_place"]) + "（" + hm(df["a"]) + "–" + hm(df["b"]) + "）"
    model_km = pd.Series(km, index=df.index)
    model_min = pd.Series(minutes, index=df.index)
    out = [
        vf("coach_km_below_model", where[short] + " 计划里程 " + num(df["km"][short], 1) + " km，少于出行模型的 "
           + num(model_km[short], 1) + " km（允许误差 1 % 或 0.5 km）", trip=df["trip_id"][short]),
        vf("coach_faster_than_model", where[fast] + " 行驶 " + num(df["minutes"][fast]) + " 分钟，少于出行模型的 "
           + num(model_min[fast], 1) + " 分钟（允许误差 1 %）", trip=df["trip_id"][fast]),
    ]
    return concat(out)
