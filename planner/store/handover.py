"""Hand-over (交接): the receiving side signs for a vehicle; how many were planned (应到) and boarded (实到).

:func:`arrival_counts` gives, per trip, the people planned on it and the
people recorded as boarded: from the trip's own boarding records when it has
any, else worked out from the records of the same people's earlier legs (a
worker taken off the feeder is not on the coach), else unknown (None).
:func:`record_handover` keeps the receiving side's signature (name,
organisation, time, count received), append-only like boarding records.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from sqlalchemy import select

from planner.store.boarding import current_boarding
from planner.store.db import Store, StoreError, now_iso
from planner.store.schema import handovers, plan_trips
from planner.vocab import TAKEN_OFF_REASONS

RECORDED = "recorded"  # 实到 from the trip's own boarding records
FROM_EARLIER_LEGS = "earlier_legs"  # worked out from the records of the passengers' earlier legs


@dataclass(frozen=True)
class ArrivalCount:
    """应到 / 实到 of one vehicle trip from the boarding records.

    ``boarded``: passengers recorded on board (on this trip, or for
    FROM_EARLIER_LEGS on their earlier legs); ``off``: recorded absent,
    feverish or refused on this trip or an earlier leg; ``unrecorded``: the
    rest. ``boarded`` is None when nothing is recorded for any passenger.
    """

    trip_id: str
    expected: int
    boarded: int | None
    basis: str  # RECORDED, FROM_EARLIER_LEGS or '' (nothing recorded)
    off: int = 0
    unrecorded: int = 0

    @property
    def complete(self) -> bool:
        """Every passenger has a record: 实到 is known."""
        return self.boarded is not None and self.unrecorded == 0

    def label(self) -> str:
        """The manifest's line: '应到 N 人，实到 M 人（…）', or a blank to fill in with what is recorded so far."""
        if self.boarded is None:
            return f"应到 {self.expected} 人，实到 ______ 人"
        how = "据上车登记" if self.basis == RECORDED else "据前段上车登记"
        if self.complete:
            return f"应到 {self.expected} 人，实到 {self.boarded} 人（{how}）"
        return (f"应到 {self.expected} 人，实到 ______ 人（{how}：已上车 {self.boarded} 人，未上车 {self.off} 人，"
                f"{self.unrecorded} 人未登记）")


def arrival_counts(store: Store, legs: pd.DataFrame, trip_ids: list[str], *,
                   records: pd.DataFrame | None = None) -> dict[str, ArrivalCount]:
    """应到/实到 for ``trip_ids`` from a plan's legs (worker_id, leg, trip_id) and the store's boarding records.

    ``records``: :func:`current_boarding` already read (for many calls at once); read from the store otherwise.
    """
    legs = legs[["worker_id", "leg", "trip_id"]].astype({"worker_id": str, "trip_id": str})
    want = set(map(str, trip_ids))
    on = legs[legs["trip_id"].isin(want)]
    people = set(on["worker_id"])
    theirs = legs[legs["worker_id"].isin(people)]
    rec = current_boarding(store, set(theirs["trip_id"])) if records is None else records
    rec = rec[rec["worker_id"].astype(str).isin(people)] if len(rec) else rec
    leg_of = dict(zip(zip(theirs["worker_id"], theirs["trip_id"]), theirs["leg"]))
    off_from: dict[str, int] = {}
    boarded_at: dict[str, set[int]] = {}
    for r in rec.itertuples(index=False):
        k = leg_of.get((str(r.worker_id), str(r.trip_id)))
        if k is None:
            continue
        if r.status in TAKEN_OFF_REASONS:
            off_from[r.worker_id] = min(int(k), off_from.get(r.worker_id, int(k)))
        elif r.status == "boarded":
            boarded_at.setdefault(r.worker_id, set()).add(int(k))
    out = {}
    for tid in sorted(want):
        mine = on[on["trip_id"] == tid]
        legs_here = dict(zip(mine["worker_id"], mine["leg"].astype(int)))
        expected = len(legs_here)
        off = {w for w, k in legs_here.items() if w in off_from and off_from[w] <= k}
        here = {w for w, k in legs_here.items() if k in boarded_at.get(w, set())} - off
        if here or any(off_from.get(w) == k for w, k in legs_here.items()):
            out[tid] = ArrivalCount(tid, expected, len(here), RECORDED, len(off), expected - len(here) - len(off))
            continue
        before = {w for w, k in legs_here.items() if any(j < k for j in boarded_at.get(w, set()))} - off
        if before or off:
            out[tid] = ArrivalCount(tid, expected, len(before), FROM_EARLIER_LEGS, len(off),
                                    expected - len(before) - len(off))
        else:
            out[tid] = ArrivalCount(tid, expected, None, "")
    return out


@dataclass(frozen=True)
class Handover:
    trip_id: str
    received: int
    expected: int
    boarded: int | None
    signed_by: str
    organisation: str
    signed_at: str


def record_handover(store: Store, plan_id: str, trip_id: str, count: ArrivalCount, *, received: object, by: str,
                    organisation: str, source: str) -> Handover:
    """Keep the receiving side's signature for a published trip of the plan version.

    Refused (StoreError, Chinese): a trip not published for this plan version,
    an empty name or organisation, a count received that is not a whole number
    between 0 and the people planned on the vehicle.
    """
    by, organisation = str(by or "").strip()[:80], str(organisation or "").strip()[:120]
    if not by or not organisation:
        msg = "交接签收须填写签收人姓名和单位 (--by and --org are required)"
        raise StoreError(msg)
    try:
        n = int(str(received).strip())
    except ValueError:
        msg = f"实收人数“{str(received)[:20]}”不是整数 (received must be a whole number)"
        raise StoreError(msg) from None
    if not 0 <= n <= count.expected:
        msg = f"实收人数 {n} 不在 0–{count.expected}（车次 {trip_id} 应到人数）之间"
        raise StoreError(msg)

    def work(conn) -> Handover:  # noqa: ANN001
        if conn.execute(select(plan_trips.c.trip_id).where(plan_trips.c.plan_id == plan_id,
                                                           plan_trips.c.trip_id == trip_id)).first() is None:
            msg = f"车次 {trip_id[:40]} 未在计划 {plan_id} 中发布，不能签收 (trip not published for this plan)"
            raise StoreError(msg)
        at = now_iso()
        conn.execute(handovers.insert().values(trip_id=trip_id, plan_id=plan_id, received=n, expected=count.expected,
                                               boarded=count.boarded, signed_by=by, organisation=organisation,
                                               signed_at=at, source=source))
        return Handover(trip_id, n, count.expected, count.boarded, by, organisation, at)

    return store.write(work)


def latest_handovers(store: Store, trip_ids: list[str] | None = None) -> dict[str, Handover]:
    """trip_id -> the signature that stands (the latest) for each signed trip."""
    h = handovers
    q = select(h).order_by(h.c.id)
    if trip_ids is not None:
        q = q.where(h.c.trip_id.in_(sorted(set(trip_ids))))
    with store.read() as conn:
        rows = conn.execute(q).all()
    return {r.trip_id: Handover(r.trip_id, r.received, r.expected, r.boarded, r.signed_by, r.organisation, r.signed_at)
            for r in rows}
