"""Direct coaches: a coach that picks its passengers up at their villages and goes straight to the factories.

Used for a load from one township and few villages (:func:`send_direct`, chosen by
:mod:`planner.solve.dispatch`), for a hub load the feeders could not bring, and for the
idle-coach sweep (:func:`sweep_direct`): on a day the feeder buses bind, coaches nothing else
needs collect the best pick-up loads (:mod:`planner.solve.sweep`) themselves. The pick-up
order is the least driving through every village (:func:`coach_pickup_order`); the trip is timed
and written by :mod:`planner.solve.coach_timing`.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from planner.rules.driving import ceil_minute
from planner.solve.busy import claim, usable_from
from planner.solve.coach_timing import build_coach, coach_route
from planner.solve.county_records import Load
from planner.solve.county_state import CountyState, pick_coach
from planner.solve.feeders import pickup_order
from planner.solve.problem import at
from planner.solve.sweep import SweepArea, SweepLoad, UnitArrays, best_pickup_load
from planner.solve.sweep import min_fill as sweep_min_fill
from planner.solve.trip_writer import write_coach


def send_direct(st: CountyState, d: int, ld: Load, reserved: set[str], *, note: bool = True,
                later: bool = False) -> bool:
    """A township-direct coach: pick up at the villages, then straight to the factories.

    With ``later``, when no coach is free for the first pick-up of the day, the coach free
    soonest leaves when it is free, if it leaves the last village by
    ``fleet.latest_coach_depart_time``. With ``note``, a load no coach is free for is noted
    ``no_coach_free``. True when the coach's trip was written.
    """
    sc = st.sc
    day = st.p.days[d]
    rule = st.rule_for(ld.factories, d)
    villages = coach_pickup_order(st, ld)
    first_pick = at(day, sc.fleet.direct_first_pickup_time)
    leave_base = first_pick - timedelta(minutes=st.feeder_minutes(st.terminal, villages[0]) + 1)
    coach = pick_coach(st, leave_base, ld.people, rule, reserved)
    if coach is None and later:
        return send_direct_later(st, d, ld, rule, villages, leave_base, reserved)
    if coach is None:
        if note:
            st.note(ld.units, "no_coach_free")
        return False
    if build_coach(st, d, ld, coach, rule, leave_base, villages, direct=True):
        return True
    # a stretch touching the night allows only 2 h, which a long pick-up round can
    # exceed; leaving at the end of the night keeps the round in one daytime stretch
    day_start = at(day, sc.drivers.night_end)
    if day_start <= leave_base:
        return False
    return build_coach(st, d, ld, coach, rule, day_start, villages, direct=True)


def send_direct_later(st: CountyState, d: int, ld: Load, rule: str, villages: list[str], leave_base: datetime,
                      reserved: set[str]) -> bool:
    """A pick-up coach leaving the terminal when the coach free soonest (after ``leave_base``) is free."""
    latest = at(st.p.days[d], st.sc.fleet.latest_coach_depart_time)
    free = [v for v in st.coaches
            if v.vehicle_id not in reserved and v.seats[rule] >= ld.people and usable_from(v, latest) <= latest]
    if not free:
        return False
    coach = min(free, key=lambda v: (usable_from(v, latest), v.seats[rule], v.vehicle_id))
    claim(coach, latest)
    depart = ceil_minute(max(leave_base, coach.free_at))
    route = coach_route(st, d, ld, coach, depart, villages)
    if route is None or route.route.departs[len(villages)] > latest:
        return False
    write_coach(st, d, ld, coach, route, villages, direct=True)
    return True


def sweep_direct(st: CountyState, d: int, pool: dict[int, list[int]], sent: set[int]) -> set[int]:
    """Idle coaches collect at the villages themselves when the feeders bound today.

    The loads come from :mod:`planner.solve.sweep` (the best pick-up coach load of each
    destination area; over all areas, loads holding someone on their last day first, then
    the fullest); each goes as a pick-up coach straight to the factories
    (:func:`send_direct`). The sweep runs after today's hub coaches have been given their
    coaches and feeders, so it only uses coaches nothing else needs today (free for the
    first pick-up, or the coach free soonest later in the day). ``pool``: destination area ->
    waiting units; ``sent``: units already sent today. Returns the units sent.
    """
    ctx, sc = st.ctx, st.sc
    out: set[int] = set()
    if st.terminal is None or not st.coaches:
        return out
    latest = at(st.p.days[d], sc.fleet.latest_coach_depart_time)
    first_pick = at(st.p.days[d], sc.fleet.direct_first_pickup_time)
    fill = sweep_min_fill(sum(v.free_at <= first_pick for v in st.coaches), len(st.coaches))
    arrays = UnitArrays(ctx.size, ctx.factory, ctx.sort_key, ctx.village, ctx.latest)
    areas: dict[int, SweepArea] = {}
    for area in sorted(pool):
        members = [x for x in pool[area] if x not in sent and not st.area_closed(ctx.factory[x], d)]
        if members:
            villages = sorted({ctx.village[x] for x in members})
            areas[area] = SweepArea(members, {v: i for i, v in enumerate(villages)},
                                    st.feeder_matrix(villages))

    def candidate(sa: SweepArea) -> SweepLoad | None:
        if not sa.members:
            return None
        cap = st.coach_cap[st.rule_for(sorted({ctx.factory[x] for x in sa.members}), d)]
        return best_pickup_load(sa, arrays, d, cap, sc.fleet.max_pickup_stops, sc.fleet.max_drop_factories,
                                fill)

    best = {area: candidate(sa) for area, sa in areas.items()}
    while any(v.free_at <= latest for v in st.coaches):
        ready = [(c.key, -area) for area, c in best.items() if c is not None]
        if not ready:
            break
        area = -max(ready)[1]
        sa, c = areas[area], best[area]
        ld = Load(c.units, c.people, c.factories, area, c.last_day)
        if send_direct(st, d, ld, set(), note=False, later=True):
            out.update(ld.units)
            gone = set(ld.units)
            sa.members = [x for x in sa.members if x not in gone]
        else:
            sa.tried.add(c.seed)
        best[area] = candidate(sa)
    return out


def coach_pickup_order(st: CountyState, ld: Load) -> list[str]:
    """The order of a direct coach's pick-ups: the least driving from the terminal, through
    every village, to the nearest drop factory (exact over all orders up to 7 villages,
    nearest-next from the farthest village beyond)."""
    ctx = st.ctx
    vills = sorted({ctx.village[x] for x in ld.units})
    to_drop = {v: min(st.coach_minutes(v, f) for f in ld.factories) for v in vills}
    if len(vills) <= 7:
        return pickup_order(vills, {v: st.feeder_minutes(st.terminal, v) for v in vills},
                                  st.feeder_minutes, to_drop)
    f0 = ld.factories[0]
    start = max(vills, key=lambda v: (st.km(v, f0), v))
    order = [start]
    left = [v for v in vills if v != start]
    while left:
        nxt = min(left, key=lambda v: (st.km(order[-1], v), v))
        order.append(nxt)
        left.remove(nxt)
    return order
