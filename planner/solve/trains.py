"""Chartered train carriages: who rides which service, and the carriage trips.

Train services are given (date, time, origin station, destination station,
carriages); their seats cost no coach, so they are filled first. A unit may
ride a service when its factory is met at the service's destination station,
the service day lies between its first day and its proof expiry, it reaches
the station by feeder within the ride limit, it arrives by the factory's
``needed_by``, and the destination station is not closed on arrival.
Candidates are taken most urgent first (earliest last coach day), village by
village so that neighbours sit together, within the station's daily capacity.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from planner.rules.geo import haversine_km
from planner.rules.seats import allowed_seats
from planner.solve.context import SolveContext, feeder_ride_limit_h
from planner.solve.problem import CLOSED, LEVELS, ProblemData, as_date, at
from planner.solve.records import PlanParts, stop


@dataclass
class Carriage:
    """One carriage of one service and the units booked in it."""

    service_id: str
    number: int
    type_id: str
    rule: str
    seats: int
    units: list[int] = field(default_factory=list)
    load: int = 0


@dataclass
class TrainBooking:
    """The outcome of the train allocation."""

    carriages: list[Carriage]
    service_times: dict[str, tuple[datetime, datetime]]
    feeds: dict[str, list[tuple[int, str, datetime, int]]]  # county -> (unit, station, arrive by, day)


def service_time(rec) -> tuple[datetime, datetime]:  # noqa: ANN001 - a row with date, depart_time, travel_hours
    """A train service's departure and arrival (rounded up to the minute), as the plan writes them."""
    day = as_date(rec.date)
    hh, mm = (int(x) for x in str(rec.depart_time)[:5].split(":"))
    dep = at(day, datetime.min.time().replace(hour=hh, minute=mm))
    arr = dep + timedelta(hours=float(rec.travel_hours))
    arr = (arr + timedelta(seconds=59)).replace(second=0, microsecond=0)
    return dep, arr


def book_trains(p: ProblemData, ctx: SolveContext) -> TrainBooking:
    """Assign units to carriages of the given services; mark them ``ctx.on_train``."""
    sc = p.sc
    carriages: list[Carriage] = []
    times: dict[str, tuple[datetime, datetime]] = {}
    feeds: dict[str, list[tuple[int, str, datetime, int]]] = {}
    if p.services.empty:
        return TrainBooking(carriages, times, feeds)
    arrival_station = p.factories["arrival_station_id"].reindex(ctx.factory).astype(str).to_numpy()
    ride_cache: dict[tuple[str, str], float] = {}
    station_used: dict[tuple[str, int], int] = {}
    svc = p.services.copy()
    svc["_dep"] = [service_time(r)[0] for r in svc.itertuples(index=False)]
    svc = svc.sort_values(["_dep", "service_id"])
    for rec in svc.itertuples(index=False):
        dep, arr = service_time(rec)
        sid = str(rec.service_id)
        times[sid] = (dep, arr)
        d = p.day_index(dep.date())
        if d < 0 or d >= len(p.days):
            continue
        dest = str(rec.destination_station_id)
        origin = str(rec.origin_station_id)
        if dest in p.stations.index:
            lvl = ctx.code_level(str(p.stations.loc[dest]["county_code"]), p.day_index(arr.date()))
        else:
            lvl = 0
        if lvl >= CLOSED:
            continue
        rule = sc.occupancy.rule_for(LEVELS[min(lvl, 2)], p.days[d])
        ctype = str(rec.carriage_type)
        per = p.seats_for(ctype, rule)
        hub = p.hubs.loc[origin]
        cap_station = int(hub["daily_capacity_people"]) - station_used.get((origin, d), 0)
        cand = np.flatnonzero(
            (arrival_station == dest)
            & (ctx.earliest <= d)
            & (ctx.expiry >= d)
            & (ctx.needed >= p.day_index(arr.date()))
        )
        if ctx.on_train:
            cand = cand[~np.isin(cand, np.fromiter(ctx.on_train, dtype=np.int64))]
        if len(cand) == 0:
            continue
        ride_h = np.array([_ride_h(p, ride_cache, ctx.village[u], origin, ctx.county[u]) for u in cand])
        too_far = cand[ride_h > feeder_ride_limit_h(sc)]
        cand = cand[ride_h <= feeder_ride_limit_h(sc)]
        # feeders need a feeder fleet in the unit's county
        has_feeder = set(p.fleet[p.fleet["type_id"].map(p.vehicle_modes) == "feeder"]["county_code"].astype(str))
        cand = np.array([u for u in cand if ctx.county[u] in has_feeder], dtype=np.int64)
        if len(cand) == 0:
            _mark_too_far(ctx, too_far, min(cap_station, int(rec.carriages) * per))
            continue
        order = sorted(cand.tolist(), key=lambda u: (int(ctx.latest[u]), ctx.county[u], ctx.sort_key[u], u))
        arrive_by = dep - timedelta(minutes=sc.hub.transfer_min)
        cars = [Carriage(sid, i + 1, ctype, rule, per) for i in range(int(rec.carriages))]
        ci = 0
        for u in order:
            s = int(ctx.size[u])
            if s > cap_station:
                break
            while ci < len(cars) and cars[ci].load + s > cars[ci].seats:
                ci += 1
            if ci >= len(cars):
                break
            cars[ci].units.append(u)
            cars[ci].load += s
            cap_station -= s
            ctx.on_train.add(u)
            feeds.setdefault(ctx.county[u], []).append((u, origin, arrive_by, d))
        station_used[(origin, d)] = int(hub["daily_capacity_people"]) - cap_station
        carriages += [c for c in cars if c.units]
        # seats left that only the feeder ride kept from these units (reported if they stay home)
        _mark_too_far(ctx, too_far, min(cap_station, sum(c.seats - c.load for c in cars)))
    return TrainBooking(carriages, times, feeds)


def _mark_too_far(ctx: SolveContext, too_far: np.ndarray, spare: int) -> None:
    """Remember, up to ``spare`` seats, the units only the feeder ride kept off a train (most urgent first)."""
    for u in sorted(too_far.tolist(), key=lambda u: (int(ctx.latest[u]), ctx.sort_key[u], u)):
        s = int(ctx.size[u])
        if s > spare:
            break
        if u not in ctx.on_train:
            ctx.train_too_far.add(u)
            spare -= s


def build_train_trips(p: ProblemData, ctx: SolveContext, booking: TrainBooking) -> PlanParts:
    """Carriage trips, stops and legs for the booked units a feeder brought in time."""
    parts = PlanParts(prefix="T")
    for car in booking.carriages:
        riders = [u for u in car.units if u in ctx.train_fed]
        if not riders:
            continue
        dep, arr = booking.service_times[car.service_id]
        rec = p.services[p.services["service_id"].astype(str) == car.service_id].iloc[0]
        origin = str(rec.origin_station_id)
        dest = str(rec.destination_station_id)
        o = p.hubs.loc[origin]
        km = 0.0
        if dest in p.stations.index:
            s = p.stations.loc[dest]
            km = float(haversine_km(float(o["lon"]), float(o["lat"]), float(s["lon"]), float(s["lat"]))) * 1.2
        people = int(sum(ctx.size[u] for u in riders))
        tid = f"T{car.service_id}-{car.number:02d}"
        order = sorted(riders, key=lambda u: (ctx.sort_key[u], u))
        leader = str(p.workers.at[int(ctx.units.members[order[0]][0]), "worker_id"])
        layout = p.layouts[car.type_id]
        parts.trips.append(
            {
                "trip_id": tid,
                "mode": "train",
                "purpose": "passenger",
                "vehicle_type": car.type_id,
                "vehicle_id": f"{car.service_id}-{car.number:02d}",
                "home_county_code": "",
                "service_id": car.service_id,
                "occupancy_rule": car.rule,
                "seats_rated": layout.rated_seats,
                "seats_allowed": car.seats,
                "origin_id": origin,
                "depart": dep,
                "destination_ids": dest,
                "arrive": arr,
                "distance_km": round(km, 2),
                "drivers": 0,
                "passengers": people,
                "leader_worker_id": leader,
            }
        )
        parts.stops.append(stop(tid, 1, origin, "hub", None, dep, people, 0, 0.0))
        parts.stops.append(stop(tid, 2, dest, "station", arr, None, 0, people, km))
        seats = allowed_seats(layout, car.rule, p.isolation_rows(car.type_id))
        i = 0
        for u in order:
            for pos in ctx.units.members[u]:
                parts.legs.append((int(pos), 2, tid, seats[i], origin, dep, dest, arr))
                parts.outcome[int(pos)] = ("train", dep.date(), arr)
                i += 1
    return parts


def _ride_h(p, cache: dict, village: str, station: str, county: str) -> float:
    """Feeder hours from a village to a station hub (cached: many units share a village)."""
    key = (village, station)
    hit = cache.get(key)
    if hit is None:
        hit = cache[key] = p.travel.feeder_minutes(village, station, county) / 60.0
    return hit
