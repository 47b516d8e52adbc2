"""Writing a county's timed trips as plan records: trips, stops, seats, legs and outcomes.

The timing is decided elsewhere (:mod:`planner.solve.coach_timing` for a coach,
:mod:`planner.solve.feeder_wave` for feeder runs); this module only turns an accepted
trip into the rows of ``docs/plan-format.md`` (appended to the county's
:class:`~planner.solve.records.PlanParts` in the order the checker and the writer expect)
and marks the vehicles busy until they are free again. Keeping the writing in one place keeps
the row layout, seat assignment and the empty return in step with each other.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from planner.rules.driving import ceil_minute, drivers_needed
from planner.rules.route import plan_single
from planner.rules.seats import allowed_seats
from planner.solve.county_records import CoachRoute, FeederPlan, Load, Vehicle
from planner.solve.county_state import CountyState
from planner.solve.records import stop


def trip_row(st: CountyState, tid: str, mode: str, v: Vehicle, rule: str, origin: str, depart: datetime,
             dests: list[str], arrive: datetime, km: float, drivers: int, people: int,
             purpose: str = "passenger", leader: str = "") -> dict:
    """One row of trips.csv for vehicle ``v`` of the county."""
    return {
        "trip_id": tid,
        "mode": mode,
        "purpose": purpose,
        "vehicle_type": v.type_id,
        "vehicle_id": v.vehicle_id,
        "home_county_code": st.county,
        "service_id": "",
        "occupancy_rule": rule,
        "seats_rated": st.p.layouts[v.type_id].rated_seats,
        "seats_allowed": v.seats[rule],
        "origin_id": origin,
        "depart": depart,
        "destination_ids": ";".join(dests),
        "arrive": arrive,
        "distance_km": round(float(km), 2),
        "drivers": drivers,
        "passengers": people,
        "leader_worker_id": leader,
    }


def write_coach(st: CountyState, d: int, ld: Load, coach: Vehicle, plan: CoachRoute, pickups: list[str], *,
                direct: bool) -> None:
    """Write a timed coach trip, its stops, seats and legs, and the empty return; the coach becomes busy.

    ``pickups``: the villages a direct coach calls at (empty for a hub coach, whose passengers
    board at the terminal). The return is timed as :func:`planner.solve.busy.coach_fits` checks it.
    """
    sc, p, ctx, parts = st.sc, st.p, st.ctx, st.parts
    origin = st.terminal
    route, drops, segs, total_km, drivers, rule = plan
    depart = route.departs[0]
    arrive_last = route.arrivals[-1]
    tid = parts.new_trip_id("C")
    seats = allowed_seats(p.layouts[coach.type_id], rule, p.isolation_rows(coach.type_id))
    # passengers in seat order: village by village, families together
    order = sorted(ld.units, key=lambda x: (ctx.sort_key[x], x))
    first_pos = int(ctx.units.members[order[0]][0])
    leader = str(p.workers.at[first_pos, "worker_id"])
    parts.trips.append(
        trip_row(st, tid, "coach", coach, rule, origin, depart, drops, arrive_last, total_km, drivers,
                 ld.people, leader=leader)
    )
    # stops with rest stops between driving stretches
    board_at: dict[str, int] = {}
    alight_at: dict[str, int] = {}
    for x in ld.units:
        s = int(ctx.size[x])
        board_at[ctx.village[x] if direct else origin] = board_at.get(ctx.village[x] if direct else origin, 0) + s
        alight_at[ctx.factory[x]] = alight_at.get(ctx.factory[x], 0) + s
    seq = 1
    parts.stops.append(stop(tid, seq, origin, "hub", None, route.departs[0], board_at.get(origin, 0), 0, 0.0))
    for j, sg in enumerate(segs):
        done_km = 0.0
        for (r_arr, r_dep, frac) in route.rests[j]:
            seq += 1
            km = sg[3] * frac - done_km
            done_km += km
            parts.stops.append(stop(tid, seq, "REST", "rest", r_arr, r_dep, 0, 0, km))
        seq += 1
        place = sg[1]
        kind = "village" if place in pickups else "factory"
        last = j == len(segs) - 1
        parts.stops.append(
            stop(tid, seq, place, kind, route.arrivals[j], None if last else route.departs[j + 1],
                 board_at.get(place, 0) if kind == "village" else 0,
                 alight_at.get(place, 0) if kind == "factory" else 0, sg[3] - done_km)
        )
    # legs and seats
    i = 0
    for x in order:
        f = ctx.factory[x]
        arr = route.arrivals[len(pickups) + drops.index(f)]
        if direct:
            b_place = ctx.village[x]
            b_time = route.departs[1 + pickups.index(b_place)]
            leg_no = 1
            chain = "direct"
        else:
            b_place, b_time, leg_no, chain = origin, route.departs[0], 2, "hub_coach"
        for pos in ctx.units.members[x]:
            parts.legs.append((int(pos), leg_no, tid, seats[i], b_place, b_time, f, arr))
            parts.outcome[int(pos)] = (chain, p.days[d], arr)
            i += 1
    # the coach goes home empty, then the drivers rest
    back_from = drops[-1]
    back_km = st.km(back_from, origin)
    leave = ceil_minute(arrive_last + timedelta(hours=sc.fleet.turnaround_h))
    if sc.fleet.empty_return:
        drv_back = drivers_needed(back_km, sc.drivers)
        back = plan_single(leave, st.coach_minutes(back_from, origin), drv_back, sc.drivers)
        leave = back.departs[0]
        eid = parts.new_trip_id("E")
        parts.trips.append(
            trip_row(st, eid, "coach", coach, rule, back_from, leave, [origin], back.arrive, back_km,
                     drv_back, 0, purpose="empty_return")
        )
        parts.stops.append(stop(eid, 1, back_from, "factory", None, leave, 0, 0, 0.0))
        seq = 1
        done = 0.0
        for r_arr, r_dep, frac in back.rests[0]:
            seq += 1
            km = back_km * frac - done
            done += km
            parts.stops.append(stop(eid, seq, "REST", "rest", r_arr, r_dep, 0, 0, km))
        parts.stops.append(stop(eid, seq + 1, origin, "hub", back.arrive, None, 0, 0, back_km - done))
        coach.free_at = back.arrive + timedelta(hours=sc.fleet.rest_after_return_h)
    else:
        coach.free_at = leave


def write_feeders(st: CountyState, plan: FeederPlan, hub: str, d: int) -> None:
    """Write the feeder trips, stops and first legs of ``plan`` (to ``hub``, day ``d``); the buses become busy."""
    ctx, parts = st.ctx, st.parts
    byid = {v.vehicle_id: v for v in st.feeders}
    for bus, b in plan.timeline.items():
        v = byid[bus]
        v.free_at, v.at_place, v.runs = b.free_at, b.at, b.done
    for bus, stops, arr_h, last_km in plan.runs:
        v = byid[bus]
        tid = parts.new_trip_id("F")
        people = int(sum(ctx.size[x] for st_ in stops for x in st_.units))
        rule = ctx.feeder_rule(hub, d)
        seats = allowed_seats(st.p.layouts[v.type_id], rule, st.p.isolation_rows(v.type_id))
        km_total = sum(st_.km for st_ in stops) + last_km
        parts.trips.append(
            trip_row(st, tid, "feeder", v, rule, stops[0].village, stops[0].depart, [hub], arr_h, km_total,
                     1, people)
        )
        i = 0
        for seq, (vcode, arr, dep, units, km) in enumerate(stops, 1):
            n = int(sum(ctx.size[x] for x in units))
            parts.stops.append(stop(tid, seq, vcode, "village", None if seq == 1 else arr, dep, n, 0, km))
            for x in units:
                for pos in ctx.units.members[x]:
                    parts.legs.append((int(pos), 1, tid, seats[i], vcode, dep, hub, arr_h))
                    i += 1
        parts.stops.append(stop(tid, len(stops) + 1, hub, "hub", arr_h, None, 0, people, last_km))
