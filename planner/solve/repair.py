"""Repair mode of ``planner replan``: keep every trip of the base plan, plan only the people it no longer carries.

A fresh replan (``--mode fresh``) keeps the locked trips and plans everything after them
again, so a thousand changes move ten thousand people. Repair mode (the default) keeps
*every* trip of the base plan (:func:`build_repair`), minus:

* the people a replan takes off anyway (recorded absent, feverish or refused on a locked
  trip, cancelled: :class:`planner.solve.locked.LockedInput`);
* the people on unlocked trips whose data no longer allow that trip: not eligible any more
  (proof lapsed, job not confirmed, ...), their trip's departure day outside their
  days today, arriving after the factory's ``needed_by``, their destination closed on
  arrival, or village, factory or family changed (``registration_changed``); a family goes
  together: the other members of such a worker's family are re-pooled with them;
* every unlocked trip of a vehicle no longer in today's fleet (``vehicle_removed``): the
  whole trip is dropped (its empty return too) and its people, on all their legs, re-pooled;
* every unlocked trip today's scenario no longer allows as it is (:func:`_stale_trips`): a train
  carriage whose service was cancelled, re-timed or cut to fewer carriages
  (``train_service_changed``), a passenger trip whose occupancy rule changed with the risk
  calendar at its destinations (``occupancy_rule_changed``); dropped, its people re-pooled;
* trips left with nobody on them (dropped, and a coach's empty return with them);
* a feeder bus's kept run that the bus can no longer reach under the driver rules once a run
  before it was dropped (``feeder_run_rechained``, :class:`_FeederChains`), its people re-pooled.

Only the *pool* is planned: new registrations, the people taken off or re-pooled, and the
people the base plan left unassigned whose data changed (their eligibility today differs
from the base plan's reason, or village / factory / family changed). Everybody else the
base plan left unassigned stays so with their reason (``held``), so a county without
changes has nobody to plan and is not planned at all: its trips are copied.

The pool goes into new trips on vehicles free between the kept trips: a coach's kept
intervals (:class:`planner.solve.busy.Busy`: departure to the drivers' rest after the empty
return), a feeder bus's kept runs in its timeline (new runs fit between them under the
driver rules), the people kept boarding at each hub counted against its daily capacity.
The pool goes by coach only (kept carriages hold the train seats).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import numpy as np
import pandas as pd

from planner.plan_format import PlanFiles
from planner.solve.busy import Busy
from planner.rules.driving import duty_fits
from planner.solve.feeders import Bus, BusRun, timeline_blocks
from planner.solve.problem import CLOSED, LEVELS
from planner.solve.trains import service_time
from planner.vocab import INELIGIBLE_REASONS

VEHICLE_REMOVED = "vehicle_removed"
REGISTRATION_CHANGED = "registration_changed"
FAMILY_REPLANNED = "family_replanned"
FEEDER_CHAIN_BROKEN = "feeder_run_rechained"
TRAIN_SERVICE_CHANGED = "train_service_changed"
OCCUPANCY_RULE_CHANGED = "occupancy_rule_changed"
NOTHING_LEFT = "no_passengers_left"
#: base reasons that depend on the worker's own data only (a change there is worth planning again)
DATA_REASONS = INELIGIBLE_REASONS | {"no_road_to_village", "destination_closed"}
_SAME = ("village_code", "factory_id", "group_id")


@dataclass
class Repair:
    """What a repair replan keeps, drops and plans; see the module docstring."""

    kept: set[str]  # base trips kept (the locked ones included)
    dropped: dict[str, str]  # base trip -> why dropped
    removed: dict[str, str]  # worker -> why re-pooled off a kept unlocked trip
    held: dict[str, str]  # worker -> reason: unassigned in the base and not planned again
    pool: set[str]  # workers planned anew
    busy: dict[str, Busy] = field(default_factory=dict)  # coach -> kept intervals
    feeder_runs: dict[str, tuple[BusRun, ...]] = field(default_factory=dict)  # feeder bus -> kept runs
    hub_used: dict[tuple[str, int], int] = field(default_factory=dict)  # (hub, day offset) -> people kept boarding
    # a removed coach's trip carried over by another coach: old trip -> (vehicle, type, its passenger trip)
    revehicled: dict[str, tuple[str, str, str]] = field(default_factory=dict)

    def summary_block(self, counties: list[str]) -> dict:
        """What summary.json says under ``replan.repair``."""
        return {
            "kept_trips": sorted(self.kept),
            "dropped_trips": dict(sorted(self.dropped.items())),
            "repooled": dict(sorted(self.removed.items())),
            "pool": len(self.pool),
            "held_unassigned": len(self.held),
            "counties_planned": counties,
            "revehicled": {t: v for t, (v, _ty, _lead) in sorted(self.revehicled.items())},
        }


def _in(col: pd.Series, among) -> np.ndarray:  # noqa: ANN001 - a set, dict or iterable of str
    """``col.isin(among)``, fast on the plan tables' id columns.

    Pandas' isin on Arrow strings converts every value of ``among``, and on object arrays
    hashes each cell again (0.5 s a call on the full municipality's 1.5 million legs): an Arrow
    string column goes through ``pyarrow.compute.is_in`` (a missing cell is never in), any other
    through a Python set.
    """
    values = among if isinstance(among, (set, frozenset, dict)) else set(among)
    pa_arr = getattr(col.array, "_pa_array", None)
    if pa_arr is not None and all(isinstance(v, str) for v in values):
        import pyarrow as pa
        import pyarrow.compute as pc

        vs = pa.array(list(values), type=pa.string()).cast(pa_arr.type)
        hit = pc.fill_null(pc.is_in(pa_arr, value_set=vs, skip_nulls=True), False)
        return hit.to_numpy(zero_copy_only=False).astype(bool, copy=False)
    return np.fromiter((v in values for v in col.to_numpy(dtype=object)), dtype=bool, count=len(col))


def _fleet_ids(p) -> set[str]:  # noqa: ANN001 - ProblemData
    """Vehicle ids of today's fleet (county-type-number, as the county planner names them)."""
    out: set[str] = set()
    for rec in p.fleet.itertuples(index=False):
        if p.vehicle_modes.get(str(rec.type_id)) in ("coach", "feeder"):
            out.update(f"{rec.county_code}-{rec.type_id}-{i + 1:03d}" for i in range(int(rec.count)))
    return out


def _day(ts: pd.Series) -> pd.Series:
    return pd.to_datetime(ts, errors="coerce").dt.date


def build_repair(base: PlanFiles, p, elig: pd.DataFrame, locked_ids: set[str], taken_off: dict[str, str], *,
                 rest_after_return_h: float, turnaround_h: float, feeder_dwell_min: int) -> Repair:  # noqa: ANN001
    """Decide what a repair replan keeps and plans; see the module docstring.

    ``p``: today's problem; ``elig``: :func:`planner.solve.problem.worker_eligibility` of it without
    any lock (per worker position); ``locked_ids``: the locked trips (kept whatever happens);
    ``taken_off``: worker -> reason, the people the replan takes off anyway (off every leg).
    """
    start = p.days[0]
    trips = base.trips.assign(trip_id=base.trips["trip_id"].astype(str),
                              vehicle_id=base.trips["vehicle_id"].fillna("").astype(str))
    legs = base.legs.assign(trip_id=base.legs["trip_id"].astype(str), worker_id=base.legs["worker_id"].astype(str))
    bw = base.workers.assign(worker_id=base.workers["worker_id"].astype(str))
    bw = bw[bw["worker_id"] != ""].drop_duplicates("worker_id").set_index("worker_id")
    w = p.workers.assign(worker_id=p.workers["worker_id"].astype(str)).reset_index(drop=True)
    pos = {wid: i for i, wid in enumerate(w["worker_id"])}
    reason_now = elig["reason"].to_numpy(dtype=object)
    earliest, expiry, needed = (elig[c].to_numpy() for c in ("earliest", "expiry", "needed"))
    gid_now = w["group_id"].fillna("").astype(str) if "group_id" in w.columns else pd.Series("", index=w.index)
    now = pd.DataFrame({"village_code": w["village_code"].astype(str).to_numpy(),
                        "factory_id": w["factory_id"].astype(str).to_numpy(),
                        "group_id": gid_now.to_numpy()}, index=w["worker_id"])
    then = pd.DataFrame({c: bw[c].fillna("").astype(str) if c in bw.columns else "" for c in _SAME}, index=bw.index)
    common = now.index.intersection(then.index)
    differs = set(common[(now.loc[common, list(_SAME)] != then.loc[common, list(_SAME)]).any(axis=1).to_numpy()])

    dropped: dict[str, str] = {}
    removed: dict[str, str] = {}
    # unlocked trips of vehicles no longer in the fleet: dropped, their people re-pooled
    fleet = _fleet_ids(p)
    stale = _stale_trips(trips, base.stops, p, locked_ids)
    road = trips["mode"].isin(["coach", "feeder"]) & ~_in(trips["trip_id"], locked_ids) & ~_in(trips["trip_id"], stale)
    for tid in trips.loc[road & ~_in(trips["vehicle_id"], fleet), "trip_id"]:
        dropped[tid] = VEHICLE_REMOVED
    # a dropped coach trip another coach of the county is free for (same times) goes on that coach
    revehicled = _revehicle(trips, dropped, fleet, p, legs, taken_off, rest_after_return_h, turnaround_h)
    # trips today's services or occupancy rules no longer allow (a coach's empty return goes with it)
    dropped.update(stale)
    off = legs[_in(legs["trip_id"], dropped) & ~_in(legs["trip_id"], revehicled)]
    for wid, tid in zip(off["worker_id"], off["trip_id"]):
        if wid not in taken_off and wid not in removed:
            removed[wid] = dropped[tid]
    # people on unlocked trips whose data no longer allow their journey
    locked_people = set(legs.loc[_in(legs["trip_id"], locked_ids), "worker_id"])
    levels = {str(f): row for f, row in zip(p.factories.index, p.level_matrix(p.factories["county_code"]))}
    planned = bw[bw["status"].astype(str) == "planned"]
    dep = _day(planned["depart_day"])
    arr = _day(planned["planned_arrival"])
    fac = w["factory_id"].astype(str).to_numpy()
    for wid, d, a in zip(planned.index, dep, arr):
        if wid in taken_off or wid in removed or wid in locked_people or wid not in pos:
            continue
        i = pos[wid]
        why = ""
        if wid in differs:
            why = REGISTRATION_CHANGED
        elif reason_now[i]:
            why = str(reason_now[i])
        elif isinstance(d, date) and isinstance(a, date):
            dd, aa = (d - start).days, (a - start).days
            row = levels.get(fac[i])
            if dd < earliest[i] or dd > expiry[i] or aa > needed[i]:
                why = REGISTRATION_CHANGED
            elif row is not None and 0 <= aa < len(row) and row[aa] >= CLOSED:
                why = "destination_closed"
        if why:
            removed[wid] = why
    # until nothing changes: a re-pooled member's family (on unlocked trips) comes too; trips nobody
    # is left on are dropped (a coach's empty return with them); a feeder bus whose kept runs no
    # longer chain under the driver rules (a dropped run used to bring it back to the hub its next
    # run drives out from) loses the first run that breaks, its people re-pooled
    fam = now["group_id"]
    runs_of = _FeederChains(trips, base.stops, locked_ids, p, feeder_dwell_min)
    while True:
        _add_families(removed, fam, bw, taken_off, locked_people)
        gone = set(removed) | set(taken_off)
        _drop_emptied(trips, legs, dropped, gone, locked_ids)
        broken = runs_of.broken(dropped)
        if not broken:
            break
        for tid in broken:
            dropped[tid] = FEEDER_CHAIN_BROKEN
        for wid in legs.loc[_in(legs["trip_id"], broken), "worker_id"].unique():
            if wid not in taken_off and wid not in removed:
                removed[wid] = FEEDER_CHAIN_BROKEN
    kept = set(trips["trip_id"]) - set(dropped)
    left_rv = legs[~_in(legs["worker_id"], gone) & _in(legs["trip_id"], revehicled)].groupby("trip_id").size()
    purpose_of = dict(zip(trips["trip_id"], trips["purpose"].astype(str)))
    for tid in [t for t in revehicled if purpose_of[t] == "passenger"]:
        if int(left_rv.get(tid, 0)) == 0:  # nobody left: not carried over (nor its empty return)
            for t in [t2 for t2, (v2, _ty, lead) in revehicled.items() if lead == tid]:
                revehicled.pop(t)
    # who is planned: new registrations, people off their trips, the base's unassigned whose data changed
    on_kept = set(legs.loc[_in(legs["trip_id"], kept | set(revehicled)), "worker_id"]) - gone
    pool: set[str] = set()
    held: dict[str, str] = {}
    ids = pd.Series(list(pos), dtype=object)
    at_pos = np.fromiter(pos.values(), dtype=np.int64, count=len(pos))
    in_base = ids.isin(bw.index).to_numpy()
    look = ~ids.isin(on_kept).to_numpy()
    pool.update(ids[look & (~in_base | ids.isin(gone).to_numpy())])
    rest = look & in_base & ~ids.isin(gone).to_numpy()
    base_reasons = [str(r) for r in bw["reason"].reindex(ids[rest]).tolist()]
    for wid, i, base_reason in zip(ids[rest], at_pos[rest], base_reasons):
        if wid in differs or (base_reason in DATA_REASONS and str(reason_now[i]) != base_reason):
            pool.add(wid)
        else:
            held[wid] = str(reason_now[i]) or base_reason or "no_vehicle_before_needed_by"
    out = Repair(kept, dropped, removed, held, pool)
    out.revehicled = revehicled
    kt = trips[_in(trips["trip_id"], kept)]
    rv = trips[_in(trips["trip_id"], revehicled)].copy()
    rv["vehicle_id"] = rv["trip_id"].map(lambda t: revehicled[t][0])
    out.busy = _coach_busy(pd.concat([kt, rv]), rest_after_return_h, turnaround_h, trips)
    out.feeder_runs = _feeder_runs(kt, base.stops, feeder_dwell_min)
    kl = legs[_in(legs["trip_id"], kept) & ~_in(legs["worker_id"], gone)]
    hubs = set(p.hubs.index.astype(str))
    kl = kl[_in(kl["board_place_id"].astype(str), hubs)]
    bt = pd.to_datetime(kl["board_time"])
    bt = bt.dt.tz_localize(None) if bt.dt.tz is not None else bt  # the day on the local clock, as .dt.date
    days = (bt.dt.normalize() - pd.Timestamp(start)).dt.days
    for (hub, d), n in kl.groupby([kl["board_place_id"].astype(str), days]).size().items():
        out.hub_used[(hub, int(d))] = int(n)
    return out


def _stale_trips(trips: pd.DataFrame, stops: pd.DataFrame, p, locked_ids: set[str]) -> dict[str, str]:  # noqa: ANN001
    """Unlocked trips today's scenario no longer allows as they are: trip -> why.

    * a train carriage whose service is gone from the train services, or now leaves or arrives at
      another time, from or to another station, in another carriage type (``train_service_changed``);
      a service cut to fewer carriages keeps its locked carriages, then the others in carriage order;
    * a passenger trip whose occupancy rule is not the one in force any more: the risk calendar (or
      the occupancy keys) changed for its destinations on its arrival day (``occupancy_rule_changed``),
      the rule being the strictest level at the trip's destinations, the rule of its departure day.

    Such a trip cannot be kept without breaking a rule of a fresh plan, so it is dropped and its
    people are planned again; a trip rewritten in place would change what townships were told.
    """
    out: dict[str, str] = {}
    open_ = trips[~_in(trips["trip_id"], locked_ids)]
    cars = trips[trips["mode"] == "train"]
    if not cars.empty:
        svc = p.services.assign(service_id=p.services["service_id"].astype(str)).drop_duplicates("service_id")
        svc = svc.set_index("service_id")
        tol = pd.Timedelta(minutes=1)
        kept_cars: dict[str, int] = {}
        order = cars.assign(_open=~_in(cars["trip_id"], locked_ids)).sort_values(["_open", "trip_id"], kind="stable")
        for r in order.itertuples(index=False):
            sid, tid = str(r.service_id), str(r.trip_id)
            if tid in locked_ids:
                kept_cars[sid] = kept_cars.get(sid, 0) + 1
                continue
            if sid not in svc.index:
                out[tid] = TRAIN_SERVICE_CHANGED
                continue
            rec = svc.loc[sid]
            dep, arr = (pd.Timestamp(x) for x in service_time(SimpleNamespace(**rec.to_dict())))
            if (abs(pd.Timestamp(r.depart) - dep) > tol or abs(pd.Timestamp(r.arrive) - arr) > tol
                    or str(r.origin_id) != str(rec["origin_station_id"])
                    or str(r.destination_ids) != str(rec["destination_station_id"])
                    or str(r.vehicle_type) != str(rec["carriage_type"])
                    or kept_cars.get(sid, 0) >= int(rec["carriages"])):
                out[tid] = TRAIN_SERVICE_CHANGED
                continue
            kept_cars[sid] = kept_cars.get(sid, 0) + 1
    # the occupancy rule in force at each open passenger trip's destinations on arrival
    pax = open_[(open_["purpose"] == "passenger") & ~_in(open_["trip_id"], out)]
    if pax.empty:
        return out
    st = stops.assign(trip_id=stops["trip_id"].astype(str), place_id=stops["place_id"].astype(str))
    st = st[_in(st["trip_id"], set(pax["trip_id"]))]
    first = st.groupby("trip_id").cumcount() == 0
    dest = st[~first & st["place_kind"].isin(["hub", "station", "factory"]) & st["arrive"].notna()]
    # a trip's destinations are hubs, stations and factories, each with its county
    county = pd.concat([p.factories["county_code"], p.stations["county_code"], p.hubs["county_code"]]).astype(str)
    county = county[~county.index.duplicated()]
    places = pd.Index(dest["place_id"].unique())
    matrix = p.level_matrix(pd.Series(places.map(county), dtype=object).fillna(""))
    row_of = {pl: i for i, pl in enumerate(places)}
    day = (_day(dest["arrive"]).map(lambda d: (d - p.days[0]).days)).to_numpy()
    rows = dest["place_id"].map(row_of).to_numpy()
    inside = (day >= 0) & (day < matrix.shape[1])
    lvl = np.zeros(len(dest), dtype=np.int64)
    lvl[inside] = matrix[rows[inside], day[inside]]
    worst = pd.Series(lvl, index=dest.index).groupby(dest["trip_id"]).max()
    oc = p.sc.occupancy
    for tid, rule, dep in zip(pax["trip_id"], pax["occupancy_rule"].astype(str), _day(pax["depart"])):
        if tid not in worst.index or not isinstance(dep, date):
            continue
        want = oc.rule_for(LEVELS[min(int(worst[tid]), len(LEVELS) - 1)], dep)
        if want != rule:
            out[tid] = OCCUPANCY_RULE_CHANGED
    return out


def _add_families(removed: dict[str, str], fam: pd.Series, bw: pd.DataFrame, taken_off: dict[str, str],
                  locked_people: set[str]) -> None:
    """The planned others of a re-pooled member's family (not on a locked trip) are re-pooled too."""
    groups = {fam.get(wid, "") for wid in removed} - {""}
    if not groups:
        return
    for wid in fam.index[fam.isin(groups)]:
        if wid in bw.index and wid not in removed and wid not in taken_off and wid not in locked_people \
                and str(bw.at[wid, "status"]) == "planned":
            removed[wid] = FAMILY_REPLANNED


def _drop_emptied(trips: pd.DataFrame, legs: pd.DataFrame, dropped: dict[str, str], gone: set[str],
                  locked_ids: set[str]) -> None:
    """Unlocked passenger trips nobody is left on are dropped, a coach's empty return with them."""
    left = legs[~_in(legs["worker_id"], gone) & ~_in(legs["trip_id"], dropped)].groupby("trip_id").size()
    passenger = trips[(trips["purpose"] == "passenger") & ~_in(trips["trip_id"], locked_ids)
                      & ~_in(trips["trip_id"], dropped)]
    for tid in passenger.loc[~passenger["trip_id"].isin(left.index), "trip_id"]:  # nobody left on it
        dropped[tid] = NOTHING_LEFT
    v = trips[trips["vehicle_id"] != ""].sort_values(["vehicle_id", "depart", "trip_id"], kind="stable")
    nxt = v.groupby("vehicle_id")["trip_id"].shift(-1)
    nxt_purpose = v.groupby("vehicle_id")["purpose"].shift(-1)
    before_return = (nxt_purpose == "empty_return").to_numpy()  # only these rows can pass their drop on
    for tid, n in zip(v["trip_id"].to_numpy()[before_return], nxt.to_numpy()[before_return]):
        if tid in dropped and isinstance(n, str) and n not in locked_ids:
            dropped.setdefault(n, dropped[tid])


class _FeederChains:
    """Whether each feeder bus's kept runs still chain under the driver rules once some are dropped.

    A bus's runs are a chain: the empty drive to a run's first village starts at the hub where
    the run before it ended (:func:`planner.solve.feeders.timeline_blocks`). Dropping a run moves
    where the bus stands before the next one, so that empty drive may become longer, start before
    the bus is back, or break continuous driving or the 24 h total (the checker's
    ``feeder_continuous_driving`` / ``feeder_daily_driving``). The same test the feeder scheduler
    makes for every run (:func:`planner.rules.driving.duty_fits`) is made again for the buses
    that lost a run.
    """

    def __init__(self, trips: pd.DataFrame, stops: pd.DataFrame, locked_ids: set[str], p,  # noqa: ANN001
                 dwell: int) -> None:
        self.feeder = trips[trips["mode"] == "feeder"]
        self.stops, self.locked, self.p, self.dwell = stops, locked_ids, p, dwell
        self.vehicle = dict(zip(self.feeder["trip_id"], self.feeder["vehicle_id"]))
        self.county = dict(zip(self.feeder["vehicle_id"], self.feeder["home_county_code"].astype(str)))
        self.checked: dict[str, frozenset[str]] = {}  # bus -> the dropped runs it was found sound with

    def broken(self, dropped: dict[str, str]) -> set[str]:
        """The first unlocked run that breaks its bus's chain, for each bus that lost a run since last asked."""
        lost: dict[str, set[str]] = {}
        for tid in dropped:
            vid = self.vehicle.get(tid)
            if vid:
                lost.setdefault(vid, set()).add(tid)
        lost = {v: ts for v, ts in lost.items() if self.checked.get(v) != frozenset(ts)}
        if not lost:
            return set()
        kt = self.feeder[_in(self.feeder["vehicle_id"], lost) & ~_in(self.feeder["trip_id"], dropped)]
        runs = _feeder_runs(kt, self.stops, self.dwell)
        ids = {vid: g.sort_values(["depart", "trip_id"], kind="stable")["trip_id"].tolist()
               for vid, g in kt.groupby("vehicle_id", sort=True)}
        drivers = kt.groupby("vehicle_id")["drivers"].min()
        first_lost = self.feeder[_in(self.feeder["trip_id"], dropped)].groupby("vehicle_id")["depart"].min()
        rules = self.p.sc.drivers
        out: set[str] = set()
        for vid, ts in sorted(lost.items()):
            chain = runs.get(vid, ())
            county = self.county.get(vid, "")

            def dead(a: str, b: str, county: str = county) -> int:
                return math.ceil(self.p.travel.feeder_minutes(a, b, county) - 1e-9)

            n_drivers = max(1, int(drivers.get(vid, 1)))
            bad = None
            bus = Bus(vid, chain[0].board - timedelta(days=1), chain[0].first) if chain else None
            whole = timeline_blocks(bus, chain, dead) if chain else []
            # a chain that fits whole fits in every prefix (more runs only add driving); else the first that breaks
            if chain and (whole is None or not duty_fits(whole, rules, n_drivers)):
                for k in range(1, len(chain) + 1):
                    blocks = timeline_blocks(bus, chain[:k], dead)
                    if blocks is None or not duty_fits(blocks, rules, n_drivers):
                        bad = k - 1
                        break
            if bad is not None and chain[bad].arrive < pd.Timestamp(first_lost[vid]).to_pydatetime():
                bad = None  # broken before any drop: the base plan's own chain, not this replan's doing
            tid = _run_trip_id(chain, bad, ids.get(vid, []))
            if tid is not None and tid not in self.locked:
                out.add(tid)
            else:  # sound (or broken only by a locked run, which cannot move): not asked again
                self.checked[vid] = frozenset(ts)
        return out


def _run_trip_id(chain: tuple[BusRun, ...], k: int | None, trip_ids: list[str]) -> str | None:
    """The trip of run ``k`` of a bus's chain (its runs and trips are both in boarding order)."""
    if k is None or k >= len(trip_ids) or len(trip_ids) != len(chain):
        return None
    return trip_ids[k]


def _revehicle(trips: pd.DataFrame, dropped: dict[str, str], fleet: set[str], p, legs: pd.DataFrame,  # noqa: ANN001
               taken_off: dict[str, str], rest_h: float, turnaround_h: float) -> dict[str, tuple[str, str, str]]:
    """Another coach of the county for each dropped coach trip of a removed vehicle, where one is free.

    The trip keeps its times, places and people; it goes on the coach of the county with the fewest
    seats that seats them under the trip's pattern and whose kept trips (and the ones carried over
    before) leave it free from the departure to the drivers' rest after the empty return. Returns old
    trip id -> (vehicle, vehicle type, the passenger trip it belongs to), for passenger trips and
    their empty returns.
    """
    gone = trips[trips["trip_id"].isin(set(dropped)) & (trips["mode"] == "coach")]
    if gone.empty:
        return {}
    rest, turn = timedelta(hours=rest_h), timedelta(hours=turnaround_h)
    stay = trips[~_in(trips["trip_id"], dropped)]
    busy = {v: list(b.intervals) for v, b in _coach_busy(stay, rest_h, turnaround_h, trips).items()}
    coaches = []
    for rec in p.fleet.itertuples(index=False):
        if p.vehicle_modes.get(str(rec.type_id)) == "coach":
            coaches += [(str(rec.county_code), str(rec.type_id), f"{rec.county_code}-{rec.type_id}-{i + 1:03d}")
                        for i in range(int(rec.count))]
    on = legs[~_in(legs["worker_id"], taken_off)].groupby("trip_id").size()
    allv = trips[trips["vehicle_id"] != ""].sort_values(["vehicle_id", "depart", "trip_id"], kind="stable")
    nxt = dict(zip(allv["trip_id"], allv.groupby("vehicle_id")["trip_id"].shift(-1)))
    row = trips.set_index("trip_id")
    out: dict[str, tuple[str, str, str]] = {}
    for tid in gone[gone["purpose"] == "passenger"].sort_values(["depart", "trip_id"])["trip_id"]:
        r = row.loc[tid]
        er = nxt.get(tid)
        er = er if isinstance(er, str) and er in dropped and row.at[er, "purpose"] == "empty_return" else None
        start = pd.Timestamp(r["depart"]).to_pydatetime()
        end = (pd.Timestamp(row.at[er, "arrive"]).to_pydatetime() + rest if er
               else pd.Timestamp(r["arrive"]).to_pydatetime() + turn)
        need = int(on.get(tid, 0))
        best = None
        for county, ty, vid in coaches:
            if county != str(r["home_county_code"]) or vid not in fleet:
                continue
            seats = p.seats_for(ty, str(r["occupancy_rule"]))
            if seats < need or not Busy(tuple(busy.get(vid, ())), timedelta(0)).fits(start, end):
                continue
            if best is None or (seats, vid) < best[0]:
                best = ((seats, vid), ty)
        if best is None:
            continue
        vid, ty = best[0][1], best[1]
        busy[vid] = sorted([*busy.get(vid, []), (start, end)])
        out[tid] = (vid, ty, tid)
        if er:
            out[er] = (vid, ty, tid)
    return out


def _coach_busy(kt: pd.DataFrame, rest_h: float, turnaround_h: float, all_trips: pd.DataFrame) -> dict[str, Busy]:
    """Per coach, the kept intervals (departure to the rest after the empty return) and the county's longest."""
    coach = kt[kt["mode"] == "coach"].sort_values(["vehicle_id", "depart", "trip_id"], kind="stable")
    out: dict[str, list[tuple[datetime, datetime]]] = {}
    rest, turn = timedelta(hours=rest_h), timedelta(hours=turnaround_h)
    for vid, s, e, purpose in zip(coach["vehicle_id"].astype(str).tolist(), coach["depart"].dt.to_pydatetime(),
                                  coach["arrive"].dt.to_pydatetime(), coach["purpose"].astype(str).tolist()):
        iv = out.setdefault(vid, [])
        e = e + (rest if purpose == "empty_return" else turn)
        if iv and s <= iv[-1][1]:
            iv[-1] = (iv[-1][0], max(iv[-1][1], e))
        else:
            iv.append((s, e))
    # the longest round trip of each county's coaches in the base plan: how far ahead a new trip may reach
    span: dict[str, timedelta] = {}
    allc = all_trips[all_trips["mode"] == "coach"].sort_values(["vehicle_id", "depart", "trip_id"], kind="stable")
    er_arr = allc.groupby("vehicle_id")["arrive"].shift(-1)
    er_purpose = allc.groupby("vehicle_id")["purpose"].shift(-1)
    for purpose, dep, arr, c, a2, p2 in zip(allc["purpose"].astype(str).tolist(), allc["depart"].dt.to_pydatetime(),
                                            allc["arrive"].dt.to_pydatetime(),
                                            allc["home_county_code"].astype(str).tolist(), er_arr, er_purpose):
        if purpose != "passenger":
            continue
        end = pd.Timestamp(a2).to_pydatetime() + rest if p2 == "empty_return" else arr + turn
        span[c] = max(span.get(c, timedelta(0)), end - dep)
    home = dict(zip(coach["vehicle_id"].astype(str), coach["home_county_code"].astype(str)))
    return {vid: Busy(tuple(iv), span.get(home[vid], timedelta(days=4)) + timedelta(hours=6))
            for vid, iv in out.items()}


def _feeder_runs(kt: pd.DataFrame, stops: pd.DataFrame, dwell: int) -> dict[str, tuple[BusRun, ...]]:
    """Per feeder bus, its kept runs as the feeder scheduler's timeline holds them."""
    f = kt[kt["mode"] == "feeder"].sort_values(["vehicle_id", "depart", "trip_id"], kind="stable")
    if f.empty:
        return {}
    st = stops[_in(stops["trip_id"].astype(str), set(f["trip_id"]))]
    n_village = st[st["place_kind"] == "village"].groupby(st["trip_id"].astype(str)).size()
    out: dict[str, tuple[BusRun, ...]] = {}
    for vid, g in f.groupby("vehicle_id", sort=True):
        runs = []
        for r in g.itertuples(index=False):
            dep, arr = pd.Timestamp(r.depart).to_pydatetime(), pd.Timestamp(r.arrive).to_pydatetime()
            k = int(n_village.get(str(r.trip_id), 1))
            driving = max(0.0, (arr - dep).total_seconds() / 60 - dwell * (k - 1))
            runs.append(BusRun(str(r.origin_id), dep - timedelta(minutes=dwell), arr,
                               str(r.destination_ids).split(";")[-1], driving))
        out[str(vid)] = tuple(sorted(runs, key=lambda x: x.board))
    return out


def counties_of(p, pool: set[str]) -> list[str]:  # noqa: ANN001
    """The counties with somebody to plan (the others are not planned: their trips are copied)."""
    w = p.workers
    sel = _in(w["worker_id"].astype(str), pool)
    return sorted(set(w.loc[sel, "county_code"].astype(str)))


def hold_reasons(workers: pd.DataFrame, reason: np.ndarray, held: dict[str, str]) -> None:
    """Mark (in place) the base's unassigned who are not planned again with their reason."""
    if not held:
        return
    wid = workers["worker_id"].astype(str).to_numpy()
    among = _in(workers["worker_id"].astype(str), held)
    for i in np.flatnonzero((reason == "") & among):
        reason[i] = held[wid[i]]


# ---------------------------------------------------------------- free seats of kept trips
class _Clock:
    """A column of times as integer ticks (``ticks``; ``second`` ticks a second), boxed back to the
    column's own Timestamp (same unit and time zone) by :meth:`stamp`."""

    def __init__(self, col: pd.Series) -> None:
        col = pd.to_datetime(col)
        self.tz = getattr(col.dtype, "tz", None)
        self.unit = np.datetime_data(col.to_numpy().dtype)[0] if self.tz is None else col.dtype.unit
        self.ticks = col.array.asi8 if self.tz is not None else col.to_numpy().view("i8")
        self.second = int(np.timedelta64(1, "s") / np.timedelta64(1, self.unit))

    def stamp(self, tick: int) -> pd.Timestamp:
        t = pd.Timestamp(np.datetime64(int(tick), self.unit))
        return t.tz_localize("UTC").tz_convert(self.tz) if self.tz is not None else t


@dataclass
class Fill:
    """People put into free seats of kept unlocked trips: their legs and what ``workers.csv`` says of them."""

    legs: pd.DataFrame  # base leg columns
    outcome: dict[str, tuple[str, date, object]]  # worker -> (chain, trunk day, planned arrival)


def fill_kept_seats(base: PlanFiles, p, elig: pd.DataFrame, repair: Repair, keep_legs: pd.DataFrame,
                    locked_ids: set[str], *, not_before: date | None, skip: set[str]) -> Fill:  # noqa: ANN001
    """Put pool members into free seats of kept unlocked trips, where that is easy; see below.

    Easy means: a journey somebody kept on the base plan makes from the same village to the same
    factory (its trips, boarding and alighting places and times: every rule of the journey was
    checked for them), or a kept feeder run from the same village joined at its hub to a kept trunk
    vehicle (coach or carriage) somebody rides to the same factory, within the hub's transfer time
    and longest wait, has a free seat on each of its trips under the trip's seat pattern; every
    trip is kept and unlocked; its trunk day lies in the person's days today (after the lock,
    ready, proof valid) and it arrives by the factory's ``needed_by``; hub boardings stay within
    the hub's daily capacity. A family takes seats together (all its members in the pool and
    eligible). ``skip``: people not to place (a fever without a newer proof). The earliest such
    journey is taken; the rest of the pool is planned by the solver.
    """
    from planner.rules.seats import allowed_seats

    start = p.days[0]
    empty = Fill(keep_legs.iloc[0:0].copy(), {})
    w = p.workers.assign(worker_id=p.workers["worker_id"].astype(str)).reset_index(drop=True)
    reason = elig["reason"].to_numpy(dtype=object)
    pool_pos = [i for i, wid in enumerate(w["worker_id"]) if wid in repair.pool and wid not in skip and not reason[i]]
    if not pool_pos or keep_legs.empty:
        return empty
    trips = base.trips.assign(trip_id=base.trips["trip_id"].astype(str)).set_index("trip_id")
    # journeys the base plan keeps, per (village, factory): the legs of one kept person each
    bw = base.workers.assign(worker_id=base.workers["worker_id"].astype(str)).drop_duplicates("worker_id")
    home = dict(zip(bw["worker_id"].tolist(), zip(bw["village_code"].astype(str).tolist(),
                                                  bw["factory_id"].astype(str).tolist(), bw["chain"].astype(str).tolist())))
    kl = keep_legs.sort_values(["worker_id", "leg"], kind="stable")
    per: dict[str, list[tuple]] = {}
    taken: dict[str, set[str]] = {}
    # leg times as integer ticks, made Timestamps only where one is used (a million legs' cost seconds)
    board, alight = _Clock(kl["board_time"]), _Clock(kl["alight_time"])
    cols = [kl[c].to_numpy() for c in ("worker_id", "trip_id", "seat", "board_place_id", "alight_place_id")]
    for wid, t, seat, b, a, bt, at_ in zip(*cols, board.ticks, alight.ticks):
        per.setdefault(str(wid), []).append((str(t), str(b), int(bt), str(a), int(at_)))
        taken.setdefault(str(t), set()).add(str(seat))
    journeys: dict[tuple[str, str], dict[tuple, tuple]] = {}
    first_legs: dict[str, dict[str, tuple]] = {}  # village -> feeder trip -> its step
    second_legs: dict[tuple[str, str], dict[str, tuple]] = {}  # (hub, factory) -> trunk trip -> (chain, step)
    for wid, steps in per.items():
        tids = tuple(st[0] for st in steps)
        if wid not in home or any(t in locked_ids or t not in repair.kept for t in tids):
            continue
        v, f, chain = home[wid]
        journeys.setdefault((v, f), {}).setdefault(tids, (chain, tuple(steps)))
        if chain != "direct" and len(steps) == 2:  # a feeder run to a hub, then the trunk vehicle
            first_legs.setdefault(v, {}).setdefault(tids[0], steps[0])
            second_legs.setdefault((steps[1][1], f), {}).setdefault(tids[1], (chain, steps[1]))
    if not journeys:
        return empty
    transfer = 60 * int(p.sc.hub.transfer_min)
    max_wait = 60 * int(max(p.sc.hub.max_wait_min, p.sc.hub.transfer_min))
    # trunk legs per (hub, factory) in boarding order, with the boarding time in seconds, for a bisection
    trunk_at: dict[tuple[str, str], tuple[list[int], list[tuple]]] = {}
    for key, legs_ in second_legs.items():
        rows = sorted((s2[2] // board.second, ctid, chain, s2) for ctid, (chain, s2) in legs_.items())
        trunk_at[key] = ([r[0] for r in rows], rows)

    def candidates(v: str, f: str) -> dict[tuple, tuple]:
        """The journeys kept from ``v`` to ``f``, and any kept feeder run from ``v`` met in time at its hub
        by a kept trunk vehicle to ``f`` (within the transfer and the longest wait)."""
        out = dict(journeys.get((v, f), {}))
        for ftid, s1 in first_legs.get(v, {}).items():
            hit = trunk_at.get((s1[3], f))
            if hit is None:
                continue
            arrive = s1[4] // alight.second
            times, rows = hit
            for k in range(bisect.bisect_left(times, arrive + transfer), bisect.bisect_right(times, arrive + max_wait)):
                _t, ctid, chain, s2 = rows[k]
                out.setdefault((ftid, ctid), (chain, (s1, s2)))
        return out
    seat_order: dict[str, list[str]] = {}

    n_free: dict[str, int] = {}
    vtype = dict(zip(trips.index, trips["vehicle_type"].astype(str)))
    vrule = dict(zip(trips.index, trips["occupancy_rule"].astype(str)))

    def free_seats(tid: str) -> list[str]:
        if tid not in seat_order:
            seat_order[tid] = allowed_seats(p.layouts[vtype[tid]], vrule[tid], p.isolation_rows(vtype[tid]))
        used = taken.get(tid, set())
        return [s for s in seat_order[tid] if s not in used]

    def free_count(tid: str) -> int:
        if tid not in n_free:
            n_free[tid] = len(free_seats(tid))
        return n_free[tid]

    hub_cap = {str(h): int(c) for h, c in zip(p.hubs.index, p.hubs["daily_capacity_people"])}
    first_day = (not_before - start).days if not_before is not None else 0
    gid = w["group_id"].fillna("").astype(str) if "group_id" in w.columns else pd.Series("", index=w.index)
    units: dict[str, list[int]] = {}
    for i in pool_pos:
        key = f"G:{gid[i]}|{w.at[i, 'village_code']}|{w.at[i, 'factory_id']}" if gid[i] else f"W:{i}"
        units.setdefault(key, []).append(i)
    if gid.ne("").any():  # a family only when all of it is in the pool and free to go
        size = gid[gid != ""].value_counts()
        units = {k: m for k, m in units.items() if not k.startswith("G:") or len(m) == size.get(gid[m[0]], 0)}
    rows: list[dict] = []
    outcome: dict[str, tuple[str, date, object]] = {}
    earliest, expiry, needed = (elig[c].to_numpy() for c in ("earliest", "expiry", "needed"))
    for key in sorted(units, key=lambda k: (int(min(needed[units[k]])), k)):
        members = units[key]
        i0 = members[0]
        cands = candidates(str(w.at[i0, "village_code"]), str(w.at[i0, "factory_id"]))
        lo = max(first_day, int(max(earliest[members])))
        hi = int(min(expiry[members]))
        need = int(min(needed[members]))
        for tids, (chain, steps) in sorted(cands.items(), key=lambda kv: (kv[1][1][0][2], kv[0])):
            trunk = steps[0] if chain == "direct" else steps[min(1, len(steps) - 1)]
            day = board.stamp(trunk[2]).date()
            arrive = alight.stamp(steps[-1][4])
            if not (lo <= (day - start).days <= hi) or (arrive.date() - start).days > need:
                continue
            if any(free_count(t) < len(members) for t in tids):
                continue
            hubs = [((b, (board.stamp(bt).date() - start).days)) for _t, b, bt, _a, _at in steps if b in hub_cap]
            if any(repair.hub_used.get(h, 0) + len(members) > hub_cap[h[0]] for h in hubs):
                continue
            for h in hubs:
                repair.hub_used[h] = repair.hub_used.get(h, 0) + len(members)
            for t in tids:
                seats = free_seats(t)[: len(members)]
                taken.setdefault(t, set()).update(seats)
                n_free[t] -= len(seats)
                for i, s in zip(members, seats):
                    leg_no = tids.index(t) + 1
                    _t, b, bt, a, at_ = steps[leg_no - 1]
                    rows.append({"worker_id": str(w.at[i, "worker_id"]), "leg": leg_no, "trip_id": t, "seat": s,
                                 "board_place_id": b, "board_time": board.stamp(bt), "alight_place_id": a,
                                 "alight_time": alight.stamp(at_)})
            for i in members:
                outcome[str(w.at[i, "worker_id"])] = (chain, day, arrive.to_pydatetime())
            break
    if not rows:
        return empty
    legs = pd.DataFrame(rows, columns=list(keep_legs.columns))
    return Fill(legs, outcome)
