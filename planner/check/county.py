"""County: no pick-ups en route, and pick-ups only in the vehicle's home county.

Rules: pickup_en_route, pickup_outside_county.
"""

from __future__ import annotations

import pandas as pd

from planner.check.context import CheckContext
from planner.check.plan_files import Plan
from planner.check.violations import concat, s, vf


def county(plan: Plan, ctx: CheckContext) -> pd.DataFrame:
    """Boarding only before the first alighting or the first rest with people aboard, and only at home-county places (road vehicles)."""
    out = []
    st = plan.stops
    tt = plan.trips.drop_duplicates("trip_id").set_index("trip_id")
    mode = st["trip_id"].map(tt["mode"])
    # people on board while standing at each stop (boarded before it, not yet alighted);
    # a rest with nobody aboard (the empty run to the first pick-up) does not start the journey
    net = (st["boarding"] - st["alighting"]).groupby(st["trip_id"], sort=False).cumsum()
    aboard = net - st["boarding"] + st["alighting"]
    stop_event = ((st["alighting"] > 0) | ((st["place_kind"] == "rest") & (aboard > 0))).astype(int)
    seen = stop_event.groupby(st["trip_id"], sort=False).cumsum() - stop_event  # events strictly before this stop
    boards = st["boarding"] > 0
    en_route = boards & ((seen > 0) | (st["alighting"] > 0) | st["place_kind"].isin(["factory", "station", "rest"]))
    out.append(vf("pickup_en_route", "第 " + s(st["seq"][en_route]) + " 站 " + s(st["place_id"][en_route]) + " 上客 "
                  + s(st["boarding"][en_route]) + " 人，但车辆此前已下客或停靠服务区（途中不得上客）",
                  trip=st["trip_id"][en_route]))
    road = boards & mode.isin(["coach", "feeder"])
    home = st["trip_id"].map(tt["home_county_code"]).fillna("")
    where = ctx.place_county(st["place_id"])
    bad = road & (where != home)
    out.append(vf("pickup_outside_county", "在 " + s(st["place_id"][bad]) + "（区县 " + s(where[bad]) + "）上客，车籍为 "
                  + s(home[bad]), trip=st["trip_id"][bad]))
    return concat(out)
