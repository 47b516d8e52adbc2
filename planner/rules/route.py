"""Timing a coach route with stops under the driver rules.

A route is a list of segments (drive minutes, then minutes standing at the
stop that ends it). :func:`plan_route` drives each segment as early as the
rules allow and inserts rest stops where they are needed:

- a *driving period* is driving interrupted only by stands shorter than the
  minimum rest; it lasts at most ``max_continuous_day_h``, or
  ``max_continuous_night_h`` when any of it falls in the night window;
- after a period the coach stands at least ``min_rest_min``;
- nobody drives in the no-driving window (02:00-05:00);
- in any 24 h, driving totals at most ``max_driving_per_24h_h`` x drivers.

Times are whole minutes, so the ISO times in a plan show exactly what was
planned and the checker can verify the same rules from ``stops.csv``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from planner.rules.driving import MIN_USEFUL_STRETCH
from planner.scenario import Drivers

DAY = 1440


@dataclass(frozen=True)
class RoutePlan:
    """The timed route.

    ``departs[i]`` is when the coach leaves the stop before segment ``i``;
    ``arrivals[i]`` when it reaches the stop after it; ``rests[i]`` the rest
    stops inside segment ``i`` as (arrive, depart, share of the segment
    driven so far); ``stretches`` every driving interval in order.
    """

    departs: tuple[datetime, ...]
    arrivals: tuple[datetime, ...]
    rests: tuple[tuple[tuple[datetime, datetime, float], ...], ...]
    stretches: tuple[tuple[datetime, datetime], ...]

    @property
    def arrive(self) -> datetime:
        """Arrival at the last stop."""
        return self.arrivals[-1]


def _tod(t: datetime) -> int:
    return t.hour * 60 + t.minute


def _minutes(clock) -> int:
    return clock.hour * 60 + clock.minute


def overlaps_window(t: datetime, length: int, start: int, end: int) -> bool:
    """Whether [t, t+length) meets the daily window [start, end) (may wrap midnight)."""
    if length <= 0:
        return False
    s = _tod(t)
    if _in(s, start, end):
        return True
    return (start - s) % DAY < length


def _in(m: int, start: int, end: int) -> bool:
    if start <= end:
        return start <= m < end
    return m >= start or m < end


class _Clock:
    """Driving state carried along a route."""

    def __init__(self, t: datetime, rules: Drivers, drivers: int) -> None:
        self.t = t
        self.r = rules
        self.day_lim = int(round(rules.max_continuous_day_h * 60))
        self.night_lim = int(round(rules.max_continuous_night_h * 60))
        self.rest = int(rules.min_rest_min)
        self.budget = int(round(rules.max_driving_per_24h_h * 60 * drivers))
        self.night = (_minutes(rules.night_start), _minutes(rules.night_end))
        self.stop = (_minutes(rules.no_driving_start), _minutes(rules.no_driving_end))
        self.cont = 0
        self.period_night = False
        self.stretches: list[tuple[datetime, datetime]] = []
        # the same clock in whole minutes from the start (every time here is a whole minute:
        # the start is rounded up, every stand and drive is whole minutes), for the 24 h sums
        self.m = 0
        self.spans: list[tuple[int, int]] = []

    def stand(self, minutes: int) -> None:
        if minutes <= 0:
            return
        self.t += timedelta(minutes=minutes)
        self.m += minutes
        if minutes >= self.rest:
            self.cont = 0
            self.period_night = False

    def driven_in_window(self) -> int:
        lo = self.m - DAY
        total = 0
        for a, b in reversed(self.spans):
            if b <= lo:
                break
            total += b - (a if a > lo else lo)
        return total

    def wait_for_budget(self, want: int) -> int:
        """Minutes to stand until ``want`` minutes of driving fit in the 24 h budget."""
        lo = self.m - DAY
        inside = [(max(a, lo), b) for a, b in self.spans if b > lo]
        excess = sum(b - a for a, b in inside) + want - self.budget
        if excess <= 0:
            return 0
        for a, b in inside:
            length = b - a
            if length >= excess:
                return max(1, a + excess + DAY - self.m)
            excess -= length
        return DAY

    def next_chunk(self, remaining: int) -> tuple[int, int]:
        """(minutes to drive now, minutes to stand first); exactly one is positive."""
        s = _tod(self.t)
        if _in(s, *self.stop):
            return 0, (self.stop[1] - s) % DAY
        until_stop = (self.stop[0] - s) % DAY
        chunk = min(remaining, self.day_lim - self.cont)
        if chunk > 0 and (self.period_night or overlaps_window(self.t, chunk, *self.night)):
            chunk = min(remaining, self.night_lim - self.cont)
        chunk = min(chunk, until_stop)
        free = self.budget - self.driven_in_window()
        if chunk > 0 and free < chunk:
            useful = min(remaining, MIN_USEFUL_STRETCH)
            if free >= useful:
                chunk = free
            else:
                # wait only until a useful stretch fits: the budget frees up as old
                # driving leaves the 24 h window, so driving can go on from there
                return 0, self.wait_for_budget(useful)
        if chunk <= 0:
            return 0, self.rest
        return chunk, 0

    def drive(self, minutes: int) -> None:
        a = self.t
        self.t += timedelta(minutes=minutes)
        am = self.m
        self.m += minutes
        if self.stretches and self.stretches[-1][1] == a:
            self.stretches[-1] = (self.stretches[-1][0], self.t)  # driving on without a stop
            self.spans[-1] = (self.spans[-1][0], self.m)
        else:
            self.stretches.append((a, self.t))
            self.spans.append((am, self.m))
        if overlaps_window(a, minutes, *self.night):
            self.period_night = True
        self.cont += minutes


def plan_route(depart: datetime, segments: list[tuple[float, float]], drivers: int, rules: Drivers) -> RoutePlan:
    """Time a route of ``segments`` = [(drive minutes, stand minutes at its end), ...].

    Drive minutes are rounded up to whole minutes; ``depart`` is rounded up to
    the minute. The coach waits at a stop (later departure) when the rules do
    not let it start driving there, and rests at a service area on the way.
    """
    start = depart.replace(second=0, microsecond=0)
    if start < depart:
        start += timedelta(minutes=1)
    clock = _Clock(start, rules, drivers)
    departs: list[datetime] = []
    arrivals: list[datetime] = []
    rests: list[tuple[tuple[datetime, datetime, float], ...]] = []
    for i, (drive_min, stand_min) in enumerate(segments):
        total = max(0, int(math.ceil(drive_min - 1e-9)))
        remaining = total
        # wait at the stop until driving is allowed
        while remaining > 0:
            chunk, wait = clock.next_chunk(remaining)
            if chunk > 0:
                break
            clock.stand(wait)
        departs.append(clock.t)
        seg_rests: list[tuple[datetime, datetime, float]] = []
        while remaining > 0:
            chunk, wait = clock.next_chunk(remaining)
            if chunk > 0:
                clock.drive(chunk)
                remaining -= chunk
                continue
            # a rest on the way: stand at least the minimum rest
            arrive = clock.t
            clock.stand(max(wait, clock.rest))
            if seg_rests and seg_rests[-1][1] == arrive:
                # still standing where the last rest was: one longer stop, not two
                seg_rests[-1] = (seg_rests[-1][0], clock.t, seg_rests[-1][2])
            else:
                seg_rests.append((arrive, clock.t, (total - remaining) / total))
        arrivals.append(clock.t)
        rests.append(tuple(seg_rests))
        if i < len(segments) - 1:
            clock.stand(int(math.ceil(stand_min)))
    return RoutePlan(tuple(departs), tuple(arrivals), tuple(rests), tuple(clock.stretches))


def plan_single(depart: datetime, drive_min: float, drivers: int, rules: Drivers) -> RoutePlan:
    """A route of one segment (an empty return, a straight charter)."""
    return plan_route(depart, [(drive_min, 0.0)], drivers, rules)
