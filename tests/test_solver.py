"""Solver tests on small cases whose right answer can be argued on paper."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from planner.plan_writer import plan_tables
from planner.solve.problem import build_problem
from planner.solve.solver import solve
from tests.solver_fixtures import scenario, tiny_tables

# 巫山, first day of 2020: 杭州 50, 深圳龙岗 173, 石狮 72, 珠海 148 (443 people)
WUSHAN_DAY_ONE = {"F0001": 50, "F0002": 173, "F0003": 72, "F0004": 148}


def _run(tables, sc=None):
    sc = sc or scenario()
    p = build_problem(sc, tables)
    res = solve(p)
    return p, res, plan_tables(p, res, pd.DataFrame())


def _coach_trips(plan):
    t = plan["trips"]
    return t[(t["mode"] == "coach") & (t["purpose"] == "passenger")]


def test_wushan_day_one_meets_lower_bound():
    """443 workers to 4 far-apart towns in C53 coaches at half seats (22 each) need exactly 22 coaches."""
    p, res, plan = _run(tiny_tables(WUSHAN_DAY_ONE))
    assert p.seats_for("C53", "half_seats") == 22
    expected = sum(math.ceil(n / 22) for n in WUSHAN_DAY_ONE.values())
    assert expected == 22
    assert res.lower_bound["coach_departures"] == expected
    assert len(_coach_trips(plan)) == expected
    assert (plan["workers"]["status"] == "planned").sum() == 443


def test_every_worker_once_and_no_coach_over_its_seats():
    """Each worker appears once in workers.csv; no coach carries more than its allowed seats."""
    _, _, plan = _run(tiny_tables(WUSHAN_DAY_ONE))
    w = plan["workers"]
    assert w["worker_id"].is_unique and len(w) == 443
    trips = plan["trips"]
    assert (trips["passengers"] <= trips["seats_allowed"]).all()
    legs = plan["legs"]
    per_trip = legs.groupby("trip_id").size()
    assert (per_trip.reindex(trips["trip_id"]).fillna(0).to_numpy() == trips["passengers"].to_numpy()).all()
    assert not legs.duplicated(["trip_id", "seat"]).any()


def test_overbooked_fleet_reports_unassigned_never_loses_anyone():
    """One coach for 200 people with a near deadline: the rest are unassigned with a reason."""
    tables = tiny_tables({"F0002": 200}, coaches=1, needed_by=date(2020, 2, 18))
    _, _, plan = _run(tables)
    w = plan["workers"]
    assert len(w) == 200
    planned = (w["status"] == "planned").sum()
    assert 0 < planned < 200
    un = w[w["status"] == "unassigned"]
    # the reason names the limit that bound: the county's only coach was on the road
    assert set(un["reason"]) == {"no_coach_free"}


def test_closed_destination_is_reported():
    """A destination closed for the whole window sends nobody and says why."""
    risk = [("4403", date(2020, 2, 1), date(2020, 4, 30), "closed")]
    _, _, plan = _run(tiny_tables({"F0002": 30, "F0001": 25}, risk=risk))
    w = plan["workers"]
    shen = w[w["factory_id"] == "F0002"]
    assert (shen["status"] == "unassigned").all()
    assert set(shen["reason"]) == {"destination_closed"}
    assert (w[w["factory_id"] == "F0001"]["status"] == "planned").all()


def test_family_split_across_eligibility_travels_together():
    """A family of three with one unconfirmed job: the two others ride the same vehicles."""
    tables = tiny_tables({"F0001": 30}, groups=[[0, 1, 2]], job_confirmed={1: False})
    _, _, plan = _run(tables)
    w = plan["workers"].set_index("worker_id")
    assert w.at["W0000002", "reason"] == "job_not_confirmed"
    assert w.at["W0000001", "status"] == "planned" and w.at["W0000003", "status"] == "planned"
    legs = plan["legs"]
    a = legs[legs["worker_id"] == "W0000001"]["trip_id"].tolist()
    b = legs[legs["worker_id"] == "W0000003"]["trip_id"].tolist()
    assert a == b and a


def test_family_held_when_scenario_says_so():
    """With groups.hold_if_member_ineligible the whole family waits, with the reason."""
    tables = tiny_tables({"F0001": 30}, groups=[[0, 1, 2]], job_confirmed={1: False})
    _, _, plan = _run(tables, scenario(groups={"hold_if_member_ineligible": True}))
    w = plan["workers"].set_index("worker_id")
    assert w.at["W0000001", "reason"] == "group_member_ineligible"
    assert w.at["W0000003", "reason"] == "group_member_ineligible"


def test_unrecognised_proof_is_not_planned():
    """A worker without a health proof stays home with no_recognised_health_proof."""
    _, _, plan = _run(tiny_tables({"F0001": 10}, proof={4: "none"}))
    w = plan["workers"].set_index("worker_id")
    assert w.at["W0000005", "reason"] == "no_recognised_health_proof"
    assert (w["status"] == "planned").sum() == 9


def test_train_service_carries_workers_to_the_station():
    """A special train to 深圳北 takes the 深圳 workers; its carriages respect half seats (55 per YZ25)."""
    svc = [
        {"service_id": "K001", "date": date(2020, 2, 16), "depart_time": "10:00", "origin_station_id": "R-WS",
         "destination_station_id": "S-SZB", "carriages": 2, "carriage_type": "YZ25", "travel_hours": 16.0}
    ]
    p, _, plan = _run(tiny_tables({"F0002": 100, "F0001": 20}, services=svc))
    assert p.seats_for("YZ25", "half_seats") == 55
    w = plan["workers"]
    on_train = w[w["chain"] == "train"]
    assert len(on_train) == 100
    assert set(on_train["factory_id"]) == {"F0002"}
    trains = plan["trips"][plan["trips"]["mode"] == "train"]
    assert (trains["passengers"] <= 55).all() and trains["passengers"].sum() == 100


@pytest.mark.parametrize("seed", [1, 2])
def test_plan_is_deterministic(seed):
    """The same input gives the same plan, trip for trip."""
    t1 = tiny_tables({"F0001": 40, "F0002": 33}, seed=seed)
    t2 = tiny_tables({"F0001": 40, "F0002": 33}, seed=seed)
    _, _, a = _run(t1)
    _, _, b = _run(t2)
    pd.testing.assert_frame_equal(a["trips"], b["trips"])
    pd.testing.assert_frame_equal(a["legs"], b["legs"])


def test_no_eligible_worker_gives_an_empty_plan_with_reasons():
    """A county whose only worker has no confirmed job: nothing to plan, the worker reported, no crash."""
    tables = tiny_tables({"F0001": 1}, job_confirmed={0: False})
    _, _, plan = _run(tables)
    w = plan["workers"]
    assert list(w["status"]) == ["unassigned"] and list(w["reason"]) == ["job_not_confirmed"]
    assert len(plan["trips"]) == 0


def test_progress_line_shows_parts_and_time_left():
    """A quarter of the work done in 1 min leaves 3 min at the same pace; the bar is a quarter full."""
    from planner.solve.solver import progress_line
    line = progress_line(5, 38, 0.25, 60.0, "区县 500101 完成")
    assert line.startswith("[" + "█" * 5 + "░" * 15 + "] 5/38")
    assert "已用 1:00" in line and "预计剩余 3:00" in line and line.endswith("区县 500101 完成")
    assert "预计剩余 ?" in progress_line(0, 38, 0.0, 1.0, "开始")
    assert line.share == 0.25 and line.seconds_left == 180.0  # for the app's progress bar
