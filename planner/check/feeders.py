"""Feeder routes: the shape, the driving times between stops and the length of each run.

Rules: feeder_route_shape, feeder_too_fast, feeder_run_too_long. Capacity (over_capacity),
each rider's ride (feeder_ride_too_long), boarding only at stops of the run
(leg_time_mismatch) and arriving the transfer time before the trunk departure
(transfer_too_short) are checked with the other legs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.check.context import CheckContext
from planner.check.fast import isin
from planner.check.plan_files import Plan
from planner.check.violations import concat, hm, num, s, vf


def feeders(plan: Plan, ctx: CheckContext) -> pd.DataFrame:
    """Feeder runs: villages of the bus's county then one hub; stops no faster than the roads; run length."""
    out = []
    tt = plan.trips.drop_duplicates("trip_id")
    fd = tt[(tt["mode"] == "feeder") & (tt["purpose"] == "passenger")].set_index("trip_id")
    if fd.empty:
        return concat(out)
    st = plan.stops[isin(plan.stops["trip_id"], fd.index)].sort_values(["trip_id", "seq"], kind="stable")
    last = st.groupby("trip_id")["seq"].transform("max") == st["seq"]
    home = st["trip_id"].map(fd["home_county_code"])

    # shape: villages of the home county, then exactly one hub (terminal or station) at the end
    bad = ~last & (st["place_kind"] != "village")
    out.append(vf("feeder_route_shape", "接驳车在第 " + s(st["seq"][bad]) + " 站停靠 " + s(st["place_id"][bad]) + "（"
                  + s(st["place_kind"][bad]) + "），接驳车只在村上车，最后一站到枢纽", trip=st["trip_id"][bad]))
    bad = last & (st["place_kind"] != "hub")
    out.append(vf("feeder_route_shape", "接驳车终点 " + s(st["place_id"][bad]) + " 是 " + s(st["place_kind"][bad])
                  + "，应为枢纽或火车站", trip=st["trip_id"][bad]))
    vill_county = ctx.place_county(st["place_id"])
    bad = ~last & (st["place_kind"] == "village") & (vill_county.to_numpy() != home.to_numpy())
    out.append(vf("feeder_route_shape", "接驳车（车籍 " + s(home[bad]) + "）到外区县的村 " + s(st["place_id"][bad]) + " 接人",
                  trip=st["trip_id"][bad]))

    # driving between consecutive stops takes at least the road time (1 min tolerance)
    nxt = st.shift(-1)
    same = (nxt["trip_id"] == st["trip_id"]).to_numpy()
    a, b = st[same], nxt[same]
    b = b.set_axis(a.index)
    have = (b["arrive"] - a["depart"]).dt.total_seconds() / 60
    need = pd.Series(ctx.travel.feeder_minutes_many(a["place_id"].astype(str), b["place_id"].astype(str),
                                                    home[same].astype(str)), index=a.index)
    bad = need.notna() & np.isfinite(need) & (have < need - 1)
    out.append(vf("feeder_too_fast", hm(a["depart"][bad]) + " 从 " + s(a["place_id"][bad]) + " 到 "
                  + s(b["place_id"][bad]) + " 只用 " + num(have[bad]) + " 分钟，路上至少需 "
                  + num(need[bad]) + " 分钟", trip=a["trip_id"][bad]))

    # a run lasts from leaving the first village to the hub at most the ride limit
    first_dep = st.groupby("trip_id")["depart"].first()
    end_arr = st[last].set_index("trip_id")["arrive"]
    run_h = ((end_arr - first_dep.reindex(end_arr.index)).dt.total_seconds() / 3600).dropna()
    limit = ctx.sc.feeders.max_ride_h
    bad = run_h > limit + 1 / 60
    out.append(vf("feeder_run_too_long", "接驳车从第一个村到枢纽 " + num(run_h[bad], 2) + " 小时，超过 "
                  + f"{limit:g} 小时", trip=pd.Series(run_h.index[bad])))
    return concat(out)
