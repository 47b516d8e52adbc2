"""Reading a plan directory back for the checker, with the types of planner/plan_format.py.

The checker reads the plan from disk, as any other tool would, never from
solver memory: :func:`read_plan` (re-exported from :mod:`planner.plan_format`)
verifies the directory is complete and types the tables; codes and ids stay
strings, times become tz-aware Asia/Shanghai timestamps. Format drift found
while reading becomes ``plan_format`` violations here, and a plan made from
another scenario (``summary.json``'s scenario checksum) ``scenario_mismatch``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from planner.check.violations import Violation, from_list
from planner.plan_format import TABLES, TZ, PlanFiles, parse_times, read_plan, type_table

__all__ = ["TZ", "Plan", "PlanFiles", "format_violations", "parse_times", "prepare", "read_plan",
           "scenario_mismatch", "type_table"]

OPTIONAL = {name: [c.name for c in t.columns if not c.required] for name, t in TABLES.items()}
TIMES = {name: t.of_kind("time") for name, t in TABLES.items()}


def format_violations(pf: PlanFiles) -> pd.DataFrame:
    """Rule plan_format: every departure from the declared plan format found while reading."""
    return from_list([Violation("plan_format", message=i.message) for i in pf.issues])


def scenario_mismatch(pf: PlanFiles, checksum: str | None, name: str = "") -> pd.DataFrame:
    """Rule scenario_mismatch: the plan's summary names another scenario file than the one checked against.

    Reported first, because every other finding against the wrong scenario is noise.
    """
    have = pf.scenario_checksum
    if not have or not checksum or have == str(checksum):
        return from_list([])
    planned = ((pf.summary or {}).get("scenario") or {}).get("name", "")
    msg = (f"计划 summary.json 记录的情景校验和为 {have}（情景「{planned}」），而所给情景「{name}」为 {checksum}："
           "该计划不是用这个情景文件生成的，以下其他违规多半由此而来；请用生成计划时的情景文件校验 "
           "(the plan was made from another scenario file)")
    return from_list([Violation("scenario_mismatch", message=msg)])


# ------------------------------------------------------------ the checker's view
@dataclass
class Plan:
    """The plan as the rules see it: sorted, times as naive local datetime64.

    ``trips`` is indexed by position with a ``trip_id`` column; ``stops`` is
    sorted by (trip_id, seq) and ``legs`` by (worker_id, leg).
    """

    trips: pd.DataFrame
    stops: pd.DataFrame
    legs: pd.DataFrame
    workers: pd.DataFrame
    summary: dict


def _naive(s: pd.Series) -> pd.Series:
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        return s.dt.tz_convert(TZ).dt.tz_localize(None)
    if s.dtype == object:
        return _naive(parse_times(s))
    return pd.to_datetime(s)


def prepare(pf: PlanFiles) -> Plan:
    """Copy, sort and normalise a plan for the rules."""
    trips = pf.trips.copy()
    stops = pf.stops.copy()
    legs = pf.legs.copy()
    workers = pf.workers.copy()
    for name, df in (("trips", trips), ("stops", stops), ("legs", legs), ("workers", workers)):
        for c in OPTIONAL.get(name, []):
            if c not in df.columns:
                df[c] = ""
        for c in TIMES.get(name, []):
            df[c] = _naive(df[c])
        for c in ("trip_id", "worker_id", "place_id", "board_place_id", "alight_place_id", "vehicle_id",
                  "home_county_code", "service_id", "origin_id", "destination_ids", "seat", "group_id",
                  "status", "reason", "village_code", "factory_id", "chain", "mode", "purpose", "vehicle_type",
                  "occupancy_rule", "place_kind"):
            if c in df.columns and df[c].dtype != object:
                df[c] = df[c].astype(object).where(df[c].notna(), "").astype(str)
    stops = stops.sort_values(["trip_id", "seq"], kind="stable").reset_index(drop=True)
    legs = legs.sort_values(["worker_id", "leg"], kind="stable").reset_index(drop=True)
    return Plan(trips.reset_index(drop=True), stops, legs, workers.reset_index(drop=True), dict(pf.summary or {}))
