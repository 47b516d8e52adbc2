"""``changes.csv``: who must be phoned after a replan, one row per worker whose plan changed.

:func:`plan_changes` compares a base plan and a new plan (both read with
:func:`planner.plan_format.read_plan`) worker by worker on their legs: the
trip and seat of every leg, in travel order. A worker with a seat in the new
plan and none in the base is ``added``; the reverse ``removed``; both with any
leg different ``moved``. Everyone else is left out: nobody is phoned for
nothing. The reason comes from, in order: the people a replan took off
(:class:`planner.store.locks.TakenOff`, when given), the new plan's
``workers.csv`` reason for somebody unassigned, ``cancelled`` for somebody no
longer in the new plan at all, ``new_registration`` / ``newly_planned`` for
the added, ``replanned`` for the moved.

:func:`write_changes` writes it into the new plan directory atomically
(declared in :data:`planner.plan_format.REPORT_TABLES`).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from planner.documents.common import atomic_output
from planner.plan_format import REPORT_TABLES, PlanFiles
from planner.store.locks import CANCELLED, TakenOff

NEW_REGISTRATION = "new_registration"
NEWLY_PLANNED = "newly_planned"
REPLANNED = "replanned"
#: Chinese labels of the change reasons that are not unassigned reasons (those are in planner.vocab)
CHANGE_REASON_LABELS: dict[str, str] = {
    CANCELLED: "已取消登记",
    NEW_REGISTRATION: "新登记人员",
    NEWLY_PLANNED: "原未安排，现已安排",
    REPLANNED: "重新规划后车次或座位变化",
    "vehicle_removed": "原车辆已撤出车队，改乘他车",
    "registration_changed": "登记信息（日期、证明、村或工厂）变更，重新安排",
    "family_replanned": "同行家庭成员重新安排，一同改乘",
}
COLUMNS = REPORT_TABLES["changes"].names()


def _journeys(plan: PlanFiles) -> pd.DataFrame:
    """worker_id -> trips and seats of every leg in order (';'-joined), for planned workers with legs."""
    legs = plan.legs[["worker_id", "leg", "trip_id", "seat"]].copy()
    for c in ("worker_id", "trip_id", "seat"):
        legs[c] = legs[c].astype(str)
    legs = legs.sort_values(["worker_id", "leg"], kind="stable")
    g = legs.groupby("worker_id", sort=True)
    return pd.DataFrame({"trips": g["trip_id"].agg(";".join), "seats": g["seat"].agg(";".join)})


def _workers(plan: PlanFiles) -> pd.DataFrame:
    w = plan.workers[["worker_id", "status", "reason", "township_code"]].copy().astype(str)
    w = w[w["worker_id"] != ""].drop_duplicates("worker_id", keep="first")
    return w.set_index("worker_id")


def plan_changes(old: PlanFiles, new: PlanFiles, taken_off: Iterable[TakenOff] = ()) -> pd.DataFrame:
    """The rows of ``changes.csv`` (columns :data:`COLUMNS`, all text), sorted by township, change, worker."""
    a, b = _journeys(old), _journeys(new)
    wa, wb = _workers(old), _workers(new)
    off = {}
    for t in taken_off:
        off.setdefault(t.worker_id, t.reason)
    ids = sorted(set(a.index) | set(b.index))
    rows = []
    for wid in ids:
        in_a, in_b = wid in a.index, wid in b.index
        if in_a and in_b:
            if a.at[wid, "trips"] == b.at[wid, "trips"] and a.at[wid, "seats"] == b.at[wid, "seats"]:
                continue
            change = "moved"
            reason = off.get(wid, REPLANNED)
        elif in_b:
            change = "added"
            reason = NEWLY_PLANNED if wid in wa.index else NEW_REGISTRATION
        else:
            change = "removed"
            if wid in off:
                reason = off[wid]
            elif wid in wb.index:
                reason = wb.at[wid, "reason"] or REPLANNED
            else:
                reason = CANCELLED
        town = wb.at[wid, "township_code"] if wid in wb.index else (wa.at[wid, "township_code"] if wid in wa.index else "")
        rows.append({
            "worker_id": wid, "township_code": town, "change": change,
            "old_trip_id": a.at[wid, "trips"] if in_a else "", "new_trip_id": b.at[wid, "trips"] if in_b else "",
            "old_seat": a.at[wid, "seats"] if in_a else "", "new_seat": b.at[wid, "seats"] if in_b else "",
            "reason": reason,
        })
    df = pd.DataFrame(rows, columns=COLUMNS)
    if len(df):
        df = df.sort_values(["township_code", "change", "worker_id"], kind="stable").reset_index(drop=True)
    return df


def write_changes(new_dir: Path, changes: pd.DataFrame) -> Path:
    """Write ``changes.csv`` (UTF-8) into a plan directory, atomically; return its path."""
    path = Path(new_dir) / REPORT_TABLES["changes"].file
    with atomic_output(path) as tmp:
        changes[COLUMNS].to_csv(tmp, index=False, encoding="utf-8")
    return path


def change_reason_label(code: str) -> str:
    """The Chinese words for a change reason."""
    from planner.vocab import reason_label

    return CHANGE_REASON_LABELS.get(code) or reason_label(code)
