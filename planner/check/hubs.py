"""Hubs: people boarding at each hub per calendar day stay within its daily capacity.

Rule: hub_capacity.
"""

from __future__ import annotations

import pandas as pd

from planner.check.context import CheckContext
from planner.check.fast import isin
from planner.check.plan_files import Plan
from planner.check.violations import concat, vf


def hubs(plan: Plan, ctx: CheckContext) -> pd.DataFrame:
    """Boardings at a hub (coach, train and any other vehicle) per day <= daily_capacity_people."""
    legs = plan.legs
    at_hub = legs[isin(legs["board_place_id"], ctx.hubs.index)]
    if at_hub.empty:
        return concat([])
    per = at_hub.groupby([at_hub["board_place_id"], at_hub["board_time"].dt.normalize()]).size()
    cap = per.index.get_level_values(0).map(ctx.hubs["daily_capacity_people"]).astype(int)
    bad = per.to_numpy() > cap.to_numpy()
    idx = per.index[bad]
    hub = pd.Series(idx.get_level_values(0))
    d = pd.Series(idx.get_level_values(1)).dt.strftime("%Y-%m-%d")
    return vf("hub_capacity", "枢纽 " + hub + " 在 " + d + " 上车 " + pd.Series(per[bad].to_numpy()).astype(str)
              + " 人，超过日容量 " + pd.Series(cap[bad]).astype(str) + " 人")
