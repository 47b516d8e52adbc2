"""When a coach is already busy: the intervals of trips a repair replan keeps, and the check against them.

A repair replan (:mod:`planner.solve.repair`) keeps the base plan's later trips, so a
coach may be out on a kept trip in the middle of the window. The county planner
(:mod:`planner.solve.county` and its steps) still thinks of a coach as "free from ``free_at``";
:class:`Busy` adds the kept intervals (departure to the end of the drivers' rest after the
empty return) and answers two questions for it:

* :meth:`Busy.free_from`: from when the coach may start a new trip that leaves by
  ``ready_by`` and lasts up to ``span`` (the county's longest round trip in the base plan),
  so that the pick functions only offer a coach whose next kept trip is far enough away;
* :meth:`Busy.fits`: whether one timed new trip (leaving at ``start``, free again at
  ``end``) overlaps no kept interval. This is the hard check: a trip that fails it is not
  written.

A fresh plan has no :class:`Busy` on any vehicle and nothing here runs.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import datetime, timedelta

from planner.rules.driving import ceil_minute, drivers_needed
from planner.rules.route import plan_single


@dataclass(frozen=True)
class Busy:
    """A vehicle's kept busy intervals ``[start, end)``, sorted and disjoint; ``span``: a new trip's longest length."""

    intervals: tuple[tuple[datetime, datetime], ...]
    span: timedelta

    def free_from(self, free_at: datetime, ready_by: datetime) -> datetime:
        """The earliest start of a new trip leaving by ``ready_by`` that no kept interval can overlap.

        Every kept interval that starts before ``ready_by + span`` must be over by then.
        """
        horizon = ready_by + self.span
        out = free_at
        for s, e in self.intervals:
            if s >= horizon:
                break
            if e > out:
                out = e
        return out

    def fits(self, start: datetime, end: datetime) -> bool:
        """True when ``[start, end)`` overlaps none of the kept intervals."""
        starts = [s for s, _e in self.intervals]
        i = bisect.bisect_left(starts, end)  # intervals starting before ``end``
        return all(e <= start for _s, e in self.intervals[:i])


def usable_from(vehicle, ready_by: datetime) -> datetime:  # noqa: ANN001 - planner.solve.county_records.Vehicle
    """From when ``vehicle`` may start a new trip leaving by ``ready_by`` (its ``free_at`` without kept trips)."""
    busy: Busy | None = getattr(vehicle, "busy", None)
    return vehicle.free_at if busy is None else busy.free_from(vehicle.free_at, ready_by)


def claim(vehicle, ready_by: datetime) -> None:  # noqa: ANN001
    """The vehicle was picked for a trip leaving by ``ready_by``: it leaves no earlier than :func:`usable_from`."""
    if getattr(vehicle, "busy", None) is not None:
        vehicle.free_at = max(vehicle.free_at, usable_from(vehicle, ready_by))


def coach_fits(state, coach, route_plan) -> bool:  # noqa: ANN001 - CountyState, Vehicle, CoachRoute
    """True when the timed coach trip, its empty return and the drivers' rest overlap no kept trip of ``coach``.

    ``state`` is the county's :class:`planner.solve.county_state.CountyState` (its scenario,
    terminal and travel times). The return is timed as
    :func:`planner.solve.trip_writer.write_coach` writes it.
    """
    busy: Busy | None = getattr(coach, "busy", None)
    if busy is None:
        return True
    sc = state.sc
    route = route_plan.route
    start = route.departs[0]
    arrive_last = route.arrivals[-1]
    leave = ceil_minute(arrive_last + timedelta(hours=sc.fleet.turnaround_h))
    if sc.fleet.empty_return:
        back_from, origin = route_plan.drops[-1], state.terminal
        drv = drivers_needed(state.km(back_from, origin), sc.drivers)
        back = plan_single(leave, state.coach_minutes(back_from, origin), drv, sc.drivers)
        end = back.arrive + timedelta(hours=sc.fleet.rest_after_return_h)
    else:
        end = leave
    return busy.fits(start, end)
