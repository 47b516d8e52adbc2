"""Reading a plan directory back, with the types of docs/plan-format.md.

The checker reads the plan from disk, as any other tool would, never from
solver memory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from planner.errors import PlanFormatError

COLUMNS = {
    "trips": ["trip_id", "mode", "purpose", "vehicle_type", "vehicle_id", "home_county_code", "service_id",
              "occupancy_rule", "seats_rated", "seats_allowed", "origin_id", "depart", "destination_ids", "arrive",
              "distance_km", "drivers", "passengers"],
    "stops": ["trip_id", "seq", "place_id", "place_kind", "arrive", "depart", "boarding", "alighting", "distance_km"],
    "legs": ["worker_id", "leg", "trip_id", "seat", "board_place_id", "board_time", "alight_place_id", "alight_time"],
    "workers": ["source_row", "worker_id", "status", "reason", "village_code", "township_code", "county_code",
                "factory_id", "chain", "depart_day", "planned_arrival"],
}
INTS = {"trips": ["seats_rated", "seats_allowed", "drivers", "passengers"], "stops": ["seq", "boarding", "alighting"],
        "legs": ["leg"], "workers": ["source_row"]}
FLOATS = {"trips": ["distance_km"], "stops": ["distance_km"]}
TIMES = {"trips": ["depart", "arrive"], "stops": ["arrive", "depart"], "legs": ["board_time", "alight_time"],
         "workers": ["planned_arrival"]}


@dataclass
class PlanFiles:
    """The tables of one plan directory, typed."""

    trips: pd.DataFrame
    stops: pd.DataFrame
    legs: pd.DataFrame
    workers: pd.DataFrame
    summary: dict


def parse_times(s: pd.Series) -> pd.Series:
    """ISO 8601 times with an offset to tz-aware Asia/Shanghai timestamps; empty -> NaT."""
    t = pd.to_datetime(s.where(s != "", None), format="ISO8601", utc=True, errors="coerce")
    return t.dt.tz_convert("Asia/Shanghai")


def read_plan(plan_dir: Path) -> PlanFiles:
    """Read and type every table; a missing file or column raises PlanFormatError."""
    plan_dir = Path(plan_dir)
    frames = {}
    for name, cols in COLUMNS.items():
        path = plan_dir / f"{name}.csv"
        if not path.exists():
            msg = f"{path}: 计划文件缺失 (plan file missing)"
            raise PlanFormatError(msg)
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
        missing = [c for c in cols if c not in df.columns]
        if missing:
            msg = f"{path}: 缺少列 {', '.join(missing)} (missing columns)"
            raise PlanFormatError(msg)
        for c in INTS.get(name, []):
            df[c] = pd.to_numeric(df[c], errors="coerce").fillna(-1).astype("int64")
        for c in FLOATS.get(name, []):
            df[c] = pd.to_numeric(df[c], errors="coerce")
        for c in TIMES.get(name, []):
            df[c] = parse_times(df[c])
        frames[name] = df
    summary_path = plan_dir / "summary.json"
    summary = {}
    if summary_path.exists():
        try:
            summary = json.loads(summary_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            msg = f"{summary_path}: JSON 格式错误 (malformed JSON): {exc}"
            raise PlanFormatError(msg) from None
    return PlanFiles(frames["trips"], frames["stops"], frames["legs"], frames["workers"], summary)
