"""One county's day: which coach loads leave, in what order they get coaches, and how each goes.

:func:`choose_loads` packs each destination area's waiting units into coach loads
(:mod:`planner.solve.packing`) and keeps those that leave today: full ones, and part-filled
ones whose passengers cannot wait (or nobody else is expected); :func:`order_loads` decides who
gets today's coaches first. :func:`dispatch` then sends township-direct loads as pick-up coaches
(:mod:`planner.solve.direct`) and gives hub loads a coach each, for the day's shared feeder
runs (:mod:`planner.solve.feeder_wave`). The result is a
:class:`~planner.solve.county_records.Dispatched` record.
"""

from __future__ import annotations

import bisect
import math

from planner.solve.county_records import Dispatched, Load, Vehicle
from planner.solve.county_state import CountyState, pick_coach
from planner.solve.direct import send_direct
from planner.solve.feeder_wave import send_hub_wave
from planner.solve.packing import Bin, pack_area
from planner.solve.problem import at


def choose_loads(st: CountyState, d: int, pool: dict[int, list[int]]) -> list[Load]:
    """Today's coach loads from ``pool`` (destination area -> waiting units), in the order they get coaches."""
    ctx = st.ctx
    loads: list[Load] = []
    k = st.sc.fleet.max_drop_factories
    for area, members in pool.items():
        if not members:
            continue
        avail = [x for x in members if not st.area_closed(ctx.factory[x], d)]
        if not avail:
            continue
        rule = st.rule_for(sorted({ctx.factory[x] for x in avail}), d)
        cap = st.coach_cap[rule]
        if cap <= 0:
            continue
        bins = pack_area(avail, ctx.size, ctx.factory, ctx.sort_key, cap, k, village=ctx.village)
        # CP-SAT repacks the part-filled coaches only when one of them leaves today:
        # a part-filled coach that waits is packed afresh tomorrow with the new arrivals
        seconds = min(st.ctx.cpsat_seconds, st.cpsat_left)
        if seconds > 0.05 and any(b.load < cap and leaves_today(st, b, cap, d) for b in bins):
            spent: list[float] = []
            bins = pack_area(avail, ctx.size, ctx.factory, ctx.sort_key, cap, k, village=ctx.village,
                             cpsat_seconds=seconds, cpsat_spent=spent)
            st.cpsat_left -= sum(spent)
        for b in bins:
            if leaves_today(st, b, cap, d):
                urgency = min(int(ctx.latest[x]) for x in b.units)
                loads.append(Load(b.units, b.load, sorted(b.factories), area, urgency))
    return order_loads(st, d, loads)


def order_loads(st: CountyState, d: int, loads: list[Load]) -> list[Load]:
    """Who gets today's coaches first (sorts ``loads`` in place and returns it).

    When the coaches free today can take every load, the most urgent go first
    (earliest-deadline-first). When there are more loads than coaches (the fleet binds), a
    part-filled coach would spend a whole round trip on few people: full loads go first, the
    most urgent of them first, and part-filled loads get what coaches are left; among
    equally urgent loads, the one moving the most people per coach-hour (nearer factories)
    goes first. Measured (bench/RESULTS.md, "Dispatch when the fleet binds"): +3.3 % workers on
    two fleet-bound counties of the municipality, the demo unchanged; ordering by people per
    coach-hour first moved 3.1 % more there but 2.1 % fewer on the demo.
    """
    latest = at(st.p.days[d], st.sc.fleet.latest_coach_depart_time)
    free = sum(v.free_at <= latest for v in st.coaches)
    if len(loads) <= free or not st.sc.solver.favour_full_coaches:
        loads.sort(key=lambda ld: (ld.urgency, -ld.people))
        return loads

    def part_filled(ld: Load) -> bool:
        return ld.people < st.coach_cap[st.rule_for(ld.factories, d)] - 2

    loads.sort(key=lambda ld: (part_filled(ld), ld.urgency, -ld.people / cycle_hours(st, ld.factories),
                               -ld.people))
    return loads


def cycle_hours(st: CountyState, factories: list[str]) -> float:
    """Hours a coach is away serving ``factories`` from the terminal: out, turnaround, back, rest.

    An estimate for ordering (the trip's own timing comes from the driver rules when it is
    built): driving at the coach speed with a rest per stretch, twice the farthest factory.
    """
    sc = st.sc
    origin = st.terminal
    worst = 0.0
    for f in factories:
        key = (origin, f)
        hit = st.cycle_cache.get(key)
        if hit is None:
            drive_h = st.coach_minutes(origin, f) / 60.0 if origin else 0.0
            stretches = math.ceil(drive_h / max(sc.drivers.max_continuous_day_h, 0.5))
            hit = st.cycle_cache[key] = drive_h + stretches * sc.drivers.min_rest_min / 60.0
        worst = max(worst, hit)
    return max(1.0, 2 * worst + sc.fleet.turnaround_h + sc.fleet.rest_after_return_h)


def leaves_today(st: CountyState, b: Bin, cap: int, d: int) -> bool:
    """A coach load leaves when (nearly) full, when someone on it cannot wait, when waiting is
    off, or when nobody else of its destination area becomes ready before it would have to
    leave (a coach is held only for people the register says are coming)."""
    if b.load >= cap - 2 or not st.sc.solver.wait_for_fuller_coach:
        return True
    last = min(int(st.ctx.latest[x]) for x in b.units)
    if last <= d:
        return True
    days = st.ready_days.get(int(st.ctx.area[b.units[0]]), [])
    return bisect.bisect_right(days, last) == bisect.bisect_right(days, d)


def dispatch(st: CountyState, d: int, loads: list[Load]) -> Dispatched:
    """Give loads coaches, build their trips; return the units sent and whether the feeders bound.

    Township-direct loads leave one by one. Hub loads first reserve a coach
    (most urgent first, within the hub's daily capacity), then share the
    day's feeder runs (:func:`planner.solve.feeder_wave.send_hub_wave`): a feeder bus carries a
    village's travellers for several coaches, instead of one run per
    village and coach.
    """
    sent: set[int] = set()
    day = st.p.days[d]
    cap_hub = int(st.p.hubs.loc[st.terminal]["daily_capacity_people"]) if st.terminal else 0
    hub_people = st.ctx.hub_used.get((st.terminal, d), 0)
    latest = at(day, st.sc.fleet.latest_coach_depart_time)
    reserved: set[str] = set()
    wave: list[tuple[Load, Vehicle]] = []
    no_coach: list[Load] = []
    for ld in loads:
        if st.terminal is None:
            break
        if is_direct(st, ld):
            if send_direct(st, d, ld, reserved):
                sent.update(ld.units)
            continue
        if hub_people + ld.people > cap_hub:
            st.note(ld.units, "terminal_capacity")
            continue
        coach = pick_coach(st, latest, ld.people, st.rule_for(ld.factories, d), reserved)
        if coach is None:
            st.note(ld.units, "no_coach_free")
            no_coach.append(ld)
            continue
        reserved.add(coach.vehicle_id)
        wave.append((ld, coach))
        hub_people += ld.people
    gone = send_hub_wave(st, d, wave) if wave else []
    # a load the feeders could not bring, from few enough villages, tries its coach as a
    # pick-up coach going direct (the coach itself calls at the villages)
    went = {id(ld) for ld in gone}
    for ld, coach in wave:
        if id(ld) in went or len({st.ctx.village[x] for x in ld.units}) > st.sc.fleet.max_pickup_stops:
            continue
        if send_direct(st, d, ld, reserved - {coach.vehicle_id}):
            sent.update(ld.units)
            went.add(id(ld))
    feeders_bound = len(went) < len(wave)
    if len(went) < len(wave):
        # a coach stood reserved for a load the feeders could not bring: the feeders bound
        for ld in no_coach:
            st.note(ld.units, "no_feeder_in_time")
    for ld in gone:
        sent.update(ld.units)
    if st.terminal:
        used = st.ctx.hub_used.get((st.terminal, d), 0) + sum(ld.people for ld in gone)
        st.ctx.hub_used[(st.terminal, d)] = used
    return Dispatched(sent, feeders_bound)


def is_direct(st: CountyState, ld: Load) -> bool:
    """True when a load goes as a pick-up coach: no terminal or feeder, someone who must go direct,
    or one township with at most ``fleet.max_pickup_stops`` villages."""
    ctx = st.ctx
    if st.terminal is None or not st.feeders:
        return True
    villages = {ctx.village[x] for x in ld.units}
    if any(ctx.needs_direct[x] for x in ld.units):
        return True
    towns = {ctx.township[x] for x in ld.units}
    return len(towns) == 1 and len(villages) <= st.sc.fleet.max_pickup_stops
