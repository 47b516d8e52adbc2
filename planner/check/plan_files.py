"""Reading a plan directory back, with the types of docs/plan-format.md.

The checker reads the plan from disk, as any other tool would, never from
solver memory. Codes and ids stay strings; times become tz-aware
Asia/Shanghai timestamps (parsed vectorised; the usual ``+08:00`` form takes a
fast fixed-format path).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from planner.errors import PlanFormatError

TZ = "Asia/Shanghai"

COLUMNS = {
    "trips": ["trip_id", "mode", "purpose", "vehicle_type", "vehicle_id", "home_county_code", "service_id",
              "occupancy_rule", "seats_rated", "seats_allowed", "origin_id", "depart", "destination_ids", "arrive",
              "distance_km", "drivers", "passengers"],
    "stops": ["trip_id", "seq", "place_id", "place_kind", "arrive", "depart", "boarding", "alighting", "distance_km"],
    "legs": ["worker_id", "leg", "trip_id", "seat", "board_place_id", "board_time", "alight_place_id", "alight_time"],
    "workers": ["source_row", "worker_id", "status", "reason", "village_code", "township_code", "county_code",
                "factory_id", "chain", "depart_day", "planned_arrival"],
}
OPTIONAL = {"workers": ["group_id", "reason_detail"]}
INTS = {"trips": ["seats_rated", "seats_allowed", "drivers", "passengers"], "stops": ["seq", "boarding", "alighting"],
        "legs": ["leg"], "workers": ["source_row"]}
FLOATS = {"trips": ["distance_km"], "stops": ["distance_km"]}
TIMES = {"trips": ["depart", "arrive"], "stops": ["arrive", "depart"], "legs": ["board_time", "alight_time"],
         "workers": ["planned_arrival"]}
DATES = {"workers": ["depart_day"]}


@dataclass
class PlanFiles:
    """The tables of one plan directory, typed (times tz-aware Asia/Shanghai)."""

    trips: pd.DataFrame
    stops: pd.DataFrame
    legs: pd.DataFrame
    workers: pd.DataFrame
    summary: dict


def parse_times(s: pd.Series) -> pd.Series:
    """ISO 8601 times with an offset to tz-aware Asia/Shanghai timestamps; empty -> NaT.

    Unparseable values become NaT too; the rules then report the trip or leg.
    """
    s = s.astype(str)
    blank = s.isin(["", "NaT", "nan", "None"])
    vals = s[~blank]
    if len(vals) and bool(vals.str.endswith("+08:00").all()) and bool((vals.str.len() == 25).all()):
        naive = pd.to_datetime(vals.str.slice(0, 19), format="%Y-%m-%dT%H:%M:%S", errors="coerce")
        out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
        out[~blank] = naive
        return out.dt.tz_localize(TZ)
    t = pd.to_datetime(s.where(~blank, None), format="ISO8601", utc=True, errors="coerce")
    return t.dt.tz_convert(TZ)


def _read_csv(path: Path, name: str) -> pd.DataFrame:
    if not path.exists():
        msg = f"{path}: 计划文件缺失 (plan file missing)"
        raise PlanFormatError(msg)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError:
        msg = f"{path}: 计划文件须为 UTF-8 编码 (plan file must be UTF-8)"
        raise PlanFormatError(msg) from None
    except pd.errors.EmptyDataError:
        msg = f"{path}: 文件为空，缺少表头 (empty file, no header)"
        raise PlanFormatError(msg) from None
    missing = [c for c in COLUMNS[name] if c not in df.columns]
    if missing:
        msg = f"{path}: 缺少列 {', '.join(missing)} (missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)})"
        raise PlanFormatError(msg)
    return df


def type_table(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """Give the string columns of one plan table their types (in place, returns df)."""
    for c in OPTIONAL.get(name, []):
        if c not in df.columns:
            df[c] = ""
    for c in INTS.get(name, []):
        df[c] = pd.to_numeric(df[c], errors="coerce").fillna(-1).astype(np.int64)
    for c in FLOATS.get(name, []):
        df[c] = pd.to_numeric(df[c], errors="coerce")
    for c in TIMES.get(name, []):
        df[c] = parse_times(df[c])
    for c in DATES.get(name, []):
        df[c] = pd.to_datetime(df[c].where(df[c] != "", None), format="%Y-%m-%d", errors="coerce")
    return df


def read_plan(plan_dir: Path) -> PlanFiles:
    """Read and type every table; a missing file or column raises PlanFormatError naming both."""
    plan_dir = Path(plan_dir)
    if not plan_dir.is_dir():
        msg = f"{plan_dir}: 计划目录不存在 (plan directory not found)"
        raise PlanFormatError(msg)
    frames = {name: type_table(name, _read_csv(plan_dir / f"{name}.csv", name)) for name in COLUMNS}
    summary_path = plan_dir / "summary.json"
    if not summary_path.exists():
        msg = f"{summary_path}: 计划文件缺失 (plan file missing)"
        raise PlanFormatError(msg)
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        msg = f"{summary_path}: JSON 格式错误 (malformed JSON): {exc}"
        raise PlanFormatError(msg) from None
    return PlanFiles(frames["trips"], frames["stops"], frames["legs"], frames["workers"], summary)


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
