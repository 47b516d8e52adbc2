"""Contact tracing from a plan: who shared a vehicle or a hub with a worker, who rode a trip.

Every passenger of a plan must be traceable. This module reads only the plan
tables (:class:`planner.plan_format.PlanFiles`) and works on ids alone
(worker ids, trip ids, place ids): it holds no names, ID numbers or phones. A
caller may join those later from the scenario (``documents.common.DocData``).

Two kinds of contact are reported by :func:`trace_worker`:

* ``同车`` (same vehicle): another worker on the same trip whose time on board
  overlaps the traced worker's (``board < other alight`` and ``other board <
  alight``), with where and when the shared stretch began and ended and how
  many seat rows apart the two sat.
* ``同站`` (same hub): another worker who alighted or boarded at the same hub
  (a stop whose ``place_kind`` is ``hub`` or ``station``) within
  ``hub_window_min`` minutes of the traced worker's own time there. A worker's
  time at a hub is a stay: from alighting (leg k) to boarding there again
  (leg k+1), or the one instant when they only board or only alight there; two
  stays are contacts when they overlap or come within the window of each other
  (so a long wait at the terminal is not missed).

Everything is done with pandas merges on the legs table, no Python loop over
legs, so one worker is traced in milliseconds even on a province-size plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from planner.plan_format import PlanFiles
from planner.errors import DataError

SAME_VEHICLE = "同车"
SAME_HUB = "同站"
KIND_ORDER = (SAME_VEHICLE, SAME_HUB)
HUB_KINDS = ("hub", "station")

TRACE_COLUMNS = [
    "worker_id",              # the traced worker
    "kind",                   # 同车 or 同站
    "contact_id",             # the contact's worker id
    "trip_id",                # 同车: the shared trip; 同站: the traced worker's trip at the hub
    "mode",                   # of trip_id
    "vehicle_id",             # of trip_id
    "shared_from_place_id",   # 同车: where the later of the two boarded; 同站: the hub
    "shared_from_time",       # 同车: the later boarding; 同站: the earlier of the two times at the hub
    "shared_until_place_id",  # 同车: where the earlier of the two alighted; 同站: the hub
    "shared_until_time",      # 同车: the earlier alighting; 同站: the later of the two times at the hub
    "seat",                   # 同车: the traced worker's seat
    "contact_seat",           # 同车: the contact's seat
    "rows_apart",             # 同车: |row - contact row|, empty when a seat cannot be parsed
    "hub_id",                 # 同站: the hub
    "hub_arrive_time",        # 同站: the traced worker alighted at the hub (empty if they started there)
    "hub_leave_time",         # 同站: the traced worker boarded at the hub (empty if they ended there)
    "contact_trip_id",        # 同车: = trip_id; 同站: the contact's trip at the hub
    "contact_hub_arrive_time",  # 同站: the contact alighted at the hub
    "contact_hub_leave_time",   # 同站: the contact boarded at the hub
    "minutes_apart",          # 同站: minutes between the two stays at the hub (0 when they overlap)
    "basis",                  # recorded: the contact's boarding on trip_id/contact_trip_id is recorded; planned: from the plan
]

TRIP_COLUMNS = [
    "trip_id", "mode", "vehicle_id", "worker_id", "leg", "seat",
    "board_place_id", "board_time", "alight_place_id", "alight_time",
    "previous_trip_ids",      # the passenger's trips before this one, in travel order, ';'-separated
    "next_trip_ids",          # the passenger's trips after this one, in travel order, ';'-separated
    "basis",                  # recorded (boarding recorded in the store) or planned
]

# Chinese headers for people who open the CSV in Excel (ids stay the column names of the frames).
ZH_HEADERS = {
    "worker_id": "被追踪人员编号", "kind": "接触类型", "contact_id": "接触人员编号", "trip_id": "车次",
    "mode": "方式", "vehicle_id": "车辆", "shared_from_place_id": "同行起点", "shared_from_time": "同行开始",
    "shared_until_place_id": "同行终点", "shared_until_time": "同行结束", "seat": "座位",
    "contact_seat": "接触人员座位", "rows_apart": "相隔排数", "hub_id": "枢纽", "hub_arrive_time": "到站时间",
    "hub_leave_time": "离站时间", "contact_trip_id": "接触人员车次", "contact_hub_arrive_time": "接触人员到站时间",
    "contact_hub_leave_time": "接触人员离站时间", "minutes_apart": "相隔分钟", "leg": "行程段",
    "board_place_id": "上车地点", "board_time": "上车时间", "alight_place_id": "下车地点",
    "alight_time": "下车时间", "previous_trip_ids": "此前车次", "next_trip_ids": "此后车次",
    "basis": "依据",
}
RECORDED = "recorded"  # from boarding recorded in the store (who actually sat where)
PLANNED = "planned"  # from the plan (no boarding recorded for that person on that trip)
BASIS_LABELS = {RECORDED: "上车登记", PLANNED: "计划"}

_LEG_COLS = ["worker_id", "leg", "trip_id", "seat", "board_place_id", "board_time", "alight_place_id", "alight_time"]


def seat_row(seat: pd.Series) -> pd.Series:
    """Row numbers of seats like ``3C`` (row 3, seat C) as nullable Int64; <NA> when unparseable."""
    rows = seat.astype("string").str.extract(r"^\s*(\d+)\s*[A-Za-z]+\s*$", expand=False)
    return pd.to_numeric(rows, errors="coerce").astype("Int64")


def _legs(plan: PlanFiles) -> pd.DataFrame:
    legs = plan.legs[_LEG_COLS].copy()
    for c in ("worker_id", "trip_id", "seat", "board_place_id", "alight_place_id"):
        legs[c] = legs[c].astype(object).where(legs[c].notna(), "").astype(str)
    return legs


def _trip_info(plan: PlanFiles) -> pd.DataFrame:
    trips = plan.trips[["trip_id", "mode", "vehicle_id"]].copy()
    for c in trips.columns:
        trips[c] = trips[c].astype(object).where(trips[c].notna(), "").astype(str)
    return trips.drop_duplicates("trip_id")


@dataclass
class TraceSource:
    """What a trace reads: legs (typed, with ``basis``), trip info (trip_id, mode, vehicle_id), the hub ids.

    Built from a whole plan (:meth:`from_plan`) or from the few rows a store's
    legs index returns (:func:`planner.store.legs_index.trace_source`): the
    trace functions only need the legs of the traced worker, of everyone on
    their trips and of everyone at their hubs around their time there.
    """

    legs: pd.DataFrame
    trips: pd.DataFrame
    hubs: pd.Index
    known_workers: frozenset[str] | None = None  # None: every worker with legs (plus those checked by the caller)

    @classmethod
    def from_plan(cls, plan: PlanFiles, boarding: pd.DataFrame | None = None) -> TraceSource:
        hubs = hub_ids(plan)
        known = frozenset(plan.workers["worker_id"].astype(str)) if "worker_id" in plan.workers else frozenset()
        return cls(apply_boarding(_legs(plan), boarding), _trip_info(plan), hubs, known)


def apply_boarding(legs: pd.DataFrame, boarding: pd.DataFrame | None) -> pd.DataFrame:
    """Legs as they happened: a person recorded absent, feverish or refused on a trip is off it and every later leg.

    ``boarding``: the records that stand (trip_id, worker_id, status), e.g.
    :func:`planner.store.boarding.current_boarding`. Each remaining leg gets
    ``basis``: ``recorded`` when the person's boarding of that trip is
    recorded, ``planned`` otherwise.
    """
    legs = legs.copy()
    legs["basis"] = PLANNED
    if boarding is None or not len(boarding):
        return legs
    rec = boarding[["trip_id", "worker_id", "status"]].astype(str)
    m = legs[["worker_id", "trip_id", "leg"]].reset_index().merge(rec, on=["worker_id", "trip_id"])
    if m.empty:
        return legs
    legs.loc[m.loc[m["status"] == "boarded", "index"], "basis"] = RECORDED
    off = m[m["status"] != "boarded"].groupby("worker_id")["leg"].min()
    if len(off):
        first_off = legs["worker_id"].map(off)
        legs = legs[~(first_off.notna() & (legs["leg"] >= first_off))]
    return legs


def _empty_trace() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="Int64" if c == "rows_apart" else object) for c in TRACE_COLUMNS})


def trace_worker(plan: PlanFiles, worker_id: str, *, hub_window_min: int = 60) -> pd.DataFrame:
    """Everyone who shared a vehicle or passed through a hub around the same time as ``worker_id``.

    One ``同车`` row per (contact, trip) for every other worker on one of the
    worker's trips whose time on board overlaps theirs (``board_time <
    other alight_time`` and ``other board_time < alight_time``), and one ``同站``
    row per (contact, traced worker's stay at a hub, contact's stay there) for
    every other worker whose stay at that hub overlaps the traced worker's or
    comes within ``hub_window_min`` minutes of it (see the module docstring). Columns are :data:`TRACE_COLUMNS`; rows are sorted by
    kind (同车 first), trip, rows apart and contact. A worker of the plan with
    no legs (unassigned) has no contacts: the frame is empty.

    Raises DataError when the worker id is in neither ``legs`` nor ``workers``.
    """
    return trace_worker_from(TraceSource.from_plan(plan), worker_id, hub_window_min=hub_window_min)


def trace_worker_from(source: TraceSource, worker_id: str, *, hub_window_min: int = 60) -> pd.DataFrame:
    """:func:`trace_worker` on a :class:`TraceSource` (a whole plan, or rows from the store's legs index).

    With boarding applied (:func:`apply_boarding`), contacts are who actually
    sat there where boarding is recorded and who was planned there elsewhere;
    ``basis`` says which, for the contact's leg.
    """
    wid = str(worker_id)
    legs = source.legs
    if "basis" not in legs.columns:
        legs = legs.assign(basis=PLANNED)
    own = legs[legs["worker_id"] == wid]
    if own.empty:
        if source.known_workers is not None and wid not in source.known_workers:
            msg = f"计划中没有务工人员 {wid}，无法追踪 (worker id {wid} is not in the plan)"
            raise DataError(msg)
        return _empty_trace()
    trips = source.trips
    frames = [_same_vehicle(own, legs, wid), _same_hub(source.hubs, own, legs, wid, hub_window_min)]
    frames = [f for f in frames if len(f)]
    if not frames:
        return _empty_trace()
    out = pd.concat(frames, ignore_index=True)
    out = out.merge(trips, on="trip_id", how="left")
    out["worker_id"] = wid
    for c in TRACE_COLUMNS:
        if c not in out.columns:
            out[c] = np.nan
    out["rows_apart"] = out["rows_apart"].astype("Int64")
    out["_kind"] = out["kind"].map({k: i for i, k in enumerate(KIND_ORDER)})
    out = out.sort_values(["_kind", "trip_id", "rows_apart", "contact_id", "contact_trip_id", "hub_id"],
                          na_position="last", kind="stable")
    return out[TRACE_COLUMNS].reset_index(drop=True)


def _same_vehicle(own: pd.DataFrame, legs: pd.DataFrame, wid: str) -> pd.DataFrame:
    """Co-passengers: same trip, overlapping time on board; one row per (contact, trip)."""
    other = legs[legs["worker_id"] != wid]
    m = own.merge(other, on="trip_id", suffixes=("", "_c"))
    m = m[(m["board_time"] < m["alight_time_c"]) & (m["board_time_c"] < m["alight_time"])]
    if m.empty:
        return m.iloc[0:0]
    later_board = m["board_time_c"] > m["board_time"]
    earlier_alight = m["alight_time_c"] < m["alight_time"]
    f = pd.DataFrame({
        "kind": SAME_VEHICLE,
        "contact_id": m["worker_id_c"],
        "trip_id": m["trip_id"],
        "contact_trip_id": m["trip_id"],
        "shared_from_place_id": m["board_place_id_c"].where(later_board, m["board_place_id"]),
        "shared_from_time": m["board_time_c"].where(later_board, m["board_time"]),
        "shared_until_place_id": m["alight_place_id_c"].where(earlier_alight, m["alight_place_id"]),
        "shared_until_time": m["alight_time_c"].where(earlier_alight, m["alight_time"]),
        "seat": m["seat"],
        "contact_seat": m["seat_c"],
        "basis": m["basis_c"],
    })
    f["rows_apart"] = (seat_row(f["seat"]) - seat_row(f["contact_seat"])).abs()
    # a pair sharing one trip on several legs (not expected) still gives one row: the whole span
    key = ["contact_id", "trip_id"]
    if f.duplicated(key).any():
        first = f.sort_values("shared_from_time", kind="stable").drop_duplicates(key, keep="first")
        last = f.sort_values("shared_until_time", kind="stable").drop_duplicates(key, keep="last")
        until = ["shared_until_place_id", "shared_until_time"]
        f = first.drop(columns=until).merge(last[key + until], on=key)
    return f


def _hub_stays(legs: pd.DataFrame, hubs: pd.Index) -> pd.DataFrame:
    """Each worker's stays at hubs: worker_id, hub_id, arrive, leave, start, end, trip_id.

    Alighting at a hub on leg k and boarding there on leg k+1 is one stay (the
    wait for the connection); a boarding or alighting alone is a stay of one
    instant. ``trip_id`` is the trip the worker leaves on (or arrived by, when
    the hub is where they end).
    """
    if "basis" not in legs.columns:
        legs = legs.assign(basis=PLANNED)
    cols = ["worker_id", "hub_id", "visit", "time", "trip_id", "basis"]
    b = legs.loc[legs["board_place_id"].isin(hubs),
                 ["worker_id", "board_place_id", "leg", "board_time", "trip_id", "basis"]]
    b = b.set_axis(cols, axis=1).rename(columns={"time": "leave", "trip_id": "trip_out", "basis": "basis_out"})
    a = legs.loc[legs["alight_place_id"].isin(hubs),
                 ["worker_id", "alight_place_id", "leg", "alight_time", "trip_id", "basis"]]
    a = a.set_axis(cols, axis=1).rename(columns={"time": "arrive", "trip_id": "trip_in", "basis": "basis_in"})
    a["visit"] = a["visit"] + 1
    st = a.merge(b, on=["worker_id", "hub_id", "visit"], how="outer")
    st["start"] = st["arrive"].fillna(st["leave"])
    st["end"] = st["leave"].fillna(st["arrive"])
    st["trip_id"] = st["trip_out"].fillna(st["trip_in"])
    st["basis"] = st["basis_out"].fillna(st["basis_in"])
    return st[st["start"].notna()].drop(columns=["visit", "trip_in", "trip_out", "basis_in", "basis_out"])


def hub_ids(plan: PlanFiles) -> pd.Index:
    """The places of a plan that are hubs or stations (where 同站 contacts are looked for)."""
    st = plan.stops
    return pd.Index(st.loc[st["place_kind"].astype(str).isin(HUB_KINDS), "place_id"].astype(str).unique())


def _same_hub(hubs: pd.Index, own: pd.DataFrame, legs: pd.DataFrame, wid: str, window_min: int) -> pd.DataFrame:
    """Workers whose stay at a hub comes within the window of the traced worker's stay there.

    One row per (contact, traced worker's stay, contact's stay).
    """
    if hubs.empty:
        return pd.DataFrame()
    mine = _hub_stays(own, hubs)
    if mine.empty:
        return pd.DataFrame()
    near = legs["board_place_id"].isin(mine["hub_id"]) | legs["alight_place_id"].isin(mine["hub_id"])
    theirs = _hub_stays(legs[near & (legs["worker_id"] != wid)], hubs)
    m = mine.merge(theirs, on="hub_id", suffixes=("", "_c"))
    window = pd.Timedelta(minutes=window_min)
    m = m[(m["start_c"] <= m["end"] + window) & (m["start"] <= m["end_c"] + window)]
    if m.empty:
        return pd.DataFrame()
    late_start = m["start"].where(m["start"] >= m["start_c"], m["start_c"])
    early_end = m["end"].where(m["end"] <= m["end_c"], m["end_c"])
    overlap = late_start <= early_end
    gap = (late_start - early_end).where(~overlap, pd.Timedelta(0))
    return pd.DataFrame({
        "kind": SAME_HUB,
        "contact_id": m["worker_id_c"],
        "trip_id": m["trip_id"],
        "contact_trip_id": m["trip_id_c"],
        "shared_from_place_id": m["hub_id"],
        "shared_from_time": late_start.where(overlap, early_end),
        "shared_until_place_id": m["hub_id"],
        "shared_until_time": early_end.where(overlap, late_start),
        "hub_id": m["hub_id"],
        "hub_arrive_time": m["arrive"],
        "hub_leave_time": m["leave"],
        "contact_hub_arrive_time": m["arrive_c"],
        "contact_hub_leave_time": m["leave_c"],
        "minutes_apart": (gap.dt.total_seconds() / 60).round(1),
        "basis": m["basis_c"],
    })


def trace_trip(plan: PlanFiles, trip_id: str) -> pd.DataFrame:
    """The passenger list of a trip, each passenger with their trips before and after it.

    One row per passenger leg on the trip (columns :data:`TRIP_COLUMNS`), sorted
    by seat row, seat letter and worker id; ``previous_trip_ids`` and
    ``next_trip_ids`` list the passenger's other trips in travel order
    (``;``-separated), so a trip can be traced back to the feeders that brought
    its passengers and forward to where they went. A trip without passengers
    (an empty return) gives an empty frame.

    Raises DataError when the trip id is in neither ``trips`` nor ``legs``.
    """
    return trace_trip_from(TraceSource.from_plan(plan), trip_id)


def trace_trip_from(source: TraceSource, trip_id: str) -> pd.DataFrame:
    """:func:`trace_trip` on a :class:`TraceSource`; ``basis`` says whether each boarding is recorded or planned."""
    tid = str(trip_id)
    legs = source.legs
    if "basis" not in legs.columns:
        legs = legs.assign(basis=PLANNED)
    trips = source.trips
    on = legs[legs["trip_id"] == tid]
    if on.empty and not (trips["trip_id"] == tid).any():
        msg = f"计划中没有车次 {tid}，无法追踪 (trip id {tid} is not in the plan)"
        raise DataError(msg)
    if on.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in TRIP_COLUMNS})
    out = on.merge(trips, on="trip_id", how="left")
    # every leg of the passengers, joined to the leg number they ride this trip on
    theirs = legs[legs["worker_id"].isin(on["worker_id"])].merge(
        on[["worker_id", "leg"]].rename(columns={"leg": "this_leg"}), on="worker_id")
    theirs = theirs.sort_values(["worker_id", "leg"], kind="stable")
    before = theirs[theirs["leg"] < theirs["this_leg"]].groupby(["worker_id", "this_leg"])["trip_id"].agg(";".join)
    after = theirs[theirs["leg"] > theirs["this_leg"]].groupby(["worker_id", "this_leg"])["trip_id"].agg(";".join)
    key = pd.MultiIndex.from_arrays([out["worker_id"], out["leg"]])
    out["previous_trip_ids"] = before.reindex(key).fillna("").to_numpy()
    out["next_trip_ids"] = after.reindex(key).fillna("").to_numpy()
    out["_row"] = seat_row(out["seat"])
    out["_letter"] = out["seat"].str.extract(r"([A-Za-z]+)\s*$", expand=False).fillna("")
    out = out.sort_values(["_row", "_letter", "worker_id", "leg"], na_position="last", kind="stable")
    return out[TRIP_COLUMNS].reset_index(drop=True)


def write_trace_csv(frame: pd.DataFrame, path: Path, *, zh_headers: bool = False, excel_safe: bool = True) -> Path:
    """Write a trace frame as CSV in UTF-8 with a BOM, so Excel opens the Chinese correctly.

    Times are written ISO 8601 with their offset, like the plan files. With
    ``zh_headers`` the header row uses :data:`ZH_HEADERS` (for people), otherwise
    the stable column ids (for programs). With ``excel_safe`` (the default) a
    text cell starting like a formula (``= + - @``, tab, CR) gets a leading
    ``'`` (OWASP's CSV-injection advice: ids come from input data). The file
    is written atomically. Returns the path written.
    """
    from planner.documents.common import atomic_output, write_csv_for_people

    path = Path(path)
    out = frame.copy()
    for c in out.columns:
        if isinstance(out[c].dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].map(lambda t: "" if pd.isna(t) else pd.Timestamp(t).isoformat())
    if zh_headers:
        out = out.rename(columns=ZH_HEADERS)
    if excel_safe:
        return write_csv_for_people(out, path)
    with atomic_output(path) as tmp:
        out.to_csv(tmp, index=False, encoding="utf-8-sig")
    return path
