"""The legs of a plan version indexed in the store, so one trace reads a few rows instead of every CSV.

``planner trace`` on a municipality plan used to read the whole plan (9.2 s,
870 MB for one worker). :func:`ensure_index` copies a plan's legs once into
``plan_legs`` (indexed by worker, trip and by place and time), with each trip's
mode and vehicle and the plan's hubs; :func:`trace_source` then fetches only
what a trace needs: the worker's legs, the legs on their trips, and the legs
at their hubs within the hub window plus the longest stay at a hub in the
plan (so a contact whose wait spans the worker's is not missed), and the
boarding recorded for those people. The index is keyed by ``plan_id``: it is
built from a verified read of exactly those plan files and never changes.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy import and_, or_, select, tuple_
from sqlalchemy.exc import IntegrityError

from planner.documents.trace import TraceSource, _hub_stays, _legs, _trip_info, apply_boarding, hub_ids
from planner.plan_format import PlanFiles, format_table, parse_times, plan_id as summary_plan_id, read_plan, \
    read_summary
from planner.store.db import Store, now_iso
from planner.store.schema import boarding_records, plan_hubs, plan_indexes, plan_legs, plan_trip_info, store_meta

CHUNK = 20_000
_LEG_TEXT = ["worker_id", "leg", "trip_id", "seat", "board_place_id", "board_time", "alight_place_id", "alight_time"]


def indexed(store: Store, plan_id: str) -> bool:
    with store.read() as conn:
        return conn.execute(select(plan_indexes.c.plan_id).where(plan_indexes.c.plan_id == plan_id)).first() is not None


def index_plan(store: Store, plan: PlanFiles) -> int:
    """Copy a (verified) plan's legs, trip info and hubs into the store in one transaction; return the legs written."""
    pid = plan.plan_id
    text = format_table("legs", plan.legs)
    for c in text.columns:
        if c != "leg":
            text[c] = text[c].astype(str)
    text["leg"] = plan.legs["leg"].astype(int).to_numpy()
    trips = _trip_info(plan)
    hubs = hub_ids(plan)
    stays = _hub_stays(_legs(plan), hubs)
    longest = int(((stays["end"] - stays["start"]).max() or pd.Timedelta(0)).total_seconds() // 60 + 1) \
        if len(stays) else 0

    def work(conn) -> int:  # noqa: ANN001
        if conn.execute(select(plan_indexes.c.plan_id).where(plan_indexes.c.plan_id == pid)).first() is not None:
            return 0  # another process indexed it meanwhile
        for i in range(0, len(text), CHUNK):  # chunk by chunk: a municipality's legs never sit in memory as dicts
            part = text.iloc[i:i + CHUNK][_LEG_TEXT].assign(plan_id=pid)
            conn.execute(plan_legs.insert(), part.to_dict("records"))
        if len(trips):
            conn.execute(plan_trip_info.insert(), [dict(plan_id=pid, trip_id=t, mode=m, vehicle_id=v)
                                                   for t, m, v in trips[["trip_id", "mode", "vehicle_id"]]
                                                   .itertuples(index=False, name=None)])
        if len(hubs):
            conn.execute(plan_hubs.insert(), [dict(plan_id=pid, place_id=h) for h in hubs])
        conn.execute(store_meta.insert().values(key=f"longest_hub_stay_min:{pid}", value=str(longest)))
        conn.execute(plan_indexes.insert().values(plan_id=pid, legs=len(text), built_at=now_iso()))
        return len(text)

    return store.write(work)


def ensure_index(store: Store, plan_dir: Path) -> str:
    """The plan's id, its legs indexed in the store (read and verified once, the first time)."""
    pid = summary_plan_id(read_summary(Path(plan_dir)))
    if pid and indexed(store, pid):
        return pid
    plan = read_plan(Path(plan_dir))
    try:
        index_plan(store, plan)
    except IntegrityError:
        # another process indexed the same plan version at the same moment (PostgreSQL: no write lock up front)
        if not indexed(store, plan.plan_id):
            raise
    return plan.plan_id


def _frame(rows: list) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=_LEG_TEXT) if rows else pd.DataFrame(columns=_LEG_TEXT)
    df = df.drop_duplicates(["worker_id", "leg"])
    df["leg"] = df["leg"].astype("int64")
    for c in ("board_time", "alight_time"):
        df[c] = parse_times(df[c])
    return df.reset_index(drop=True)


def _boarding(conn, workers: set[str]) -> pd.DataFrame:  # noqa: ANN001
    b = boarding_records
    if not workers:
        return pd.DataFrame(columns=["trip_id", "worker_id", "status"])
    rows = []
    ids = sorted(workers)
    for i in range(0, len(ids), 500):
        rows += conn.execute(select(b.c.id, b.c.trip_id, b.c.worker_id, b.c.status)
                             .where(b.c.worker_id.in_(ids[i:i + 500]))).all()
    df = pd.DataFrame(rows, columns=["id", "trip_id", "worker_id", "status"])
    return df.sort_values("id").drop_duplicates(["trip_id", "worker_id"], keep="last")


def trace_source(store: Store, plan_id: str, *, worker_id: str | None = None, trip_id: str | None = None,
                 hub_window_min: int = 60) -> TraceSource:
    """The rows a trace of one worker (or one trip) needs, from the index, with recorded boarding applied."""
    L = plan_legs
    cols = [L.c[c] for c in _LEG_TEXT]
    with store.read() as conn:
        def legs_where(*cond) -> list:
            return conn.execute(select(*cols).where(L.c.plan_id == plan_id, *cond)).all()

        hubs = pd.Index([r[0] for r in conn.execute(select(plan_hubs.c.place_id)
                                                    .where(plan_hubs.c.plan_id == plan_id))])
        rows: list = []
        if worker_id is not None:
            own = legs_where(L.c.worker_id == str(worker_id))
            rows += own
            trips = sorted({r.trip_id for r in own})
            if trips:
                rows += legs_where(L.c.trip_id.in_(trips))
            meta = conn.execute(select(store_meta.c.value)
                                .where(store_meta.c.key == f"longest_hub_stay_min:{plan_id}")).first()
            margin = timedelta(minutes=hub_window_min + (int(meta[0]) if meta else 24 * 60))
            own_df = _frame(own)
            stays = _hub_stays(own_df, hubs) if len(own_df) else pd.DataFrame()
            conds = []
            for s in stays.itertuples(index=False):
                lo = (s.start - margin).isoformat()
                hi = (s.end + margin).isoformat()
                conds.append(and_(L.c.board_place_id == s.hub_id, L.c.board_time >= lo, L.c.board_time <= hi))
                conds.append(and_(L.c.alight_place_id == s.hub_id, L.c.alight_time >= lo, L.c.alight_time <= hi))
            if conds:
                rows += legs_where(or_(*conds))
            known = frozenset({str(worker_id)}) if own else None
        else:
            on = legs_where(L.c.trip_id == str(trip_id))
            people = sorted({r.worker_id for r in on})
            for i in range(0, len(people), 500):
                rows += legs_where(L.c.worker_id.in_(people[i:i + 500]))
            known = None
        legs = _frame(rows)
        # every leg of the people found, so a person taken off an earlier leg is off the later ones too
        people = set(legs["worker_id"])
        records = _boarding(conn, people)
        if len(records):
            pairs = sorted(set(zip(records["worker_id"], records["trip_id"])) -
                           set(zip(legs["worker_id"], legs["trip_id"])))
            extra: list = []
            for i in range(0, len(pairs), 300):
                extra += legs_where(tuple_(L.c.worker_id, L.c.trip_id).in_(pairs[i:i + 300]))
            if extra:
                legs = pd.concat([legs, _frame(extra)], ignore_index=True).drop_duplicates(["worker_id", "leg"])
        trip_ids = sorted(set(legs["trip_id"]) | ({str(trip_id)} if trip_id else set()))
        info = []
        for i in range(0, len(trip_ids), 500):
            info += conn.execute(select(plan_trip_info.c.trip_id, plan_trip_info.c.mode, plan_trip_info.c.vehicle_id)
                                 .where(plan_trip_info.c.plan_id == plan_id,
                                        plan_trip_info.c.trip_id.in_(trip_ids[i:i + 500]))).all()
    trips = pd.DataFrame(info, columns=["trip_id", "mode", "vehicle_id"])
    legs = apply_boarding(legs, records)
    return TraceSource(legs, trips, hubs, known)


def worker_in_plan(plan_dir: Path, worker_id: str) -> bool:
    """Whether ``workers.csv`` lists the worker (for a worker with no legs: unassigned, not unknown)."""
    wid = str(worker_id)
    with open(Path(plan_dir) / "workers.csv", encoding="utf-8") as f:
        return any(wid in line and wid in line.split(",") for line in f)
