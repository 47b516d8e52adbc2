"""Feeder runs: routing villages to a hub (route_runs) and putting runs on buses (schedule_runs).

Small cases whose right answer can be argued on paper; invariants on a random county.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from planner.solve.feeders import Bus, FeederRun, route_runs, schedule_runs, village_chunks

DWELL = 5


def line_minutes(pos: dict[str, float]):
    """Travel minutes = distance on a line (place -> position in minutes from the hub)."""
    def minutes(places: list[str]) -> np.ndarray:
        x = np.array([pos[p] for p in places], dtype=float)
        return np.abs(x[:, None] - x[None, :])
    return minutes


def units_of(runs: list[FeederRun]) -> list[int]:
    return sorted(x for r in runs for _v, units in r.stops for x in units)


def test_chunks_keep_families_whole_and_fill_buses():
    """23 people of one village in units 5,5,5,5,3 on 10-seat buses: 10, 10, 3; a unit is never split."""
    size = [5, 5, 5, 5, 3]
    chunks = village_chunks({"V": [0, 1, 2, 3, 4]}, size, 10)
    assert [c[2] for c in chunks] == [10, 10, 3]
    assert [c[1] for c in chunks] == [[0, 1], [2, 3], [4]]


def test_two_small_neighbours_share_one_run_and_far_village_rides_alone():
    """A (4 people) and B (5) lie 10 and 15 min from the hub on the same road, 10 seats:
    one run B -> A -> hub (ride 5 + 5 dwell + 10 = 20 min) beats two runs (fixed cost per run).
    C is 130 min away: over the 120 min limit even alone, so it gets a run of its own (never dropped)."""
    pos = {"H": 0, "A": 10, "B": 15, "C": 130}
    size = [4, 5, 2]
    runs = route_runs("H", {"A": [0], "B": [1], "C": [2]}, size, 10, line_minutes(pos),
                      ride_limit_min=120, dwell=DWELL, iterations=100)
    assert units_of(runs) == [0, 1, 2]
    shared = [r for r in runs if len(r.stops) == 2]
    assert len(shared) == 1
    assert [v for v, _u in shared[0].stops] == ["B", "A"]
    assert shared[0].ride == 20
    alone = [r for r in runs if r.first == "C"]
    assert len(alone) == 1 and alone[0].stops == (("C", (2,)),)


def test_ride_limit_splits_runs():
    """A and B each 70 min from the hub but 60 min apart: together the first boarder would ride
    60 + 5 + 70 = 135 > 120 min, so they need two runs, although the seats would allow one."""
    pos = {"H": 0, "A": 70, "B": -70}
    minutes = line_minutes(pos)

    def bent(places):  # A and B 60 min apart (not 140): a mountain road that bypasses the hub
        m = minutes(places)
        i, j = places.index("A"), places.index("B")
        m[i, j] = m[j, i] = 60
        return m

    runs = route_runs("H", {"A": [0], "B": [1]}, [3, 3], 10, bent, ride_limit_min=120, dwell=DWELL, iterations=100)
    assert sorted(len(r.stops) for r in runs) == [1, 1]
    loose = route_runs("H", {"A": [0], "B": [1]}, [3, 3], 10, bent, ride_limit_min=150, dwell=DWELL, iterations=100)
    assert [len(r.stops) for r in loose] == [2]


def test_random_county_invariants():
    """60 villages, families of 1-4: every unit once, no run over the seats, no shared run over the ride limit."""
    rng = np.random.default_rng(7)
    xy = {f"V{i:02d}": tuple(rng.uniform(-40, 40, 2)) for i in range(60)}
    xy["H"] = (0.0, 0.0)

    def minutes(places):
        p = np.array([xy[v] for v in places])
        return np.sqrt(((p[:, None, :] - p[None, :, :]) ** 2).sum(axis=2)) * 1.5

    size = rng.integers(1, 5, 400).tolist()
    by_village: dict[str, list[int]] = {}
    for u in range(400):
        by_village.setdefault(f"V{rng.integers(0, 60):02d}", []).append(u)
    runs = route_runs("H", by_village, size, 22, minutes, ride_limit_min=120, dwell=DWELL, iterations=200)
    assert units_of(runs) == list(range(400))
    for r in runs:
        assert sum(size[x] for _v, us in r.stops for x in us) <= 22
        if len(r.stops) > 1:
            assert r.ride <= 120
        # the legs are the (ceiled) travel times between consecutive stops
        names = [v for v, _u in r.stops]
        assert r.legs[1:] == tuple(int(np.ceil(minutes([a, b])[0, 1] - 1e-9)) for a, b in zip(names, names[1:]))
    # the same seed gives the same runs
    again = route_runs("H", by_village, size, 22, minutes, ride_limit_min=120, dwell=DWELL, iterations=200)
    assert again == runs


def run(first: str, ride_to_hub: int) -> FeederRun:
    return FeederRun(((first, (0,)),), (0,), ride_to_hub, DWELL)


def test_one_bus_does_two_runs_before_the_departure_and_a_third_late():
    """Hub wave at 07:00, feeders from 05:30, one bus at the hub, runs of 30 min, 10 min out.

    Backwards: run 1 leaves 06:30 (arrives 07:00); the bus leaves the hub 06:15 (10 min out,
    5 min boarding), so run 2 arrives by 06:15 and leaves 05:45 (>= 05:30). Run 3 would have
    to leave 05:00, before the first departure: it goes after run 1, leaving 07:15 (07:00 + 10
    + 5) and arriving 07:45, late; the trunk vehicle waits for it.
    """
    day = datetime(2020, 2, 20)
    buses = [Bus("B1", day, "H")]
    runs = [run("X", 30), run("Y", 30), run("Z", 30)]
    dead = lambda a, b: 0 if a == b else 10  # noqa: E731
    plan = schedule_runs(runs, buses, "H", day.replace(hour=7), day.replace(hour=5, minute=30), dead,
                         order=lambda r: r.first)
    got = [(s.run.first, s.depart.strftime("%H:%M"), s.arrive.strftime("%H:%M")) for s in plan]
    assert got == [("Y", "05:45", "06:15"), ("X", "06:30", "07:00"), ("Z", "07:15", "07:45")]
    # the bus is never in two places: each run starts after the previous arrival + drive out + boarding
    for a, b in zip(plan, plan[1:]):
        assert b.depart - a.arrive >= timedelta(minutes=10 + DWELL)


def test_busy_bus_and_second_bus():
    """Two buses; B1 is busy until 06:50. Both 30-min runs must go on B2 (06:30 and 05:45) or
    one late on B1; the scheduler puts both on B2 in time."""
    day = datetime(2020, 2, 20)
    buses = [Bus("B1", day.replace(hour=6, minute=50), "H"), Bus("B2", day, "H")]
    dead = lambda a, b: 0 if a == b else 10  # noqa: E731
    plan = schedule_runs([run("X", 30), run("Y", 30)], buses, "H", day.replace(hour=7),
                         day.replace(hour=5, minute=30), dead)
    assert {s.bus for s in plan} == {"B2"}
    assert max(s.arrive for s in plan) == day.replace(hour=7)


@pytest.mark.parametrize("engine", ["pyvrp", "ortools"])
def test_both_engines_route_feeders(engine):
    """The feeder model (open start, ride limit as route duration, fixed cost) solves on both engines."""
    pos = {"H": 0, "A": 10, "B": 15, "C": 40}
    runs = route_runs("H", {"A": [0], "B": [1], "C": [2]}, [4, 5, 3], 10, line_minutes(pos),
                      ride_limit_min=120, dwell=DWELL, iterations=50, engine=engine)
    assert units_of(runs) == [0, 1, 2]
    assert all(sum([4, 5, 3][x] for _v, us in r.stops for x in us) <= 10 for r in runs)


def test_direct_coach_pickup_order_is_the_shortest_drive():
    """Terminal at 0, villages at 10, 20 (east) and -5 (west), the factories far east (to_end =
    1000 - position). Going west first (-5, then 10, 20) drives 5 + 15 + 10 + 980 = 1010 min;
    the nearest-next order 10, 20, -5 would drive 10 + 10 + 25 + 1005 = 1050."""
    pos = {"T": 0, "A": 10, "B": 20, "W": -5}
    between = lambda a, b: abs(pos[a] - pos[b])  # noqa: E731
    from planner.solve.feeders import pickup_order
    order = pickup_order(["A", "B", "W"], {v: abs(pos[v]) for v in "ABW"}, between,
                         {v: 1000 - pos[v] for v in "ABW"})
    assert order == ["W", "A", "B"]



@settings(max_examples=60, deadline=None, derandomize=True)
@given(rides=st.lists(st.integers(5, 120), min_size=1, max_size=25),
       frees=st.lists(st.integers(0, 240), min_size=1, max_size=6),
       out=st.integers(0, 40))
@example(rides=[30, 100, 90, 91], frees=[0, 0, 0, 0], out=10)
def test_schedule_never_puts_a_bus_in_two_places(rides, frees, out):
    """Random runs on random buses: every run is scheduled once; each bus reaches its first run
    from where it is free, drives out again after each run, and never leaves before 05:30."""
    day = datetime(2020, 2, 20)
    first = day.replace(hour=5, minute=30)
    arrive_by = day.replace(hour=7)
    runs = [FeederRun(((f"V{i}", (i,)),), (0,), r, DWELL) for i, r in enumerate(rides)]
    buses = [Bus(f"B{k}", day.replace(hour=4) + timedelta(minutes=m), "H") for k, m in enumerate(frees)]
    dead = lambda a, b: 0 if a == b else out  # noqa: E731
    plan = schedule_runs(runs, buses, "H", arrive_by, first, dead)
    assert sorted(s.run.first for s in plan) == sorted(r.first for r in runs)
    free = {b.bus_id: b.free_at for b in buses}
    for bus in free:
        mine = sorted((s for s in plan if s.bus == bus), key=lambda s: s.depart)
        at = free[bus]
        for s in mine:
            assert s.depart >= first
            assert s.depart >= at + timedelta(minutes=out + DWELL)
            at = s.arrive
    # a bus per run, all free at 04:00 at the hub: exactly the runs that fit between 05:30 and
    # 07:00 (ride <= 90 min) arrive on time, at 07:00; the others are late
    if len(frees) >= len(rides) and max(frees) == 0:
        for s in plan:
            assert (s.arrive == arrive_by) == (s.run.ride <= 90)
            assert s.arrive >= arrive_by
