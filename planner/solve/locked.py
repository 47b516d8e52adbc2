"""What a replan fixes before the solver starts: locked trips, the people on them, the vehicles out on them.

``planner replan`` (:mod:`planner.replan`) builds a :class:`LockedInput` from the
base plan's files and the store's :class:`planner.store.locks.LockedPlan`, and
sets it as ``ProblemData.locked``. The solver then applies it at four marked
places, and nowhere else:

* :meth:`LockedInput.earliest` (worker eligibility): nothing departs before
  ``not_before`` (the day after the lock date);
* :meth:`LockedInput.hold` (worker eligibility): the people still on a locked trip
  are not planned again; somebody taken off with a fever travels again only with
  a health proof issued after the day of that trip (else ``fever_at_boarding``);
* :meth:`LockedInput.apply_fleet` (a county's fleet): a vehicle out on a locked
  trip, its empty return included, is free only once it is back (and its drivers
  rested); a feeder bus's locked runs count towards its driver rules;
* :meth:`LockedInput.merge` (the plan records): the new trips get ids the base
  plan never used, and the locked trips are added with their rows as the base
  plan has them, minus the people taken off (and the people counts and group
  leader that follow from that).

The locked trips are the published trips of the base plan departing on or before
the lock date, plus what they cannot go without: the other legs of the people on
them (a feeder run and the coach it feeds) and the empty return of a locked coach.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from planner.plan_format import PlanFiles
from planner.solve.feeders import BusRun
from planner.solve.records import PlanParts
from planner.solve.repair import Fill, Repair, _in, hold_reasons

#: the reason a worker still on a locked trip has inside the solver (replaced by their locked legs)
LOCKED = "locked_in_base"
FEVER_REASON = "fever_at_boarding"
_TRIP_ID = re.compile(r"^([A-Za-z])(.*)-(\d+)$")


def _py(v: object) -> object:
    """A typed plan cell as the solver's records hold it (datetimes, plain ints and floats, '' for none)."""
    if isinstance(v, pd.Timestamp):
        return None if pd.isna(v) else v.to_pydatetime()
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if v is pd.NaT:
        return None
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.floating):
        return float(v)
    return v


def _member(values: np.ndarray, among) -> np.ndarray:  # noqa: ANN001 - a set or dict of str
    """``values[i] in among`` for every i (np.isin on object arrays sorts, and is slow on 15,000 ids)."""
    return np.fromiter((v in among for v in values), dtype=bool, count=len(values))


def _grouped(df: pd.DataFrame, key: str, cols: tuple[str, ...]) -> tuple[list, ...]:
    """Per value of ``key`` (in order of first appearance): the lists of ``cols``; (keys, col1 lists, ...)."""
    out: dict[str, tuple[list, ...]] = {}
    for k, *vals in zip(df[key].astype(str).to_numpy(), *(df[c].astype(str).to_numpy() for c in cols)):
        hit = out.get(k)
        if hit is None:
            out[k] = hit = tuple([] for _ in cols)
        for lst, v in zip(hit, vals):
            lst.append(v)
    return (list(out), *zip(*out.values())) if out else ([], *([] for _ in cols))


def _records(df: pd.DataFrame) -> list[dict]:
    """The rows of a typed plan table as the solver's records hold them (:func:`_py` column by column)."""
    cols = {}
    for c in df.columns:
        col = df[c]
        if isinstance(col.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(col.dtype):
            vals = np.array(col.dt.to_pydatetime(), dtype=object)
            vals[col.isna().to_numpy()] = None
            cols[c] = vals.tolist()
        elif pd.api.types.is_integer_dtype(col.dtype):
            cols[c] = [int(v) for v in col.to_numpy()]
        elif pd.api.types.is_float_dtype(col.dtype):
            cols[c] = [None if np.isnan(v) else float(v) for v in col.to_numpy()]
        elif pd.api.types.is_string_dtype(col.dtype) and not pd.api.types.is_object_dtype(col.dtype):
            vals = col.tolist()  # str, with NA where missing
            miss = col.isna().to_numpy()
            if miss.any():
                for i in np.flatnonzero(miss):
                    vals[i] = _py(vals[i])
            cols[c] = vals
        else:
            cols[c] = [_py(v) for v in col.tolist()]
    names = list(cols)
    return [dict(zip(names, vals)) for vals in zip(*cols.values())]


def _seat_key(seat: str) -> tuple[int, str]:
    m = re.match(r"^(\d+)(.*)$", str(seat))
    return (int(m.group(1)), m.group(2)) if m else (10**6, str(seat))


@dataclass
class VehicleState:
    """When and where a vehicle is free again after its locked trips; a feeder bus's locked runs."""

    free_at: datetime
    at_place: str = ""
    runs: tuple[BusRun, ...] = ()


@dataclass
class LockedInput:
    """A replan's fixed part; see the module docstring."""

    base: PlanFiles
    trip_ids: set[str]  # every locked trip (published ones and what they cannot go without)
    published_ids: set[str]  # the published trips among them (what the store froze)
    keep_legs: pd.DataFrame  # base legs that stay (people still on locked trips)
    removed: dict[str, str]  # worker_id -> why they are off the locked trips (a reason code)
    fever_trip_day: dict[str, date]  # worker taken off with a fever -> the day of that trip
    lock_through: date | None
    not_before: date | None
    vehicles: dict[str, VehicleState] = field(default_factory=dict)
    counties: list[str] = field(default_factory=list)  # repair mode: the counties planned
    filled: dict[str, tuple] = field(default_factory=dict)  # repair: worker put in free kept seats -> outcome
    repair: Repair | None = None  # repair mode: every base trip kept (planner.solve.repair); None: fresh mode

    # ------------------------------------------------------------ building
    @classmethod
    def build(cls, base: PlanFiles, published_ids: Iterable[str], taken_off: Iterable, *, cancelled: Iterable[str],
              lock_through: date | None, not_before: date | None, rest_after_return_h: float, turnaround_h: float,
              feeder_dwell_min: int) -> LockedInput:
        """From the base plan and the store's locked trips (``published_ids``) and people taken off.

        ``not_before``: the first day a new trip may leave (the day after the lock date).
        """
        trips = base.trips.copy()
        trips["trip_id"] = trips["trip_id"].astype(str)
        legs = base.legs.copy()
        legs["worker_id"] = legs["worker_id"].astype(str)
        legs["trip_id"] = legs["trip_id"].astype(str)
        published = {str(t) for t in published_ids} & set(trips["trip_id"])
        removed: dict[str, str] = {}
        fever_day: dict[str, date] = {}
        depart_of = dict(zip(trips["trip_id"], trips["depart"]))
        for t in taken_off:
            if t.worker_id in removed:
                continue
            removed[t.worker_id] = t.reason
            if t.reason == FEVER_REASON and t.trip_id in depart_of:
                fever_day[t.worker_id] = pd.Timestamp(depart_of[t.trip_id]).date()
        for w in cancelled:
            removed.setdefault(str(w), "cancelled")
        # closure: the other legs of everyone who stays on a locked trip, and a locked coach's empty return
        locked = set(published)
        while True:
            on = legs[_in(legs["trip_id"], locked) & ~_in(legs["worker_id"], removed)]
            more = set(legs.loc[_in(legs["worker_id"], set(on["worker_id"])), "trip_id"]) - locked
            if not more:
                break
            locked |= more
        v = trips[trips["vehicle_id"].astype(str) != ""].sort_values(["vehicle_id", "depart", "trip_id"],
                                                                    kind="stable")
        nxt = v.groupby("vehicle_id")["trip_id"].shift(-1)
        nxt_purpose = v.groupby("vehicle_id")["purpose"].shift(-1)
        for tid, n, np_ in zip(v["trip_id"], nxt, nxt_purpose):
            if tid in locked and isinstance(n, str) and np_ == "empty_return":
                locked.add(n)
        keep = legs[_in(legs["trip_id"], locked) & ~_in(legs["worker_id"], removed)].copy()
        out = cls(base, locked, published, keep, removed, fever_day, lock_through, not_before)
        out.vehicles = out._vehicle_states(rest_after_return_h, turnaround_h, feeder_dwell_min)
        return out

    def _vehicle_states(self, rest_h: float, turnaround_h: float, dwell: int) -> dict[str, VehicleState]:
        t = self.base.trips
        t = t[_in(t["trip_id"].astype(str), self.trip_ids) & (t["vehicle_id"].astype(str) != "")]
        t = t[t["mode"].isin(["coach", "feeder"])].sort_values(["vehicle_id", "arrive", "trip_id"], kind="stable")
        stops = self.base.stops
        n_village = stops[stops["place_kind"] == "village"].groupby(stops["trip_id"].astype(str)).size()
        out: dict[str, VehicleState] = {}
        for vid, g in t.groupby("vehicle_id", sort=True):
            last = g.iloc[-1]
            arrive = pd.Timestamp(last["arrive"]).to_pydatetime()
            if last["mode"] == "feeder":
                runs = []
                for r in g.itertuples(index=False):
                    dep, arr = pd.Timestamp(r.depart).to_pydatetime(), pd.Timestamp(r.arrive).to_pydatetime()
                    k = int(n_village.get(str(r.trip_id), 1))
                    driving = max(0.0, (arr - dep).total_seconds() / 60 - dwell * (k - 1))
                    hub = str(r.destination_ids).split(";")[-1]
                    runs.append(BusRun(str(r.origin_id), dep - timedelta(minutes=dwell), arr, hub, driving))
                out[str(vid)] = VehicleState(arrive, str(last["destination_ids"]).split(";")[-1], tuple(runs))
            elif last["purpose"] == "empty_return":
                out[str(vid)] = VehicleState(arrive + timedelta(hours=rest_h))
            else:
                out[str(vid)] = VehicleState(arrive + timedelta(hours=turnaround_h))
        return out

    def with_repair(self, repair: Repair) -> LockedInput:
        """Repair mode: keep every trip ``repair`` keeps, and everybody on them it does not re-pool."""
        self.repair = repair
        legs = self.base.legs.copy()
        legs["worker_id"] = legs["worker_id"].astype(str)
        legs["trip_id"] = legs["trip_id"].astype(str)
        gone = set(self.removed) | set(repair.removed)
        self.keep_legs = legs[_in(legs["trip_id"], self.kept_ids) & ~_in(legs["worker_id"], gone)].copy()
        return self

    def add_filled(self, fill: Fill) -> None:
        """Repair mode: people put into free seats of kept trips ride there (not planned again)."""
        if fill.legs.empty:
            return
        extra = fill.legs.copy()
        top = int(self.base.legs.index.max()) + 1 if len(self.base.legs) else 0
        extra.index = pd.RangeIndex(top, top + len(extra))
        self.keep_legs = pd.concat([self.keep_legs, extra])
        self.filled.update(fill.outcome)
        self.repair.pool -= set(fill.outcome)

    @property
    def kept_ids(self) -> set[str]:
        """The base trips written into the new plan: the locked ones, in repair mode every one kept."""
        if self.repair is None:
            return self.trip_ids
        return self.trip_ids | self.repair.kept | set(self.repair.revehicled)

    def prime(self, ctx) -> None:  # noqa: ANN001 - SolveContext
        """Repair mode: the people kept boarding at each hub count against its daily capacity."""
        if self.repair is not None:
            for key, n in self.repair.hub_used.items():
                ctx.hub_used[key] = ctx.hub_used.get(key, 0) + n

    # ------------------------------------------------------------ solver hooks
    @functools.cached_property
    def was_on(self) -> set[str]:
        """Worker ids the base plan had on a locked trip (still on it or taken off)."""
        legs = self.base.legs
        return set(legs.loc[_in(legs["trip_id"].astype(str), self.trip_ids), "worker_id"].astype(str))

    @property
    def workers(self) -> set[str]:
        """Worker ids still on a locked trip (not planned again)."""
        return set(self.keep_legs["worker_id"])

    def earliest(self, earliest: np.ndarray, start: date) -> np.ndarray:
        """Earliest day offsets with nothing before ``not_before``."""
        if self.not_before is None:
            return earliest
        return np.maximum(earliest, (self.not_before - start).days)

    def hold(self, workers: pd.DataFrame, reason: np.ndarray, start: date) -> None:
        """Mark (in place) the locked workers and the feverish without a newer proof."""
        wid = workers["worker_id"].astype(str).to_numpy()
        free = reason == ""
        reason[free & _member(wid, self.workers)] = LOCKED
        if self.repair is not None:  # the base's unassigned whose data did not change stay so
            hold_reasons(workers, reason, self.repair.held)
        if self.fever_trip_day:
            proof = pd.to_datetime(workers["proof_date"], errors="coerce").dt.date.to_numpy()
            # the fever is why they stay home, whatever else would also keep them (a lapsed proof)
            for i in np.flatnonzero((reason != LOCKED) & _member(wid, self.fever_trip_day)):
                if not (isinstance(proof[i], date) and proof[i] > self.fever_trip_day[wid[i]]):
                    reason[i] = FEVER_REASON

    def apply_fleet(self, coaches: list, feeders: list) -> None:
        """Vehicles out on locked trips are free only once back (a county planner's ``Vehicle``s, in place)."""
        if self.repair is not None:  # kept trips: a coach's busy intervals, a feeder bus's runs
            for v in coaches:
                v.busy = self.repair.busy.get(v.vehicle_id)
            for v in feeders:
                v.runs = tuple(sorted((*v.runs, *self.repair.feeder_runs.get(v.vehicle_id, ())), key=lambda r: r.board))
            feeders = []  # their locked runs are among the kept ones
        for v in (*coaches, *feeders):
            st = self.vehicles.get(v.vehicle_id)
            if st is None:
                continue
            v.free_at = max(v.free_at, st.free_at)
            if st.runs:
                v.at_place = st.at_place
                v.runs = tuple(sorted((*v.runs, *st.runs), key=lambda r: r.board))

    def merge(self, p, parts: PlanParts) -> PlanParts:  # noqa: ANN001 - ProblemData (no import cycle)
        """The new records with fresh trip ids, plus the locked trips, stops, legs and outcomes."""
        renumber(parts, self.base.trips, self.kept_ids)
        kept = self.locked_parts(p)
        if self.repair is not None and self.repair.revehicled:
            self._revehicle_records(p, kept, parts)
        parts.extend(kept)
        return parts

    def _revehicle_records(self, p, kept: PlanParts, new: PlanParts) -> None:  # noqa: ANN001
        """A removed coach's trips carried over by another coach: new ids (after every id in use), the
        other coach's type, seats re-given in the old seat order under the trip's pattern."""
        from planner.rules.seats import allowed_seats

        rv = self.repair.revehicled
        top: dict[str, int] = {}
        for tid in [*self.base.trips["trip_id"].astype(str), *(t["trip_id"] for t in new.trips)]:
            m = _TRIP_ID.match(str(tid))
            if m:
                top[m.group(2)] = max(top.get(m.group(2), 0), int(m.group(3)))
        new_id: dict[str, str] = {}
        for old in sorted(rv, key=lambda t: (rv[t][2], t != rv[t][2], t)):
            m = _TRIP_ID.match(old)
            top[m.group(2)] = top.get(m.group(2), 0) + 1
            new_id[old] = f"{m.group(1)}{m.group(2)}-{top[m.group(2)]:05d}"
        seat_map: dict[str, dict[str, str]] = {}
        for t in kept.trips:
            old = str(t["trip_id"])
            if old not in rv:
                continue
            vid, ty, _lead = rv[old]
            t.update(trip_id=new_id[old], vehicle_id=vid, vehicle_type=ty,
                     seats_rated=p.layouts[ty].rated_seats, seats_allowed=p.seats_for(ty, t["occupancy_rule"]))
            order = allowed_seats(p.layouts[ty], t["occupancy_rule"], p.isolation_rows(ty))
            mine = sorted({leg[3] for leg in kept.legs if leg[2] == old}, key=_seat_key)
            seat_map[old] = dict(zip(mine, order))
        for st in kept.stops:
            if st["trip_id"] in new_id:
                st["trip_id"] = new_id[st["trip_id"]]
        kept.legs = [(a, b, new_id[c], seat_map[c][d], *rest) if c in new_id else (a, b, c, d, *rest)
                     for a, b, c, d, *rest in kept.legs]

    # ------------------------------------------------------------ the locked records
    def locked_parts(self, p) -> PlanParts:  # noqa: ANN001
        """The locked trips as plan records: base rows, people taken off removed."""
        base = self.base
        out = PlanParts(prefix="L")
        pos_of = {w: i for i, w in enumerate(p.workers["worker_id"].astype(str))}
        keep = self.keep_legs[_in(self.keep_legs["worker_id"], pos_of)]
        legs = base.legs.copy()
        legs["trip_id"] = legs["trip_id"].astype(str)
        legs["worker_id"] = legs["worker_id"].astype(str)
        kept = self.kept_ids
        gone = legs[_in(legs["trip_id"], kept) & ~legs.index.isin(keep.index)]
        added = keep[~keep.index.isin(legs.index)]  # repair: people put into free seats
        trips = base.trips[_in(base.trips["trip_id"].astype(str), kept)]
        stops = base.stops[_in(base.stops["trip_id"].astype(str), kept)].copy()
        stops = stops.sort_values(["trip_id", "seq"], kind="stable")
        # people counts of the stops: one fewer where each person taken off boarded and alighted
        stops = stops.reset_index(drop=True)
        at_place: dict[tuple[str, str], list[int]] = {}
        hit_trips = set(gone["trip_id"])
        sel = _in(stops["trip_id"].astype(str), hit_trips)
        for i, t, pl in zip(np.flatnonzero(sel), stops["trip_id"].astype(str).to_numpy()[sel],
                            stops["place_id"].astype(str).to_numpy()[sel]):
            at_place.setdefault((t, pl), []).append(int(i))
        counts = {col: stops[col].to_numpy().copy() for col in ("boarding", "alighting")}
        for r in gone.itertuples(index=False):
            for place, col in ((r.board_place_id, "boarding"), (r.alight_place_id, "alighting")):
                for i in at_place.get((r.trip_id, str(place)), ()):
                    if counts[col][i] > 0:
                        counts[col][i] -= 1
                        break
        if len(added):
            sel = _in(stops["trip_id"].astype(str), set(added["trip_id"]))
            add_at: dict[tuple[str, str], list[int]] = {}
            for i, t, pl in zip(np.flatnonzero(sel), stops["trip_id"].astype(str).to_numpy()[sel],
                                stops["place_id"].astype(str).to_numpy()[sel]):
                add_at.setdefault((t, pl), []).append(int(i))
            for r in added.itertuples(index=False):
                on = add_at.get((r.trip_id, str(r.board_place_id)), [])
                if on:
                    counts["boarding"][on[0]] += 1
                off = add_at.get((r.trip_id, str(r.alight_place_id)), [])
                if off:
                    counts["alighting"][off[-1]] += 1
        for col, arr in counts.items():
            stops[col] = arr
        count = keep.groupby("trip_id").size()
        on_trip = keep.groupby("trip_id")["worker_id"].agg(set).to_dict()
        lost = {str(r["trip_id"]) for r in trips[["trip_id", "leader_worker_id"]].to_dict("records")
                if r["leader_worker_id"] and r["leader_worker_id"] not in on_trip.get(str(r["trip_id"]), ())}
        mine = keep[_in(keep["trip_id"], lost)]
        first_seat = {tid: min(zip(map(_seat_key, seat), wid))[1]
                      for tid, seat, wid in zip(*_grouped(mine, "trip_id", ("seat", "worker_id")))}
        for row in _records(trips):
            tid = str(row["trip_id"])
            if row.get("purpose") != "empty_return":
                row["passengers"] = int(count.get(tid, 0))
                if row.get("leader_worker_id") and row["leader_worker_id"] not in on_trip.get(tid, ()):
                    row["leader_worker_id"] = first_seat.get(tid, "")
            out.trips.append(row)
        out.stops.extend(_records(stops))
        for r in _records(keep):
            out.legs.append((pos_of[r["worker_id"]], int(r["leg"]), r["trip_id"], str(r["seat"]),
                             str(r["board_place_id"]), r["board_time"], str(r["alight_place_id"]), r["alight_time"]))
        w = base.workers
        w = w[_in(w["worker_id"].astype(str), set(keep["worker_id"]))].drop_duplicates("worker_id")
        for r in _records(w[["worker_id", "chain", "depart_day", "planned_arrival"]]):
            if str(r["worker_id"]) in self.filled:
                continue
            day = pd.Timestamp(r["depart_day"]).date()
            out.outcome[pos_of[str(r["worker_id"])]] = (str(r["chain"]), day, r["planned_arrival"])
        for wid, oc in self.filled.items():
            out.outcome[pos_of[wid]] = oc
        return out

    def summary_block(self) -> dict:
        """What summary.json says about the replan (``replan``), read by the checker's locked rules."""
        return {
            "base_plan_id": self.base.plan_id,
            "base_dir": str(self.base.path.resolve()) if self.base.path is not None else "",
            "lock_through": self.lock_through.isoformat() if self.lock_through else "",
            "not_before": self.not_before.isoformat() if self.not_before else "",
            "locked_trips": sorted(self.trip_ids),
            "published_trips": sorted(self.published_ids),
            "taken_off": {w: r for w, r in sorted(self.removed.items()) if w in self.was_on},
            "fever_trip_day": {w: d.isoformat() for w, d in sorted(self.fever_trip_day.items())},
            "vehicles_free_at": {v: s.free_at.isoformat(timespec="seconds") for v, s in sorted(self.vehicles.items())},
            "mode": "repair" if self.repair is not None else "fresh",
            **({"repair": {**self.repair.summary_block(self.counties), "filled_seats": sorted(self.filled)}}
               if self.repair is not None else {}),
        }


def _signature(mode, purpose, vehicle, origin, depart, dests, arrive) -> tuple:  # noqa: ANN001
    from planner.plan_format import iso_time

    return (str(mode), str(purpose), str(vehicle), str(origin), iso_time(depart), str(dests), iso_time(arrive))


def renumber(parts: PlanParts, base_trips: pd.DataFrame, locked: set[str]) -> None:
    """Give every new trip an id the base plan's locked trips never used.

    A new trip that is the same run as a trip of the base plan that was not locked
    (same vehicle, purpose, origin, destinations and times) keeps that trip's id,
    so the people who keep their seat on it are not told of a change; every other
    new trip is numbered after the base plan's trips of its part (same letter and
    county). A carriage keeps its id (its service's): a service is either locked or not.
    """
    taken = set(base_trips["trip_id"].astype(str))
    top: dict[str, int] = {}
    for tid in taken:
        m = _TRIP_ID.match(tid)
        if m:
            top[m.group(2)] = max(top.get(m.group(2), 0), int(m.group(3)))
    free = base_trips[~_in(base_trips["trip_id"].astype(str), locked)]
    same: dict[tuple, str] = {}
    for r in free.itertuples(index=False):
        same.setdefault(_signature(r.mode, r.purpose, r.vehicle_id, r.origin_id, r.depart, r.destination_ids,
                                   r.arrive), str(r.trip_id))
    new_id: dict[str, str] = {}
    used: set[str] = set()
    for t in parts.trips:
        if t.get("mode") == "train":
            continue
        hit = same.get(_signature(t["mode"], t["purpose"], t["vehicle_id"], t["origin_id"], t["depart"],
                                  t["destination_ids"], t["arrive"]))
        if hit is not None and hit not in used:
            new_id[t["trip_id"]] = hit
            used.add(hit)
            continue
        m = _TRIP_ID.match(str(t["trip_id"]))
        if m and m.group(2) in top:
            new_id[t["trip_id"]] = f"{m.group(1)}{m.group(2)}-{int(m.group(3)) + top[m.group(2)]:05d}"
    if not new_id:
        return
    for t in parts.trips:
        t["trip_id"] = new_id.get(t["trip_id"], t["trip_id"])
    for s in parts.stops:
        s["trip_id"] = new_id.get(s["trip_id"], s["trip_id"])
    parts.legs = [(a, b, new_id.get(c, c), *rest) for a, b, c, *rest in parts.legs]
