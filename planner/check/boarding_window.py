"""Boarding window: charter coaches take on passengers only in the daytime.

A hub charter leaves from ``fleet.coach_depart_time`` (08:00) and a township-direct coach makes
its first pick-up from ``fleet.direct_first_pickup_time`` (07:00); no charter leaves after
``fleet.latest_coach_depart_time`` (18:00). So every stop of a passenger coach trip where people
board is left (its ``depart``) inside [the earlier of the two first times, the latest departure]
on the local clock. The rule is what makes a coach's return cycle a whole number of days, which
the throughput bound uses (``planner.solve.bounds``).

Rule: coach_boarding_outside_window.
"""

from __future__ import annotations

import pandas as pd

from planner.check.context import CheckContext
from planner.check.fast import isin
from planner.check.plan_files import Plan
from planner.check.violations import concat, hm, s, vf


def boarding_window(plan: Plan, ctx: CheckContext) -> pd.DataFrame:
    """Every boarding stop of a passenger coach trip is left within the daily boarding window."""
    out = []
    tt = plan.trips.drop_duplicates("trip_id")
    ids = tt.loc[(tt["mode"] == "coach") & (tt["purpose"] == "passenger"), "trip_id"]
    st = plan.stops[isin(plan.stops["trip_id"], ids)]
    boards = pd.to_numeric(st["boarding"], errors="coerce").fillna(0) > 0
    st = st[boards & st["depart"].notna()]
    if st.empty:
        return concat(out)
    lo, hi = ctx.sc.fleet.boarding_window_minutes()
    tod = st["depart"].dt.hour * 60 + st["depart"].dt.minute + (st["depart"].dt.second > 0)
    bad = st[(tod < lo) | (tod > hi)]
    out.append(vf("coach_boarding_outside_window", "大巴在 " + s(bad["place_id"]) + " " + hm(bad["depart"])
                  + " 上客发车，不在每日上客时段 " + f"{lo // 60:02d}:{lo % 60:02d}-{hi // 60:02d}:{hi % 60:02d}"
                  + " 内", trip=bad["trip_id"]))
    return concat(out)
