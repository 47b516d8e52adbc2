"""The throughput bound and the coach-departure bound, on cases small enough to work out by hand."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from planner.rules.geo import haversine_km
from planner.solve.bounds import coach_departure_bound, rests_hours, throughput_bound, trip_hours_lower
from planner.solve.problem import build_problem
from tests import check_fixtures as cf

START = date(2020, 2, 14)


def gc_km() -> float:
    """Great-circle km from the county's nearest boarding place (its villages and hubs) to F0001."""
    return min(float(haversine_km(*cf.POS[x], *cf.POS["F0001"])) for x in (cf.V1, cf.V2, cf.V3, "T500101", "R-WZB"))


def model_out_h(p) -> float:
    """The trip out timed by the travel model: great-circle km x the county's detour factor at the
    coach speed, with the driver rests (what the checker's coach_faster_than_model accepts)."""
    drive = gc_km() * p.sc.travel.factor("500101") / p.sc.travel.coach_speed_kmh * 0.99  # the checker allows 1 % less
    return float(drive + rests_hours(drive, p))


def problem(n_workers: int, *, coaches: int = 1, ready: date = START, proof: date = START, needed_by=date(2020, 3, 31),
            cycle_h: float = 73.0, services: pd.DataFrame | None = None, window_end: date = date(2020, 2, 20),
            strict: bool = False):
    """One county (万州), one 53-seat coach type, ``n_workers`` bound for F0001 (东莞, 1,000 km away).

    The turnaround is set so that the shortest round trip (out timed by the travel model with
    rests, turnaround, empty return, rest) is ``cycle_h`` hours; ``strict``: out over the
    great-circle km at the fastest speed instead (the bound's ``strict=True`` timing).
    """
    tb = cf.tables()
    sc0 = cf.scenario(window={"start": START, "end": window_end})
    p0 = build_problem(sc0, tb)
    out_h = float(trip_hours_lower([gc_km()], p0)[0]) if strict else model_out_h(p0)
    turnaround = cycle_h - 2 * out_h - sc0.fleet.rest_after_return_h
    assert turnaround > 0
    sc = cf.scenario(window={"start": START, "end": window_end}, fleet={"turnaround_h": turnaround})
    w = tb["workers"].iloc[[0]].copy()
    w = pd.concat([w] * n_workers, ignore_index=True)
    w["worker_id"] = [f"W{i:03d}" for i in range(n_workers)]
    w["group_id"] = ""
    w["factory_id"] = "F0001"
    w["ready_date"] = ready
    w["proof_date"] = proof
    w["_row"] = range(2, n_workers + 2)
    tb["workers"] = w
    tb["factories"]["needed_by"] = needed_by
    tb["fleet"] = pd.DataFrame([("500101", "C53", coaches), ("500101", "F35", 1)], columns=["county_code", "type_id", "count"])
    tb["train_services"] = services if services is not None else tb["train_services"].iloc[0:0]
    tb["risk_calendar"] = tb["risk_calendar"].iloc[0:0]
    p = build_problem(sc, tb)
    return p, out_h


def seats(p) -> int:
    """Seats of the 53-seat coach under half seats with the two isolation rows empty."""
    return p.seats_for("C53", "half_seats")


def bound(p) -> int:
    return throughput_bound(p).counties["500101"].bound


def test_one_coach_three_day_cycle_seven_days():
    """1 coach, round trip just over 3 days, 7 days: it leaves on days 0, 3 and 6 at most: 3 trips."""
    p, _ = problem(200)
    assert seats(p) == 22
    assert bound(p) == 3 * 22


def test_more_coaches_more_trips():
    """Two coaches double it; enough coaches and the workers themselves bind."""
    assert bound(problem(200, coaches=2)[0]) == 6 * 22
    assert bound(problem(50, coaches=5)[0]) == 50


def test_two_day_cycle():
    """A round trip of 50 h: departures at least 50 h apart, so at most 4 in 7 days (0, 50, 100, 150 h)."""
    assert bound(problem(200, cycle_h=50.0)[0]) == 4 * 22


def test_workers_ready_late():
    """Ready on day 5 of 7: one departure (days 5-6) before the window ends."""
    assert bound(problem(200, ready=date(2020, 2, 19))[0]) == 22


def test_proof_expiring():
    """Proof issued 6 days before the window: valid on days 0 and 1 only (7 days): one trip."""
    assert bound(problem(200, proof=date(2020, 2, 8), ready=date(2020, 2, 8))[0]) == 22


def test_needed_by_cuts_the_last_days():
    """Needed by 02-16 (day 2): the trip out takes over half a day, so the last departure day is 2: one trip."""
    p, out_h = problem(200, needed_by=date(2020, 2, 16))
    assert 12 < out_h < 24  # day 2 + out_h / 24 <= end of day 2; day 3 would arrive too late
    assert bound(p) == 22


def test_train_seats_add():
    """A service on day 1 to the factory's arrival station adds its carriage seats."""
    svc = pd.DataFrame([{"service_id": "S1", "date": date(2020, 2, 15), "depart_time": "10:00",
                         "origin_station_id": "R-WZB", "destination_station_id": "S-DG", "carriages": 1,
                         "carriage_type": "YZ25", "travel_hours": 14.0}])
    p, _ = problem(200, services=svc)
    carriage = p.seats_for("YZ25", "half_seats")
    b = throughput_bound(p)
    assert b.counties["500101"].coach_only == 66
    assert b.counties["500101"].bound == 66 + carriage
    assert b.total == 66 + carriage and b.train_seats_usable == carriage


def test_train_too_late_adds_nothing():
    """A train arriving after needed_by adds no seat."""
    svc = pd.DataFrame([{"service_id": "S1", "date": date(2020, 2, 15), "depart_time": "10:00",
                         "origin_station_id": "R-WZB", "destination_station_id": "S-DG", "carriages": 1,
                         "carriage_type": "YZ25", "travel_hours": 60.0}])
    p, _ = problem(200, services=svc, needed_by=date(2020, 2, 16))
    assert bound(p) == 22


def test_departure_bound_groups_by_drop_radius():
    """People of factories farther apart than the drop radius never share a coach: one ceil per group."""
    p, _ = problem(10)
    people = pd.DataFrame({"county_code": ["500101"] * 30, "factory_id": ["F0001"] * 15 + ["F0002"] * 15})
    cap = seats(p)
    # F0001 and F0002 are about 18 km apart: one group under the 30 km default
    assert coach_departure_bound(p, people)["coach_departures"] == math.ceil(30 / cap) == 2
    p.sc = cf.scenario(fleet={"drop_radius_km": 10.0})
    assert coach_departure_bound(p, people)["coach_departures"] == 2 * math.ceil(15 / cap) == 2
    people = pd.DataFrame({"county_code": ["500101"] * 40, "factory_id": ["F0001"] * 20 + ["F0002"] * 20})
    assert coach_departure_bound(p, people)["coach_departures"] == 2  # ceil(20/22) twice
    p.sc = cf.scenario()
    assert coach_departure_bound(p, people)["coach_departures"] == 2  # ceil(40/22)


@pytest.mark.parametrize("cycle_h", [47.0, 73.0])
def test_bound_never_below_a_legal_schedule(cycle_h):
    """A schedule one can write down (a coach every ceil(cycle/24) days, full) is within the bound."""
    p, _ = problem(500, cycle_h=cycle_h, coaches=2)
    step = math.ceil(cycle_h / 24)
    trips = 2 * len(range(0, 7, step))
    assert bound(p) >= trips * 22


def test_tiny_plan_within_its_bound(tmp_path):
    """The tiny scenario's plan moves no more workers per county than its throughput bound, and reports it."""
    import json

    from planner.pipeline import run_plan

    tiny = Path(__file__).parent / "data" / "tiny" / "scenario.toml"
    out = tmp_path / "plan"
    run_plan(tiny, out, check=False)
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    tb = s["throughput_bound"]
    assert tb["by_county"], tb
    for county, b in tb["by_county"].items():
        assert 0 <= b["planned"] <= b["bound"] <= b["movable"], county
        assert b["gap"] == b["bound"] - b["planned"]
    assert tb["total"]["planned"] == s["workers"]["planned"] <= tb["total"]["bound"]
    assert s["lower_bound"]["coach_departures"] <= s["lower_bound"]["coach_departures_planned"]
    waits = s["hub_waits"]
    assert waits["transfers"] > 0 and waits["median_min"] <= waits["p90_min"] <= waits["max_min"]
    q = s["plan_quality"]
    assert 0 <= q["coach_days_on_road"] <= q["coach_days"] and q["part_filled_coach_trips"] <= q["coach_trips"]


def test_model_timing_is_tighter_than_strict():
    """A turnaround set so that the round trip at the fastest speed over the great-circle km is 52 h.

    ``strict=True`` (great-circle km, fastest speed): departures 52 h apart, 4 in 7 days (0, 52,
    104, 156 h). Timed by the travel model (x1.3 detour, coach speed, less the checker's 1 %) the
    drive out is 1,047 min (17 h 27) and the round trip lasts L ~ 60.5 h: by hours alone
    (168 + L) / L ~ 3.78 trips (83 seats); by whole days, 3. On the clock: boarding at 07:00 on day
    0 it arrives 00:27 on day 1, turns round (14 h 52) until 15:19, drives back 10 h 41 until the
    02:00-05:00 stop and 6 h 46 after it, arriving 11:46 on day 2, and rests 8 h: free at 19:46,
    after the last boarding time (18:00). So the coach boards on days 0, 3 and 6 at most: 3 trips.
    """
    p, out_h = problem(200, cycle_h=52.0, strict=True)
    strict = throughput_bound(p, strict=True).counties["500101"]
    assert strict.bound == 4 * 22
    model = throughput_bound(p).counties["500101"]
    cycle = 52.0 + 2 * (model_out_h(p) - out_h)
    assert 60 < cycle < 61
    assert int(22 * (168 + cycle) / cycle) == 83  # what the hours alone allow
    assert model.shortest_cycle_days == 3
    assert model.bound == 3 * 22


def test_model_drive_is_detour_over_coach_speed():
    """Without road tables the least drive out (and back) is the nearest boarding place's
    great-circle km x the county's detour factor / the coach speed, less the checker's 1 %: 0.99 x 1.3 x km / 75 h."""
    from planner.solve.bounds import model_drive_hours

    p, _ = problem(10)
    out, back = model_drive_hours(p, "500101", p.workers["village_code"].unique(), ["F0001"])
    assert p.sc.travel.factor("500101") == 1.3 and p.sc.travel.coach_speed_kmh == 75.0
    assert out[0] == pytest.approx(gc_km() * 1.3 / 75.0 * 0.99) and back[0] == pytest.approx(out[0])
    assert 17 < out[0] < 18  # about 1,000 km


def test_day_cycle_by_hand():
    """Whole days between two boardings of one coach, worked out on the clock (07:00-18:00 boarding).

    5 h out, 2 h turnaround, 5 h back, no rest: 07:00 -> 12:00 -> 14:00 -> 19:00, after 18:00:
    next boarding the day after (1). 4.5 h each way: back at 18:00, boards again the same day (0).
    With the 8 h rest after 4.5 h: free at 02:00, the next day (1). 20 h each way: out 07:00 to
    02:00 (19 h), the night stop to 05:00, arrives 06:00 on day 1; turns round until 08:00, drives
    18 h to 02:00 on day 2, stops until 05:00, 2 h more: 07:00 on day 2, rests until 15:00 (2).
    """
    from planner.solve.bounds import day_cycle

    sc = cf.scenario(fleet={"turnaround_h": 2.0, "rest_after_return_h": 0.0})
    assert day_cycle(5.0, True, sc) == 1
    assert day_cycle(4.5, True, sc) == 0
    sc8 = cf.scenario(fleet={"turnaround_h": 2.0, "rest_after_return_h": 8.0})
    assert day_cycle(4.5, True, sc8) == 1
    assert day_cycle(20.0, True, sc8) == 2
    # a later last boarding time lets the 5 h trip's coach board again the same day
    late = cf.scenario(fleet={"turnaround_h": 2.0, "rest_after_return_h": 0.0, "latest_coach_depart_time": "19:30"})
    assert day_cycle(5.0, True, late) == 0


def test_model_drive_with_road_tables(tmp_path):
    """With road tables (the tiny OSM network) the least drive goes through the Dijkstra over the
    covered places: factories outside the network are reached by the estimate from the nearest
    boarding place, so the drives equal those without roads, out and back."""
    from planner.solve.bounds import model_drive_hours
    from tests.solver_fixtures import scenario
    from tests.test_solver_roads import ROADS, _tables

    p = build_problem(scenario(roads={"network": str(ROADS / "tiny.osm"), "cache_dir": str(tmp_path / "c")}), _tables())
    p0 = build_problem(scenario(), _tables())
    assert p.travel.roads is not None and p.travel.roads.covered.any()
    county = str(p.workers["county_code"].iloc[0])
    facs = p.workers["factory_id"].unique()
    out, back = model_drive_hours(p, county, p.workers["village_code"].unique(), facs)
    out0, back0 = model_drive_hours(p0, county, p0.workers["village_code"].unique(), facs)
    assert out == pytest.approx(out0) and back == pytest.approx(back0) and (out > 10).all()
    assert throughput_bound(p).total <= throughput_bound(p, strict=True).total
