"""Bounds that hold for every plan the checker accepts: workers movable, coach departures needed.

Both are pure functions of the problem data (``planner.solve.problem``), not of the planner's
choices, so the gap to them is a fair judgement of a plan (docs/planner.md, "Bounds").

``throughput_bound``: per county, the most workers any plan could move, from a linear
programme over the days of the window (HiGHS through ``scipy.optimize.linprog``):

- coach departures ``y[t, d, q]`` of coach type ``t`` on day ``d`` in cycle class ``q``: a coach
  whose round trip (out, turnaround, empty return, rest) lasts at least ``L_q`` hours cannot
  leave again before ``L_q`` hours later; so (1) on every day at most the county's coaches of a
  type are inside such a period of ``floor(L_q / 24)`` days, and (2) over any ``k`` consecutive
  days the departures of a type satisfy ``sum L_q y <= coaches x (24 k + L_max)`` (one coach's
  departures t_1 < ... < t_m in k days have sum_{i<m} L_i <= t_m - t_1 < 24 k). Classes bucket
  the round trip to each factory by 6 h; ``L_q`` is the shortest round trip in the class;
- each departure on day ``d`` seats at most the seats the type may sell under the most generous
  occupancy rule in force on ``d`` at any risk level (the checker's rule is
  ``rule_for(level, departure day)``);
- workers ``x[g, d, q]`` of a group ``g`` (same county, cycle class, first and last possible day)
  ride departures of day ``d`` in a class ``q`` at least their own (a coach's round trip is at
  least as long as the one to its farthest factory); the first day is the latest of ready,
  proof issued and window start, the last the earliest of proof expiry, window end and the last
  day from which the trip, timed as below with the rests of the driver rules, still arrives by
  the end of ``needed_by``;
- train carriages ``z[g, v]``: the seats of service ``v`` (carriages x the carriage's most
  generous seats that day), for workers whose factory's arrival station is the service's
  destination, on a day the worker may leave, arriving by the end of ``needed_by``.

Trips are timed by the travel model, the least the checker accepts: every coach stretch between
two places takes at least the travel model's minutes (``coach_faster_than_model``,
``planner/check/coach_travel.py``), so a trip out from the county's nearest boarding place to a
factory, and the drive back to one, take at least :func:`model_drive_hours` (great-circle km x the
county's detour factor at the coach speed; with road tables, a shortest path over the lesser of
road minutes and that estimate). ``strict=True`` keeps the older, looser timing (great-circle km at
the fastest speed in use), which needs no comparison of coach stretches with geography.

Relaxed (so the bound stays valid, and is looser): any mix of destinations on one coach (no
drop radius or drop count), families split, the feeder ride to the station and the hub's daily
capacity ignored, a trip timed from the county's nearest boarding place to the factory (not
through the pick-ups and other drops it makes), the night stop and the 24 h driving total
ignored within the hours (the whole-day cycle counts the night stop), every train seat available to
every county (the total uses each seat once: ``total`` is at most the sum of the counties'
coach-only bounds plus the usable train seats). A county's workers are taken to ride their own
county's coaches (a coach boards people only in its home county and a worker boards first at
home; a feeder could end at another county's hub, which the checker does not forbid: the solver
never does it, and the per-county figure assumes it).

``coach_departure_bound``: for the people a plan moves by coach, at least
``ceil(people / most seats any of the county's coaches may sell under any rule in force)``
departures per (county, group of factories that can share a coach); factories can share a coach
only when they lie within ``drop_radius_km`` of each other (the checker's
``drop_radius_exceeded``), so people of factories in different connected components of the
"within R" graph never share one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import csgraph_from_dense, dijkstra
from scipy.optimize import linprog

from planner.check.coach_travel import MINUTES_TOLERANCE_SHARE
from planner.rules.geo import haversine_km
from planner.solve.problem import LEVELS, ProblemData, day_offsets, worker_eligibility

MOVABLE_REASONS = ("", "no_road_to_village")  # the checker does not verify roads to villages


@dataclass(frozen=True)
class CountyBound:
    """The throughput bound of one county and what it rests on."""

    county_code: str
    movable: int  # workers with a job, a recognised proof and at least one possible day
    bound: int  # most workers any plan can move (coaches and trains)
    coach_only: int  # the same with no train
    coaches: int  # the county's coaches (all types)
    shortest_cycle_days: int  # least whole days between two boardings of a coach, over the county's factories


@dataclass
class ThroughputBound:
    """Per county and in total: the most workers any checker-accepted plan could move."""

    counties: dict[str, CountyBound] = field(default_factory=dict)
    total: int = 0
    train_seats_usable: int = 0

    def as_dict(self, planned_by_county: Mapping[str, int] | None = None) -> dict:
        """The summary.json block: per county and total, bound, planned and gap (bound - planned)."""
        planned_by_county = planned_by_county or {}
        per = {}
        for c, b in sorted(self.counties.items()):
            n = int(planned_by_county.get(c, 0))
            per[c] = {"bound": b.bound, "coach_only": b.coach_only, "movable": b.movable, "planned": n,
                      "gap": b.bound - n, "gap_pct": round(100.0 * (b.bound - n) / b.bound, 2) if b.bound else 0.0,
                      "coaches": b.coaches, "shortest_cycle_days": b.shortest_cycle_days}
        planned = int(sum(planned_by_county.get(c, 0) for c in self.counties))
        return {
            "total": {"bound": self.total, "planned": planned, "gap": self.total - planned,
                      "gap_pct": round(100.0 * (self.total - planned) / self.total, 2) if self.total else 0.0,
                      "train_seats_usable": self.train_seats_usable},
            "by_county": per,
            "how": "per county LP over coach-days: fleet per type; a coach leaves again only a round trip "
                   "(timed by the travel model as the checker requires: great-circle km x detour factor at coach speed "
                   "or road minutes, from the nearest boarding place; rests, turnaround, empty return, rest) later and boards only in "
                   "the daily boarding window (whole-day cycles); most seats "
                   "allowed that day; each worker's possible days (ready, proof, window, needed_by); train carriage "
                   "seats; relaxes drop limits, families, feeder rides, hub capacity; total counts each train seat once",
        }


# ------------------------------------------------------------------ pieces
def _best_seats_by_day(p: ProblemData, type_id: str) -> np.ndarray:
    """Per window day: most seats ``type_id`` may sell under any rule in force that day."""
    return np.array([max(p.seats_for(type_id, p.sc.occupancy.rule_for(lv, d)) for lv in LEVELS[:3]) for d in p.days],
                    dtype=float)


def rests_hours(drive_h: np.ndarray, p: ProblemData) -> np.ndarray:
    """Hours of the rests a drive of ``drive_h`` needs at the least: ``min_rest_min`` after every
    ``max_continuous_day_h`` of driving (the longer, day limit)."""
    r = p.sc.drivers
    drive = np.asarray(drive_h, dtype=float)
    return np.maximum(0, np.ceil(drive / r.max_continuous_day_h - 1e-9) - 1) * r.min_rest_min / 60.0


def trip_hours_lower(km: np.ndarray, p: ProblemData) -> np.ndarray:
    """Shortest possible coach trip over ``km`` (great-circle) at the fastest speed in use, with the rests.

    The looser timing that holds even without the checker's ``coach_faster_than_model``
    (``strict=True`` of :func:`throughput_bound`; fleet sizing's round trip).
    """
    drive = drive_hours_lower(km, p)
    return drive + rests_hours(drive, p)


def drive_hours_lower(km: np.ndarray, p: ProblemData) -> np.ndarray:
    """Hours of driving alone over ``km`` at the fastest speed in use."""
    vmax = p.travel.max_kmh if p.travel is not None else p.sc.travel.coach_speed_kmh
    return np.asarray(km, dtype=float) / vmax


def _drive_through(t: int, minutes: int, stop_start: int, stop_end: int) -> int:
    """The minute (from day 0, 00:00) a drive of ``minutes`` started at ``t`` ends, no driving in the
    daily night stop [stop_start, stop_end) (may wrap midnight; equal ends: no stop)."""
    left = minutes
    guard = 10_000
    while left > 0 and guard:
        guard -= 1
        tod = t % 1440
        inside = (stop_start <= tod < stop_end) if stop_start <= stop_end else (tod >= stop_start or tod < stop_end)
        if stop_start != stop_end and inside:
            t += (stop_end - tod) % 1440
            continue
        room = (stop_start - tod) % 1440 if stop_start != stop_end else left
        step = min(left, room if room > 0 else left)
        t += step
        left -= step
    return t


def day_cycle(drive_h: float, away: bool, sc, back_h: float | None = None) -> int:
    """Least whole days between two boarding days of one coach whose trip drives ``drive_h`` out
    and ``back_h`` back (``drive_h`` when not given).

    Boarding at the earliest on day 0 (the boarding window's start), the drive out, then (for a
    trip leaving the province with empty returns on) the turnaround, the drive back and the rest
    after return, with no driving in the night stop; the coach boards again on the first day whose
    boarding window it is back for. See the module docstring.
    """
    lo, hi = sc.fleet.boarding_window_minutes()
    r = sc.drivers
    xs, xe = r.no_driving_start.hour * 60 + r.no_driving_start.minute, r.no_driving_end.hour * 60 + r.no_driving_end.minute
    drive = int(math.floor(drive_h * 60 + 1e-9))
    back = drive if back_h is None else int(math.floor(back_h * 60 + 1e-9))
    t = _drive_through(lo, drive, xs, xe)
    if away and sc.fleet.empty_return:
        t += int(math.floor(sc.fleet.turnaround_h * 60 + 1e-9))
        t = _drive_through(t, back, xs, xe)
        t += int(math.floor(sc.fleet.rest_after_return_h * 60 + 1e-9))
    else:
        t = _drive_through(t, back, xs, xe)
    day, tod = divmod(t, 1440)
    return int(day if tod <= hi else day + 1)


def _county_places(p: ProblemData, county: str, villages: np.ndarray) -> pd.DataFrame:
    """Every place of the county where a coach can take people on: its villages and hubs (place_id, lon, lat).

    All villages of the county, not only those with workers: a coach boards only in its home
    county (``pickup_outside_county``), so each trip out to a factory drives from one of these,
    and the coach drives back to one of them before it boards again.
    """
    vv = p.villages
    in_county = (vv["county_code"].astype(str) == county) if "county_code" in vv.columns else \
        vv.index.astype(str).str.startswith(county)
    v = vv[in_county | vv.index.isin(villages)]
    h = p.hubs[p.hubs["county_code"].astype(str) == county]
    return pd.DataFrame({"place_id": np.concatenate([v.index.astype(str), h.index.astype(str)]),
                         "lon": np.concatenate([v["lon"].to_numpy(float), h["lon"].to_numpy(float)]),
                         "lat": np.concatenate([v["lat"].to_numpy(float), h["lat"].to_numpy(float)])})


def _gc_from_places(src: pd.DataFrame, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Per target (lon, lat): the least great-circle km from any place of ``src``."""
    km = np.full(len(lon), np.inf)
    for x, y in zip(src["lon"].to_numpy(float), src["lat"].to_numpy(float)):  # a county: a few thousand places
        km = np.minimum(km, haversine_km(x, y, lon, lat))
    return km


def _factory_km(p: ProblemData, county: str, villages: np.ndarray, factories: np.ndarray) -> np.ndarray:
    """Per factory: the least great-circle km from any boarding place of the county (``strict``)."""
    src = _county_places(p, county, villages)
    f = p.factories.loc[factories]
    if not len(src):
        return np.zeros(len(factories))
    return _gc_from_places(src, f["lon"].to_numpy(float), f["lat"].to_numpy(float))


def model_drive_hours(p: ProblemData, county: str, villages: np.ndarray, factories: np.ndarray,
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Per factory: the least driving hours out from, and back to, the county's boarding places
    that any plan the checker accepts can show (``coach_faster_than_model``).

    The checker accepts a coach stretch between two places only when it takes at least the travel
    model's minutes (``planner/travel.py``): great-circle km x the home county's detour factor at the
    coach speed (into a village: the lesser of coach and feeder minutes), or the road tables' minutes
    where they cover both places. Without road tables that is great-circle km times one constant,
    so a route through other places is never shorter than the straight stretch, and the least drive
    is the great-circle km from the nearest boarding place over ``speed / factor`` (speed: the coach
    speed, or the feeder speed if faster). With road tables, roads may be faster than the estimate:
    the least drive is then a shortest path (Dijkstra) over the covered places and the factories,
    each edge the lesser of the road minutes and the estimate (a stop at a place outside the
    tables never shortens a route, the estimate being metric); out and back separately. All
    minutes are scaled by ``1 - MINUTES_TOLERANCE_SHARE``, the checker's tolerance.
    """
    tr = p.sc.travel
    slack = 1.0 - MINUTES_TOLERANCE_SHARE  # the checker lets a stretch be this much faster than the model
    per_km_min = tr.factor(county) / max(tr.coach_speed_kmh, tr.feeder_speed_kmh) * 60.0 * slack
    src = _county_places(p, county, villages)
    f = p.factories.loc[factories]
    if not len(src) or not len(factories):
        z = np.zeros(len(factories))
        return z, z
    flon, flat = f["lon"].to_numpy(float), f["lat"].to_numpy(float)
    roads = p.travel.roads if p.travel is not None else None
    if roads is None or not roads.covered.any():
        out = _gc_from_places(src, flon, flat) * per_km_min / 60.0
        return out, out
    xy = p.travel.xy
    cov = np.flatnonzero(roads.covered)
    cov_ids = [roads.place_ids[i] for i in cov]
    known = set(cov_ids)
    extra = [str(x) for x in factories if str(x) not in known]
    ids = cov_ids + extra
    lon = np.array([xy[x][0] for x in ids])
    lat = np.array([xy[x][1] for x in ids])
    n, nc = len(ids), len(cov)
    m = haversine_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :]) * per_km_min
    road = roads.minutes * slack
    m[:nc, :nc] = np.minimum(m[:nc, :nc], road[np.ix_(cov, cov)])
    # the county's boarding places as one source: to (out) and from (back) every node
    gc_src = _gc_from_places(src, lon, lat) * per_km_min
    row = {pid: i for i, pid in enumerate(roads.place_ids)}
    s_rows = np.array([row[x] for x in src["place_id"] if x in row and roads.covered[row[x]]], dtype=np.int64)
    to_node, from_node = gc_src.copy(), gc_src.copy()
    if len(s_rows):
        to_node[:nc] = np.minimum(to_node[:nc], road[np.ix_(s_rows, cov)].min(axis=0))
        from_node[:nc] = np.minimum(from_node[:nc], road[np.ix_(cov, s_rows)].min(axis=1))
    col = {x: i for i, x in enumerate(ids)}
    target = np.array([col[str(x)] for x in factories]) + 1
    hours = []
    for edges, first in ((m, to_node), (m.T, from_node)):
        g = np.full((n + 1, n + 1), np.inf)
        g[1:, 1:] = edges
        g[0, 1:] = first
        dist = dijkstra(csgraph_from_dense(g, null_value=np.inf), directed=True, indices=0)
        hours.append(dist[target] / 60.0)
    return hours[0], hours[1]


CLASS_H = 6.0  # cycle classes: round trips bucketed by 6 h


@dataclass(frozen=True)
class _Groups:
    """Workers of one county grouped by (cycle class, first day, last coach day, station, needed, last train day).

    ``cycle_h[q]``: the shortest round trip (h) of any factory in class ``q`` (classes bucket the
    round trip by ``CLASS_H``), a lower bound on the cycle of any coach carrying people of class q.
    """

    frame: pd.DataFrame  # columns s, a, b, station, needed, bt, n
    cycle_h: dict[int, float]
    cycle_days: dict[int, int] = field(default_factory=dict)  # class -> day cycle M_q (see the module docstring)


def _groups(p: ProblemData, w: pd.DataFrame, county: str, strict: bool = False) -> _Groups:
    sc = p.sc
    last = len(p.days) - 1
    facs = w["factory_id"].unique()
    if strict:
        out_drive = back_drive = drive_hours_lower(_factory_km(p, county, w["village_code"].unique(), facs), p)
    else:
        out_drive, back_drive = model_drive_hours(p, county, w["village_code"].unique(), facs)
    hours = pd.Series(out_drive + rests_hours(out_drive, p), index=facs)
    back = back_drive + rests_hours(back_drive, p)
    fprov = p.factories.loc[facs, "county_code"].astype(str).str.slice(0, 2)
    away = pd.Series(fprov.to_numpy() != county[:2], index=facs)
    stay = (sc.fleet.turnaround_h + sc.fleet.rest_after_return_h) if sc.fleet.empty_return else 0.0
    cycle = pd.Series(hours.to_numpy() + back + np.where(away, stay, 0.0), index=facs)
    q_of = np.floor(cycle / CLASS_H).astype(np.int64)
    cycle_h = {int(q): float(cycle[q_of == q].min()) for q in np.unique(q_of)}
    # the least whole-day cycle of a class: its shortest drives out and back (a lower bound on each)
    cycle_days = {int(q): day_cycle(float(out_drive[(q_of == q).to_numpy()].min()), bool(away[q_of == q].all()), sc,
                                    float(back_drive[(q_of == q).to_numpy()].min()))
                  for q in np.unique(q_of)}
    h = w["factory_id"].map(hours).to_numpy(float)
    s = w["factory_id"].map(q_of).to_numpy(np.int64)
    a = w["earliest"].to_numpy(np.int64)
    bt = np.minimum(w["expiry"].to_numpy(np.int64), last)
    b = np.minimum(bt, np.floor(w["needed"].to_numpy(float) + 1 - h / 24.0).astype(np.int64))
    g = pd.DataFrame({"s": s, "a": a, "b": b, "station": w["factory_id"].map(p.factories["arrival_station_id"]).astype(str),
                      "needed": w["needed"].to_numpy(np.int64), "bt": bt})
    g = g[(g["b"] >= g["a"]) | (g["bt"] >= g["a"])]
    frame = g.groupby(list(g.columns), as_index=False).size().rename(columns={"size": "n"})
    return _Groups(frame, cycle_h, cycle_days)


@dataclass(frozen=True)
class _Service:
    day: int
    arrive_days: float  # arrival, in days from the window start at 00:00
    station: str
    seats: int


def _services(p: ProblemData) -> list[_Service]:
    out = []
    svc = p.services
    if svc is None or not len(svc):
        return out
    start = pd.Timestamp(p.days[0])
    days = day_offsets(svc["date"], p.days[0])
    for rec, d in zip(svc.itertuples(index=False), days, strict=True):
        if not 0 <= d < len(p.days):
            continue
        hh, mm = str(rec.depart_time)[:5].split(":")
        dep = start + pd.Timedelta(days=int(d), hours=int(hh), minutes=int(mm))
        arr = (dep + pd.Timedelta(hours=float(rec.travel_hours)) - start) / pd.Timedelta(days=1)
        ctype = str(rec.carriage_type)
        if ctype not in p.layouts:
            continue
        per = max(p.seats_for(ctype, p.sc.occupancy.rule_for(lv, p.days[d])) for lv in LEVELS[:3])
        out.append(_Service(int(d), float(arr), str(rec.destination_station_id), int(rec.carriages) * per))
    return out


def _solve_county(p: ProblemData, groups: _Groups, fleet: dict[str, int], services: list[_Service],
                  *, trains: bool) -> float:
    """The LP of the module docstring for one county; its optimal value (built with numpy, solved by HiGHS)."""
    g = groups.frame.reset_index(drop=True)
    if g.empty:
        return 0.0
    n_days = len(p.days)
    classes = np.array(sorted(set(g["s"])), dtype=np.int64)
    lq = np.array([groups.cycle_h[int(q)] for q in classes], dtype=float)
    types = [t for t, k in fleet.items() if k > 0]
    n_g = len(g)
    # workers of a group go by coach (c[g]) or by train (z[g, v]); coach passengers of groups with
    # the same (class, first day, last day) are one coach key k, spread over x[k, d, q]
    keys = g[["s", "a", "b"]].drop_duplicates().reset_index(drop=True)
    keys = keys[(keys["b"] >= keys["a"]) & (keys["a"] <= n_days - 1)].reset_index(drop=True)
    key_of = g.merge(keys.reset_index().rename(columns={"index": "k"}), on=["s", "a", "b"], how="left")["k"]
    has_key = key_of.notna().to_numpy() & bool(types)
    g_c = np.flatnonzero(has_key)  # groups with a coach variable
    k_c = key_of.to_numpy()[g_c].astype(np.int64)
    n_c = len(g_c)
    n_k = len(keys)
    xs_k, xs_d, xs_q = [], [], []
    if types and n_k:
        a = np.clip(keys["a"].to_numpy(), 0, None)
        b = np.minimum(keys["b"].to_numpy(), n_days - 1)
        own = np.searchsorted(classes, keys["s"].to_numpy())
        for qi in range(len(classes)):
            ok = (own <= qi) & (b >= a)
            lens = np.where(ok, b - a + 1, 0)
            ki = np.repeat(np.arange(n_k), lens)
            start = np.repeat(a, lens)
            offs = np.arange(lens.sum()) - np.repeat(np.cumsum(lens) - lens, lens)
            xs_k.append(ki), xs_d.append(start + offs), xs_q.append(np.full(len(ki), qi))
    x_k = np.concatenate(xs_k) if xs_k else np.zeros(0, np.int64)
    x_d = np.concatenate(xs_d) if xs_d else np.zeros(0, np.int64)
    x_q = np.concatenate(xs_q) if xs_q else np.zeros(0, np.int64)
    n_x = len(x_k)
    # z[g, v]: compatible train services
    z_g, z_v = [], []
    if trains:
        for vi, sv in enumerate(services):
            fits = ((g["station"] == sv.station) & (g["a"] <= sv.day) & (sv.day <= g["bt"])
                    & (sv.arrive_days <= g["needed"] + 1)).to_numpy()
            idx = np.flatnonzero(fits)
            z_g.append(idx), z_v.append(np.full(len(idx), vi))
    z_g = np.concatenate(z_g) if z_g else np.zeros(0, np.int64)
    z_v = np.concatenate(z_v) if z_v else np.zeros(0, np.int64)
    n_z = len(z_g)
    if n_c + n_z == 0:
        return 0.0
    # columns: c (n_c), z (n_z), x (n_x), y (types x (d, q) pairs some key may use)
    col_z, col_x = n_c, n_c + n_z
    dq = np.unique(x_d * len(classes) + x_q) if n_x else np.zeros(0, np.int64)
    y_d, y_q = dq // len(classes), dq % len(classes)
    n_dq = len(dq)
    n_y = n_dq * len(types)
    base_y = col_x + n_x

    rows, cols, vals, rhs = [], [], [], []
    r = 0
    # (a) each group: coach + train <= its people
    rows.append(g_c), cols.append(np.arange(n_c)), vals.append(np.ones(n_c))
    rows.append(z_g), cols.append(col_z + np.arange(n_z)), vals.append(np.ones(n_z))
    rhs.append(g["n"].to_numpy(float))
    r += n_g
    # (a') each coach key: its groups' coach passengers <= what its x carry
    if n_c:
        rows.append(r + k_c), cols.append(np.arange(n_c)), vals.append(np.ones(n_c))
        rows.append(r + x_k), cols.append(col_x + np.arange(n_x)), vals.append(-np.ones(n_x))
        rhs.append(np.zeros(n_k))
        r += n_k
    # (b) each (day, class): passengers <= seats of that day's departures
    if n_x:
        pos = np.searchsorted(dq, x_d * len(classes) + x_q)
        rows.append(r + pos), cols.append(col_x + np.arange(n_x)), vals.append(np.ones(n_x))
        for ti, t in enumerate(types):
            seat = _best_seats_by_day(p, t)[y_d]
            rows.append(r + np.arange(n_dq)), cols.append(base_y + ti * n_dq + np.arange(n_dq)), vals.append(-seat)
        rhs.append(np.zeros(n_dq))
        r += n_dq
    # (c) coach occupancy, per type. (1) A coach leaving on day d in class q cannot leave again
    # before L_q hours: on each day it is inside at most one period of floor(L_q / 24) days.
    # (2) Its departures t_1 < ... < t_m within k days have sum_{i<m} L_i <= t_m - t_1 < 24 k,
    # so sum_i L_i < 24 k + L_max over any k consecutive days.
    mq = np.array([groups.cycle_days.get(int(q), 0) for q in classes], dtype=np.int64)
    span = np.maximum(np.floor(lq[y_q] / 24.0).astype(np.int64), mq[y_q])
    l_max = float(lq.max())
    w0, w1 = np.triu_indices(n_days)  # every window [e0, e1]
    for ti, t in enumerate(types):
        if not n_dq:
            break
        yidx = base_y + ti * n_dq + np.arange(n_dq)
        for e in range(n_days):
            m = (span >= 1) & (y_d <= e) & (e <= y_d + span - 1)
            if m.any():
                rows.append(np.full(int(m.sum()), r)), cols.append(yidx[m]), vals.append(np.ones(int(m.sum())))
                rhs.append(np.array([float(fleet[t])]))
                r += 1
        inside = (w0[:, None] <= y_d[None, :]) & (y_d[None, :] <= w1[:, None])
        wi, yi = np.nonzero(inside)
        rows.append(r + wi), cols.append(yidx[yi]), vals.append(lq[y_q[yi]])
        rhs.append(float(fleet[t]) * (24.0 * (w1 - w0 + 1) + l_max))
        r += len(w0)
    # (d) train seats
    if n_z:
        used_v = np.unique(z_v)
        pos = np.searchsorted(used_v, z_v)
        rows.append(r + pos), cols.append(col_z + np.arange(n_z)), vals.append(np.ones(n_z))
        rhs.append(np.array([float(services[v].seats) for v in used_v]))
        r += len(used_v)
    n_var = base_y + n_y
    c = np.zeros(n_var)
    c[: n_c + n_z] = -1.0
    a_ub = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, n_var))
    res = linprog(c, A_ub=a_ub, b_ub=np.concatenate(rhs), bounds=(0, None), method="highs-ipm")
    if res.status != 0:
        msg = f"throughput LP ({r} rows, {n_var} columns) failed: {res.message}"
        raise RuntimeError(msg)
    return float(-res.fun)


def throughput_bound(p: ProblemData, *, strict: bool = False) -> ThroughputBound:
    """Per county, the most workers any plan could move (see the module docstring); the total.

    The trips are timed by the travel model, the least the checker accepts
    (:func:`model_drive_hours`). ``strict=True`` times them over the great-circle km at the
    fastest speed in use instead: the looser figure reported before the checker compared coach
    stretches with the travel model (``bench/plan_quality.py`` prints both).
    """
    elig = worker_eligibility(p)
    ok = elig["reason"].isin(MOVABLE_REASONS).to_numpy()
    w = pd.DataFrame({"county": p.workers["county_code"].astype(str).to_numpy(),
                      "village_code": p.workers["village_code"].astype(str).to_numpy(),
                      "factory_id": p.workers["factory_id"].astype(str).to_numpy(),
                      "earliest": elig["earliest"].to_numpy(), "expiry": elig["expiry"].to_numpy(),
                      "needed": elig["needed"].to_numpy()})[ok]
    w = w[w["factory_id"].isin(p.factories.index)]
    coach_types = {t for t, m in p.vehicle_modes.items() if m == "coach"}
    fl = p.fleet.assign(county_code=p.fleet["county_code"].astype(str), type_id=p.fleet["type_id"].astype(str))
    fl = fl[fl["type_id"].isin(coach_types)].groupby(["county_code", "type_id"])["count"].sum()
    services = _services(p)
    out = ThroughputBound()
    coach_sum = 0.0
    usable = np.zeros(len(services))
    for county, wc in w.groupby("county", sort=True):
        fleet = {str(t): int(k) for (c, t), k in fl.items() if c == county}
        groups = _groups(p, wc, str(county), strict)
        coach_only = _solve_county(p, groups, fleet, services, trains=False)
        everyone = float(groups.frame["n"].sum())
        # coaches alone can move everybody: trains cannot add more (saves half the LPs at full scale)
        with_trains = coach_only if coach_only >= everyone - 1e-6 else _solve_county(p, groups, fleet, services,
                                                                                      trains=True)
        for vi, sv in enumerate(services):
            g = groups.frame
            fits = (g["station"] == sv.station) & (g["a"] <= sv.day) & (sv.day <= g["bt"]) & (sv.arrive_days <= g["needed"] + 1)
            usable[vi] += float(g.loc[fits, "n"].sum())
        movable = int(groups.frame["n"].sum())
        out.counties[str(county)] = CountyBound(
            str(county), movable, min(movable, int(math.floor(with_trains + 1e-6))),
            min(movable, int(math.floor(coach_only + 1e-6))), int(sum(fleet.values())),
            min(max(int(math.floor(h / 24.0)), groups.cycle_days.get(q, 0)) for q, h in groups.cycle_h.items())
            if groups.cycle_h else 0)
        coach_sum += min(movable, coach_only)
    seats = np.array([sv.seats for sv in services], dtype=float)
    out.train_seats_usable = int(np.minimum(seats, usable).sum()) if len(services) else 0
    per_sum = sum(b.bound for b in out.counties.values())
    out.total = int(min(per_sum, math.floor(coach_sum + 1e-6) + out.train_seats_usable))
    return out


# ------------------------------------------------------------ departures
def factory_components(p: ProblemData) -> pd.Series:
    """Per factory id: its connected component in the graph "great-circle km <= drop_radius_km"."""
    f = p.factories
    ids = f.index.astype(str).to_numpy()
    lon, lat = f["lon"].to_numpy(float), f["lat"].to_numpy(float)
    radius = p.sc.fleet.drop_radius_km
    parent = np.arange(len(ids))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(ids)):
        near = np.flatnonzero(haversine_km(lon[i], lat[i], lon[i + 1:], lat[i + 1:]) <= radius + 0.01) + i + 1
        for j in near:
            a, b = root(i), root(int(j))
            if a != b:
                parent[max(a, b)] = min(a, b)
    return pd.Series([root(i) for i in range(len(ids))], index=ids, name="component")


def coach_departure_bound(p: ProblemData, coach_people: pd.DataFrame) -> dict:
    """Fewest coach departures for the people a plan moves by coach; valid for every checked plan.

    ``coach_people``: one row per worker moved by coach, columns ``county_code`` and ``factory_id``.
    Per (county, component of factories within drop radius of each other), at least
    ceil(people / most seats a county coach may sell under any rule in force in the window).
    """
    sc = p.sc
    rules = {sc.occupancy.rule_for(lv, d) for lv in LEVELS[:3] for d in p.days}
    cap: dict[str, int] = {}
    for rec in p.fleet.itertuples(index=False):
        tid = str(rec.type_id)
        if p.vehicle_modes.get(tid) != "coach" or int(rec.count) <= 0:
            continue
        best = max(p.seats_for(tid, r) for r in rules)
        c = str(rec.county_code)
        cap[c] = max(cap.get(c, 0), best)
    if coach_people.empty:
        return {"coach_departures": 0, "by_county": {}}
    comp = factory_components(p)
    people = coach_people.assign(component=coach_people["factory_id"].astype(str).map(comp).fillna(-1))
    counts = people.groupby([people["county_code"].astype(str), "component"]).size()
    by_county: dict[str, int] = {}
    for (c, _k), n in counts.items():
        if cap.get(c):
            by_county[c] = by_county.get(c, 0) + math.ceil(int(n) / cap[c])
    return {"coach_departures": int(sum(by_county.values())), "by_county": dict(sorted(by_county.items()))}
