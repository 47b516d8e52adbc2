"""Per-unit facts shared by the train allocation and the county planners.

A :class:`SolveContext` holds flat arrays indexed by unit number (size,
village, factory, destination area, first and last feasible coach day and why
that last day binds) and small caches for arrival offsets and risk levels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from functools import lru_cache

import numpy as np
import pandas as pd

from planner.rules.route import plan_single
from planner.rules.geo import haversine_km
from planner.solve.clusters import destination_areas
from planner.scenario import Drivers
from planner.solve.problem import LEVELS, ProblemData, Units, at


@dataclass
class SolveContext:
    """Arrays by unit number plus shared caches; see the module docstring."""

    p: ProblemData
    units: Units
    size: np.ndarray
    village: np.ndarray
    township: np.ndarray
    county: np.ndarray
    factory: np.ndarray
    sort_key: np.ndarray
    area: np.ndarray
    earliest: np.ndarray
    expiry: np.ndarray
    latest: np.ndarray
    needed: np.ndarray
    needed_date: list[date]
    why_late: np.ndarray
    needs_direct: np.ndarray
    terminals: dict[str, str]
    factory_levels: dict[str, np.ndarray]
    xy: dict[str, tuple[float, float]] = field(default_factory=dict)
    cpsat_seconds: float = 0.5
    on_train: set[int] = field(default_factory=set)
    train_fed: set[int] = field(default_factory=set)
    # units a train with free seats could have taken but no feeder reaches its station in the ride limit
    train_too_far: set[int] = field(default_factory=set)
    hub_used: dict[tuple[str, int], int] = field(default_factory=dict)
    _offsets: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    _code_levels: dict[str, np.ndarray] = field(default_factory=dict)

    # ------------------------------------------------------------- lookups
    def factory_level(self, factory_id: str, day_idx: int) -> int:
        """Risk rank (0 low .. 3 closed) at a factory on a day (offset from window start)."""
        row = self.factory_levels[factory_id]
        if day_idx < 0:
            return 0
        return int(row[min(day_idx, len(row) - 1)])

    def code_level(self, county_code: str, day_idx: int) -> int:
        """Risk rank for any county code (used for hubs and stations)."""
        row = self._code_levels.get(county_code)
        if row is None:
            row = self.p.level_matrix(pd.Series([county_code]))[0]
            self._code_levels[county_code] = row
        return int(row[max(0, min(day_idx, len(row) - 1))])

    def feeder_rule(self, hub_id: str, day_idx: int) -> str:
        """Occupancy rule for a feeder run into ``hub_id``."""
        code = str(self.p.hubs.loc[hub_id]["county_code"])
        lvl = self.code_level(code, day_idx)
        return self.p.sc.occupancy.rule_for(LEVELS[min(lvl, 2)], self.p.days[max(0, min(day_idx, len(self.p.days) - 1))])

    def arrival_offsets(self, county: str, factory_id: str) -> tuple[int, int]:
        """Days after departure a coach from the county reaches the factory: (earliest, worst case)."""
        key = (county, factory_id)
        hit = self._offsets.get(key)
        if hit is None:
            hit = _offsets(self.p, self.terminals.get(county), county, factory_id)
            self._offsets[key] = hit
        return hit


def _offsets(p: ProblemData, terminal: str | None, county: str, factory_id: str,
             origins: dict[str, tuple[float, float]] | None = None,
             factory_xy: dict[str, tuple[float, float]] | None = None) -> tuple[int, int]:
    """(earliest, worst-case) days from departure to arrival, county -> factory.

    ``origins`` (county -> lon, lat of where its coaches leave) and ``factory_xy`` are the same
    numbers read once for many pairs (:func:`build_context` asks tens of thousands).
    """
    sc = p.sc
    if factory_xy is not None:
        flon, flat = factory_xy[factory_id]
    else:
        f = p.factories.loc[factory_id]
        flon, flat = float(f["lon"]), float(f["lat"])
    if origins is not None and county in origins:
        lon, lat = origins[county]
    else:
        lon, lat = _origin(p, terminal, county)
        if origins is not None:
            origins[county] = (lon, lat)
    km = float(haversine_km(lon, lat, flon, flat)) * sc.travel.factor(county)
    return _offset_pair(km, sc.fleet.drop_radius_km, sc.fleet.max_drop_factories, sc)


def _origin(p: ProblemData, terminal: str | None, county: str) -> tuple[float, float]:
    """Where a county's coaches leave: its terminal, else the mean of its villages."""
    if terminal is not None:
        h = p.hubs.loc[terminal]
        return float(h["lon"]), float(h["lat"])
    c = p.villages[p.villages["county_code"] == county]
    return float(c["lon"].mean()), float(c["lat"].mean())


def _whole_minutes(drive_min: float) -> int:
    """The whole minutes :func:`planner.rules.route.plan_route` drives for ``drive_min``."""
    return max(0, int(math.ceil(drive_min - 1e-9)))


@lru_cache(maxsize=1 << 16)
def _arrival_day(clock: time, total_min: int, drivers: int, rules: Drivers) -> int:
    """Days from leaving at ``clock`` to arriving after ``total_min`` whole minutes of driving.

    A straight drive's timing depends only on these (the drive is rounded up to whole minutes
    first), so the tens of thousands of county -> factory pairs share a few thousand timings.
    """
    day0 = date(2020, 1, 6)  # any day; only the time of day matters
    return (plan_single(at(day0, clock), total_min, drivers, rules).arrive.date() - day0).days


def _offset_pair(km: float, radius: float, k: int, sc) -> tuple[int, int]:
    from planner.rules.driving import drivers_needed

    fast = _arrival_day(sc.fleet.coach_depart_time, _whole_minutes(km / sc.travel.coach_speed_kmh * 60),
                        drivers_needed(km, sc.drivers), sc.drivers)
    # worst case: latest departure, a township pick-up round, the full multi-drop detour
    pick = sc.fleet.max_pickup_stops * (sc.fleet.pickup_dwell_min + 30)
    slow_km = km + 2 * radius
    slow_min = slow_km / sc.travel.coach_speed_kmh * 60 + k * sc.fleet.drop_dwell_min + pick
    slow = _arrival_day(sc.fleet.latest_coach_depart_time, _whole_minutes(slow_min),
                        drivers_needed(slow_km + 60, sc.drivers), sc.drivers)
    return fast, slow


def feeder_ride_limit_h(sc) -> float:
    """The longest feeder ride planned: ``feeders.max_ride_h``, and at most half a daytime driving stretch.

    A feeder bus drives out empty to its first village and then back in with its riders in
    one continuous stretch (it does not rest en route), and the drive out is no longer than
    the ride back; so a ride of at most half the daytime limit keeps every run within it.
    """
    return min(sc.feeders.max_ride_h, sc.drivers.max_continuous_day_h / 2)


def _closed_on_every_day(lv: np.ndarray, factory_levels: dict[str, np.ndarray], fac: np.ndarray,
                         earliest: np.ndarray, latest: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Per unit: whether its factory is closed (level >= 3) on every arrival day of its feasible
    days ``earliest..latest`` (shifted by ``lo``, clipped to the window); False when it has none.

    The clipped days form one run of the factory's row, so this counts the open days in it
    from prefix sums: the same answer as looking at each day, for all units at once.
    """
    n = len(fac)
    out = np.zeros(n, dtype=bool)
    has = np.flatnonzero(latest >= earliest)
    if not len(has) or not factory_levels:
        return out
    rows = {fid: i for i, fid in enumerate(factory_levels)}  # the dict's rows, in its own order
    table = np.stack([np.asarray(r) for r in factory_levels.values()])
    width = table.shape[1]
    open_before = np.zeros((len(table), width + 1), dtype=np.int64)
    open_before[:, 1:] = np.cumsum(~(table >= 3), axis=1)
    f = np.array([rows[x] for x in fac[has]], dtype=np.int64)  # KeyError for an unknown factory, as before
    first = np.clip(earliest[has].astype(np.int64) + lo[has], 0, width - 1)
    last = np.clip(latest[has].astype(np.int64) + lo[has], 0, width - 1)
    out[has] = (open_before[f, last + 1] - open_before[f, first]) == 0
    return out


def build_context(p: ProblemData, units: Units) -> SolveContext:
    """Compute per-unit arrays, destination areas and the last feasible coach day."""
    sc = p.sc
    fr = units.frame
    n = len(fr)
    hubs = p.hubs
    terminals = {
        str(r["county_code"]): str(r["hub_id"])
        for _, r in hubs[hubs["kind"] == "terminal"].sort_values("hub_id").iterrows()
    }
    areas = destination_areas(p.factories, sc.fleet.drop_radius_km)
    fac = fr["factory_id"].astype(str).to_numpy()
    lv = p.level_matrix(p.factories["county_code"])
    factory_levels = {str(fid): lv[i] for i, fid in enumerate(p.factories.index)}
    village = fr["village_code"].astype(str).to_numpy()
    township = fr["township_code"].astype(str).to_numpy()
    county = fr["county_code"].astype(str).to_numpy()
    last_day = len(p.days) - 1
    # worst-case arrival offset per (county, factory)
    pairs = pd.DataFrame({"county": county, "factory": fac}).drop_duplicates()
    off_hi = {}
    origins: dict[str, tuple[float, float]] = {}
    factory_xy = {str(fid): (float(x), float(y))
                  for fid, x, y in zip(p.factories.index, p.factories["lon"], p.factories["lat"])}
    for c, f in pairs.itertuples(index=False):
        off_hi[(c, f)] = _offsets(p, terminals.get(c), c, f, origins, factory_xy)
    hi = np.array([off_hi[(c, f)][1] for c, f in zip(county, fac)], dtype=np.int64)
    lo = np.array([off_hi[(c, f)][0] for c, f in zip(county, fac)], dtype=np.int64)
    by_needed = fr["needed"].to_numpy() - hi
    expiry = fr["expiry"].to_numpy()
    latest = np.minimum(np.minimum(by_needed, expiry), last_day)
    why = np.where(
        (expiry < by_needed) & (expiry < last_day), "no_vehicle_before_proof_expiry", "no_vehicle_before_needed_by"
    ).astype(object)
    earliest = fr["earliest"].to_numpy()
    # destinations closed on every feasible day
    closed_all = _closed_on_every_day(lv, factory_levels, fac, earliest, latest, lo)
    why[closed_all] = "destination_closed"
    # villages a feeder cannot reach within the ride limit must be picked up directly
    needs_direct = np.zeros(n, dtype=bool)
    for c in np.unique(county):
        sel = np.flatnonzero(county == c)
        t = terminals.get(c)
        if t is None:
            needs_direct[sel] = True
            continue
        ride_h = {v: p.travel.feeder_minutes(v, t, c) / 60.0 for v in np.unique(village[sel])}
        needs_direct[sel] = np.array([ride_h[v] for v in village[sel]]) > feeder_ride_limit_h(sc)
    sort_key = np.char.add(township.astype("U9"), village.astype("U12"))
    start = p.days[0]
    needed_date = [start + timedelta(days=int(x)) for x in fr["needed"].to_numpy()]
    xy: dict[str, tuple[float, float]] = {}
    for frame, key in ((p.villages, "village_code"), (p.hubs, "hub_id"), (p.factories, "factory_id"),
                       (p.stations, "station_id")):
        if len(frame):
            xy.update(zip(frame[key].astype(str), zip(frame["lon"].astype(float), frame["lat"].astype(float))))
    return SolveContext(
        xy=xy,
        p=p,
        units=units,
        size=fr["size"].to_numpy(np.int64),
        village=village,
        township=township,
        county=county,
        factory=fac,
        sort_key=sort_key,
        area=areas.reindex(fac).to_numpy(np.int64),
        earliest=earliest,
        expiry=expiry,
        latest=latest,
        needed=fr["needed"].to_numpy(np.int64),
        needed_date=needed_date,
        why_late=why,
        needs_direct=needs_direct,
        terminals=terminals,
        factory_levels=factory_levels,
        cpsat_seconds=min(1.0, sc.solver.time_limit_s),
    )

