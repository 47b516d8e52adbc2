"""Boarding records: who got on a published vehicle, who did not and why, with their temperature.

Statuses (:data:`planner.vocab.BOARDING_STATUSES`): ``boarded``, ``absent``,
``fever``, ``refused``. A temperature at or above the scenario's
``occupancy.fever_threshold_c`` (37.3 °C in 2020) makes the record ``fever``
whatever was ticked: the person is taken off the vehicle.

Every record is checked before anything is written (:func:`check_records`):
the trip must be in the plan and published, the worker on it, the status one
of ours, the temperature a number between 34 and 43 °C. A bad record is
reported (:class:`BoardingProblem`, naming where it came from) and not
applied; the good ones of the same batch are written in one transaction.

The history is append-only: a second record of the same person on the same
trip is a new row, the later one stands (:func:`current_boarding`), and each
row says who recorded it, when, and from where (app, command line, or the
imported file's sheet and row).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from planner.store.db import Store, now_iso
from planner.store.schema import boarding_records, plan_trips, plan_versions, published_seats
from planner.vocab import BOARDING_STATUS_LABELS, BOARDING_STATUSES

MIN_TEMPERATURE_C = 34.0
MAX_TEMPERATURE_C = 43.0


@dataclass(frozen=True)
class BoardingInput:
    """One record as given (app field, imported row): not yet checked. ``where`` names its origin for messages."""

    trip_id: str
    worker_id: str
    status: str
    temperature: object = None  # a number, text typed by a person, or None
    where: str = ""  # for messages only (may name the person: never stored)
    origin: str = ""  # stored with the record: the imported file's sheet!row, the seat in the app; no names


@dataclass(frozen=True)
class BoardingRecord:
    """A checked record, ready to be written."""

    trip_id: str
    worker_id: str
    status: str
    temperature_c: float | None
    source: str


@dataclass(frozen=True)
class BoardingProblem:
    """A record not applied, and why (Chinese, naming the file and row or the app field)."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}：{self.message}" if self.where else self.message


@dataclass(frozen=True)
class BoardingResult:
    applied: list[BoardingRecord]
    problems: list[BoardingProblem]


@dataclass(frozen=True)
class PlanSeats:
    """What a record is checked against: the plan version's trips, and who sits on each published one."""

    plan_id: str
    trip_ids: frozenset[str]
    published: dict[str, dict[str, str]]  # trip_id -> worker_id -> township_code

    @classmethod
    def load(cls, store: Store, plan_id: str, trip_ids: Iterable[str]) -> PlanSeats:
        with store.read() as conn:
            pub = {r[0] for r in conn.execute(select(plan_trips.c.trip_id).where(plan_trips.c.plan_id == plan_id))}
            seats: dict[str, dict[str, str]] = {t: {} for t in pub}
            for r in conn.execute(select(published_seats.c.trip_id, published_seats.c.worker_id,
                                         published_seats.c.township_code)
                                  .where(published_seats.c.plan_id == plan_id)):
                seats.setdefault(r.trip_id, {})[r.worker_id] = r.township_code
        return cls(plan_id, frozenset(str(t) for t in trip_ids), seats)


def parse_temperature(value: object) -> tuple[float | None, str]:
    """(temperature °C, '') or (None, a Chinese message); None and '' mean not measured."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, ""
    if isinstance(value, bool):
        return None, f"体温 {value!r} 不是数字"
    if isinstance(value, (int, float)):
        t = float(value)
    else:
        text = str(value).strip().replace("℃", "").replace("°C", "").replace("°", "").strip()
        if text == "":
            return None, ""
        try:
            t = float(text)
        except ValueError:
            return None, f"体温“{str(value)[:20]}”不是数字"
    if not math.isfinite(t) or not MIN_TEMPERATURE_C <= t <= MAX_TEMPERATURE_C:
        return None, f"体温 {t:g} ℃ 不在 {MIN_TEMPERATURE_C:g}–{MAX_TEMPERATURE_C:g} ℃ 之间，应为测量错误"
    return round(t, 1), ""


def check_record(rec: BoardingInput, seats: PlanSeats, fever_threshold_c: float, *,
                 township: str | None = None) -> BoardingRecord | BoardingProblem:
    """The record checked against the plan and the store (see the module docstring).

    ``township``: when the record comes from a township's list, the worker must
    belong to that township.
    """
    tid, wid = str(rec.trip_id).strip(), str(rec.worker_id).strip()
    if tid not in seats.trip_ids:
        return BoardingProblem(rec.where, f"车次 {tid[:40]} 不在计划 {seats.plan_id} 中，未记录")
    if tid not in seats.published:
        return BoardingProblem(rec.where, f"车次 {tid} 尚未发布（planner publish），不能登记上车，未记录")
    on = seats.published[tid]
    if wid not in on:
        return BoardingProblem(rec.where, f"务工人员 {wid[:40]} 不在车次 {tid} 的乘车名单中，未记录")
    if township is not None and on[wid] != township:
        return BoardingProblem(rec.where, f"务工人员 {wid} 属于乡镇 {on[wid]}，不属于本名单的乡镇 {township}，未记录")
    status = str(rec.status or "").strip()
    if status and status not in BOARDING_STATUSES:
        return BoardingProblem(rec.where, f"状态“{status[:20]}”无效，应为 {'、'.join(BOARDING_STATUSES)} 之一，未记录")
    temp, err = parse_temperature(rec.temperature)
    if err:
        return BoardingProblem(rec.where, err + "，未记录")
    if temp is not None and temp >= fever_threshold_c:
        status = "fever"  # at or above the threshold: taken off, whatever was ticked
    if not status:
        return BoardingProblem(rec.where, "没有上车确认（状态），未记录")
    if status == "fever" and temp is None:
        return BoardingProblem(rec.where, "状态为发热但没有体温，请填写体温，未记录")
    return BoardingRecord(tid, wid, status, temp, rec.origin)


def record_boarding(store: Store, seats: PlanSeats, records: Iterable[BoardingInput], *, by: str,
                    fever_threshold_c: float, source: str, township: str | None = None) -> BoardingResult:
    """Check every record, write the good ones in one transaction, return both.

    ``source`` is 'app', 'cli' or 'import:<file name>'; each record's ``origin``
    is appended to it in the store (the sheet and row of an imported file, the
    seat in the app). ``where`` (which may name the person) only goes into messages.
    """
    applied: list[BoardingRecord] = []
    problems: list[BoardingProblem] = []
    for rec in records:
        out = check_record(rec, seats, fever_threshold_c, township=township)
        (problems if isinstance(out, BoardingProblem) else applied).append(out)
    by = str(by).strip()[:80]
    if applied:
        at = now_iso()

        def work(conn: Connection) -> None:
            _known_plan(conn, seats.plan_id)
            conn.execute(boarding_records.insert(), [dict(
                trip_id=r.trip_id, worker_id=r.worker_id, plan_id=seats.plan_id, status=r.status,
                temperature_c=r.temperature_c, recorded_by=by, recorded_at=at,
                source=f"{source}#{r.source}" if r.source else source) for r in applied])

        store.write(work)
    return BoardingResult(applied, problems)


def _known_plan(conn: Connection, plan_id: str) -> None:
    if conn.execute(select(plan_versions.c.plan_id).where(plan_versions.c.plan_id == plan_id)).first() is None:
        msg = f"计划版本 {plan_id} 未在数据库中登记 (plan version unknown to the store)"
        raise ValueError(msg)


def current_boarding(store: Store, trip_ids: Iterable[str] | None = None) -> pd.DataFrame:
    """The record that stands (the latest) per (trip, worker), with the number of records kept for it.

    Columns: trip_id, worker_id, status, temperature_c, recorded_by,
    recorded_at, source, records. Records are keyed by trip (a published trip
    is the same in every plan version carrying it), not by plan version.
    """
    b = boarding_records
    latest = select(func.max(b.c.id).label("id"), func.count().label("records")).group_by(b.c.trip_id, b.c.worker_id)
    if trip_ids is not None:
        ids = sorted({str(t) for t in trip_ids})
        if not ids:
            return _empty_current()
        latest = latest.where(b.c.trip_id.in_(ids))
    latest = latest.subquery()
    q = (select(b.c.trip_id, b.c.worker_id, b.c.status, b.c.temperature_c, b.c.recorded_by, b.c.recorded_at,
                b.c.source, latest.c.records).join(latest, latest.c.id == b.c.id)
         .order_by(b.c.trip_id, b.c.worker_id))
    with store.read() as conn:
        rows = conn.execute(q).all()
    if not rows:
        return _empty_current()
    return pd.DataFrame(rows, columns=_CURRENT_COLUMNS)


_CURRENT_COLUMNS = ["trip_id", "worker_id", "status", "temperature_c", "recorded_by", "recorded_at", "source", "records"]


def _empty_current() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in _CURRENT_COLUMNS})


def boarding_history(store: Store, trip_id: str, worker_id: str) -> pd.DataFrame:
    """Every record of one person on one trip, oldest first (the history is never rewritten)."""
    b = boarding_records
    with store.read() as conn:
        rows = conn.execute(select(b).where(b.c.trip_id == trip_id, b.c.worker_id == worker_id)
                            .order_by(b.c.id)).all()
    return pd.DataFrame(rows, columns=[c.name for c in b.columns])


def status_label(status: str) -> str:
    """The Chinese word for a boarding status."""
    return BOARDING_STATUS_LABELS.get(status, status)
