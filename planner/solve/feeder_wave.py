"""Feeder buses for one county: a hub wave's runs timed to their coaches, and runs to the trains.

A hub coach's passengers reach the county terminal on feeder buses, one village's travellers
shared by several coaches. :func:`send_hub_wave` cuts the day into departure slots and, slot
by slot, puts each waiting coach's feeder runs on the buses so that nobody waits at the hub
longer than ``hub.max_wait_min``; a coach goes only when all its runs fit. :func:`feed_trains`
brings the units booked on today's trains to their stations the same way. Routing is
:func:`planner.solve.feeders.route_runs`, bus assignment under the driver rules
:func:`planner.solve.feeders.schedule_runs`; a :class:`~planner.solve.county_records.FeederPlan`
is tentative until :func:`planner.solve.trip_writer.write_feeders` writes it.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

from planner.rules.driving import ceil_minute
from planner.solve.coach_timing import coach_route
from planner.solve.context import feeder_ride_limit_h
from planner.solve.county_records import FeederPlan, FeederStop, Load, PlannedRun, Vehicle
from planner.solve.county_state import CountyState
from planner.solve.feeders import Bus, FeederRun, as_bus_run, prune_timeline, route_runs, schedule_runs
from planner.solve.problem import at
from planner.solve.trip_writer import write_coach, write_feeders


def send_hub_wave(st: CountyState, d: int, wave: list[tuple[Load, Vehicle]]) -> list[Load]:
    """Feeder runs timed to their coaches, then the coaches; returns the loads sent.

    The day is cut into departure slots from ``coach_depart_time``, every
    ``hub.max_wait_min - hub.transfer_min`` (at least 30 min), up to
    ``latest_coach_depart_time``. In each slot (leaving at T) the waiting coaches, most
    urgent first, get their own feeder runs (routed once a day per coach) put on the buses
    so that every run reaches the hub in [T - max_wait, T - transfer]: nobody waits at
    the hub longer than ``hub.max_wait_min``. A coach goes when all its runs fit (then its
    runs and trip are written at once, and the buses' timelines include them); otherwise
    nothing of it is kept and it tries the next slot. A coach whose trip breaks a rule
    waits for the next day.
    """
    sc, p, ctx = st.sc, st.p, st.ctx
    day = p.days[d]
    t0 = at(day, sc.fleet.coach_depart_time)
    latest = at(day, sc.fleet.latest_coach_depart_time)
    transfer = timedelta(minutes=sc.hub.transfer_min)
    max_wait = timedelta(minutes=max(sc.hub.max_wait_min, sc.hub.transfer_min))
    step = max(timedelta(minutes=30), max_wait - transfer)
    first_dep = at(day, sc.feeders.first_depart_time)
    if not st.feeders:
        return []
    pending = list(wave)
    sent: list[Load] = []
    runs_of: dict[int, list[FeederRun]] = {}
    slot = t0
    while pending and slot <= latest:
        buses = bus_timelines(st, st.terminal, slot)
        for ld, coach in list(pending):
            if coach.free_at > slot or first_dep + longest_ride(st, ld) > slot - transfer:
                continue
            if id(ld) not in runs_of:
                by_village: dict[str, list[int]] = {}
                for x in sorted(ld.units, key=lambda x: (ctx.sort_key[x], x)):
                    by_village.setdefault(ctx.village[x], []).append(x)
                runs_of[id(ld)] = route_feeders(st, day, st.terminal, by_village)
            plan = schedule_feeders(st, day, st.terminal, runs_of[id(ld)], slot - transfer,
                                    arrive_after=slot - max_wait, buses=buses)
            if len(plan.runs) < len(runs_of[id(ld)]):
                st.note(ld.units, "no_feeder_in_time")
                continue
            depart = ceil_minute(max(t0, coach.free_at, max(plan.brought.values()) + transfer))
            route = coach_route(st, d, ld, coach, depart, [])
            pending.remove((ld, coach))
            if route is None:
                continue
            write_feeders(st, plan, st.terminal, d)
            write_coach(st, d, ld, coach, route, [], direct=False)
            sent.append(ld)
            buses = [plan.timeline.get(b.bus_id, b) for b in buses]
        slot += step
    return sent


def longest_ride(st: CountyState, ld: Load) -> timedelta:
    """The ride from the load's farthest village to the terminal (the least a feeder needs)."""
    ctx = st.ctx
    worst = max(st.feeder_minutes(v, st.terminal) for v in {ctx.village[x] for x in ld.units})
    return timedelta(minutes=math.ceil(worst - 1e-9))


def route_feeders(st: CountyState, day: date, hub: str, by_village: dict[str, list[int]]) -> list[FeederRun]:
    """Feeder runs that bring ``by_village``'s units to ``hub`` (routing only, no bus yet).

    From the routing engine (:func:`planner.solve.feeders.route_runs`): bus-sized runs whose
    first boarder rides at most the planned ride limit (:func:`feeder_ride_limit_h`).
    """
    sc = st.sc
    rule = st.ctx.feeder_rule(hub, st.p.day_index(day))
    cap = min(v.seats[rule] for v in st.feeders)
    ride_limit = feeder_ride_limit_h(sc)  # the drive out and the ride in: one daytime stretch
    return route_runs(
        hub, by_village, st.ctx.size, cap, st.feeder_matrix,
        ride_limit_min=int(round(ride_limit * 60)), dwell=sc.feeders.dwell_min,
        iterations=sc.solver.feeder_iterations, seed=sc.solver.seed, engine=sc.solver.routing_engine,
    )


def plan_feeders(st: CountyState, day: date, hub: str, by_village: dict[str, list[int]], arrive_by: datetime, *,
                 arrive_after: datetime | None = None,
                 priority: dict[str, int] | None = None) -> FeederPlan | None:
    """Tentatively route and schedule feeder runs to reach ``hub`` in [``arrive_after``, ``arrive_by``].

    None when the county has no feeder bus. See :func:`schedule_feeders`.
    """
    if not st.feeders:
        return None
    runs = route_feeders(st, day, hub, by_village)
    return schedule_feeders(st, day, hub, runs, arrive_by, arrive_after=arrive_after, priority=priority)


def schedule_feeders(st: CountyState, day: date, hub: str, runs: list[FeederRun], arrive_by: datetime, *,
                     arrive_after: datetime | None = None, priority: dict[str, int] | None = None,
                     buses: list[Bus] | None = None) -> FeederPlan:
    """Put ``runs`` on the county's feeder buses to reach ``hub`` in [``arrive_after``, ``arrive_by``].

    :func:`~planner.solve.feeders.schedule_runs`, under the driver rules for each bus's
    whole day, the runs carrying the most urgent villages (lowest ``priority``) first; a run
    no bus can bring in the window is left out (its units are absent from ``brought``).
    ``buses`` are the buses' timelines (default: as committed). Nothing is committed.
    """
    sc = st.sc
    prio = priority or {}

    def order(run: FeederRun) -> tuple:
        return (min(prio.get(v, 0) for v, _u in run.stops), -run.ride, run.first)

    if buses is None:
        buses = bus_timelines(st, hub, arrive_by)
    planned = schedule_runs(runs, buses, hub, arrive_by, at(day, sc.feeders.first_depart_time), st.dead,
                            order=order, arrive_after=arrive_after, rules=sc.drivers, late=False)
    out: list[PlannedRun] = []
    brought: dict[int, datetime] = {}
    for sr in planned:
        stops = []
        prev = None
        for (vcode, units), (arr, dep) in zip(sr.run.stops, sr.stop_times()):
            km = 0.0 if prev is None else st.km(prev, vcode)
            stops.append(FeederStop(vcode, arr, dep, list(units), km))
            prev = vcode
            for x in units:
                brought[x] = sr.arrive
        out.append(PlannedRun(sr.bus, stops, sr.arrive, st.km(prev, hub)))
    timeline = {}
    for b in buses:
        mine = [as_bus_run(sr, hub) for sr in planned if sr.bus == b.bus_id]
        if mine:
            timeline[b.bus_id] = Bus(b.bus_id, b.free_at, b.at, tuple(sorted((*b.done, *mine),
                                                                             key=lambda r: r.board)))
    return FeederPlan(out, timeline, brought)


def bus_timelines(st: CountyState, hub: str, around: datetime) -> list[Bus]:
    """The feeder buses' committed timelines, runs long before ``around`` folded away.

    48 h are kept: a new run may start hours before ``around`` (its ride, the drive out, a
    late run), and the driver rules look 24 h back from it; with 30 h a run of the day
    before fell out of the 24 h total and the checker found 481-486 of 480 minutes (demo).
    """
    return [prune_timeline(Bus(v.vehicle_id, v.free_at, v.at_place or st.terminal or hub, v.runs),
                           around - timedelta(hours=48)) for v in st.feeders]


def feed_trains(st: CountyState, booked: list[tuple[int, str, datetime, int]], d: int) -> list[int]:
    """Feeder runs to the railway station for units booked on today's trains.

    ``booked``: (unit, station, must arrive by, day index). Returns the units a feeder
    brings in time; the others go back to the coach pool.
    """
    ctx = st.ctx
    if not booked:
        return []
    fed: list[int] = []
    by_key: dict[tuple[str, datetime], dict[str, list[int]]] = {}
    for uid, stn, by, _d in booked:
        by_key.setdefault((stn, by), {}).setdefault(ctx.village[uid], []).append(uid)
    early = timedelta(minutes=max(0, st.sc.hub.max_wait_min - st.sc.hub.transfer_min))
    for (stn, by), groups in sorted(by_key.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        # feeders reach the station in [departure - max wait, departure - transfer]
        plan = plan_feeders(st, st.p.days[d], stn, groups, by, arrive_after=by - early)
        if plan is None:
            continue
        write_feeders(st, plan, stn, d)
        fed.extend(plan.brought)
    return fed
