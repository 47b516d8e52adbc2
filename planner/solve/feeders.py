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

import bisect
import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import numpy as np

from planner.routing import VrpProblem, solve_vrp
from planner.rules.driving import DutyPeriod, ceil_minute, duty_fits
from planner.scenario import Drivers

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


@dataclass(frozen=True)
class BusRun:
    """A run in a bus's timeline: at ``first`` from ``board`` (boarding starts), at ``hub`` at ``arrive``.

    ``driving`` is the minutes driven from the first village to the hub; the empty drive to the
    first village is derived from where the bus was before (see :func:`timeline_blocks`).
    """

    first: str
    board: datetime
    arrive: datetime
    hub: str
    driving: float


@dataclass
class Bus:
    """A feeder bus as the scheduler sees it: parked at ``at`` from ``free_at``, then its ``done`` runs.

    ``done`` are runs already committed (in time order); a new run may go before, between
    or after them, so that a bus that feeds a train in the evening can still feed the
    morning's coaches, and the driver rules are kept over its whole day, not run by run.
    """

    bus_id: str
    free_at: datetime
    at: str
    done: tuple[BusRun, ...] = ()


def as_bus_run(sr: ScheduledRun, hub: str) -> BusRun:
    """A scheduled run as its bus's timeline holds it."""
    return BusRun(sr.run.first, sr.depart - timedelta(minutes=sr.run.dwell), sr.arrive, hub,
                  float(sum(sr.run.legs) + sr.run.to_hub))


def timeline_blocks(bus: Bus, runs: Sequence[BusRun],
                    dead_minutes: Callable[[str, str], int]) -> list[DutyPeriod] | None:
    """The driving blocks of a bus doing ``runs`` (in time order), or None if it cannot do them all.

    Each block is the empty drive from where the bus is (its parking place, then the hub of
    its previous run) to the run's first village, the boarding and the ride; a block may not
    start before the bus is free there.
    """
    place, free = bus.at, bus.free_at
    out = []
    for r in runs:
        empty = dead_minutes(place, r.first)
        start = r.board - timedelta(minutes=empty)
        if start < free:
            return None
        out.append(DutyPeriod(start, r.arrive, empty + r.driving))
        place, free = r.hub, r.arrive
    return out


def prune_timeline(bus: Bus, keep_after: datetime) -> Bus:
    """The bus with runs ending before ``keep_after`` folded into its parking place and time."""
    old = [r for r in bus.done if r.arrive < keep_after]
    if not old:
        return bus
    last = old[-1]
    return Bus(bus.bus_id, last.arrive, last.hub, tuple(r for r in bus.done if r.arrive >= keep_after))


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
    key = (engine, iterations, seed, cap, ride_limit_min, dwell, problem.demands, dur.shape, dur.tobytes(),
           cost.tobytes())
    hit = _ROUTE_MEMO.get(key)
    if hit is None:
        sol = solve_vrp(problem, engine=engine, iterations=iterations, seed=seed)  # no wall clock: reproducible
        hit = tuple(tuple(c - 1 for c in r) for r in sol.routes) if sol.feasible else None
        if len(_ROUTE_MEMO) >= ROUTE_MEMO_MAX:
            _ROUTE_MEMO.clear()
        _ROUTE_MEMO[key] = hit
    if hit is None:
        return [[i] for i in range(n)]
    return [list(r) for r in hit]


#: routing problems remembered by :func:`_solve` (per process). The search is deterministic for
#: a given problem, seed and iteration count, and a county asks the same one again (a load that
#: found no feeder slot today is packed the same tomorrow), so a repeat costs nothing and gives
#: the same routes; emptied when full, so memory stays bounded.
ROUTE_MEMO_MAX = 4096
_ROUTE_MEMO: dict[tuple, tuple[tuple[int, ...], ...] | None] = {}


class _Timeline:
    """A bus's runs in boarding order, each with its driving block given the run before it.

    :func:`schedule_runs` asks hundreds of thousands of times whether one more run fits a bus.
    Inserting a run changes only its own block and the next run's (whose empty drive now
    starts at the new run's hub); the blocks before and after stay as they were. So the
    blocks, whether each may start when its bus is free there, and when the bus drives out to
    each run are kept here and updated on :meth:`add`, and :meth:`fits` builds the day's
    blocks from them: the same blocks, in the same order, as :func:`timeline_blocks` on the
    whole sorted sequence, so the same answer.
    """

    def __init__(self, bus: Bus, hub: str, dead_minutes: Callable[[str, str], int]) -> None:
        self.bus = bus
        self.hub = hub
        self.dead = dead_minutes
        # a stable sort: a run added later goes after the runs boarding at the same time
        self.runs: list[BusRun] = sorted(bus.done, key=lambda r: r.board)
        self._refresh()

    def _refresh(self) -> None:
        bus, dead = self.bus, self.dead
        self.boards = [r.board for r in self.runs]
        self.blocks: list[DutyPeriod] = []
        ok: list[bool] = []
        place, free = bus.at, bus.free_at
        for r in self.runs:
            empty = dead(place, r.first)
            start = r.board - timedelta(minutes=empty)
            ok.append(start >= free)
            self.blocks.append(DutyPeriod(start, r.arrive, empty + r.driving))
            place, free = r.hub, r.arrive
        n = len(ok)
        self.ok_before = [True] * (n + 1)  # ok_before[k]: blocks 0..k-1 may all start when free
        for k in range(n):
            self.ok_before[k + 1] = self.ok_before[k] and ok[k]
        self.ok_from = [True] * (n + 1)  # ok_from[k]: blocks k..n-1 may all start when free
        for k in range(n - 1, -1, -1):
            self.ok_from[k] = self.ok_from[k + 1] and ok[k]
        # when the bus must leave the hub to reach each run's first village in time
        self.drive_out = [r.board - timedelta(minutes=dead(self.hub, r.first)) for r in self.runs]

    def add(self, run: BusRun) -> None:
        """Insert ``run`` (after any run boarding at the same time)."""
        self.runs.insert(bisect.bisect_right(self.boards, run.board), run)
        self._refresh()

    def fits(self, cand: BusRun, rules: Drivers | None) -> bool:
        """Whether the bus can also do ``cand``: every block starts when the bus is free, and
        the day keeps the driver ``rules`` (:func:`planner.rules.driving.duty_fits`)."""
        k = bisect.bisect_right(self.boards, cand.board)
        if not self.ok_before[k]:
            return False
        if k:
            prev = self.runs[k - 1]
            place, free = prev.hub, prev.arrive
        else:
            place, free = self.bus.at, self.bus.free_at
        empty = self.dead(place, cand.first)
        start = cand.board - timedelta(minutes=empty)
        if start < free:
            return False
        mine = DutyPeriod(start, cand.arrive, empty + cand.driving)
        tail = self.blocks[k + 1:]
        if k < len(self.runs):
            nxt = self.runs[k]
            empty2 = self.dead(cand.hub, nxt.first)
            start2 = nxt.board - timedelta(minutes=empty2)
            if start2 < cand.arrive:
                return False
            tail = [DutyPeriod(start2, nxt.arrive, empty2 + nxt.driving), *tail]
        if k < len(self.runs) and not self.ok_from[k + 1]:
            return False
        if rules is None:
            return True
        return duty_fits([*self.blocks[:k], mine, *tail], rules)


def schedule_runs(
    runs: list[FeederRun],
    buses: list[Bus],
    hub: str,
    arrive_by: datetime,
    first_depart: datetime,
    dead_minutes: Callable[[str, str], int],
    *,
    order: Callable[[FeederRun], object] | None = None,
    arrive_after: datetime | None = None,
    rules: Drivers | None = None,
    late: bool = True,
) -> list[ScheduledRun]:
    """Put ``runs`` on ``buses`` so that as many as possible reach ``hub`` in [``arrive_after``, ``arrive_by``].

    Runs are taken in ``order`` (default: longest ride first). Each goes on the bus that can
    bring it in latest, as late as that bus can: at ``arrive_by``, or just in time for the bus
    to drive out to one of its later runs; never before ``arrive_after`` (so nobody waits at
    the hub longer than the caller allows). It must leave its first village no earlier than
    ``first_depart``, fit between the bus's other runs (committed or planned here; the empty
    drives in between included), and keep the bus's day within the driver ``rules``
    (:func:`planner.rules.driving.duty_fits`: continuous driving, rests, the night stop,
    8 h in 24 h). With ``late`` a run that fits no bus goes on the bus that brings it in
    earliest after ``arrive_by`` (within a day); without, it is left out and the caller sees
    which units no bus brings. Buses do not change: the caller commits the result.
    """
    if not runs:
        return []
    key = order or (lambda r: (-r.ride, r.first))
    planned: dict[str, _Timeline] = {b.bus_id: _Timeline(b, hub, dead_minutes) for b in buses}
    out: list[ScheduledRun] = []

    def fits(b: Bus, cand: BusRun) -> bool:
        return planned[b.bus_id].fits(cand, rules)

    def put(bus_id: str, run: FeederRun, arr: datetime) -> None:
        sr = ScheduledRun(bus_id, run, arr - timedelta(minutes=run.ride))
        planned[bus_id].add(as_bus_run(sr, hub))
        out.append(sr)

    # The bus chosen for a run is the largest (latest arrival that fits, bus id) over the buses,
    # whatever order they are tried in; trying them by descending id lets the search stop at
    # the first bus that fits at ``arrive_by`` (no bus can bring it in later, none with a
    # smaller id wins a tie), instead of trying every bus of the county for every run.
    by_id_desc = sorted(buses, key=lambda b: b.bus_id, reverse=True)
    left: list[FeederRun] = []
    for run in sorted(runs, key=key):
        ride = timedelta(minutes=run.ride)
        dwell = timedelta(minutes=run.dwell)
        driving = float(sum(run.legs) + run.to_hub)
        best = None
        for b in by_id_desc:
            if best is not None and best[1] >= arrive_by:
                break
            # latest arrivals worth trying: the deadline, or just before the bus drives out to a later run
            times = {arrive_by}
            times.update(t for t in planned[b.bus_id].drive_out if t < arrive_by)
            for arr in sorted(times, reverse=True):
                if arrive_after is not None and arr < arrive_after:
                    break
                if best is not None and (arr, b.bus_id) <= (best[1], best[0]):
                    break
                if arr - ride < first_depart:
                    break
                if fits(b, BusRun(run.first, arr - ride - dwell, arr, hub, driving)):
                    best = (b.bus_id, arr)
                    break
        if best is None:
            left.append(run)
        else:
            put(best[0], run, best[1])
    for run in left if late else []:
        ride = timedelta(minutes=run.ride)
        dwell = timedelta(minutes=run.dwell)
        driving = float(sum(run.legs) + run.to_hub)
        best = None
        for b in buses:
            low = ceil_minute(max(arrive_by, first_depart + ride))
            # the earliest arrival that fits: straight after the bus is free or after one of its
            # runs, else (a rest, the night stop) in 10-minute steps within a day
            after = [b.free_at + timedelta(minutes=dead_minutes(b.at, run.first)) + dwell + ride]
            after += [r.arrive + timedelta(minutes=dead_minutes(r.hub, run.first)) + dwell + ride
                      for r in planned[b.bus_id].runs]
            times = sorted({max(low, ceil_minute(t)) for t in after})
            times += [low + timedelta(minutes=10 * k) for k in range(1, 145)]
            for arr in times:
                if fits(b, BusRun(run.first, arr - ride - dwell, arr, hub, driving)):
                    break
            else:
                continue
            if best is None or (arr, b.bus_id) < (best[1], best[0]):
                best = (b.bus_id, arr)
        if best is not None:
            put(best[0], run, best[1])
    out.sort(key=lambda s: (s.depart, s.bus))
    return out


def pickup_order(villages: list[str], from_start: Mapping[str, float], between: Callable[[str, str], float],
                 to_end: Mapping[str, float]) -> list[str]:
    """The order of a few pick-ups with the least driving: start -> every village -> end.

    Exact (every order is tried; ties go to the first order in sorted order), so meant for
    the handful of villages of a township-direct coach (7 villages: 5,040 orders). Up to
    :data:`PICKUP_VECTOR_MAX` villages the orders are costed at once with numpy, adding the
    same floats in the same order as the plain loop (so the same order wins, bit for bit).
    """
    names = sorted(villages)
    n = len(names)
    if n == 0:
        return []
    if n > PICKUP_VECTOR_MAX:
        return _pickup_order_loop(names, from_start, between, to_end)
    perms = _permutations(n)
    fs = np.array([from_start[v] for v in names], dtype=np.float64)
    te = np.array([to_end[v] for v in names], dtype=np.float64)
    bt = np.zeros((n, n), dtype=np.float64)
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if i != j:
                bt[i, j] = between(a, b)
    # cost = from_start + to_end + sum(legs), the sum from the left, exactly as the loop adds them
    if n == 1:
        cost = fs[perms[:, 0]] + te[perms[:, -1]] + 0.0
    else:
        acc = bt[perms[:, 0], perms[:, 1]]
        for k in range(1, n - 1):
            acc = acc + bt[perms[:, k], perms[:, k + 1]]
        cost = (fs[perms[:, 0]] + te[perms[:, -1]]) + acc
    # the loop keeps the first order and moves on only to one cheaper by more than 1e-9
    i = 0
    while True:
        later = np.flatnonzero(cost[i + 1:] < cost[i] - 1e-9)
        if not len(later):
            break
        i = i + 1 + int(later[0])
    return [names[k] for k in perms[i]]


#: most villages :func:`pickup_order` costs with numpy (8! = 40,320 orders); beyond, a plain loop
PICKUP_VECTOR_MAX = 8


@lru_cache(maxsize=PICKUP_VECTOR_MAX)
def _permutations(n: int) -> np.ndarray:
    """Every order of ``range(n)``, in :func:`itertools.permutations` order (one row each)."""
    return np.array(list(itertools.permutations(range(n))), dtype=np.intp).reshape(-1, n)


def _pickup_order_loop(names: list[str], from_start: Mapping[str, float], between: Callable[[str, str], float],
                       to_end: Mapping[str, float]) -> list[str]:
    best: tuple[float, tuple[str, ...]] | None = None
    for order in itertools.permutations(names):
        cost = from_start[order[0]] + to_end[order[-1]] + sum(between(a, b) for a, b in zip(order, order[1:]))
        if best is None or cost < best[0] - 1e-9:
            best = (cost, order)
    return list(best[1]) if best else []
