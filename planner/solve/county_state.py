"""The mutable state one county's planning shares between its steps, and the helpers on it.

Every step of a county's plan (:mod:`planner.solve.dispatch`, :mod:`planner.solve.direct`,
:mod:`planner.solve.feeder_wave`, :mod:`planner.solve.coach_timing`,
:mod:`planner.solve.trip_writer`) reads and changes the same few things: the county's
vehicles and when each is free again, the plan records written so far, the reasons that kept
units home, the CP-SAT budget left, and travel-time caches. They live in one explicit
:class:`CountyState`, passed as the first argument, instead of on one large class: a step's
signature says that it touches county state, and the state's fields say what there is.

Also here: the occupancy rule and closures in force at the destinations (asked by dispatch
and the direct coaches alike), and :func:`pick_coach` (the coach choice shared by the hub
coaches and the direct coaches).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Iterable

import numpy as np

from planner.scenario import Scenario
from planner.solve.busy import claim, usable_from
from planner.solve.context import SolveContext
from planner.solve.county_records import CountyInput, Vehicle
from planner.solve.problem import CLOSED, LEVELS, ProblemData, Units, at
from planner.solve.records import PlanParts
from planner.vocab import OCCUPANCY_RULES


@dataclass
class CountyState:
    """What one county's planning shares and changes while it runs (see the module docstring).

    Build it with :meth:`create`. ``coaches`` and ``feeders`` are the county's vehicles (a
    replan sets their kept trips in place before the run); ``parts`` receives the plan records.
    """

    p: ProblemData
    sc: Scenario
    ctx: SolveContext
    inp: CountyInput
    county: str
    terminal: str | None
    parts: PlanParts
    u: Units
    ids: np.ndarray
    travel: object  # planner.travel's model (km, coach and feeder minutes)
    coaches: list[Vehicle] = field(default_factory=list)
    feeders: list[Vehicle] = field(default_factory=list)
    feeder_seats: int = 0  # the most half-seats any feeder bus sells
    coach_cap: dict[str, int] = field(default_factory=dict)  # occupancy rule -> most seats of any coach
    # CP-SAT repacking is worth most where few coaches leave; a budget per county
    # keeps a municipality-wide run from spending hours on it
    cpsat_left: float = 0.0
    blocked: dict[int, str] = field(default_factory=dict)  # unit -> the limit that kept it home on its last try
    # destination area -> the days its units become ready (sorted; set by the daily loop)
    ready_days: dict[int, list[int]] = field(default_factory=dict)
    km_cache: dict[tuple[str, str], float] = field(default_factory=dict)
    dead_cache: dict[tuple[str, str], int] = field(default_factory=dict)
    cycle_cache: dict[tuple[str | None, str], float] = field(default_factory=dict)

    @classmethod
    def create(cls, p: ProblemData, ctx: SolveContext, inp: CountyInput) -> CountyState:
        """The state at the start of the county's window: its fleet free, nothing planned."""
        county = inp.county_code
        st = cls(p=p, sc=p.sc, ctx=ctx, inp=inp, county=county, terminal=inp.terminal_id,
                 parts=PlanParts(prefix=county), u=ctx.units, ids=inp.unit_ids, travel=p.travel,
                 cpsat_left=p.sc.solver.cpsat_budget_per_county_s)
        st._setup_fleet()
        return st

    # ----------------------------------------------------------------- fleet
    def _setup_fleet(self) -> None:
        """The county's coaches and feeder buses from the fleet table, free from the window's start."""
        p, sc = self.p, self.sc
        fl = p.fleet[p.fleet["county_code"].astype(str) == self.county]
        day0 = at(p.days[0], sc.fleet.direct_first_pickup_time) - timedelta(hours=6)
        self.coaches = []
        self.feeders = []
        for rec in fl.itertuples(index=False):
            tid = str(rec.type_id)
            mode = p.vehicle_modes.get(tid)
            if mode not in ("coach", "feeder"):
                continue
            seats = {r: p.seats_for(tid, r) for r in OCCUPANCY_RULES}
            for i in range(int(rec.count)):
                v = Vehicle(f"{self.county}-{tid}-{i + 1:03d}", tid, seats, day0)
                (self.coaches if mode == "coach" else self.feeders).append(v)
        self.feeder_seats = max((v.seats["half_seats"] for v in self.feeders), default=0)
        self.coach_cap = {
            r: max((v.seats[r] for v in self.coaches), default=0)
            for r in OCCUPANCY_RULES
        }

    # ---------------------------------------------------------------- travel
    def km(self, a: str, b: str) -> float:
        """Road km between two places (see :mod:`planner.travel`), cached."""
        key = (a, b)
        hit = self.km_cache.get(key)
        if hit is None:
            hit = self.travel.km(a, b, self.county)
            self.km_cache[key] = hit
        return hit

    def feeder_minutes(self, a: str, b: str) -> float:
        """Feeder bus (and in-county pick-up) minutes from place ``a`` to place ``b``."""
        return self.travel.feeder_minutes(a, b, self.county)

    def feeder_matrix(self, places: list[str]) -> np.ndarray:
        """Feeder bus minutes between every two of ``places`` (row = from)."""
        return self.travel.feeder_matrix(places, self.county)

    def coach_minutes(self, a: str, b: str) -> float:
        """Coach minutes from place ``a`` to place ``b``."""
        return self.travel.coach_minutes(a, b, self.county)

    def dead(self, a: str, b: str) -> int:
        """Whole minutes of an empty feeder drive from ``a`` to ``b`` (cached: asked very often)."""
        key = (a, b)
        hit = self.dead_cache.get(key)
        if hit is None:
            hit = self.dead_cache[key] = math.ceil(self.feeder_minutes(a, b) - 1e-9)
        return hit

    # ------------------------------------------------- rules at destinations
    def rule_for(self, factories: list[str], d: int) -> str:
        """Occupancy rule from the strictest level at the destinations around arrival."""
        ctx = self.ctx
        lvl = 0
        for f in factories:
            lo, hi = ctx.arrival_offsets(self.county, f)
            for dd in range(d + lo, d + hi + 1):
                lvl = max(lvl, ctx.factory_level(f, dd))
        return self.sc.occupancy.rule_for(LEVELS[min(lvl, 2)], self.p.days[d])

    def area_closed(self, f: str, d: int) -> bool:
        """True when factory ``f`` is closed on a day a coach leaving on day ``d`` could arrive."""
        lo, hi = self.ctx.arrival_offsets(self.county, f)
        return any(self.ctx.factory_level(f, dd) >= CLOSED for dd in range(d + lo, d + hi + 1))

    # --------------------------------------------------------------- reasons
    def note(self, units: Iterable[int], reason: str) -> None:
        """Remember what kept these units home today; the last one noted is reported if they never leave."""
        for x in units:
            self.blocked[int(x)] = reason

    def why(self, uid: int) -> str:
        """Why a unit stays home: the limit that bound on its last try, else why its last day is its last.

        A unit a train with free seats could have carried, but whose village no feeder links
        to the train's station within the ride limit, reports that limit instead
        (``feeder_ride_too_long_for_train``): it is what a planner can change.
        """
        reason = self.blocked.get(int(uid)) or str(self.ctx.why_late[uid])
        if uid in self.ctx.train_too_far and reason != "destination_closed":
            return "feeder_ride_too_long_for_train"
        return reason

    def fail(self, uid: int, reason: str) -> None:
        """Record every member of unit ``uid`` as unplaced for ``reason``."""
        for pos in self.u.members[uid]:
            self.parts.unplaced[int(pos)] = reason or "no_vehicle_before_needed_by"


def pick_coach(st: CountyState, ready_by: datetime, people: int, rule: str,
               reserved: set[str] = frozenset()) -> Vehicle | None:
    """The smallest coach free by ``ready_by`` that seats ``people``, not already reserved today."""
    best = None
    for v in st.coaches:
        if usable_from(v, ready_by) <= ready_by and v.seats[rule] >= people and v.vehicle_id not in reserved:
            if best is None or (v.seats[rule], v.free_at, v.vehicle_id) < (best.seats[rule], best.free_at, best.vehicle_id):
                best = v
    if best is not None:
        claim(best, ready_by)  # a repair replan: it leaves after the kept trips that would clash
    return best
