"""Hub waits and plan quality figures from a plan's own tables."""

from __future__ import annotations

from planner.plan_metrics import hub_transfers, hub_wait_distribution
from tests.check_fixtures import build


def test_hub_waits_of_the_hand_built_plan():
    """Waits 106 min (x4, terminal), 68 min (x2) and 110 min (x2, station): median 106, max 110, none over 2 h."""
    fx = build()
    trips, legs = fx.raw["trips"], fx.raw["legs"].assign(leg=lambda d: d["leg"].astype(int))
    tr = hub_transfers(trips, legs)
    assert sorted(tr["wait_min"]) == [68, 68, 106, 106, 106, 106, 110, 110]
    assert set(tr.loc[tr["wait_min"] == 110, "trip_id"]) == {"T-S1-01"}
    d = hub_wait_distribution(trips, legs, limit_min=100)
    assert d["transfers"] == 8 and d["median_min"] == 106 and d["max_min"] == 110
    assert d["over_2h"] == 0 and d["share_over_4h"] == 0 and d["over_limit"] == 6
