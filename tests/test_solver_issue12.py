"""Issue 12, solver side: no coach held for nobody, short hub waits, feeder driver rules, reasons.

Small cases built with :func:`tests.solver_fixtures.tiny_tables` whose right answer can be
argued on paper; each failed on the solver before the change.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from planner.plan_writer import plan_tables
from planner.rules.driving import DutyPeriod, duty_fits
from planner.scenario import Drivers
from planner.solve.problem import build_problem
from planner.solve.solver import solve
from tests.solver_fixtures import scenario, tiny_tables

TZ = ZoneInfo("Asia/Shanghai")


def _run(tables, sc=None):
    sc = sc or scenario()
    p = build_problem(sc, tables)
    res = solve(p)
    return p, res, plan_tables(p, res, pd.DataFrame())


def _passenger_coaches(plan):
    t = plan["trips"]
    return t[(t["mode"] == "coach") & (t["purpose"] == "passenger")]


@pytest.mark.parametrize("counts", [{"F0001": 4}, {"F0002": 16}, {"F0003": 16}, {"F0001": 4, "F0002": 16, "F0003": 16}])
def test_part_filled_coach_leaves_at_once_when_nobody_else_is_coming(counts):
    """Everyone ready on 02-18, nobody registers later, coaches free: every coach leaves on 02-18.

    Before, a part-filled coach (4 or 16 of 22 seats) waited until its people's last day (02-20
    and later) for arrivals the register shows will never come.
    """
    _, _, plan = _run(tiny_tables(counts, ready=date(2020, 2, 18)))
    w = plan["workers"]
    assert (w["status"] == "planned").all()
    days = {pd.Timestamp(t).date() for t in _passenger_coaches(plan)["depart"]}
    assert days == {date(2020, 2, 18)}


def test_part_filled_coach_waits_for_people_the_register_expects():
    """16 ready on 02-18 and 6 more for the same factory ready on 02-19: one full coach on 02-19
    rather than a part-filled one on 02-18 (the hold is justified by the register)."""
    tables = tiny_tables({"F0002": 22}, ready=date(2020, 2, 18))
    w = tables["workers"]
    late = w.index[-6:]
    w.loc[late, "ready_date"] = date(2020, 2, 19)
    w.loc[late, "proof_date"] = date(2020, 2, 19)
    _, _, plan = _run(tables)
    coaches = _passenger_coaches(plan)
    assert (plan["workers"]["status"] == "planned").all()
    assert len(coaches) == 1
    assert pd.Timestamp(coaches.iloc[0]["depart"]).date() == date(2020, 2, 19)


def _waits(plan) -> pd.Series:
    legs = plan["legs"]
    first = legs[legs["leg"] == 1].set_index("worker_id")
    second = legs[legs["leg"] == 2].set_index("worker_id")
    j = first.merge(second, left_index=True, right_index=True, suffixes=("_1", "_2"))
    return (pd.to_datetime(j["board_time_2"]) - pd.to_datetime(j["alight_time_1"])).dt.total_seconds() / 60


def test_nobody_waits_at_the_hub_longer_than_max_wait():
    """443 workers from 12 villages in 3 townships through the terminal, 6 feeder buses: every
    transfer between feeder arrival and coach departure lies within [transfer_min, max_wait_min]."""
    sc = scenario()
    _, _, plan = _run(tiny_tables({"F0001": 50, "F0002": 173, "F0003": 72, "F0004": 148}, villages=12,
                                  feeders=6), sc)
    waits = _waits(plan)
    assert len(waits) > 100
    assert waits.min() >= sc.hub.transfer_min
    assert waits.max() <= sc.hub.max_wait_min


def test_max_wait_key_is_planned_not_just_read():
    """A tighter hub.max_wait_min (75 min) gives waits of at most 75 min."""
    sc = scenario(hub={"max_wait_min": 75})
    _, _, plan = _run(tiny_tables({"F0002": 120, "F0004": 100}, villages=12, feeders=6), sc)
    waits = _waits(plan)
    assert len(waits) > 50
    assert waits.max() <= 75


def _feeder_blocks(plan) -> dict[str, list[DutyPeriod]]:
    """Each feeder bus's runs as driving blocks (the run as written, start to arrival)."""
    t = plan["trips"]
    f = t[t["mode"] == "feeder"]
    out: dict[str, list[DutyPeriod]] = {}
    for r in f.itertuples(index=False):
        a, b = pd.Timestamp(r.depart).to_pydatetime(), pd.Timestamp(r.arrive).to_pydatetime()
        out.setdefault(r.vehicle_id, []).append(DutyPeriod(a, b, (b - a).total_seconds() / 60))
    return out


def test_every_feeder_bus_keeps_the_driver_rules():
    """A 6 h ride limit and few buses: no feeder run drives over 4 h, no bus drives in 02:00-05:00
    or over 8 h in 24 h (the runs as written; the planner also counts the empty drives)."""
    sc = scenario(feeders={"max_ride_h": 6.0})
    tables = tiny_tables({"F0002": 173, "F0004": 148}, villages=12, feeders=3)
    # villages 1-2 h of feeder driving from the terminal (35 km/h, detour 1.3)
    v = tables["villages"]
    v["lon"] = 109.878 + np.array([0.3, -0.3, 0.4, -0.4, 0.2, -0.2, 0.35, -0.35, 0.45, -0.45, 0.25, -0.25])
    v["lat"] = 31.074 + np.array([0.2, 0.2, -0.2, -0.2, 0.3, 0.3, -0.3, -0.3, 0.1, 0.1, -0.3, -0.3])
    _, _, plan = _run(tables, sc)
    blocks = _feeder_blocks(plan)
    assert blocks
    for bus, runs in blocks.items():
        assert duty_fits(runs, sc.drivers), bus
        assert all((q.end - q.start) <= timedelta(hours=4) for q in runs)


def test_duty_24h_total_counts_a_cut_block_by_its_time_in_the_window():
    """08:00-12:00 (230 min driving), 13:00-17:00 (230), next day 07:30-08:30 (30): the checker may
    place all 30 min of the last block (its empty drive out) before 08:00, so 24 h from 08:00
    hold 490 > 480 min; prorating the cut block (15 min) would have let it pass. A block's
    driving inside a window is taken as at most min(its driving, its time in the window)."""
    r = Drivers()
    day = datetime(2020, 2, 20, tzinfo=TZ)
    x = DutyPeriod(day + timedelta(hours=8), day + timedelta(hours=12), 230.0)
    y = DutyPeriod(day + timedelta(hours=13), day + timedelta(hours=17), 230.0)
    z = DutyPeriod(day + timedelta(days=1, hours=7, minutes=30), day + timedelta(days=1, hours=8, minutes=30), 30.0)
    assert not duty_fits([x, y, z], r)
    assert duty_fits([x, y], r)
    # 10 min later still breaks it (x's driving may all lie at its end, 08:10-12:00: 24 h from
    # 08:10 hold 460 + 30); 20 min later fits: at most 460 + 20 = 480 in any 24 h
    assert not duty_fits([x, y, DutyPeriod(z.start + timedelta(minutes=10), z.end + timedelta(minutes=10), 30.0)], r)
    z2 = DutyPeriod(z.start + timedelta(minutes=20), z.end + timedelta(minutes=20), 30.0)
    assert duty_fits([x, y, z2], r)


def test_duty_rules_by_hand():
    """2 h 10 min from 05:00 touches the night (limit 2 h); the same at 07:00 is fine; 02:30 is in
    the night stop; five 2 h runs with rests in one day exceed 8 h."""
    r = Drivers()
    day = datetime(2020, 2, 20, tzinfo=TZ)

    def q(h, m, minutes):
        a = day + timedelta(hours=h, minutes=m)
        return DutyPeriod(a, a + timedelta(minutes=minutes), minutes)

    assert not duty_fits([q(5, 0, 130)], r)
    assert duty_fits([q(7, 0, 130)], r)
    assert not duty_fits([q(2, 30, 30)], r)
    assert not duty_fits([q(3 * k + 6, 0, 120) for k in range(5)], r)
    assert duty_fits([q(3 * k + 6, 0, 120) for k in range(4)], r)
    # two runs 10 minutes apart are one continuous stretch: 2 x 130 min > 4 h
    assert not duty_fits([q(8, 0, 130), q(10, 20, 130)], r)


def _dianjiang(needed_by: date):
    """垫江-like case: 518 workers ready on 02-18, 14 coaches, 40 feeder buses, and one special
    train (12 carriages) from 重庆北, which no feeder reaches within the 2 h ride (over 3 h away)."""
    t = tiny_tables({"F0002": 300, "F0004": 218}, villages=12, coaches=14, feeders=40, ready=date(2020, 2, 18),
                    needed_by=needed_by)
    t["hubs"] = pd.concat([t["hubs"], pd.DataFrame([("R-CQB", "重庆北站", "rail_station", "500112", 106.55, 29.61,
                                                       5000, 4)], columns=t["hubs"].columns)], ignore_index=True)
    t["train_services"] = pd.DataFrame([{
        "service_id": "K100", "date": date(2020, 2, 19), "depart_time": "12:00", "origin_station_id": "R-CQB",
        "destination_station_id": "S-SZB", "carriages": 12, "carriage_type": "YZ25", "travel_hours": 18.0}])
    return t


def test_dianjiang_every_coach_works_and_the_reason_names_the_binding_limit():
    """Nobody stays home while a coach of the county stands free: all 14 coaches leave on 02-18 (the
    first day anyone is ready); of those left home, the 深圳 workers the train had seats for are
    reported as feeder_ride_too_long_for_train (the limit a planner can change), the others as
    no_coach_free (every coach on the road until after their last day), never a generic reason."""
    _, _, plan = _run(_dianjiang(date(2020, 2, 22)))
    coaches = _passenger_coaches(plan)
    assert coaches["vehicle_id"].nunique() == 14
    first_day = coaches[pd.to_datetime(coaches["depart"]).dt.date == date(2020, 2, 18)]
    assert first_day["vehicle_id"].nunique() == 14
    w = plan["workers"]
    home = w[w["status"] == "unassigned"]
    assert len(home) > 0
    assert set(home["reason"]) <= {"no_coach_free", "feeder_ride_too_long_for_train"}
    assert (home[home["factory_id"] == "F0002"]["reason"] == "feeder_ride_too_long_for_train").all()
    assert (home[home["factory_id"] == "F0004"]["reason"] == "no_coach_free").all()


def test_dianjiang_with_time_for_a_second_round_moves_everyone():
    """With needed_by 02-24 the coaches come back for a second round: all 518 travel."""
    _, _, plan = _run(_dianjiang(date(2020, 2, 24)))
    assert (plan["workers"]["status"] == "planned").all()


def test_family_in_two_villages_travels_by_village_and_the_checker_agrees(tmp_path):
    """A family of four, two members in each of two villages: validate warns that it travels
    separately by village (group_mixed); the planner plans one group per village; the checker
    holds the family rule per village, so the plan passes its own checker (before: family_split,
    exit 1)."""
    from planner.check import check_plan, read_plan
    from planner.plan_writer import write_plan

    tables = tiny_tables({"F0002": 40, "F0004": 30}, villages=6, groups=[[0, 1, 2, 3]])
    w = tables["workers"]
    other = w.at[5, "village_code"]
    assert other != w.at[0, "village_code"]
    w.loc[[2, 3], "village_code"] = other
    w["township_code"] = w["village_code"].str[:9]
    sc = scenario()
    p = build_problem(sc, tables)
    res = solve(p)
    write_plan(tmp_path, p, res, pd.DataFrame(), len(w), {})
    report = check_plan(read_plan(tmp_path), sc, tables, set())
    assert report.ok, report.text()
    legs = pd.read_csv(tmp_path / "legs.csv", dtype=str)
    family = legs[legs["worker_id"].isin(w.loc[[0, 1, 2, 3], "worker_id"])]
    seq = family.groupby("worker_id")["trip_id"].agg(";".join)
    ids = w["worker_id"]
    assert seq[ids[0]] == seq[ids[1]] and seq[ids[2]] == seq[ids[3]]
    first = family[family["leg"] == "1"].set_index("worker_id")["board_place_id"]
    assert first[ids[2]] == other
