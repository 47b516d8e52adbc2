"""The checker accepts a legal plan and catches each rule broken on purpose."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pandas as pd
import pytest

from planner.check import check_plan, read_plan
from planner.plan_writer import write_plan
from planner.solve.problem import build_problem
from planner.solve.solver import solve
from tests.solver_fixtures import scenario, tiny_tables

SERVICE = {"service_id": "K001", "date": date(2020, 2, 16), "depart_time": "10:00", "origin_station_id": "R-WS",
           "destination_station_id": "S-SZB", "carriages": 1, "carriage_type": "YZ25", "travel_hours": 16.0}


@pytest.fixture(scope="module")
def legal(tmp_path_factory):
    """A small legal plan: hub and direct coaches, a train, a family, an unconfirmed job."""
    tables = tiny_tables({"F0001": 47, "F0002": 60, "F0003": 23}, groups=[[0, 1, 2]], job_confirmed={5: False},
                         services=[SERVICE], villages=9)
    sc = scenario()
    p = build_problem(sc, tables)
    res = solve(p)
    out = tmp_path_factory.mktemp("plan")
    write_plan(out, p, res, pd.DataFrame(), len(tables["workers"]), {})
    return sc, tables, read_plan(out)


def _check(sc, tables, plan):
    return check_plan(plan, sc, tables, set())


def _copy(legal):
    sc, tables, plan = legal
    return sc, {k: v.copy() for k, v in tables.items()}, copy.deepcopy(plan)


def _coach_passenger_trip(plan, *, long=True):
    t = plan.trips
    c = t[(t["mode"] == "coach") & (t["purpose"] == "passenger")]
    return c.sort_values(["passengers", "distance_km", "trip_id"], ascending=[False, not long, True]).iloc[0]["trip_id"]


def test_legal_plan_passes(legal):
    """The solver's plan for the small case breaks no rule."""
    sc, tables, plan = legal
    report = _check(sc, tables, plan)
    assert report.ok, report.text()
    assert set(plan.workers["chain"]) >= {"hub_coach", "train"}


def test_dropped_worker_is_caught(legal):
    """A worker missing from workers.csv is reported (nobody may disappear)."""
    sc, tables, plan = _copy(legal)
    plan.workers = plan.workers.iloc[1:]
    assert "worker_missing" in _check(sc, tables, plan).rules()


def test_duplicated_worker_is_caught(legal):
    """A worker listed twice is reported."""
    sc, tables, plan = _copy(legal)
    plan.workers = pd.concat([plan.workers, plan.workers.iloc[[3]]])
    assert "worker_duplicate" in _check(sc, tables, plan).rules()


def test_broken_chain_place_is_caught(legal):
    """A first leg that does not start at the worker's village is reported."""
    sc, tables, plan = _copy(legal)
    i = plan.legs.index[plan.legs["leg"] == 1][0]
    plan.legs.loc[i, "board_place_id"] = "500237999999"
    assert "chain_start" in _check(sc, tables, plan).rules()


def test_short_transfer_is_caught(legal):
    """A coach boarding too soon after the feeder arrives at the hub is reported."""
    sc, tables, plan = _copy(legal)
    legs = plan.legs
    two = legs[legs["leg"] == 2].iloc[0]
    one = legs[(legs["worker_id"] == two["worker_id"]) & (legs["leg"] == 1)].index[0]
    legs.loc[one, "alight_time"] = two["board_time"] - timedelta(minutes=10)
    assert "transfer_too_short" in _check(sc, tables, plan).rules()


def test_seat_in_isolation_rows_is_caught(legal):
    """A passenger in the last two rows of a coach is reported."""
    sc, tables, plan = _copy(legal)
    tid = _coach_passenger_trip(plan)
    i = plan.legs.index[plan.legs["trip_id"] == tid][0]
    plan.legs.loc[i, "seat"] = "12A"
    assert "seat_not_allowed" in _check(sc, tables, plan).rules()


def test_seat_outside_pattern_is_caught(legal):
    """Seat 1A is not in the half-seat chequerboard (1B, 1D): reported."""
    sc, tables, plan = _copy(legal)
    tid = _coach_passenger_trip(plan)
    legs = plan.legs[plan.legs["trip_id"] == tid]
    assert "1A" not in set(legs["seat"])
    plan.legs.loc[legs.index[0], "seat"] = "1A"
    assert "seat_not_allowed" in _check(sc, tables, plan).rules()


def test_double_booked_seat_is_caught(legal):
    """Two passengers in one seat are reported."""
    sc, tables, plan = _copy(legal)
    tid = _coach_passenger_trip(plan)
    idx = plan.legs.index[plan.legs["trip_id"] == tid]
    plan.legs.loc[idx[1], "seat"] = plan.legs.loc[idx[0], "seat"]
    assert "seat_double_booked" in _check(sc, tables, plan).rules()


def test_pickup_after_alighting_is_caught(legal):
    """Boarding at a stop after passengers got off (en route) is reported."""
    sc, tables, plan = _copy(legal)
    tid = _coach_passenger_trip(plan)
    st = plan.stops[plan.stops["trip_id"] == tid]
    last = st.index[-1]
    plan.stops.loc[last, "boarding"] = 1
    assert "pickup_en_route" in _check(sc, tables, plan).rules()


def test_pickup_outside_home_county_is_caught(legal):
    """A coach boarding people outside its home county is reported."""
    sc, tables, plan = _copy(legal)
    tid = _coach_passenger_trip(plan)
    plan.trips.loc[plan.trips["trip_id"] == tid, "home_county_code"] = "500101"
    assert "pickup_outside_county" in _check(sc, tables, plan).rules()


def test_five_hours_without_rest_is_caught(legal):
    """Removing the rest stops of a long coach trip leaves driving periods over the limit."""
    sc, tables, plan = _copy(legal)
    tid = _coach_passenger_trip(plan)
    st = plan.stops
    rest = st[(st["trip_id"] == tid) & (st["place_kind"] == "rest")]
    assert len(rest) > 0
    keep = st.drop(rest.index)
    # carry the distance of the removed stops over to the next real stop
    plan.stops = keep
    assert "continuous_driving" in _check(sc, tables, plan).rules()


def test_driving_at_three_in_the_morning_is_caught(legal):
    """A driving stretch through 03:00 is reported."""
    sc, tables, plan = _copy(legal)
    tid = _coach_passenger_trip(plan)
    st = plan.stops[plan.stops["trip_id"] == tid]
    a, b = st.index[0], st.index[1]
    day = plan.stops.loc[a, "depart"].normalize()
    plan.stops.loc[a, "depart"] = day + pd.Timedelta(hours=2, minutes=30)
    plan.stops.loc[b, "arrive"] = day + pd.Timedelta(hours=3, minutes=50)
    assert "night_stop_driving" in _check(sc, tables, plan).rules()


def test_one_driver_on_a_long_trip_is_caught(legal):
    """A 1,000+ km trip with one driver is reported."""
    sc, tables, plan = _copy(legal)
    tid = _coach_passenger_trip(plan)
    plan.trips.loc[plan.trips["trip_id"] == tid, "drivers"] = 1
    assert "second_driver_missing" in _check(sc, tables, plan).rules()


def test_fleet_exceeded_is_caught(legal):
    """Using more coaches than the county owns is reported."""
    sc, tables, plan = _copy(legal)
    fl = tables["fleet"]
    fl.loc[fl["type_id"] == "C53", "count"] = 1
    assert "fleet_exceeded" in _check(sc, tables, plan).rules()


def test_overlapping_vehicle_trips_are_caught(legal):
    """A vehicle leaving on a trip before its previous one ended is reported."""
    sc, tables, plan = _copy(legal)
    t = plan.trips
    tid = _coach_passenger_trip(plan)
    vid = t.loc[t["trip_id"] == tid, "vehicle_id"].iloc[0]
    ret = t[(t["vehicle_id"] == vid) & (t["purpose"] == "empty_return")].index[0]
    t.loc[ret, "depart"] = t.loc[t["trip_id"] == tid, "depart"].iloc[0] + pd.Timedelta(hours=1)
    assert "vehicle_overlap" in _check(sc, tables, plan).rules()


def test_missing_empty_return_is_caught(legal):
    """A coach that never goes home empty is reported."""
    sc, tables, plan = _copy(legal)
    t = plan.trips
    e = t[t["purpose"] == "empty_return"]["trip_id"].iloc[0]
    plan.trips = t[t["trip_id"] != e]
    plan.stops = plan.stops[plan.stops["trip_id"] != e]
    assert "empty_return_missing" in _check(sc, tables, plan).rules()


def test_hub_capacity_is_caught(legal):
    """More people boarding at a hub than it takes in a day is reported."""
    sc, tables, plan = _copy(legal)
    tables["hubs"]["daily_capacity_people"] = 5
    assert "hub_capacity" in _check(sc, tables, plan).rules()


def test_arrival_after_needed_by_is_caught(legal):
    """Arriving after the factory's date is reported."""
    sc, tables, plan = _copy(legal)
    tables["factories"]["needed_by"] = date(2020, 2, 14)
    assert "after_needed_by" in _check(sc, tables, plan).rules()


def test_departure_before_ready_is_caught(legal):
    """Leaving before the worker is ready is reported."""
    sc, tables, plan = _copy(legal)
    tables["workers"]["ready_date"] = date(2020, 3, 10)
    assert "before_ready" in _check(sc, tables, plan).rules()


def test_arrival_on_a_closed_day_is_caught(legal):
    """Arriving at a destination while it is closed is reported."""
    sc, tables, plan = _copy(legal)
    tables["risk_calendar"] = pd.DataFrame(
        [("44", date(2020, 2, 1), date(2020, 4, 1), "closed")], columns=["region_code", "from", "to", "level"]
    )
    assert "destination_closed" in _check(sc, tables, plan).rules()


def test_unrecognised_or_expired_proof_is_caught(legal):
    """Planning a worker with no proof, or a proof past its days, is reported."""
    sc, tables, plan = _copy(legal)
    w = tables["workers"]
    w.loc[10, "health_proof"] = "none"
    w.loc[11, "proof_date"] = date(2020, 1, 1)
    rules = _check(sc, tables, plan).rules()
    assert {"proof_not_recognised", "proof_not_valid"} <= rules


def test_split_family_is_caught(legal):
    """Two members of one family on different vehicles are reported."""
    sc, tables, plan = _copy(legal)
    w = plan.workers
    planned = w[(w["status"] == "planned") & (w["group_id"] == "")]
    legs = plan.legs.set_index("worker_id")
    first = planned.iloc[0]["worker_id"]
    other = next(x for x in planned["worker_id"] if legs.loc[[x], "trip_id"].tolist() != legs.loc[[first], "trip_id"].tolist()
                 and w.set_index("worker_id").at[x, "factory_id"] == w.set_index("worker_id").at[first, "factory_id"])
    w.loc[w["worker_id"].isin([first, other]), "group_id"] = "GX"
    assert "family_split" in _check(sc, tables, plan).rules()
