"""Dispatch when the fleet binds: a coach round trip is worth the people it moves.

Worked out by hand: one county (巫山), one 53-seat coach (22 seats under half seats with the
last two rows empty), everyone ready on 02-14. 22 workers for 杭州 (F0001, needed by 02-17) fill
the coach exactly and may leave on 02-14 or 02-15; 5 for 泉州 (F0003, needed by 02-16, more than
500 km from 杭州, so never on the same coach, and nobody else expected for it) may leave only on
02-14. The coach's trip takes 27 h each way (1,300 km): leaving on 02-14 it is back and rested
only on 02-17. Earliest-deadline-first gives the only coach to the five on 02-14, and the 22
miss 杭州's last day; with ``solver.favour_full_coaches`` the coach takes the full load: 22
travel and the five stay home for want of a coach.
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
    t = tiny_tables({"F0001": 22, "F0003": 5}, villages=3, coaches=1, feeders=4, ready=date(2020, 2, 14))
    f = t["factories"]
    f.loc[f["factory_id"] == "F0001", "needed_by"] = date(2020, 2, 17)
    f.loc[f["factory_id"] == "F0003", "needed_by"] = date(2020, 2, 16)
    return t


def _plan(tmp_path, favour: bool):
    tables = _tables()
    sc = scenario(solver={"favour_full_coaches": favour})
    p = build_problem(sc, tables)
    res = solve(p)
    out = tmp_path / ("full" if favour else "edf")
    write_plan(out, p, res, pd.DataFrame(), len(tables["workers"]), {})
    report = check_plan(read_plan(out), sc, tables, set())
    assert report.ok, report.text()
    return pd.read_csv(out / "workers.csv", dtype=str, keep_default_na=False)


def test_full_coach_goes_first_when_the_fleet_binds(tmp_path):
    w = _plan(tmp_path, favour=True)
    planned = w[w["status"] == "planned"]
    assert len(planned) == 22 and set(planned["factory_id"]) == {"F0001"}
    home = w[w["status"] != "planned"]
    assert set(home["factory_id"]) == {"F0003"} and set(home["reason"]) == {"no_coach_free"}


def test_earliest_deadline_first_moves_fewer_here(tmp_path):
    """With the rule off, the urgent five take the coach and the 22 stay home: the case is tight."""
    w = _plan(tmp_path, favour=False)
    planned = w[w["status"] == "planned"]
    assert len(planned) == 5 and set(planned["factory_id"]) == {"F0003"}
    assert set(w.loc[w["status"] != "planned", "reason"]) == {"no_coach_free"}
