"""Rules of a replanned plan: its locked trips are the base plan's, unchanged; nobody and nothing breaks them.

Run by :func:`planner.check.check_plan` when the plan's summary has a ``replan``
block (written by ``planner replan``), against the base plan given with
``planner check --base`` or the one the summary names. Rules:

* ``locked_base_missing``: the base plan cannot be read;
* ``locked_trip_missing`` / ``locked_trip_changed``: every locked trip is in the
  plan with the same frozen text (:func:`planner.store.frozen.frozen_hashes`: the
  trip row and its stops, people counts and group leader left out);
* ``locked_seat_changed``: everyone still on a locked trip keeps their leg and seat;
* ``locked_person_added``: nobody is on a locked trip who was not on it in the base;
* ``locked_person_dropped``: nobody is gone from a locked trip unless the replan took
  them off (recorded absent, fever or refused, or cancelled);
* ``fever_without_new_proof``: nobody taken off with a fever is on a later vehicle
  without a health proof issued after the day of that trip;
* ``vehicle_busy_locked``: no vehicle leaves on a new trip before it is back from
  its locked trips (empty return included);
* ``departure_before_lock``: no new trip leaves on or before the lock date (in repair mode the
  base plan's kept trips are not new).

:func:`excuse_taken_off` drops the fresh-plan ``family_split`` of a family whose
member was taken off a locked trip: the family travelled, the member is replanned alone.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from planner.check.context import CheckContext
from planner.check.fleet import on_road
from planner.check.plan_files import Plan
from planner.check.violations import Violation, concat, from_list
from planner.errors import PlannerError
from planner.plan_format import PlanFiles, read_plan
from planner.store.frozen import frozen_hashes


def _base(plan: PlanFiles, block: dict, base: Path | None) -> tuple[PlanFiles | None, str]:
    path = Path(base) if base is not None else (Path(block["base_dir"]) if block.get("base_dir") else None)
    if path is None:
        return None, "计划记录为重新规划的结果，但没有给出原计划目录 (use planner check --base OLD)"
    try:
        b = read_plan(path)
    except (PlannerError, OSError) as exc:
        return None, f"读不到原计划 {path}：{exc} (base plan unreadable)"
    want = str(block.get("base_plan_id") or "")
    if want and b.plan_id != want:
        return None, (f"原计划 {path} 的版本是 {b.plan_id}，而本计划记录的原计划版本是 {want}："
                      "不是本计划所依据的原计划 (another base plan)")
    return b, ""


def excuse_taken_off(found: pd.DataFrame, plan: PlanFiles, tables: dict[str, pd.DataFrame],
                     prepared: Plan | None = None, ctx: CheckContext | None = None) -> pd.DataFrame:
    """Fresh-plan findings a replan cannot avoid, dropped.

    * a family whose member was taken off at boarding (or cancelled) travelled without them;
      the member, replanned alone, is not a ``family_split`` the planner could have avoided;
    * a coach removed from the fleet after it went out on a locked trip: ``fleet_exceeded`` counts
      only the vehicles of the new trips (each county's and type's within today's fleet), and
      ``coaches_on_road`` (with ``prepared`` and ``ctx``) counts the coaches of today's fleet: the
      removed coach's locked trips (published, under way) are on top of it.
    """
    block = (plan.summary or {}).get("replan") or {}
    taken = {str(w) for w in (block.get("taken_off") or {})}
    # repair mode: a family member re-pooled off a kept trip (vehicle removed, data changed) travels apart too
    taken |= {str(w) for w in ((block.get("repair") or {}).get("repooled") or {})}
    locked = {str(t) for t in block.get("locked_trips", [])}
    fl = tables["fleet"]
    if len(found) and (found["rule"] == "fleet_exceeded").any():
        t = plan.trips[plan.trips["mode"].isin(["coach", "feeder"]) & ~plan.trips["trip_id"].astype(str).isin(locked)]
        used = t.groupby([t["home_county_code"].astype(str), t["vehicle_type"].astype(str)])["vehicle_id"].nunique()
        own = dict(zip(zip(fl["county_code"].astype(str), fl["type_id"].astype(str)), fl["count"].astype(int)))
        if all(n <= own.get(k, 0) for k, n in used.items()):
            found = found[found["rule"] != "fleet_exceeded"].reset_index(drop=True)
    if len(found) and prepared is not None and ctx is not None and (found["rule"] == "coaches_on_road").any():
        today = {f"{c}-{ty}-{i + 1:03d}" for c, ty, n in zip(fl["county_code"].astype(str), fl["type_id"].astype(str),
                                                             fl["count"].astype(int)) for i in range(n)}
        t = prepared.trips
        gone = t["trip_id"].astype(str).isin(locked) & ~t["vehicle_id"].astype(str).isin(today)
        if gone.any():
            found = concat([found[found["rule"] != "coaches_on_road"], on_road(t[~gone], ctx)]).reset_index(drop=True)
    if not taken or not len(found):
        return found
    w = plan.workers.assign(worker_id=plan.workers["worker_id"].astype(str),
                            group_id=plan.workers["group_id"].fillna("").astype(str))
    groups = set(w.loc[w["worker_id"].isin(taken) & (w["group_id"] != ""), "group_id"])
    excused = taken | set(w.loc[w["group_id"].isin(groups), "worker_id"])
    drop = (found["rule"] == "family_split") & found["worker_id"].astype(str).isin(excused)
    return found[~drop].reset_index(drop=True)


def locked_rules(plan: PlanFiles, tables: dict[str, pd.DataFrame], base: Path | None = None) -> pd.DataFrame:
    """Every rule of the module docstring; one row per violation."""
    block = (plan.summary or {}).get("replan") or {}
    b, why = _base(plan, block, base)
    if b is None:
        return from_list([Violation("locked_base_missing", message=why)])
    out: list[Violation] = []
    locked = {str(t) for t in block.get("locked_trips", [])}
    taken = {str(k): str(v) for k, v in (block.get("taken_off") or {}).items()}
    new_trips = plan.trips.assign(trip_id=plan.trips["trip_id"].astype(str))
    have = set(new_trips["trip_id"])
    want = frozen_hashes(b, locked)
    got = frozen_hashes(plan, locked & have)
    for tid in sorted(locked):
        if tid not in have:
            out.append(Violation("locked_trip_missing", tid, "", f"锁定车次 {tid} 不在新计划中"))
        elif tid in want and got.get(tid) != want[tid]:
            out.append(Violation("locked_trip_changed", tid, "", f"锁定车次 {tid} 的时间、车辆或停靠点与原计划不同"))
    # people and seats on the locked trips
    key = ["worker_id", "trip_id"]
    bl = b.legs[b.legs["trip_id"].astype(str).isin(locked)][[*key, "leg", "seat"]].astype(str)
    nl = plan.legs[plan.legs["trip_id"].astype(str).isin(locked)][[*key, "leg", "seat"]].astype(str)
    m = bl.merge(nl, on=key, how="outer", suffixes=("_old", "_new"), indicator=True)
    for r in m[m["_merge"] == "both"].itertuples(index=False):
        if (r.seat_old, r.leg_old) != (r.seat_new, r.leg_new):
            out.append(Violation("locked_seat_changed", r.trip_id, r.worker_id,
                                 f"锁定车次 {r.trip_id} 上 {r.worker_id} 的座位由 {r.seat_old} 变为 {r.seat_new}"))
    for r in m[m["_merge"] == "right_only"].itertuples(index=False):
        out.append(Violation("locked_person_added", r.trip_id, r.worker_id,
                             f"锁定车次 {r.trip_id} 上新增了 {r.worker_id}（座位 {r.seat_new}），原计划中不在此车"))
    for r in m[m["_merge"] == "left_only"].itertuples(index=False):
        if r.worker_id not in taken:
            out.append(Violation("locked_person_dropped", r.trip_id, r.worker_id,
                                 f"{r.worker_id} 不在锁定车次 {r.trip_id} 上，但没有上车登记或取消登记说明其被撤下"))
    # fevers: a later vehicle only with a newer proof
    fever = {str(k): date.fromisoformat(v) for k, v in (block.get("fever_trip_day") or {}).items()}
    if fever:
        w = tables["workers"]
        proof = dict(zip(w["worker_id"].astype(str), pd.to_datetime(w["proof_date"], errors="coerce").dt.date))
        later = plan.legs[plan.legs["worker_id"].astype(str).isin(fever)
                          & ~plan.legs["trip_id"].astype(str).isin(locked)]
        for r in later.drop_duplicates("worker_id").itertuples(index=False):
            pd_ = proof.get(str(r.worker_id))
            if not (isinstance(pd_, date) and pd_ > fever[str(r.worker_id)]):
                out.append(Violation("fever_without_new_proof", str(r.trip_id), str(r.worker_id),
                                     f"{r.worker_id} 于 {fever[str(r.worker_id)]} 上车时发热被劝离，其健康证明"
                                     f"（{pd_ or '无'}）不晚于该日，却又被安排乘车"))
    # vehicles out on locked trips; nothing new on or before the lock date
    t = new_trips[new_trips["vehicle_id"].astype(str) != ""]
    is_locked = t["trip_id"].isin(locked)
    back = t[is_locked].groupby("vehicle_id")["arrive"].max()
    fresh = t[~is_locked]
    early = fresh[fresh["vehicle_id"].isin(back.index)]
    early = early[early["depart"].to_numpy() < early["vehicle_id"].map(back).to_numpy()]
    for r in early.itertuples(index=False):
        out.append(Violation("vehicle_busy_locked", r.trip_id, "",
                             f"车辆 {r.vehicle_id} 的锁定车次（含空车返回）{back[r.vehicle_id]:%m-%d %H:%M} 才结束，"
                             f"新车次 {r.trip_id} {r.depart:%m-%d %H:%M} 就出发"))
    lock = block.get("lock_through") or ""
    if lock:
        d = date.fromisoformat(lock)
        kept = {str(t) for t in ((block.get("repair") or {}).get("kept_trips") or [])}
        new_only = new_trips[~new_trips["trip_id"].isin(locked | kept)]  # repair mode: kept trips are not new
        for r in new_only[new_only["depart"].dt.date <= d].itertuples(index=False):
            out.append(Violation("departure_before_lock", r.trip_id, "",
                                 f"新车次 {r.trip_id} 于 {r.depart:%m-%d %H:%M} 出发，不晚于锁定日 {d}"))
    return from_list(out)
