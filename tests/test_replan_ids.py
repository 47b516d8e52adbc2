"""New trip ids of a replan: the same run as a base trip keeps its id; others never reuse a base id."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pandas as pd

from planner.solve.locked import renumber
from planner.solve.records import PlanParts

TZ = ZoneInfo("Asia/Shanghai")


def _trip(tid: str, vehicle: str, hour: int, mode: str = "coach") -> dict:
    return {"trip_id": tid, "mode": mode, "purpose": "passenger", "vehicle_id": vehicle, "origin_id": "T1",
            "depart": datetime(2020, 2, 20, hour, tzinfo=TZ), "destination_ids": "F1",
            "arrive": datetime(2020, 2, 21, hour, tzinfo=TZ)}


def test_same_run_keeps_its_id_and_others_are_numbered_after_the_base():
    base = pd.DataFrame([_trip("C500101-00001", "V1", 8), _trip("C500101-00002", "V2", 9),
                         _trip("C500101-00003", "V3", 10)])
    base["depart"] = pd.to_datetime(base["depart"])
    base["arrive"] = pd.to_datetime(base["arrive"])
    parts = PlanParts(prefix="500101")
    parts.trips = [_trip("C500101-00001", "V2", 9), _trip("C500101-00002", "V1", 8),
                   _trip("C500101-00003", "V9", 11), _trip("TK7001-01", "K7001-01", 12, mode="train")]
    parts.stops = [{"trip_id": t["trip_id"]} for t in parts.trips]
    parts.legs = [(0, 1, "C500101-00003", "1A", "T1", None, "F1", None)]
    # V1 at 8 is the base's C..1, V2 at 9 the base's C..2, but C..1 is locked: it is not reused
    renumber(parts, base, locked={"C500101-00001"})
    ids = [t["trip_id"] for t in parts.trips]
    assert ids[0] == "C500101-00002"  # same run as the base's unlocked C..2
    assert ids[1] == "C500101-00005"  # same run as the locked C..1: a fresh number after the base's 3
    assert ids[2] == "C500101-00006"
    assert ids[3] == "TK7001-01"  # a carriage keeps its service's id
    assert [s["trip_id"] for s in parts.stops] == ids
    assert parts.legs[0][2] == "C500101-00006"
    assert len(set(ids)) == len(ids)
