"""Feeder runs: villages to a hub, routed by the routing engine, then put on buses.

Two steps, both pure functions of their inputs (no plan records are written here):

1. :func:`route_runs` splits each village's travellers into bus-sized chunks (whole families,
   a village's travellers on as few buses as possible: splitting a village over buses, or
   mixing villages, only happens for the rest that does not fill a bus) and solves a
   capacitated routing problem whose routes are feeder runs. The bus starts wherever it is,
   so the route duration that the ride limit bounds runs from boarding at the first village
   to arriving at the hub (the "open start" is a zero travel time from the hub to every
   village in the duration matrix); the cost still counts the empty drive from the hub out
   to the first village, and a fixed cost per run, so fewer and shorter runs win.
2. :func:`schedule_runs` puts the runs on the county's feeder buses. Working backwards from
   the time everybody should be at the hub, each bus does as many runs as fit (the empty
   drive back out to the next run's first village in between); a run no bus can finish in
   time goes on the bus that brings it in earliest, late, and the trunk vehicle waits for it.

Times are whole minutes: each leg is the ceiling of its travel time, as in the plan.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from planner.routing import VrpProblem, solve_vrp
from planner.rules.driving import ceil_minute

#: Cost of one more run, in tenths of a minute of driving (30 min): a run more is a bus more.
RUN_FIXED_COST = 300


@dataclass(frozen=True)
class FeederRun:
    """One bus run: the villages in visiting order with the units boarding there, then the hub."""

    stops: tuple[tuple[str, tuple[int, ...]], ...]
    legs: tuple[int, ...]  # minutes from the previous stop (0 for the first)
    to_hub: int  # minutes from the last village to the hub
    dwell: int  # minutes spent boarding at each village

    @property
    def first(self) -> str:
        return self.stops[0][0]

    @property
    def ride(self) -> int:
        """Minutes from leaving the first village to arriving at the hub."""
        return sum(self.legs) + self.dwell * (len(self.stops) - 1) + self.to_hub


@dataclass(frozen=True)
class ScheduledRun:
    """A run on a bus: the bus leaves the first village at ``depart`` and reaches the hub at ``arrive``."""

    bus: str
    run: FeederRun
    depart: datetime

    @property
    def arrive(self) -> datetime:
        return self.depart + timedelta(minutes=self.run.ride)

    def stop_times(self) -> list[tuple[datetime, datetime]]:
        """(arrive, depart) at each village; the bus reaches the first one ``dwell`` before leaving."""
        out = []
        t = self.depart
        for k, leg in enumerate(self.run.legs):
            if k == 0:
                out.append((t - timedelta(minutes=self.run.dwell), t))
            else:
                arr = t + timedelta(minutes=leg)
                t = arr + timedelta(minutes=self.run.dwell)
                out.append((arr, t))
        return out


@dataclass
class Bus:
    """A feeder bus as the scheduler sees it: free from ``free_at`` at place ``at``."""

    bus_id: str
    free_at: datetime
    at: str


def village_chunks(by_village: dict[str, list[int]], size: Sequence[int] | np.ndarray,
                   cap: int) -> list[tuple[str, list[int], int]]:
    """Each village's units in bus-sized chunks (units are never split): (village, units, people)."""
    chunks: list[tuple[str, list[int], int]] = []
    for vcode, units in by_village.items():
        cur: list[int] = []
        load = 0
        for x in units:
            s = int(size[x])
            if cur and load + s > cap:
                chunks.append((vcode, cur, load))
                cur, load = [], 0
            cur.append(x)
            load += s
        if cur:
            chunks.append((vcode, cur, load))
    return chunks


def route_runs(
    hub: str,
    by_village: dict[str, list[int]],
    size: Sequence[int] | np.ndarray,
    cap: int,
    minutes: Callable[[list[str]], np.ndarray],
    *,
    ride_limit_min: int,
    dwell: int,
    iterations: int,
    seed: int = 1,
    engine: str = "pyvrp",
) -> list[FeederRun]:
    """Feeder runs that bring every unit of ``by_village`` to ``hub``.

    ``minutes(places)`` gives the feeder's travel minutes between every two of ``places``
    (row = from, column = to). Each run carries at most ``cap`` people and its first boarder
    rides at most ``ride_limit_min``. Full buses, and villages too far to share a run within
    the limit, get runs of their own (a village too far even alone still gets one: callers
    keep such villages off feeders, and the checker would report the ride). Deterministic for
    a given seed and ``iterations``.
    """
    chunks = village_chunks(by_village, size, cap)
    if not chunks:
        return []
    leg = _LegTable(hub, sorted({c[0] for c in chunks}), minutes)

    def solo(c) -> FeederRun:
        return FeederRun(((c[0], tuple(c[1])),), (0,), leg[(c[0], hub)], dwell)

    # full buses and villages too far for company ride alone; the rest is routed
    def rides_alone(c) -> bool:
        return c[2] >= cap or leg[(c[0], hub)] + dwell > ride_limit_min

    runs = [solo(c) for c in chunks if rides_alone(c)]
    shared = [c for c in chunks if not rides_alone(c)]
    if len(shared) == 1:
        runs.append(solo(shared[0]))
    elif shared:
        for route in _solve(hub, shared, cap, leg, ride_limit_min, dwell, iterations, seed, engine):
            stops = tuple((shared[i][0], tuple(shared[i][1])) for i in route)
            stops = _merge_same_village(stops)
            legs = (0, *(leg[(a[0], b[0])] for a, b in zip(stops, stops[1:])))
            runs.append(FeederRun(stops, legs, leg[(stops[-1][0], hub)], dwell))
    return runs


class _LegTable:
    """Whole minutes (ceiling) between every two of the hub and the villages, both ways."""

    def __init__(self, hub: str, villages: list[str], minutes: Callable[[list[str]], np.ndarray]) -> None:
        places = [hub, *villages]
        self.pos = {v: i for i, v in enumerate(places)}
        m = np.ceil(np.asarray(minutes(places), dtype=np.float64) - 1e-9)
        np.fill_diagonal(m, 0.0)
        self.m = m.astype(np.int64)

    def __getitem__(self, pair: tuple[str, str]) -> int:
        return int(self.m[self.pos[pair[0]], self.pos[pair[1]]])

    def sub(self, names: list[str]) -> np.ndarray:
        idx = np.array([self.pos[v] for v in names])
        return self.m[np.ix_(idx, idx)]


def _merge_same_village(stops):
    """Two chunks of one village next to each other on a run are one stop."""
    out: list[tuple[str, tuple[int, ...]]] = []
    for v, units in stops:
        if out and out[-1][0] == v:
            out[-1] = (v, out[-1][1] + units)
        else:
            out.append((v, units))
    return tuple(out)


def _solve(hub, shared, cap, leg, ride_limit_min, dwell, iterations, seed, engine) -> list[list[int]]:
    """Routes over ``shared`` (chunk indices), from the routing engine; one run per chunk if it fails."""
    n = len(shared)
    dur = leg.sub([hub] + [c[0] for c in shared]).copy()
    cost = dur * 10
    dur[0, :] = 0  # open start: the ride limit counts from the first village
    problem = VrpProblem(
        demands=(0, *(c[2] for c in shared)),
        capacity=cap,
        distances=cost,
        durations=dur,
        service_times=(0, *([dwell] * n)),
        max_route_duration=ride_limit_min + dwell,
        vehicle_fixed_cost=RUN_FIXED_COST,
        name=f"feeders to {hub}",
    )
    sol = solve_vrp(problem, engine=engine, iterations=iterations, seed=seed)  # no wall clock: reproducible
    if not sol.feasible:
        return [[i] for i in range(n)]
    return [[c - 1 for c in r] for r in sol.routes]


def schedule_runs(
    runs: list[FeederRun],
    buses: list[Bus],
    hub: str,
    arrive_by: datetime,
    first_depart: datetime,
    dead_minutes: Callable[[str, str], int],
    *,
    order: Callable[[FeederRun], object] | None = None,
) -> list[ScheduledRun]:
    """Put ``runs`` on ``buses`` so that as many as possible reach ``hub`` by ``arrive_by``.

    Runs are taken in ``order`` (default: longest ride first). Each goes on the bus whose
    earliest planned run starts latest, as that bus's new earlier run, when it fits: it reaches
    the hub before the bus must leave for its next run (``dead_minutes(hub, next first
    village)`` + boarding), leaves its first village no earlier than ``first_depart``, and
    the bus can get there from where it is free. A run that fits no bus goes after the last
    run of the bus that brings it in earliest, arriving after ``arrive_by``. Buses do not
    change: the caller commits the result (``free_at`` = last arrival, at the hub).
    """
    if not runs:
        return []
    key = order or (lambda r: (-r.ride, r.first))
    planned: dict[str, list[ScheduledRun]] = {b.bus_id: [] for b in buses}
    late: list[FeederRun] = []
    for run in sorted(runs, key=key):
        best = None
        for b in buses:
            mine = planned[b.bus_id]
            if mine:
                nxt = mine[0]
                by = nxt.depart - timedelta(minutes=nxt.run.dwell + dead_minutes(hub, nxt.run.first))
            else:
                by = arrive_by
            depart = by - timedelta(minutes=run.ride)
            reach = b.free_at + timedelta(minutes=dead_minutes(b.at, run.first) + run.dwell)
            if depart < first_depart or depart < reach:
                continue
            if best is None or (depart, b.bus_id) > (best[1], best[0]):
                best = (b.bus_id, depart)
        if best is None:
            late.append(run)
            continue
        planned[best[0]].insert(0, ScheduledRun(best[0], run, best[1]))
    for run in late:
        best = None
        for b in buses:
            mine = planned[b.bus_id]
            if mine:
                start = mine[-1].arrive + timedelta(minutes=dead_minutes(hub, run.first) + run.dwell)
            else:
                start = b.free_at + timedelta(minutes=dead_minutes(b.at, run.first) + run.dwell)
            depart = ceil_minute(max(start, first_depart))
            if best is None or (depart, b.bus_id) < (best[1], best[0]):
                best = (b.bus_id, depart)
        planned[best[0]].append(ScheduledRun(best[0], run, best[1]))
    out = [s for b in buses for s in planned[b.bus_id]]
    out.sort(key=lambda s: (s.depart, s.bus))
    return out


def pickup_order(villages: list[str], from_start: Mapping[str, float], between: Callable[[str, str], float],
                 to_end: Mapping[str, float]) -> list[str]:
    """The order of a few pick-ups with the least driving: start -> every village -> end.

    Exact (every order is tried; ties go to the first order in sorted order), so meant for
    the handful of villages of a township-direct coach (7 villages: 5,040 orders).
    """
    best: tuple[float, tuple[str, ...]] | None = None
    for order in itertools.permutations(sorted(villages)):
        cost = from_start[order[0]] + to_end[order[-1]] + sum(between(a, b) for a, b in zip(order, order[1:]))
        if best is None or cost < best[0] - 1e-9:
            best = (cost, order)
    return list(best[1]) if best else []
