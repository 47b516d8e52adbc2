"""The records one county's planning passes between its steps.

:mod:`planner.solve.county` (the daily loop) and the modules it composes
(:mod:`planner.solve.dispatch`, :mod:`planner.solve.direct`,
:mod:`planner.solve.feeder_wave`, :mod:`planner.solve.coach_timing`,
:mod:`planner.solve.trip_writer`) speak to each other only through these named
records and the shared :class:`planner.solve.county_state.CountyState`, so that
what a step needs and what it hands on can be read off its signature.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import numpy as np

from planner.rules.route import RoutePlan
from planner.solve.busy import Busy
from planner.solve.feeders import Bus, BusRun
from planner.solve.records import PlanParts


@dataclass
class Vehicle:
    """A coach or feeder bus of the county, and when it is next free at its base."""

    vehicle_id: str
    type_id: str
    seats: dict[str, int]  # occupancy rule -> seats allowed
    free_at: datetime
    at_place: str = ""  # where the vehicle waits when free ("" = its home terminal)
    runs: tuple[BusRun, ...] = ()  # a feeder bus's recent runs, for its timeline and the driver rules
    busy: Busy | None = None  # a repair replan's kept trips of this coach (planner.solve.busy); None: none


class FeederStop(NamedTuple):
    """A village a feeder run calls at: when, who boards, km from the previous stop."""

    village: str
    arrive: datetime
    depart: datetime
    units: list[int]
    km: float


class PlannedRun(NamedTuple):
    """A feeder run on a bus, timed: its stops, arrival at the hub, km from the last stop."""

    bus: str
    stops: list[FeederStop]
    arrive: datetime
    km_to_hub: float


@dataclass
class FeederPlan:
    """Tentative feeder runs to one hub (nothing written yet) and what committing them changes."""

    runs: list[PlannedRun]
    timeline: dict[str, Bus]  # bus -> the bus with these runs done
    brought: dict[int, datetime]  # unit -> arrival at the hub (units no bus brings are absent)


@dataclass
class CountyInput:
    """What one county's planning needs (picklable, for worker processes)."""

    county_code: str
    unit_ids: np.ndarray
    terminal_id: str | None
    # (unit, station hub, must arrive by, day index of the train)
    train_feeds: list[tuple[int, str, datetime, int]] = field(default_factory=list)


class CoachRoute(NamedTuple):
    """A timed coach trip that every rule allows, ready to be written."""

    route: RoutePlan
    drops: list[str]
    segs: list[tuple[str, str, float, float, int]]  # (from, to, minutes, km, dwell after)
    total_km: float
    drivers: int
    rule: str


@dataclass
class Load:
    """A coach load chosen for a day."""

    units: list[int]
    people: int
    factories: list[str]
    area: int
    urgency: int


class Dispatched(NamedTuple):
    """What one day's dispatch did: the units sent, and whether the feeder buses bound.

    ``feeders_bound``: a hub coach stood reserved for a load no feeder could bring today (then
    idle coaches collect at the villages themselves, :func:`planner.solve.direct.sweep_direct`).
    """

    sent: set[int]
    feeders_bound: bool


class CountyResult(NamedTuple):
    """One county's plan, and what it changed in the shared solve context.

    ``train_fed``: units the county's feeders brought to their trains (added to
    ``SolveContext.train_fed`` during the run); ``hub_used``: the people through the county's
    terminal per day, ``(terminal, day index) -> people`` (``SolveContext.hub_used`` entries of
    that terminal). A worker process sends these back to the parent, which merges them.
    """

    county_code: str
    parts: PlanParts
    train_fed: set[int]
    hub_used: dict[tuple[str, int], int]
