"""Issue 12, objection 1: no coach stands idle while people stay home for want of a feeder.

A hand-checkable county built with :func:`tests.solver_fixtures.tiny_tables`: 120 workers for
one factory, spread over 36 villages in 12 townships (3-4 people a village), all ready on
02-18 and needed by 02-20, ten coaches and a single feeder bus. A hub coach (22 people from
about 7 villages of 3 townships) needs several feeder runs, which one bus cannot drive in the
hour before each departure; so before the change most workers stayed home as
``no_feeder_in_time`` while most coaches stood idle. Six neighbouring villages hold about 20
people, so an idle coach can collect them itself (a pick-up coach, at most
``fleet.max_pickup_stops`` stops) and go straight to the factory.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from planner.check import check_plan, read_plan
from planner.plan_writer import write_plan
from planner.solve.problem import build_problem
from planner.solve.solver import solve
from tests.solver_fixtures import scenario, tiny_tables


def _tables():
    return tiny_tables({"F0002": 120}, villages=36, coaches=10, feeders=1, ready=date(2020, 2, 18),
                       needed_by=date(2020, 2, 20))


def test_idle_coaches_collect_when_the_feeders_bind(tmp_path):
    """Everyone travels (the coaches collect at the villages) and the plan passes the checker."""
    tables = _tables()
    sc = scenario()
    p = build_problem(sc, tables)
    res = solve(p)
    write_plan(tmp_path, p, res, pd.DataFrame(), len(tables["workers"]), {})
    report = check_plan(read_plan(tmp_path), sc, tables, set())
    assert report.ok, report.text()
    w = pd.read_csv(tmp_path / "workers.csv", dtype=str, keep_default_na=False)
    home = w[w["status"] != "planned"]
    assert home.empty, home["reason"].value_counts().to_dict()
    trips = pd.read_csv(tmp_path / "trips.csv", dtype=str)
    coaches = trips[(trips["mode"] == "coach") & (trips["purpose"] == "passenger")]
    # 120 people on coaches of 22: at least 6 coaches, and not one coach per handful of people
    assert 6 <= len(coaches) <= 8
    stops = pd.read_csv(tmp_path / "stops.csv", dtype=str)
    picks = stops[stops["trip_id"].isin(coaches["trip_id"]) & (stops["place_kind"] == "village")]
    assert picks.groupby("trip_id").size().max() <= sc.fleet.max_pickup_stops


def test_idle_sweep_is_deterministic():
    """The same input twice gives the same legs and the same people left home."""
    a = solve(build_problem(scenario(), _tables()))
    b = solve(build_problem(scenario(), _tables()))
    assert a.parts.legs == b.parts.legs
    assert a.parts.unplaced == b.parts.unplaced
