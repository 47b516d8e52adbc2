"""Driver rules on timed routes: hand-checked cases and a property test."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.rules.driving import drivers_needed, plan_drive, schedule_violations
from planner.rules.route import plan_route, plan_single
from planner.scenario import Drivers

TZ = ZoneInfo("Asia/Shanghai")
RULES = Drivers()


def t(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2020, 2, day, hh, mm, tzinfo=TZ)


def violations(stretches, drivers: int, rules: Drivers = RULES) -> list[str]:
    """An independent re-check of the rules on driving intervals (periods split by rests)."""
    out = []
    period = 0.0
    night = False
    prev_end = None
    for a, b in stretches:
        if prev_end is not None and (a - prev_end) >= timedelta(minutes=rules.min_rest_min):
            period, night = 0.0, False
        m = (b - a).total_seconds() / 60
        period += m
        k = a
        while k < b:
            if k.hour >= 22 or k.hour < 6:
                night = True
            if 2 <= k.hour < 5:
                out.append(f"driving at {k}")
                break
            k += timedelta(minutes=1)
        limit = (rules.max_continuous_night_h if night else rules.max_continuous_day_h) * 60
        if period > limit + 1e-6:
            out.append(f"period of {period} min > {limit}")
        lo = b - timedelta(hours=24)
        total = sum(((y - max(x, lo)).total_seconds() / 60) for x, y in stretches if y > lo and x < b)
        if total > rules.max_driving_per_24h_h * 60 * drivers + 1e-6:
            out.append(f"{total} min in 24 h")
        prev_end = b
    return out


def test_three_hours_by_day_is_one_stretch():
    """08:00 + 3 h of driving arrives 11:00 without a rest."""
    r = plan_single(t(14, 8), 180, 1, RULES)
    assert r.arrive == t(14, 11)
    assert len(r.stretches) == 1 and r.rests[0] == ()


def test_five_hours_rest_after_four():
    """08:00 + 5 h: 08:00-12:00, 20 min rest, 12:20-13:20."""
    r = plan_single(t(14, 8), 300, 1, RULES)
    assert r.stretches[0] == (t(14, 8), t(14, 12))
    assert r.stretches[1] == (t(14, 12, 20), t(14, 13, 20))
    assert r.arrive == t(14, 13, 20)


def test_night_stretches_are_two_hours():
    """Leaving at 21:00, no driving period touching the night lasts more than 2 h."""
    r = plan_single(t(14, 21), 240, 1, RULES)
    assert all((b - a) <= timedelta(hours=2) for a, b in r.stretches)
    assert violations(r.stretches, 1) == []


def test_coach_stops_between_two_and_five():
    """A drive reaching 02:00 stands still until 05:00."""
    r = plan_single(t(14, 23, 30), 300, 2, RULES)
    for a, b in r.stretches:
        assert not (a.hour >= 2 and a.hour < 5)
    assert any(a == t(15, 5) for a, _ in r.stretches)


def test_qijiang_to_guangzhou_takes_twenty_hours_plus():
    """綦江 -> 广州, 1,300 road km at 75 km/h with two drivers: more than 20 h door to door."""
    minutes = 1300 / 75 * 60
    assert drivers_needed(1300, RULES) == 2
    r = plan_single(t(14, 8), minutes, 2, RULES)
    assert r.arrive - t(14, 8) >= timedelta(hours=20)
    assert violations(r.stretches, 2) == []


def test_one_driver_keeps_eight_hours_a_day():
    """1,500 km with one driver never drives more than 8 h in 24 h."""
    r = plan_single(t(14, 8), 1500 / 75 * 60, 1, RULES)
    assert violations(r.stretches, 1) == []
    assert r.arrive - t(14, 8) > timedelta(hours=40)


def test_short_stops_do_not_reset_the_driving_period():
    """Pick-up stops of 10 min do not count as rest: a period still ends within 4 h."""
    segs = [(50, 10)] * 8
    r = plan_route(t(14, 7), segs, 1, RULES)
    assert violations(r.stretches, 1) == []
    assert r.arrive - t(14, 7) >= timedelta(minutes=400 + 70 + 20)


@settings(derandomize=True, max_examples=150, deadline=None)
@given(
    start_min=st.integers(0, 24 * 60 - 1),
    segs=st.lists(st.tuples(st.floats(0, 900), st.sampled_from([0, 5, 10, 20, 30])), min_size=1, max_size=5),
    drivers=st.sampled_from([1, 2]),
)
def test_any_route_obeys_every_rule(start_min, segs, drivers):
    """Random routes: every rule holds, driving time is the sum of the segments, time never runs back."""
    start = t(14, 0) + timedelta(minutes=start_min)
    r = plan_route(start, segs, drivers, RULES)
    assert violations(r.stretches, drivers) == []
    driven = sum((b - a).total_seconds() / 60 for a, b in r.stretches)
    import math

    assert driven == sum(math.ceil(m - 1e-9) for m, _ in segs)
    for i in range(len(segs)):
        assert r.departs[i] <= r.arrivals[i]
        if i + 1 < len(segs):
            assert r.arrivals[i] <= r.departs[i + 1]


@pytest.mark.parametrize("km", [150, 390, 700, 1373, 1500, 2000])
@pytest.mark.parametrize("hour", [0, 6, 8, 12, 17, 22])
def test_straight_drive_is_legal_and_wastes_little_time(km, hour):
    """A one-segment route obeys every driver rule and arrives within an hour of the exact scheduler.

    ``plan_drive`` (planner.rules.driving) searches the 24 h budget exactly; the
    route planner, which also handles pick-ups and drops, may only lose a little
    by waiting for a useful stretch instead of a minute-exact one.
    """
    rules = Drivers()
    drivers = drivers_needed(km, rules)
    depart = datetime(2020, 2, 20, hour, 0)
    minutes = km / 75 * 60
    route = plan_single(depart, minutes, drivers, rules)
    exact = plan_drive(depart, minutes, drivers, rules)
    assert schedule_violations(route.stretches, drivers, rules) == []
    assert route.arrive >= exact.arrive - timedelta(minutes=1)
    assert route.arrive - exact.arrive <= timedelta(minutes=60)
