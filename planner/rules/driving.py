"""Driver working-time rules on a straight coach drive: how many drivers, when it arrives.

The rules (all numbers from :class:`planner.scenario.Drivers`, 2020 values in
brackets) that a coach schedule satisfies:

1. A driving stretch that overlaps the night window [night_start, night_end)
   (22:00-06:00, wrapping midnight) lasts at most ``max_continuous_night_h``
   (2 h); any other stretch at most ``max_continuous_day_h`` (4 h).
2. Between two stretches the coach stands at least ``min_rest_min`` (20 min) at
   an expressway service area.
3. Nobody drives in [no_driving_start, no_driving_end) (02:00-05:00).
4. In any 24 h, driving totals at most ``max_driving_per_24h_h`` (8 h) times the
   drivers on board (they take turns; the limits 1-3 apply to the coach as a
   whole, which is conservative).

:func:`plan_drive` drives greedily as early and as long as these allow, in
whole minutes so that the ISO times written to a plan (minute precision) show
exactly legal values; :func:`schedule_violations` re-checks a schedule with its
own, calendar-based code (used by the tests).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from functools import lru_cache

from planner.scenario import Drivers

DAY = 1440
"""Minutes in a day."""

MIN_USEFUL_STRETCH = 30
"""When the 24 h budget leaves less than this (and less than the stretch wanted), wait instead.

Driving 5 minutes and then resting 20 is legal but pointless; the coach waits
until enough earlier driving leaves the trailing 24 h window.
"""

_EPS = 1e-9


@dataclass(frozen=True)
class DrivePlan:
    """A timed straight drive.

    Attributes
    ----------
    arrive : datetime
        End of the last stretch (the departure, rounded up to the minute, when
        there is nothing to drive).
    stretches : tuple of (datetime, datetime)
        Driving intervals in order; the coach stands still (a rest stop or the
        night stop) between them.
    """

    arrive: datetime
    stretches: tuple[tuple[datetime, datetime], ...]

    @property
    def depart(self) -> datetime:
        """Start of the first stretch (or the arrival when nothing is driven)."""
        return self.stretches[0][0] if self.stretches else self.arrive

    @property
    def rests(self) -> tuple[tuple[datetime, datetime], ...]:
        """The stands between stretches as (arrive, depart): rest stops and night stops."""
        s = self.stretches
        return tuple((s[i][1], s[i + 1][0]) for i in range(len(s) - 1))

    @property
    def driving_minutes(self) -> float:
        """Total minutes driven."""
        return sum((b - a).total_seconds() for a, b in self.stretches) / 60.0


def drivers_needed(distance_km: float, rules: Drivers) -> int:
    """Drivers a one-way trip needs: two when longer than ``rules.second_driver_km``, else one.

    Parameters
    ----------
    distance_km : float
        Length of the one-way trip (road km).
    rules : Drivers
        The scenario's driver rules.

    Returns
    -------
    int
        1 or 2.
    """
    return 2 if distance_km > rules.second_driver_km else 1


# --------------------------------------------------------------------------- planning


def _clock_min(t: time) -> int:
    return t.hour * 60 + t.minute


def _limit_min(hours: float) -> int:
    """A limit in hours as whole minutes, rounded down so rounding never exceeds it."""
    return int(math.floor(hours * 60.0 + _EPS))


def _inside(tod: int, start: int, end: int) -> bool:
    """Whether minute-of-day ``tod`` lies in the daily window [start, end) (may wrap midnight)."""
    if start == end:
        return False
    if start < end:
        return start <= tod < end
    return tod >= start or tod < end


def _overlaps(tod: int, length: int, start: int, end: int) -> bool:
    """Whether [tod, tod+length) (minutes, may run past midnight) meets the daily window [start, end)."""
    if length <= 0 or start == end:
        return False
    return _inside(tod, start, end) or (start - tod) % DAY < length


def _driven_since(stretches: list[tuple[int, int]], lo: int) -> int:
    """Minutes of ``stretches`` (in order, all ended) after ``lo``."""
    total = 0
    for a, b in reversed(stretches):
        if b <= lo:
            break
        total += b - max(a, lo)
    return total


def _budget_room(stretches: list[tuple[int, int]], t: int, cand: int, budget: int) -> int:
    """Longest x <= cand such that driving [t, t+x) keeps every 24 h window within ``budget``.

    Windows ending inside the new stretch are the only new ones; the one ending
    at t+x holds x plus the earlier driving after t+x-1440, and that total never
    decreases as x grows, so a binary search finds the largest legal x.
    """
    if _driven_since(stretches, t + cand - DAY) + cand <= budget:
        return cand
    lo, hi = 0, cand - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _driven_since(stretches, t + mid - DAY) + mid <= budget:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _budget_wait_until(stretches: list[tuple[int, int]], t: int, want: int, budget: int) -> int:
    """Earliest time >= t at which ``want`` minutes of driving fit in every trailing 24 h window.

    Nothing is driven while waiting, so at time s the window ending at s+want
    holds ``want`` plus the earlier driving after s+want-1440: find the earliest
    point ``p`` after which at most ``budget - want`` was driven, then s = p + 1440 - want.
    """
    keep = budget - want
    acc = 0
    p = None
    for a, b in reversed(stretches):
        if acc + (b - a) > keep:
            p = b - (keep - acc)
            break
        acc += b - a
    if p is None:
        return t
    return max(t, p + DAY - want)


@lru_cache(maxsize=65536)
def plan_offsets(tod: int, total: int, drivers: int, rules: Drivers) -> tuple[tuple[int, int], ...]:
    """Driving stretches of a drive, as minute offsets from the departure.

    Cached on its arguments, so thousands of trips that leave at the same time
    of day for the same whole number of drive minutes share one computation.

    Parameters
    ----------
    tod : int
        Departure, minutes after midnight (0-1439).
    total : int
        Whole minutes to drive.
    drivers : int
        Drivers on board (scales the 24 h budget).
    rules : Drivers
        The scenario's driver rules (a frozen, hashable model).

    Returns
    -------
    tuple of (int, int)
        (start, end) offsets in minutes of every driving stretch, in order.

    Raises
    ------
    ValueError
        When the rules leave no driving at all (a zero limit or a no-driving
        window of the whole day).
    """
    day_lim = _limit_min(rules.max_continuous_day_h)
    night_lim = _limit_min(rules.max_continuous_night_h)
    budget = _limit_min(rules.max_driving_per_24h_h * max(1, drivers))
    rest = max(0, int(math.ceil(rules.min_rest_min - _EPS)))
    ns, ne = _clock_min(rules.night_start), _clock_min(rules.night_end)
    xs, xe = _clock_min(rules.no_driving_start), _clock_min(rules.no_driving_end)
    if min(day_lim, night_lim, budget) <= 0:
        msg = "驾驶时间规则不允许任何驾驶 (driver rules leave no driving time)"
        raise ValueError(msg)
    stop_window = xs != xe

    t = 0
    remaining = int(total)
    out: list[tuple[int, int]] = []
    guard = 100 + 10 * (remaining // min(day_lim, night_lim, MIN_USEFUL_STRETCH) + 1)
    while remaining > 0:
        guard -= 1
        if guard < 0:
            msg = "驾驶时间规则无法排出行程 (driver rules admit no schedule)"
            raise ValueError(msg)
        c = (tod + t) % DAY
        # 3. the night stop
        if stop_window and _inside(c, xs, xe):
            t += (xe - c) % DAY
            continue
        # 1. continuous limit: a day stretch if it stays clear of the night, else a night stretch
        cand = min(remaining, day_lim)
        if _overlaps(c, cand, ns, ne):
            to_night = 0 if _inside(c, ns, ne) else (ns - c) % DAY
            cand = max(min(remaining, night_lim), min(cand, to_night))
        if stop_window:
            cand = min(cand, (xs - c) % DAY)
        if cand > day_lim and not _overlaps(c, cand, ns, ne):
            cand = day_lim  # a shortened night stretch that no longer touches the night
        # 4. the 24 h budget
        room = _budget_room(out, t, cand, budget)
        if room < cand and room < MIN_USEFUL_STRETCH:
            want = min(cand, MIN_USEFUL_STRETCH)
            t = max(t + 1, _budget_wait_until(out, t, want, budget))
            continue
        cand = room
        out.append((t, t + cand))
        t += cand
        remaining -= cand
        if remaining > 0:
            t += rest  # 2. a rest stop before the next stretch
    return tuple(out)


def ceil_minute(t: datetime) -> datetime:
    """Round up to the whole minute (plan times have minute precision)."""
    m = t.replace(second=0, microsecond=0)
    return m if m == t else m + timedelta(minutes=1)


_TD = [timedelta(minutes=i) for i in range(4 * DAY)]


def _td(minutes: int) -> timedelta:
    return _TD[minutes] if minutes < len(_TD) else timedelta(minutes=minutes)


def plan_drive(depart: datetime, drive_min: float, drivers: int, rules: Drivers) -> DrivePlan:
    """Time a straight drive of ``drive_min`` minutes under the driver rules.

    The coach leaves at ``depart`` rounded up to the whole minute (later when the
    night stop is on) and drives each stretch as long as rules 1-4 of the module
    allow, resting ``min_rest_min`` between stretches and waiting out the night
    stop or an exhausted 24 h budget.

    Parameters
    ----------
    depart : datetime
        Earliest departure; its tzinfo (Asia/Shanghai) is kept on every time.
    drive_min : float
        Pure driving minutes; rounded up to whole minutes so the arrival is
        never earlier than ``depart + drive_min``.
    drivers : int
        Drivers on board (1 or 2).
    rules : Drivers
        The scenario's driver rules.

    Returns
    -------
    DrivePlan
        Arrival and the driving stretches.
    """
    base = ceil_minute(depart)
    total = max(0, int(math.ceil(drive_min - _EPS)))
    offsets = plan_offsets(base.hour * 60 + base.minute, total, int(drivers), rules)
    if not offsets:
        return DrivePlan(base, ())
    stretches = tuple((base + _td(a), base + _td(b)) for a, b in offsets)
    return DrivePlan(stretches[-1][1], stretches)


# --------------------------------------------------------------------------- checking


def _windows(a: datetime, b: datetime, start: time, end: time) -> list[tuple[datetime, datetime]]:
    """The daily windows [start, end) (wrapping midnight when end <= start) that could meet [a, b)."""
    if start == end:
        return []
    out = []
    day = a.date() - timedelta(days=1)
    while day <= b.date():
        ws = datetime.combine(day, start, tzinfo=a.tzinfo)
        we = datetime.combine(day if end > start else day + timedelta(days=1), end, tzinfo=a.tzinfo)
        out.append((ws, we))
        day += timedelta(days=1)
    return out


def _meets(a: datetime, b: datetime, start: time, end: time) -> bool:
    return a < b and any(ws < b and a < we for ws, we in _windows(a, b, start, end))


def _fmt(t: datetime) -> str:
    return f"{t:%m-%d %H:%M}"


def schedule_violations(
    stretches: list[tuple[datetime, datetime]] | tuple[tuple[datetime, datetime], ...],
    drivers: int,
    rules: Drivers,
) -> list[str]:
    """Re-check a coach's driving stretches against rules 1-4, independently of :func:`plan_drive`.

    Stretches separated by less than the minimum rest count as one continuous
    period (as the plan checker reads ``stops.csv``); windows are built on the
    calendar rather than with minute-of-day arithmetic.

    Parameters
    ----------
    stretches : sequence of (datetime, datetime)
        Driving intervals in time order.
    drivers : int
        Drivers on board.
    rules : Drivers
        The scenario's driver rules.

    Returns
    -------
    list of str
        One message (in Chinese, with the times) per broken rule; empty when the
        schedule is legal.
    """
    out: list[str] = []
    s = [(a, b) for a, b in stretches]
    day_lim = rules.max_continuous_day_h * 60
    night_lim = rules.max_continuous_night_h * 60
    budget = rules.max_driving_per_24h_h * 60 * max(1, drivers)

    def minutes(a: datetime, b: datetime) -> float:
        return (b - a).total_seconds() / 60.0

    for i, (a, b) in enumerate(s):
        if b < a:
            out.append(f"第 {i + 1} 段驾驶 {_fmt(a)}–{_fmt(b)} 结束早于开始")
        if i and a < s[i - 1][1]:
            out.append(f"第 {i + 1} 段驾驶 {_fmt(a)} 开始时上一段（至 {_fmt(s[i - 1][1])}）尚未结束")

    # 2. rests, and 1. continuous periods (joined by stands shorter than the minimum rest)
    periods: list[list[tuple[datetime, datetime]]] = []
    for i, (a, b) in enumerate(s):
        if i and minutes(s[i - 1][1], a) < rules.min_rest_min:
            out.append(
                f"{_fmt(s[i - 1][1])}–{_fmt(a)} 仅停车 {minutes(s[i - 1][1], a):.0f} 分钟，"
                f"少于最短休息 {rules.min_rest_min} 分钟"
            )
            periods[-1].append((a, b))
        else:
            periods.append([(a, b)])
    for p in periods:
        driven = sum(minutes(a, b) for a, b in p)
        night = any(_meets(a, b, rules.night_start, rules.night_end) for a, b in p)
        lim = night_lim if night else day_lim
        if driven > lim + 1e-6:
            out.append(
                f"{_fmt(p[0][0])}–{_fmt(p[-1][1])} 连续驾驶 {driven:.0f} 分钟，"
                f"超过{'夜间' if night else '日间'}上限 {lim:.0f} 分钟"
            )

    # 3. the night stop
    for a, b in s:
        if _meets(a, b, rules.no_driving_start, rules.no_driving_end):
            out.append(
                f"{_fmt(a)}–{_fmt(b)} 行驶，落入 {rules.no_driving_start:%H:%M}-{rules.no_driving_end:%H:%M} 停驶时段"
            )

    # 4. any 24 h: the busiest window starts at a stretch start or ends at a stretch end
    day = timedelta(days=1)
    for lo, hi in [(b - day, b) for _, b in s] + [(a, a + day) for a, _ in s]:
        used = sum(max(0.0, minutes(max(a, lo), min(b, hi))) for a, b in s)
        if used > budget + 1e-6:
            out.append(
                f"{_fmt(lo)}–{_fmt(hi)} 的 24 小时内驾驶 {used:.0f} 分钟，超过 {budget:.0f} 分钟"
                f"（每名驾驶员 {rules.max_driving_per_24h_h:g} 小时 × {max(1, drivers)} 名驾驶员）"
            )
            break
    return out


@dataclass(frozen=True)
class DutyPeriod:
    """A block of a bus's day with its engine running: from ``start`` to ``end``, ``driving_min`` of it driving.

    A feeder run is one block: the empty drive out to its first village and the ride to the
    hub, with the short boarding stops in between (shorter than a rest, so they do not break
    the continuous driving).
    """

    start: datetime
    end: datetime
    driving_min: float


def duty_fits(periods: list[DutyPeriod] | tuple[DutyPeriod, ...], rules: Drivers, drivers: int = 1) -> bool:
    """Whether a bus's blocks keep the driver rules 1-4 (see the module docstring).

    Blocks less than ``min_rest_min`` apart are one continuous period, which lasts (start to
    end, boarding stops included, so conservatively) at most the day limit, or the night limit
    when it meets the night window; no block meets the no-driving window; any 24 h holds at
    most ``max_driving_per_24h_h`` x ``drivers`` of driving. Used by the feeder scheduling for
    every bus and its sequence of runs in the day (asked hundreds of thousands of times in a
    county, so times are whole microseconds as integers here; every float compared is the
    one the datetime arithmetic gives).
    """
    s = sorted(periods, key=lambda q: q.start)
    n = len(s)
    if not n:
        return True
    rest = timedelta(minutes=rules.min_rest_min) // _US
    ns, ne = _clock_min(rules.no_driving_start), _clock_min(rules.no_driving_end)
    nts, nte = _clock_min(rules.night_start), _clock_min(rules.night_end)
    ref = _REF if s[0].start.utcoffset() is not None else _REF_NAIVE
    a_us = [(q.start - ref) // _US for q in s]
    b_us = [(q.end - ref) // _US for q in s]
    night = []
    for k, q in enumerate(s):
        tod = q.start.hour * 60 + q.start.minute + q.start.second / 60.0
        length = (b_us[k] - a_us[k]) / 10**6 / 60.0
        if _overlaps(tod, length, ns, ne):
            return False
        night.append(_overlaps(tod, length, nts, nte))

    day_lim = rules.max_continuous_day_h * 60 + _EPS
    night_lim = rules.max_continuous_night_h * 60 + _EPS
    i = 0
    while i < n:
        j = i
        end = b_us[i]
        at_night = night[i]
        while j + 1 < n and a_us[j + 1] - b_us[j] < rest:
            j += 1
            end = max(end, b_us[j])
            at_night = at_night or night[j]
        if (end - a_us[i]) / 10**6 / 60.0 > (night_lim if at_night else day_lim):
            return False
        i = j + 1
    budget = rules.max_driving_per_24h_h * 60 * max(1, drivers) + _EPS
    drive = [q.driving_min for q in s]
    # a window's driving is a sum of min(inside, driving) over the blocks it meets, each at most
    # the block's driving: when all of it (added in the same order) fits, every window does
    total = 0.0
    for x in drive:
        total += x
    if total <= budget and min(drive) >= 0:
        return True
    day = _DAY_US
    # Driving of a block inside a 24 h window is at most min(its driving, its time in the window),
    # wherever the checker places the driving in the block (the empty drive out, the boarding
    # stops). That sum is piecewise linear in the window's start, so its largest value is at a
    # window starting at a block start or where the window's start leaves a block's driving
    # (end - driving), or ending at a block end or where it takes in a block's driving
    # (start + driving). Prorating by time instead let 481-486 of 480 min through (demo).
    lows = set()
    for k, q in enumerate(s):
        d = timedelta(minutes=q.driving_min) // _US
        lows.update((a_us[k], b_us[k] - d, b_us[k] - day, a_us[k] + d - day))
    for lo in lows:
        hi = lo + day
        used = 0.0
        for k in range(n):
            a = a_us[k]
            if a >= hi:
                break  # blocks are in start order: none later meets the window
            b = b_us[k]
            if b <= lo:
                continue
            inside = ((b if b < hi else hi) - (a if a > lo else lo)) / 10**6 / 60.0
            used += min(inside, drive[k])
        if used > budget:
            return False
    return True


_US = timedelta(microseconds=1)
_DAY_US = timedelta(days=1) // _US
_REF = datetime(2000, 1, 1, tzinfo=timezone.utc)
_REF_NAIVE = datetime(2000, 1, 1)
