"""Waits at the hub: between a feeder's arrival and the trunk vehicle's departure.

A closed-loop charter avoids gathering people in a waiting hall, so each traveller's wait at
the hub, from alighting from the feeder to boarding the coach or the train carriage, is at
most ``hub.max_wait_min`` (the lower limit, ``hub.transfer_min``, is ``transfer_too_short``).

Rule: hub_wait_too_long.
"""

from __future__ import annotations

import pandas as pd

from planner.check.context import CheckContext
from planner.check.plan_files import Plan
from planner.check.violations import concat, hm, num, s, vf


def hub_transfers(plan: Plan) -> pd.DataFrame:
    """Each feeder -> trunk transfer: worker_id, place_id, trip_id (trunk), arrive, depart, wait_min."""
    tt = plan.trips.drop_duplicates("trip_id").set_index("trip_id")
    legs = plan.legs
    mode = legs["trip_id"].map(tt["mode"]).fillna("")
    nxt = legs.shift(-1)
    nmode = mode.shift(-1).fillna("")
    m = ((nxt["worker_id"] == legs["worker_id"]) & (mode == "feeder") & nmode.isin(["coach", "train"])).to_numpy()
    a, b = legs[m], nxt[m]
    out = pd.DataFrame({"worker_id": a["worker_id"].to_numpy(), "place_id": a["alight_place_id"].to_numpy(),
                        "trip_id": b["trip_id"].to_numpy(), "arrive": a["alight_time"].to_numpy(),
                        "depart": b["board_time"].to_numpy()})
    out["wait_min"] = (out["depart"] - out["arrive"]).dt.total_seconds() / 60
    return out


def waits(plan: Plan, ctx: CheckContext) -> pd.DataFrame:
    """Every feeder -> trunk wait at the hub <= hub.max_wait_min."""
    limit = ctx.sc.hub.max_wait_min
    tr = hub_transfers(plan)
    bad = tr[tr["wait_min"] > limit]
    if bad.empty:
        return concat([])
    return vf("hub_wait_too_long", hm(bad["arrive"]) + " 乘接驳车到 "
              + s(bad["place_id"]) + "，" + hm(bad["depart"]) + " 才上车，在枢纽等候 " + num(bad["wait_min"])
              + " 分钟，超过 " + str(limit) + " 分钟", trip=bad["trip_id"], worker=bad["worker_id"])
