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
    "feeder_run_rechained": "接驳车前一班次取消后赶不上本班次，重新安排",
    "train_service_changed": "专列取消或时刻、车厢变更，重新安排",
    "occupancy_rule_changed": "目的地风险等级变化，座位规则改变，重新安排",
}
COLUMNS = REPORT_TABLES["changes"].names()


def _legs_in_order(plan: PlanFiles) -> pd.DataFrame:
    """worker_id, trip_id, seat (text) of every leg in travel order, with ``pos``: the leg's place in it."""
    legs = plan.legs[["worker_id", "leg", "trip_id", "seat"]].copy()
    for c in ("worker_id", "trip_id", "seat"):
        legs[c] = legs[c].astype(str)
    legs = legs.sort_values(["worker_id", "leg"], kind="stable")
    legs["pos"] = legs.groupby("worker_id", sort=False).cumcount()
    return legs[["worker_id", "pos", "trip_id", "seat"]]


def _differing(la: pd.DataFrame, lb: pd.DataFrame) -> set[str]:
    """Workers whose legs (trip and seat, in order) are not the same in both plans, or who have legs in one only."""
    m = la.merge(lb, on=["worker_id", "pos"], how="outer", suffixes=("_a", "_b"), indicator=True)
    diff = (m["_merge"] != "both").to_numpy() | (m["trip_id_a"] != m["trip_id_b"]).to_numpy() \
        | (m["seat_a"] != m["seat_b"]).to_numpy()
    return set(m.loc[diff, "worker_id"])


def _journeys(legs: pd.DataFrame, ids: set[str]) -> dict[str, tuple[str, str]]:
    """worker_id -> (trips, seats) of every leg in order (';'-joined), for the workers ``ids`` with legs."""
    legs = legs[legs["worker_id"].isin(ids)]
    per: dict[str, tuple[list[str], list[str]]] = {}
    for w, t, s in zip(legs["worker_id"].to_numpy(), legs["trip_id"].to_numpy(), legs["seat"].to_numpy()):
        hit = per.get(w)
        if hit is None:
            per[w] = hit = ([], [])
        hit[0].append(t)
        hit[1].append(s)
    return {w: (";".join(t), ";".join(s)) for w, (t, s) in per.items()}


def _workers(plan: PlanFiles, ids: set[str]) -> dict[str, tuple[str, str, str]]:
    """worker_id -> (status, reason, township_code), the first row of each id, for the workers ``ids``."""
    w = plan.workers[["worker_id", "status", "reason", "township_code"]]
    w = w[w["worker_id"].astype(str).isin(ids)].copy().astype(str)
    w = w[w["worker_id"] != ""].drop_duplicates("worker_id", keep="first")
    return dict(zip(w["worker_id"], zip(w["status"], w["reason"], w["township_code"])))


def plan_changes(old: PlanFiles, new: PlanFiles, taken_off: Iterable[TakenOff] = ()) -> pd.DataFrame:
    """The rows of ``changes.csv`` (columns :data:`COLUMNS`, all text), sorted by township, change, worker.

    Only the workers whose legs differ are looked at further (a replan changes a few
    thousand of hundreds of thousands).
    """
    la, lb = _legs_in_order(old), _legs_in_order(new)
    ids = _differing(la, lb)
    a, b = _journeys(la, ids), _journeys(lb, ids)
    wa, wb = _workers(old, ids), _workers(new, ids)
    off: dict[str, str] = {}
    for t in taken_off:
        off.setdefault(t.worker_id, t.reason)
    rows = []
    for wid in sorted(ids):
        ja, jb = a.get(wid), b.get(wid)
        if ja is not None and jb is not None:
            if ja == jb:
                continue
            change = "moved"
            reason = off.get(wid, REPLANNED)
        elif jb is not None:
            change = "added"
            reason = NEWLY_PLANNED if wid in wa else NEW_REGISTRATION
        else:
            change = "removed"
            if wid in off:
                reason = off[wid]
            elif wid in wb:
                reason = wb[wid][1] or REPLANNED
            else:
                reason = CANCELLED
        town = wb[wid][2] if wid in wb else (wa[wid][2] if wid in wa else "")
        rows.append({
            "worker_id": wid, "township_code": town, "change": change,
            "old_trip_id": ja[0] if ja else "", "new_trip_id": jb[0] if jb else "",
            "old_seat": ja[1] if ja else "", "new_seat": jb[1] if jb else "",
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
