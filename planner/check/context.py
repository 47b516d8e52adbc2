"""What the checker knows about the scenario: places, vehicle layouts, risk levels.

Built from the validated scenario tables only; shares nothing with the solver.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd

from planner.rules.seats import SeatLayout
from planner.scenario import Scenario

LEVELS = ("low", "medium", "high", "closed")


@dataclass
class CheckContext:
    """Scenario facts the rules look up."""

    sc: Scenario
    tables: dict[str, pd.DataFrame]
    rejected_rows: set[int]
    layouts: dict[str, SeatLayout] = field(default_factory=dict)
    modes: dict[str, str] = field(default_factory=dict)
    place_county: dict[str, str] = field(default_factory=dict)
    place_xy: dict[str, tuple[float, float]] = field(default_factory=dict)
    hub_capacity: dict[str, int] = field(default_factory=dict)
    _risk: list[tuple[str, date, date, int]] = field(default_factory=list)

    @classmethod
    def build(cls, sc: Scenario, tables: dict[str, pd.DataFrame], rejected_rows: set[int]) -> CheckContext:
        """Index the tables for fast lookups."""
        ctx = cls(sc, tables, rejected_rows)
        for _, r in tables["vehicle_types"].iterrows():
            ctx.layouts[str(r["type_id"])] = SeatLayout.from_row(r)
            ctx.modes[str(r["type_id"])] = str(r["mode"])
        for name, key in (("villages", "village_code"), ("hubs", "hub_id"), ("factories", "factory_id"),
                          ("stations", "station_id")):
            t = tables.get(name)
            if t is None or not len(t):
                continue
            ids = t[key].astype(str).to_numpy()
            cc = t["county_code"].fillna("").astype(str).to_numpy() if "county_code" in t else [""] * len(t)
            for i, pid in enumerate(ids):
                ctx.place_county[pid] = cc[i]
                ctx.place_xy[pid] = (float(t["lon"].iloc[i]), float(t["lat"].iloc[i]))
        hubs = tables["hubs"]
        ctx.hub_capacity = dict(zip(hubs["hub_id"].astype(str), hubs["daily_capacity_people"].astype(int)))
        risk = tables.get("risk_calendar")
        if risk is not None:
            for _, r in risk.iterrows():
                ctx._risk.append((str(r["region_code"]), _d(r["from"]), _d(r["to"]), LEVELS.index(str(r["level"]))))
        return ctx

    def level(self, place_id: str, day: date) -> int:
        """Strictest risk level (0 low .. 3 closed) at a place's county on a day."""
        code = self.place_county.get(place_id, "")
        lvl = 0
        for region, a, b, rank in self._risk:
            if code.startswith(region) and a <= day <= b:
                lvl = max(lvl, rank)
        return lvl

    def isolation_rows(self, type_id: str) -> int:
        """Rows kept empty in this vehicle type."""
        oc = self.sc.occupancy
        return {"coach": oc.coach_isolation_rows, "feeder": oc.feeder_isolation_rows,
                "train_carriage": oc.carriage_isolation_rows}.get(self.modes.get(type_id, ""), 0)


def _d(v) -> date:
    return pd.Timestamp(v).date()
