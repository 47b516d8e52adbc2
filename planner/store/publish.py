"""``planner publish``: record the trips departing on or before a date as published, frozen from now on.

What townships and receiving provinces were given must not move. Publishing
plan version P through day D records, in one transaction:

* P as a known plan version, and one ``publications`` row (who, when, through);
* every trip of P departing (local date) on or before D that is not yet
  published, with its frozen text's hash (:mod:`planner.store.frozen`) and the
  seats of everyone on it;
* for trips already published (by P through an earlier day, or by the base
  plan of a replan), P's seats on them.

Publishing P again through a later day extends it. A different plan version
must carry every trip already published unchanged: same trip id, same
frozen hash (vehicle, times, stops) and nobody added or moved on it; people
may be missing from it (taken off at boarding, or cancelled), which the
report counts. Anything else is refused with a message naming the trips, and
nothing is written: a replanned plan (which keeps its locked trips
byte-identical) passes, an unrelated plan does not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pandas as pd
from sqlalchemy import select
from sqlalchemy.engine import Connection

from planner.plan_format import PlanFiles, TZ, format_table
from planner.store.db import Store, StoreError, now_iso
from planner.store.frozen import frozen_hashes
from planner.store.schema import plan_trips, plan_versions, publications, published_seats, published_trips

MAX_LISTED = 10


@dataclass(frozen=True)
class PublishResult:
    """What one publish run did."""

    plan_id: str
    through: date
    trips_added: int
    trips_carried: int  # already-published trips this plan version now also carries
    people_missing: int  # people on already-published trips that this plan version no longer has on them
    trips_total: int  # published trips this plan version carries after the run


@dataclass
class Conflict:
    """Published trips another plan version changed, dropped, or put people on."""

    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    seats: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changed or self.missing or self.seats)

    def message(self, plan_id: str) -> str:
        def few(ids: list[str]) -> str:
            more = f" 等 {len(ids)} 个" if len(ids) > MAX_LISTED else ""
            return "、".join(ids[:MAX_LISTED]) + more
        parts = []
        if self.missing:
            parts.append(f"已发布的车次在本计划中缺失：{few(self.missing)}")
        if self.changed:
            parts.append(f"已发布的车次在本计划中被改动（车辆、时间或停靠点）：{few(self.changed)}")
        if self.seats:
            parts.append(f"已发布车次上有人员被新增或换座：{few(self.seats)}")
        return (f"计划 {plan_id} 与已发布内容不符，未发布任何车次：" + "；".join(parts)
                + "。已发布的车次已通知乡镇和接收省份，不得变动；请在原计划基础上重新规划（锁定已发布车次），"
                  "或为另一批次使用另一个数据库 --db (plan conflicts with published trips; nothing published)")


def local_day(times: pd.Series) -> pd.Series:
    """The local (Asia/Shanghai) date of tz-aware times."""
    t = times
    if getattr(t.dt, "tz", None) is not None:
        t = t.dt.tz_convert(TZ)
    return t.dt.date


def _text_legs(plan: PlanFiles, trip_ids: set[str]) -> pd.DataFrame:
    legs = plan.legs[plan.legs["trip_id"].astype(str).isin(trip_ids)]
    text = format_table("legs", legs).astype(str).replace({"<NA>": ""})
    town = dict(zip(plan.workers["worker_id"].astype(str), plan.workers["township_code"].astype(str)))
    text["township_code"] = text["worker_id"].map(town).fillna("")
    text["leg"] = text["leg"].astype(int)
    return text


def register_plan(conn: Connection, plan: PlanFiles) -> str:
    """Record the plan version (idempotent); return its plan_id. A plan without an id is refused."""
    pid = plan.plan_id
    if not pid:
        msg = f"{plan.path}: summary.json 未列出计划文件，无法确定计划版本 (plan has no plan_id)"
        raise StoreError(msg)
    if conn.execute(select(plan_versions.c.plan_id).where(plan_versions.c.plan_id == pid)).first() is None:
        conn.execute(plan_versions.insert().values(plan_id=pid, plan_path=str(plan.path or ""),
                                                   scenario_checksum=plan.scenario_checksum, first_seen_at=now_iso()))
    return pid


def publish(store: Store, plan: PlanFiles, through: date, *, by: str) -> PublishResult:
    """Publish the trips of ``plan`` departing on or before ``through`` (see the module docstring).

    Raises StoreError with the conflicting trips when ``plan`` does not carry
    what is already published unchanged; nothing is written then.
    """
    trips = plan.trips.copy()
    trips["trip_id"] = trips["trip_id"].astype(str)
    days = local_day(trips["depart"])
    due = set(trips.loc[days.notna() & (days <= through), "trip_id"])
    hashes = frozen_hashes(plan)

    def work(conn: Connection) -> PublishResult:
        pid = register_plan(conn, plan)
        known = {r.trip_id: r for r in conn.execute(select(published_trips))}
        carried = {r.trip_id for r in conn.execute(select(plan_trips.c.trip_id).where(plan_trips.c.plan_id == pid))}
        conflict = Conflict()
        for tid, row in sorted(known.items()):
            if tid not in hashes:
                conflict.missing.append(tid)
            elif hashes[tid] != row.frozen_hash:
                conflict.changed.append(tid)
        legs = _text_legs(plan, due | set(known))
        legs_by_trip = {t: g for t, g in legs.groupby("trip_id")}
        missing_people = 0
        to_carry = sorted(t for t in known if t not in carried and t in hashes and t not in conflict.changed)
        for tid in to_carry:
            before = _latest_seats(conn, tid)
            mine = legs_by_trip.get(tid, legs.iloc[0:0])
            for r in mine.itertuples(index=False):
                if before.get(r.worker_id) != r.seat:
                    conflict.seats.append(tid)
                    break
            missing_people += len(set(before) - set(mine["worker_id"]))
        if conflict:
            raise StoreError(conflict.message(pid))
        pub_id = conn.execute(publications.insert().values(
            plan_id=pid, through_date=through.isoformat(), published_at=now_iso(), published_by=by,
            trips_added=0)).inserted_primary_key[0]
        new = sorted(due - set(known))
        info = trips.set_index("trip_id")
        depart = format_table("trips", plan.trips).set_index(trips["trip_id"])
        if new:
            conn.execute(published_trips.insert(), [dict(
                trip_id=t, plan_id=pid, frozen_hash=hashes[t], mode=str(info.at[t, "mode"]),
                purpose=str(info.at[t, "purpose"]), vehicle_id=str(info.at[t, "vehicle_id"]),
                origin_id=str(info.at[t, "origin_id"]), depart=str(depart.at[t, "depart"]),
                arrive=str(depart.at[t, "arrive"]), publication_id=pub_id) for t in new])
        link = [t for t in new + to_carry]
        if link:
            conn.execute(plan_trips.insert(), [dict(plan_id=pid, trip_id=t, publication_id=pub_id) for t in link])
            seats = legs[legs["trip_id"].isin(set(link))]
            if len(seats):
                cols = ["worker_id", "trip_id", "leg", "seat", "board_place_id", "board_time", "alight_place_id",
                        "alight_time", "township_code"]
                rows = [dict(zip(cols, r), plan_id=pid) for r in seats[cols].itertuples(index=False, name=None)]
                conn.execute(published_seats.insert(), rows)
        conn.execute(publications.update().where(publications.c.id == pub_id).values(trips_added=len(new)))
        total = len(carried) + len(link)
        return PublishResult(pid, through, len(new), len(to_carry), missing_people, total)

    return store.write(work)


def _latest_seats(conn: Connection, trip_id: str) -> dict[str, str]:
    """worker_id -> seat on a published trip, as the most recent plan version carrying it has them."""
    last = conn.execute(select(plan_trips.c.plan_id).where(plan_trips.c.trip_id == trip_id)
                        .order_by(plan_trips.c.publication_id.desc()).limit(1)).first()
    if last is None:
        return {}
    rows = conn.execute(select(published_seats.c.worker_id, published_seats.c.seat)
                        .where(published_seats.c.plan_id == last[0], published_seats.c.trip_id == trip_id))
    return {r.worker_id: r.seat for r in rows}


def published_trip_ids(store: Store, plan_id: str) -> set[str]:
    """The published trips a plan version carries."""
    with store.read() as conn:
        return {r[0] for r in conn.execute(select(plan_trips.c.trip_id).where(plan_trips.c.plan_id == plan_id))}


def published_through(store: Store, plan_id: str) -> str:
    """The latest day a plan version was published through ('' when never)."""
    with store.read() as conn:
        rows = [r[0] for r in conn.execute(select(publications.c.through_date)
                                           .where(publications.c.plan_id == plan_id))]
    return max(rows) if rows else ""
