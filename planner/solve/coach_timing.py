"""Timing one coach trip under every rule, before anything is written.

A coach leaves the terminal, calls at its pick-up villages (a direct coach; none for a hub
coach), drops at its factories in nearest-next order and may only go when the driver rules
(:mod:`planner.rules.route`), every passenger's ``needed_by``, the factories' closures, the
occupancy rule at the real arrival days and, in a repair replan, the coach's kept trips
(:func:`planner.solve.busy.coach_fits`) all allow it. :func:`coach_route` answers with a
:class:`~planner.solve.county_records.CoachRoute` or None; :func:`build_coach` times and, when
allowed, writes it (:mod:`planner.solve.trip_writer`).
"""

from __future__ import annotations

from datetime import datetime

from planner.rules.driving import drivers_needed
from planner.rules.route import RoutePlan, plan_route
from planner.solve.busy import coach_fits
from planner.solve.county_records import CoachRoute, Load, Vehicle
from planner.solve.county_state import CountyState
from planner.solve.problem import CLOSED, LEVELS
from planner.solve.trip_writer import write_coach


def drop_order(st: CountyState, origin: str, factories: list[str]) -> list[str]:
    """The factories in the order a coach from ``origin`` drops at them: the nearest next (by km, then id)."""
    order: list[str] = []
    here = origin
    left = list(factories)
    while left:
        nxt = min(left, key=lambda f: (st.km(here, f), f))
        order.append(nxt)
        left.remove(nxt)
        here = nxt
    return order


def coach_route(st: CountyState, d: int, ld: Load, coach: Vehicle, depart: datetime,
                pickups: list[str]) -> CoachRoute | None:
    """The coach trip's timing, or None when a rule forbids it (nothing is written)."""
    sc, p, ctx = st.sc, st.p, st.ctx
    origin = st.terminal
    drops = drop_order(st, pickups[-1] if pickups else origin, ld.factories)
    # segments: (from, to, minutes, km, dwell after)
    places = [origin] + pickups + drops
    segs = []
    for a, b in zip(places[:-1], places[1:]):
        km = st.km(a, b)
        local = b in pickups
        minutes = st.feeder_minutes(a, b) if local else st.coach_minutes(a, b)
        dwell = sc.fleet.pickup_dwell_min if local else sc.fleet.drop_dwell_min
        segs.append((a, b, minutes, km, dwell))
    total_km = sum(s[3] for s in segs)
    drivers = drivers_needed(total_km, sc.drivers)
    route = plan_route(depart, [(s[2], s[4]) for s in segs], drivers, sc.drivers)
    if rest_while_picking_up(route, len(pickups)):
        # a rest between two pick-ups would make the later one a pick-up en route
        return None
    # every passenger must arrive by their factory's needed_by
    for x in ld.units:
        f = ctx.factory[x]
        idx = drops.index(f)
        arr = route.arrivals[len(pickups) + idx]
        if arr.date() > ctx.needed_date[x]:
            return None
        if ctx.factory_level(f, p.day_index(arr.date())) >= CLOSED:
            return None
    # the rule in force at the real arrival days must allow this load
    lvl = 0
    for j, f in enumerate(drops):
        arr = route.arrivals[len(pickups) + j]
        lvl = max(lvl, ctx.factory_level(f, p.day_index(arr.date())))
    rule = sc.occupancy.rule_for(LEVELS[min(lvl, 2)], p.days[d])
    if coach.seats[rule] < ld.people:
        return None
    out = CoachRoute(route, drops, segs, total_km, drivers, rule)
    return out if coach_fits(st, coach, out) else None  # a repair replan: no kept trip overlapped


def build_coach(st: CountyState, d: int, ld: Load, coach: Vehicle, rule: str, depart: datetime,
                pickups: list[str], *, direct: bool) -> bool:
    """Time the coach's trip and, when every rule allows it, write it; False otherwise.

    ``rule`` is the occupancy rule the load was packed under; the trip's own rule comes from
    its real arrival days (:func:`coach_route`).
    """
    plan = coach_route(st, d, ld, coach, depart, pickups)
    if plan is None:
        return False
    write_coach(st, d, ld, coach, plan, pickups, direct=direct)
    return True


def rest_while_picking_up(route: RoutePlan, n_pickups: int) -> bool:
    """True when the route rests on a segment that ends at the 2nd..last pick-up.

    Segment 0 runs from the terminal to the first pick-up with nobody aboard; a
    rest there is harmless. Any later rest before the last pick-up has people on
    board, so the following boarding would be a pick-up en route.
    """
    return any(route.rests[j] for j in range(1, n_pickups))
