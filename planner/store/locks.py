"""What a replan consumes from the store: the locked trips of a base plan, and the people taken off them.

``planner replan SCENARIO --base PLAN --out NEW [--lock-through DATE]`` (not
built yet: it needs the county solver being rewritten) keeps every trip of the
base plan that is published and departs on or before the lock date exactly as
it is, minus the people recorded ``absent``, ``fever`` or ``refused`` on it
(and the cancelled workers it is told about), and plans everything after
around them. :func:`locked_plan` gives it exactly that:

* :class:`LockedTrip`: the frozen trip (id, vehicle, times, frozen hash as the
  store recorded it) and the seats of everyone still on it (:class:`LockedSeat`);
* :class:`TakenOff`: each person taken off, the trip they were taken off, the
  unassigned reason a replan gives them (``planner.vocab.TAKEN_OFF_REASONS``),
  and the record behind it (status, temperature, who, when).

Somebody taken off at leg k is off every later locked leg too (a worker who
never got on the feeder is not on the coach it feeds), with the same reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from planner.store.boarding import current_boarding
from planner.store.db import Store
from planner.store.schema import plan_trips, published_seats, published_trips
from planner.vocab import TAKEN_OFF_REASONS

CANCELLED = "cancelled"


@dataclass(frozen=True)
class LockedSeat:
    """One person who stays on a locked trip, in the seat they were given."""

    worker_id: str
    leg: int
    seat: str
    board_place_id: str
    board_time: str
    alight_place_id: str
    alight_time: str
    township_code: str


@dataclass(frozen=True)
class LockedTrip:
    """A published trip that a replan keeps unchanged (its frozen text has ``frozen_hash``)."""

    trip_id: str
    mode: str
    purpose: str
    vehicle_id: str
    depart: str
    arrive: str
    frozen_hash: str
    seats: tuple[LockedSeat, ...]


@dataclass(frozen=True)
class TakenOff:
    """Somebody who had a seat on a locked trip and comes back to the pool, with the reason."""

    worker_id: str
    trip_id: str
    leg: int
    reason: str  # an unassigned reason of planner.vocab, or 'cancelled'
    status: str  # the boarding status recorded ('' for a cancellation or a later leg)
    temperature_c: float | None
    recorded_by: str
    recorded_at: str
    township_code: str


@dataclass(frozen=True)
class LockedPlan:
    """Everything a replan needs from the store about its base plan."""

    base_plan_id: str
    lock_through: date | None
    trips: tuple[LockedTrip, ...]
    taken_off: tuple[TakenOff, ...]

    def trip_ids(self) -> set[str]:
        return {t.trip_id for t in self.trips}

    def vehicles_busy(self) -> dict[str, tuple[str, str]]:
        """vehicle_id -> (first depart, last arrive) over its locked trips (empty returns included)."""
        out: dict[str, tuple[str, str]] = {}
        for t in self.trips:
            a, b = out.get(t.vehicle_id, (t.depart, t.arrive))
            out[t.vehicle_id] = (min(a, t.depart), max(b, t.arrive))
        return out


def locked_plan(store: Store, base_plan_id: str, lock_through: date | None = None, *,
                cancelled: Iterable[str] = ()) -> LockedPlan:
    """The base plan's locked trips minus the people taken off, and those people with their reasons.

    ``lock_through`` None locks everything the base plan has published;
    otherwise only published trips departing (local date) on or before it.
    ``cancelled``: worker ids no longer registered (from the replan's scenario).
    """
    cancelled = {str(w) for w in cancelled}
    with store.read() as conn:
        q = (select(published_trips).join(plan_trips, plan_trips.c.trip_id == published_trips.c.trip_id)
             .where(plan_trips.c.plan_id == base_plan_id).order_by(published_trips.c.depart, published_trips.c.trip_id))
        trips = [r for r in conn.execute(q) if lock_through is None or r.depart[:10] <= lock_through.isoformat()]
        ids = [t.trip_id for t in trips]
        seats: dict[str, list] = {t: [] for t in ids}
        for r in conn.execute(select(published_seats).where(published_seats.c.plan_id == base_plan_id)
                              .order_by(published_seats.c.trip_id, published_seats.c.worker_id)):
            if r.trip_id in seats:
                seats[r.trip_id].append(r)
    records = current_boarding(store, ids)
    off_at: dict[str, tuple[int, str, object]] = {}  # worker -> (leg taken off at, trip, record)
    legs_of = {(s.worker_id, s.trip_id): s.leg for rows in seats.values() for s in rows}
    for rec in records.itertuples(index=False):
        if rec.status not in TAKEN_OFF_REASONS:
            continue
        leg = legs_of.get((rec.worker_id, rec.trip_id))
        if leg is None:
            continue
        if rec.worker_id not in off_at or leg < off_at[rec.worker_id][0]:
            off_at[rec.worker_id] = (leg, rec.trip_id, rec)
    locked: list[LockedTrip] = []
    taken: list[TakenOff] = []
    for t in trips:
        keep: list[LockedSeat] = []
        for s in seats[t.trip_id]:
            hit = off_at.get(s.worker_id)
            if hit is not None and s.leg >= hit[0]:
                rec = hit[2]
                first = hit[1] == t.trip_id
                taken.append(TakenOff(s.worker_id, t.trip_id, s.leg, TAKEN_OFF_REASONS[rec.status],
                                      rec.status if first else "",
                                      None if rec.temperature_c is None or rec.temperature_c != rec.temperature_c
                                      else float(rec.temperature_c),
                                      rec.recorded_by, rec.recorded_at, s.township_code))
            elif s.worker_id in cancelled:
                taken.append(TakenOff(s.worker_id, t.trip_id, s.leg, CANCELLED, "", None, "", "", s.township_code))
            else:
                keep.append(LockedSeat(s.worker_id, s.leg, s.seat, s.board_place_id, s.board_time, s.alight_place_id,
                                       s.alight_time, s.township_code))
        locked.append(LockedTrip(t.trip_id, t.mode, t.purpose, t.vehicle_id, t.depart, t.arrive, t.frozen_hash,
                                 tuple(keep)))
    taken.sort(key=lambda x: (x.worker_id, x.leg))
    return LockedPlan(base_plan_id, lock_through, tuple(locked), tuple(taken))
