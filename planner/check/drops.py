"""Drops: the factories one coach serves are few and close together.

A coach may drop at most ``fleet.max_drop_factories`` (K) factories, and every two of them lie
within ``fleet.drop_radius_km`` (R) of each other, great-circle between the factories'
coordinates of the scenario (``planner.rules.geo.haversine_km``, the formula the solver's
destination areas use). Pairwise is the strongest reading valid for every plan the solver
makes (its areas gather factories within R/2 of a seed, so any two are at most R apart) and
the one a receiving province can verify: no two gates of one coach are farther than R apart.

Rules: too_many_drop_factories, drop_radius_exceeded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.check.context import CheckContext
from planner.check.fast import isin
from planner.check.plan_files import Plan
from planner.check.violations import concat, vf
from planner.rules.geo import haversine_km

RADIUS_TOLERANCE_KM = 0.01  # rounding of coordinates, not a margin


def drop_factories(plan: Plan) -> pd.DataFrame:
    """Distinct factory stops of each coach passenger trip: trip_id, place_id, in stop order."""
    tt = plan.trips.drop_duplicates("trip_id")
    ids = tt.loc[(tt["mode"] == "coach") & (tt["purpose"] == "passenger"), "trip_id"]
    st = plan.stops[isin(plan.stops["trip_id"], ids) & (plan.stops["place_kind"] == "factory")]
    return st.drop_duplicates(["trip_id", "place_id"])[["trip_id", "place_id"]].reset_index(drop=True)


def drops(plan: Plan, ctx: CheckContext) -> pd.DataFrame:
    """At most K drop factories a coach, every two within R km."""
    out = []
    fl = ctx.sc.fleet
    df = drop_factories(plan)
    if df.empty:
        return concat(out)
    n = df.groupby("trip_id")["place_id"].agg(["size", lambda x: "、".join(x)])
    n.columns = ["n", "names"]
    bad = n[n["n"] > fl.max_drop_factories]
    out.append(vf("too_many_drop_factories", "大巴停靠 " + bad["n"].astype(str) + " 个工厂（" + bad["names"]
                  + "），超过每车最多 " + str(fl.max_drop_factories) + " 个", trip=pd.Series(bad.index)))

    # every pair of drops of one trip within R (the few trips with two or more drops)
    df = df[isin(df["trip_id"], n.index[n["n"] >= 2])]
    if df.empty:
        return concat(out)
    known = isin(df["place_id"], ctx.factories.index)
    df = df[known]
    pairs = df.merge(df, on="trip_id", suffixes=("_a", "_b"))
    pairs = pairs[pairs["place_id_a"] < pairs["place_id_b"]]
    if pairs.empty:
        return concat(out)
    fa = ctx.factories.loc[pairs["place_id_a"]]
    fb = ctx.factories.loc[pairs["place_id_b"]]
    km = haversine_km(fa["lon"].to_numpy(float), fa["lat"].to_numpy(float),
                      fb["lon"].to_numpy(float), fb["lat"].to_numpy(float))
    pairs = pairs.assign(km=np.asarray(km, dtype=float))
    worst = pairs.sort_values(["trip_id", "km"], ascending=[True, False], kind="stable").drop_duplicates("trip_id")
    bad = worst[worst["km"] > fl.drop_radius_km + RADIUS_TOLERANCE_KM]
    out.append(vf("drop_radius_exceeded", "大巴停靠的工厂 " + bad["place_id_a"] + " 与 " + bad["place_id_b"] + " 相距 "
                  + bad["km"].round(1).astype(str) + " km，超过同车工厂间最大距离 "
                  + f"{fl.drop_radius_km:g} km", trip=bad["trip_id"]))
    return concat(out)
