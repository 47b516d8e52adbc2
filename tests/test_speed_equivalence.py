"""The fast paths of the feeder scheduling give exactly what the plain code gave.

``duty_fits`` (integer microseconds, an early exit) and ``pickup_order`` (numpy over every
order) were rewritten for speed; a plan must not change, so each is compared here with the
plain implementation it replaced (kept below as the reference), on random inputs built to
sit on the limits (whole minutes, near-ties, 8 h budgets met to the minute).
"""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from planner.rules.driving import DutyPeriod, _clock_min, _EPS, _overlaps, duty_fits
from planner.scenario import Drivers
from planner.solve.feeders import pickup_order

TZ = ZoneInfo("Asia/Shanghai")


def reference_duty_fits(periods: list[DutyPeriod] | tuple[DutyPeriod, ...], rules: Drivers, drivers: int = 1) -> bool:
    """The duty_fits of commit 9567db0 (datetime arithmetic throughout), as it was."""
    s = sorted(periods, key=lambda q: q.start)
    rest = timedelta(minutes=rules.min_rest_min)
    ns, ne = _clock_min(rules.no_driving_start), _clock_min(rules.no_driving_end)
    nts, nte = _clock_min(rules.night_start), _clock_min(rules.night_end)

    def meets(q: DutyPeriod, start: int, end: int) -> bool:
        tod = q.start.hour * 60 + q.start.minute + q.start.second / 60.0
        return _overlaps(tod, (q.end - q.start).total_seconds() / 60.0, start, end)

    day_lim = rules.max_continuous_day_h * 60 + _EPS
    night_lim = rules.max_continuous_night_h * 60 + _EPS
    for q in s:
        if meets(q, ns, ne):
            return False
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1].start - s[j].end < rest:
            j += 1
        a, b = s[i].start, max(q.end for q in s[i:j + 1])
        night = any(meets(q, nts, nte) for q in s[i:j + 1])
        if (b - a).total_seconds() / 60.0 > (night_lim if night else day_lim):
            return False
        i = j + 1
    budget = rules.max_driving_per_24h_h * 60 * max(1, drivers) + _EPS
    day = timedelta(days=1)
    # Driving of a block inside a 24 h window is at most min(its driving, its time in the window),
    # wherever the checker places the driving in the block (the empty drive out, the boarding
    # stops). That sum is piecewise linear in the window's start, so its largest value is at a
    # window starting at a block start or where the window's start leaves a block's driving
    # (end - driving), or ending at a block end or where it takes in a block's driving
    # (start + driving). Prorating by time instead let 481-486 of 480 min through (demo).
    lows = set()
    for q in s:
        d = timedelta(minutes=q.driving_min)
        lows.update((q.start, q.end - d, q.end - day, q.start + d - day))
    for lo in lows:
        hi = lo + day
        used = 0.0
        for r in s:
            if r.end <= lo or r.start >= hi:
                continue
            inside = (min(r.end, hi) - max(r.start, lo)).total_seconds() / 60.0
            used += min(inside, r.driving_min)
        if used > budget:
            return False
    return True


def reference_pickup_order(villages, from_start, between, to_end) -> list[str]:
    """The pickup_order of commit 9567db0: every order in a plain loop."""
    best = None
    for order in itertools.permutations(sorted(villages)):
        cost = from_start[order[0]] + to_end[order[-1]] + sum(between(a, b) for a, b in zip(order, order[1:]))
        if best is None or cost < best[0] - 1e-9:
            best = (cost, order)
    return list(best[1]) if best else []


def _random_blocks(rng: random.Random, tz) -> list[DutyPeriod]:
    """A bus's day: 1-9 blocks in whole minutes (sometimes seconds), packed near the 8 h budget."""
    t = datetime(2020, 2, 20, rng.randint(0, 23), rng.randint(0, 59), tzinfo=tz)
    out = []
    for _ in range(rng.randint(1, 9)):
        t += timedelta(minutes=rng.choice([0, 5, 15, 19, 20, 21, 40, 90, 200, 600]))
        length = rng.choice([30, 60, 90, 119, 120, 121, 180, 239, 240, 241])
        end = t + timedelta(minutes=length, seconds=rng.choice([0, 0, 0, 30]))
        driving = float(min(length, rng.choice([length, length - 10, 60, 100, 120])))
        if rng.random() < 0.1:
            driving += rng.choice([0.5, 1e-10])
        out.append(DutyPeriod(t, end, driving))
        t = end
    rng.shuffle(out)
    return out


def test_duty_fits_same_verdict_as_the_plain_code():
    """3,000 random bus days (aware and naive times, 1 or 2 drivers, rules as in 2020 and tighter)."""
    rng = random.Random(2020)
    rules = [Drivers(), Drivers(max_driving_per_24h_h=6, min_rest_min=30), Drivers(max_continuous_day_h=3)]
    seen = {True: 0, False: 0}
    for k in range(3000):
        blocks = _random_blocks(rng, TZ if k % 4 else None)
        r = rules[k % len(rules)]
        drivers = 1 + (k % 5 == 0)
        want = reference_duty_fits(blocks, r, drivers)
        assert duty_fits(blocks, r, drivers) == want, (k, blocks)
        seen[want] += 1
    assert min(seen.values()) > 300  # both verdicts well represented: the test can fail


def test_pickup_order_same_order_as_the_plain_loop():
    """1,500 random sets of 1-7 villages, costs rounded to whole or half minutes so ties abound."""
    rng = random.Random(7)
    for trial in range(1500):
        n = rng.randint(1, 7)
        names = [f"V{i:02d}" for i in rng.sample(range(30), n)]
        q = rng.choice([1.0, 0.5, 3.0])
        fs = {v: round(rng.uniform(0, 60) / q) * q for v in names}
        te = {v: round(rng.uniform(0, 60) / q) * q for v in names}
        m = {(a, b): round(rng.uniform(0, 30) / q) * q + rng.choice([0.0, 1e-10, 4e-10, 1.5e-9])
             for a in names for b in names}
        assert pickup_order(names, fs, lambda a, b: m[(a, b)], te) == \
            reference_pickup_order(names, fs, lambda a, b: m[(a, b)], te), trial


def test_closed_on_every_day_same_as_the_day_by_day_loop():
    """Units with random feasible days, arrival offsets and factory calendars (closed = level 3)."""
    import numpy as np

    from planner.solve.context import _closed_on_every_day

    rng = np.random.default_rng(12)
    width = 30
    lv = rng.choice([0, 1, 2, 3], size=(40, width), p=[0.2, 0.1, 0.1, 0.6])
    lv[:5] = 3  # some factories closed all window
    levels = {f"F{i:03d}": lv[i] for i in range(len(lv))}
    n = 4000
    fac = np.array([f"F{i:03d}" for i in rng.integers(0, len(lv), n)])
    earliest = rng.integers(-3, width + 3, n)
    latest = earliest + rng.integers(-2, 12, n)
    lo = rng.integers(0, 5, n)
    want = np.zeros(n, dtype=bool)
    for i in range(n):  # the loop of commit 9567db0
        a, b = int(earliest[i]), int(latest[i])
        if b < a:
            continue
        row = levels[fac[i]]
        days = np.clip(np.arange(a, b + 1) + lo[i], 0, len(row) - 1)
        want[i] = bool((row[days] >= 3).all())
    got = _closed_on_every_day(lv, levels, fac, earliest, latest, lo)
    assert 300 < want.sum() < n - 300
    assert (got == want).all()


def test_timeline_fits_same_as_the_whole_day_rebuilt():
    """A bus with random committed runs (some overlapping, some too close to drive between):
    for random candidate runs, :class:`_Timeline` answers as timeline_blocks + duty_fits on the
    whole sorted day did; after adding some, still."""
    from planner.solve.feeders import Bus, BusRun, _Timeline, timeline_blocks

    rng = random.Random(5)
    places = ["H", "A", "B", "C", "D"]
    dist = {(a, b): (0 if a == b else rng.choice([10, 25, 40, 70])) for a in places for b in places}

    def dead(a, b):
        return dist[(a, b)]

    rules = Drivers()
    agree = {True: 0, False: 0}
    for trial in range(300):
        t0 = datetime(2020, 2, 20, 5, 0, tzinfo=TZ)
        done = []
        t = t0 + timedelta(minutes=rng.choice([0, 30, 60]))
        for _ in range(rng.randint(0, 5)):
            t += timedelta(minutes=rng.choice([-30, 10, 40, 90, 150]))
            ride = rng.choice([30, 60, 100])
            done.append(BusRun(rng.choice(places[1:]), t, t + timedelta(minutes=ride), "H", float(ride - 5)))
            t += timedelta(minutes=ride)
        bus = Bus("B-001", t0 - timedelta(minutes=rng.choice([0, 60, 600])), rng.choice(places), tuple(done))
        tl = _Timeline(bus, "H", dead)
        planned = sorted(done, key=lambda r: r.board)
        for _ in range(12):
            board = t0 + timedelta(minutes=rng.randrange(-120, 900, 5))
            ride = rng.choice([20, 45, 90, 130])
            cand = BusRun(rng.choice(places[1:]), board, board + timedelta(minutes=ride), "H", float(ride - 5))
            blocks = timeline_blocks(bus, sorted([*planned, cand], key=lambda r: r.board), dead)
            want = blocks is not None and duty_fits(blocks, rules)
            assert tl.fits(cand, rules) == want, trial
            agree[want] += 1
            if want and rng.random() < 0.4:
                tl.add(cand)
                planned = sorted([*planned, cand], key=lambda r: r.board)
                assert tl.runs == planned
    assert min(agree.values()) > 200


def reference_daily_excess(sub, key, cap) -> list[tuple]:
    """The 24 h loop of planner/check/driving.py at commit 9567db0."""
    import numpy as np

    items = []
    for _k, g in sub.groupby(key, sort=False):
        a = g["a"].to_numpy("datetime64[m]").astype(np.int64)
        b = g["b"].to_numpy("datetime64[m]").astype(np.int64)
        limit = float(cap[g.index[0]])
        windows = [(b[j] - 1440, b[j], j) for j in range(len(g))] + [(a[j], a[j] + 1440, j) for j in range(len(g))]
        for lo, hi, j in windows:
            used = float(np.clip(np.minimum(b, hi) - np.maximum(a, lo), 0, None).sum())
            if used > limit + 1e-6:
                items.append((g["trip_id"].iloc[j], g["b"].iloc[j], used, limit))
                break
    return items


def test_daily_excess_same_as_the_window_loop():
    """Random buses' stretches over three days (overlaps and zero-length ones included),
    caps of 8 or 16 h: the same first window over the cap, with the same minutes."""
    import numpy as np
    import pandas as pd

    from planner.check.driving import daily_excess

    rng = np.random.default_rng(3)
    rows = []
    t0 = pd.Timestamp("2020-02-20 05:00", tz="Asia/Shanghai")
    for bus in range(150):
        t = t0 + pd.Timedelta(minutes=int(rng.integers(0, 600)))
        for k in range(int(rng.integers(1, 25))):
            t += pd.Timedelta(minutes=int(rng.choice([-20, 0, 10, 30, 200])))
            length = int(rng.choice([0, 30, 60, 120, 180]))
            rows.append((f"V{bus:03d}", f"T{bus:03d}-{k}", t, t + pd.Timedelta(minutes=length), 1 + (bus % 4 == 0)))
            t += pd.Timedelta(minutes=length)
    df = pd.DataFrame(rows, columns=["vehicle_id", "trip_id", "a", "b", "drivers"])
    cap = 480.0 * df.groupby("vehicle_id")["drivers"].transform("min")
    got = daily_excess(df, "vehicle_id", cap)
    want = reference_daily_excess(df, "vehicle_id", cap)
    assert len(want) > 30
    assert got == want


def test_two_processes_write_and_check_the_same_plan(tmp_path):
    """``planner plan --processes 2`` (throughput bound in the pool, GeoPackage written by a
    second process, half the checker in a second process) gives the same files, summary and
    verdict as one process."""
    from planner.pipeline import run_plan
    from tests.conftest import TINY_SCENARIO

    one = run_plan(TINY_SCENARIO, tmp_path / "one", check=True, processes=1)
    two = run_plan(TINY_SCENARIO, tmp_path / "two", check=True, processes=2)
    assert one.check_ok is True and two.check_ok is True
    assert one.summary["files"] == two.summary["files"]
    skip = {"wall_time_s", "peak_memory_mb", "files", "scenario"}
    assert {k: v for k, v in one.summary.items() if k not in skip} == \
        {k: v for k, v in two.summary.items() if k not in skip}
    assert one.summary["throughput_bound"]["total"]["bound"] > 0


def reference_offset_pair(km, radius, k, sc) -> tuple[int, int]:
    """planner/solve/context.py's _offset_pair at commit 9567db0: two straight drives timed."""
    from datetime import date

    from planner.rules.driving import drivers_needed
    from planner.rules.route import plan_single
    from planner.solve.problem import at

    day0 = date(2020, 1, 6)
    fast = plan_single(at(day0, sc.fleet.coach_depart_time), km / sc.travel.coach_speed_kmh * 60,
                       drivers_needed(km, sc.drivers), sc.drivers).arrive
    pick = sc.fleet.max_pickup_stops * (sc.fleet.pickup_dwell_min + 30)
    slow_km = km + 2 * radius
    slow_min = slow_km / sc.travel.coach_speed_kmh * 60 + k * sc.fleet.drop_dwell_min + pick
    slow = plan_single(at(day0, sc.fleet.latest_coach_depart_time), slow_min,
                       drivers_needed(slow_km + 60, sc.drivers), sc.drivers).arrive
    return (fast.date() - day0).days, (slow.date() - day0).days


def test_arrival_offsets_memo_same_as_timing_each_pair():
    """600 random county -> factory distances (and the second-driver threshold): the shared
    whole-minute timings give the offsets that timing each pair gave."""
    from planner.solve.context import _offset_pair
    from tests.conftest import TINY_SCENARIO
    from planner.scenario import load_scenario

    sc = load_scenario(TINY_SCENARIO)
    rng = random.Random(4)
    kms = [rng.uniform(0, 3000) for _ in range(600)] + [399.99, 400.0, 400.01, 0.0]
    seen = set()
    for km in kms:
        for radius, k in ((sc.fleet.drop_radius_km, sc.fleet.max_drop_factories), (30.0, 2)):
            got = _offset_pair(km, radius, k, sc)
            assert got == reference_offset_pair(km, radius, k, sc), km
            seen.add(got)
    assert len(seen) > 5


def reference_day_offsets(values, start, missing=-10_000):  # noqa: ANN001, ANN201 - the code of 4003ff4
    import numpy as np
    import pandas as pd

    ts = pd.to_datetime(values.astype(object).where(values.notna(), None), errors="coerce")
    off = (ts - pd.Timestamp(start)).dt.days
    return off.fillna(missing).astype(np.int64).to_numpy()


def test_day_offsets_same_as_converting_every_cell():
    """Datetime columns subtracted directly, others converted per distinct value: same days, same blanks."""
    from datetime import date

    import numpy as np
    import pandas as pd

    from planner.solve.problem import day_offsets

    rng = np.random.default_rng(3)
    days = [date(2020, 1, 20) + timedelta(days=int(d)) for d in rng.integers(0, 60, 2_000)]
    with_blanks = [None if i % 7 == 0 else d for i, d in enumerate(days)]
    cases = [
        pd.Series(with_blanks, dtype=object),
        pd.Series([None if d is None else d.isoformat() for d in with_blanks]),
        pd.Series(pd.to_datetime(pd.Series(with_blanks, dtype=object))),  # datetime64 with NaT
        pd.Series([pd.Timestamp(d) + pd.Timedelta(hours=13) for d in days]),  # times of day: floor to the day
        pd.Series(["2020-02-03", "", "bad", None, "2020-03-01"]),
        pd.Series([], dtype=object),
        pd.Series([None, None], dtype=object),
    ]
    for values in cases:
        got = day_offsets(values, date(2020, 2, 5), missing=-7)
        want = reference_day_offsets(values, date(2020, 2, 5), missing=-7)
        assert got.dtype == want.dtype and len(got) == len(values)
        assert (got == want).all()
