"""Driver working-time rules on a straight drive: hand-checked schedules and a property test."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from planner.rules.driving import DrivePlan, drivers_needed, plan_drive, plan_offsets, schedule_violations
from planner.scenario import Drivers

TZ = ZoneInfo("Asia/Shanghai")
RULES = Drivers()


def t(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2020, 2, day, hh, mm, tzinfo=TZ)


def hm(plan: DrivePlan) -> list[tuple[str, str]]:
    return [(f"{a:%d %H:%M}", f"{b:%d %H:%M}") for a, b in plan.stretches]


def driven(plan: DrivePlan) -> float:
    return sum((b - a).total_seconds() for a, b in plan.stretches) / 60


def test_drivers_needed():
    """400 km needs one driver, 401 km two (second_driver_km = 400)."""
    assert drivers_needed(400.0, RULES) == 1
    assert drivers_needed(401.0, RULES) == 2
    assert drivers_needed(1300.0, RULES) == 2


def test_three_hours_by_day():
    """A 3 h drive from 08:00 is one stretch and arrives 11:00."""
    p = plan_drive(t(14, 8), 180, 1, RULES)
    assert p.arrive == t(14, 11)
    assert hm(p) == [("14 08:00", "14 11:00")]


def test_five_hours_with_a_rest():
    """A 5 h drive from 08:00: 08:00-12:00, rest 20 min, 12:20-13:20, arrives 13:20."""
    p = plan_drive(t(14, 8), 300, 1, RULES)
    assert hm(p) == [("14 08:00", "14 12:00"), ("14 12:20", "14 13:20")]
    assert p.arrive == t(14, 13, 20)
    assert p.rests == ((t(14, 12), t(14, 12, 20)),)


def test_night_stretches_two_hours():
    """From 21:00 stretches last 2 h (21-23, 23:20-01:20), then 01:40-02:00, stop to 05:00."""
    p = plan_drive(t(14, 21), 300, 1, RULES)
    assert hm(p) == [("14 21:00", "14 23:00"), ("14 23:20", "15 01:20"), ("15 01:40", "15 02:00"),
                     ("15 05:00", "15 05:40")]
    assert all(b - a <= timedelta(hours=2) for a, b in p.stretches)
    assert schedule_violations(p.stretches, 1, RULES) == []


def test_day_stretch_may_run_up_to_the_night():
    """From 19:00 the coach may drive 3 h to 22:00 (no night minute), then night stretches of 2 h."""
    p = plan_drive(t(14, 19), 240, 1, RULES)
    assert hm(p)[:2] == [("14 19:00", "14 22:00"), ("14 22:20", "14 23:20")]


def test_night_stop():
    """A drive reaching 02:00 stops there and starts again at 05:00."""
    p = plan_drive(t(15, 1), 90, 1, RULES)
    assert hm(p) == [("15 01:00", "15 02:00"), ("15 05:00", "15 05:30")]
    p = plan_drive(t(15, 3), 30, 1, RULES)  # leaving inside the stop: wait to 05:00
    assert hm(p) == [("15 05:00", "15 05:30")]


def test_qijiang_to_guangzhou_two_drivers():
    """綦江 -> 广州 1,300 road km at 75 km/h (1,040 min), 2 drivers from 08:00: 16 h by 01:20, on at 08:00, arrive 09:20."""
    p = plan_drive(t(14, 8), 1300 / 75 * 60, 2, RULES)
    assert driven(p) == 1040
    assert p.arrive == t(15, 9, 20)
    assert timedelta(hours=20) < p.arrive - t(14, 8) < timedelta(hours=28)
    assert hm(p)[-2:] == [("14 23:20", "15 01:20"), ("15 08:00", "15 09:20")]
    assert schedule_violations(p.stretches, 2, RULES) == []


def test_one_driver_eight_hours_a_day():
    """1,500 km (1,200 min) with one driver: 8 h a day over three days, arrives day 3 at 12:00."""
    p = plan_drive(t(14, 8), 1500 / 75 * 60, 1, RULES)
    assert driven(p) == 1200
    assert p.arrive == t(16, 12)
    assert schedule_violations(p.stretches, 1, RULES) == []
    for k in range(len(p.stretches)):
        lo = p.stretches[k][0]
        inside = sum(((min(b, lo + timedelta(days=1)) - max(a, lo)).total_seconds() / 60
                      for a, b in p.stretches if b > lo and a < lo + timedelta(days=1)))
        assert inside <= 480


def test_seconds_and_fractions_round_up():
    """08:00:30 rounds up to 08:01 and 100.2 minutes to 101: times stay on whole minutes."""
    p = plan_drive(t(14, 8) + timedelta(seconds=30), 100.2, 1, RULES)
    assert hm(p) == [("14 08:01", "14 09:42")]


def test_zero_drive_and_tz_kept():
    """Nothing to drive arrives at departure; tzinfo is kept on every time."""
    p = plan_drive(t(14, 8), 0, 1, RULES)
    assert p.arrive == t(14, 8) and p.stretches == ()
    q = plan_drive(t(14, 8), 500, 2, RULES)
    assert all(x.tzinfo is TZ for s in q.stretches for x in s)


def test_offsets_cached():
    """The same (time of day, minutes, drivers, rules) reuses one computation."""
    a = plan_offsets(480, 1040, 2, RULES)
    assert plan_offsets(480, 1040, 2, RULES) is a
    p1, p2 = plan_drive(t(14, 8), 1040, 2, RULES), plan_drive(t(20, 8), 1040, 2, RULES)
    assert p2.arrive - p1.arrive == timedelta(days=6)


def test_other_rules():
    """Scenario values are used: 3 h by day, 30 min rest, night stop 01:00-05:00."""
    r = Drivers(max_continuous_day_h=3, min_rest_min=30, no_driving_start=time(1, 0))
    p = plan_drive(t(14, 8), 400, 1, r)
    assert hm(p) == [("14 08:00", "14 11:00"), ("14 11:30", "14 14:30"), ("14 15:00", "14 15:40")]
    assert schedule_violations(p.stretches, 1, r) == []


def test_violations_are_reported():
    """The re-check names a long night stretch, a short rest, the night stop and the 24 h total."""
    v = schedule_violations([(t(14, 21), t(14, 23, 30))], 1, RULES)
    assert len(v) == 1 and "连续驾驶 150 分钟" in v[0] and "夜间" in v[0]
    v = schedule_violations([(t(14, 8), t(14, 10)), (t(14, 10, 10), t(14, 12, 30))], 1, RULES)
    assert any("少于最短休息" in m for m in v)
    assert any("连续驾驶 260 分钟" in m for m in v)  # the short stand does not break the period
    v = schedule_violations([(t(15, 1), t(15, 2, 30))], 1, RULES)
    assert any("停驶时段" in m for m in v)
    day = [(t(14, h), t(14, h + 3)) for h in (6, 10, 14)] + [(t(14, 18), t(14, 20))]
    v = schedule_violations(day, 1, RULES)
    assert len(v) == 1 and "24 小时内驾驶" in v[0] and "超过 480 分钟" in v[0]
    assert schedule_violations(day, 2, RULES) == []


@settings(derandomize=True, max_examples=400, deadline=None)
@given(
    start=st.integers(min_value=0, max_value=14 * 1440 - 1),
    drive_min=st.floats(min_value=0, max_value=3000, allow_nan=False),
    drivers=st.sampled_from([1, 2]),
)
def test_property_schedules_are_legal(start: int, drive_min: float, drivers: int):
    """Any departure and 0-3,000 drive minutes: rules 1-4 hold, all minutes driven, no early arrival."""
    depart = t(14, 0) + timedelta(minutes=start)
    p = plan_drive(depart, drive_min, drivers, RULES)
    assert schedule_violations(p.stretches, drivers, RULES) == []
    assert abs(driven(p) - drive_min) <= 1
    assert p.arrive >= depart + timedelta(minutes=drive_min)
    assert all(a.second == 0 and b.second == 0 for a, b in p.stretches)
