"""One county's charter waves, day by day.

For each day of the window, the county's waiting units (families or single
workers) are packed per destination area into coach loads
(:mod:`planner.solve.packing`). Full coaches leave; a part-filled coach leaves
only when someone on it cannot wait any longer (their last feasible day), so
seats are not wasted. Coaches are taken from the county's own fleet when free
again (after the empty return and the drivers' rest); the most urgent loads
get the coaches first (earliest-deadline-first). A coach whose passengers live
in one township (at most ``max_pickup_stops`` villages) picks them up at their
villages and goes direct; other coaches leave from the county terminal, fed by
feeder buses from each village. Units nobody can carry before their last day
are reported with the binding reason.
"""

from __future__ import annotations

import bisect
import math
from datetime import datetime, timedelta

import numpy as np

from planner.rules.driving import ceil_minute, drivers_needed
from planner.rules.route import plan_route, plan_single
from planner.rules.seats import allowed_seats
from planner.solve.busy import claim, coach_fits, usable_from
from planner.solve.county_records import (CoachRoute, CountyInput, FeederPlan, FeederStop, Load,  # noqa: F401
                                          PlannedRun, Vehicle)
from planner.solve.feeders import (Bus, FeederRun, as_bus_run, pickup_order, prune_timeline, route_runs,
                                   schedule_runs)
from planner.solve.packing import pack_area
from planner.solve.problem import CLOSED, LEVELS, ProblemData, at
from planner.solve.records import PlanParts, stop
from planner.solve.sweep import SweepArea, SweepLoad, UnitArrays, best_pickup_load
from planner.solve.sweep import min_fill as sweep_min_fill
from planner.vocab import OCCUPANCY_RULES


class CountyPlanner:
    """Plans one county. See the module docstring for the method."""

    def __init__(self, p: ProblemData, ctx: SolveContext, inp: CountyInput) -> None:
        self.p = p
        self.sc = p.sc
        self.ctx = ctx
        self.inp = inp
        self.county = inp.county_code
        self.parts = PlanParts(prefix=self.county)
        u = ctx.units
        self.u = u
        self.ids = inp.unit_ids
        self.travel = p.travel
        self.terminal = inp.terminal_id
        self._km_cache: dict[tuple[str, str], float] = {}
        self._dead_cache: dict[tuple[str, str], int] = {}
        self._cycle_cache: dict[tuple[str | None, str], float] = {}
        # CP-SAT repacking is worth most where few coaches leave; a budget per county
        # keeps a municipality-wide run from spending hours on it
        self.cpsat_left = self.sc.solver.cpsat_budget_per_county_s
        self.blocked: dict[int, str] = {}  # unit -> the limit that kept it home on its last try
        self._feeders_bound = False  # today's hub wave left a load for want of a feeder
        self._setup_fleet()

    # ----------------------------------------------------------------- fleet
    def _setup_fleet(self) -> None:
        p, sc = self.p, self.sc
        fl = p.fleet[p.fleet["county_code"].astype(str) == self.county]
        day0 = at(p.days[0], sc.fleet.direct_first_pickup_time) - timedelta(hours=6)
        self.coaches: list[Vehicle] = []
        self.feeders: list[Vehicle] = []
        for rec in fl.itertuples(index=False):
            tid = str(rec.type_id)
            mode = p.vehicle_modes.get(tid)
            if mode not in ("coach", "feeder"):
                continue
            seats = {r: p.seats_for(tid, r) for r in OCCUPANCY_RULES}
            for i in range(int(rec.count)):
                v = Vehicle(f"{self.county}-{tid}-{i + 1:03d}", tid, seats, day0)
                (self.coaches if mode == "coach" else self.feeders).append(v)
        self.feeder_seats = max((v.seats["half_seats"] for v in self.feeders), default=0)
        self.coach_cap = {
            r: max((v.seats[r] for v in self.coaches), default=0)
            for r in OCCUPANCY_RULES
        }

    # ------------------------------------------------------------ utilities
    def _place_xy(self, place: str) -> tuple[float, float]:
        return self.ctx.xy[place]

    def _km(self, a: str, b: str) -> float:
        """Road km between two places (see :mod:`planner.travel`), cached."""
        key = (a, b)
        hit = self._km_cache.get(key)
        if hit is None:
            hit = self.travel.km(a, b, self.county)
            self._km_cache[key] = hit
        return hit

    def _feeder_minutes(self, a: str, b: str) -> float:
        """Feeder bus (and in-county pick-up) minutes from place ``a`` to place ``b``."""
        return self.travel.feeder_minutes(a, b, self.county)

    def _feeder_matrix(self, places: list[str]) -> np.ndarray:
        """Feeder bus minutes between every two of ``places`` (row = from)."""
        return self.travel.feeder_matrix(places, self.county)

    def _coach_minutes(self, a: str, b: str) -> float:
        return self.travel.coach_minutes(a, b, self.county)

    # ------------------------------------------------------------------ run
    def run(self) -> PlanParts:
        """Plan every day of the window; return the county's plan records."""
        p, ctx = self.p, self.ctx
        n_days = len(p.days)
        latest = ctx.latest[self.ids]
        earliest = ctx.earliest[self.ids]
        # units that can never leave
        for i, uid in enumerate(self.ids):
            if latest[i] < earliest[i]:
                self._fail(uid, ctx.why_late[uid])
        todo = [(int(earliest[i]), int(uid)) for i, uid in enumerate(self.ids) if latest[i] >= earliest[i]]
        todo.sort()
        # when people of each destination area become ready (from the register): a part-filled
        # coach waits only for people expected before it would have to leave
        self.ready_days: dict[int, list[int]] = {}
        for day, uid in todo:
            if uid not in ctx.on_train:
                self.ready_days.setdefault(int(ctx.area[uid]), []).append(day)
        pool: dict[int, list[int]] = {}
        ptr = 0
        for d in range(n_days):
            while ptr < len(todo) and todo[ptr][0] <= d:
                uid = todo[ptr][1]
                if uid not in ctx.on_train:
                    pool.setdefault(int(ctx.area[uid]), []).append(uid)
                ptr += 1
            booked = [t for t in self.inp.train_feeds if t[3] == d]
            fed = set(self._feed_trains(booked, d))
            for uid, _st, _by, _d in booked:
                if uid in fed:
                    ctx.train_fed.add(uid)
                elif ctx.latest[uid] >= d:
                    # no feeder could reach the station in time: back to the coaches
                    pool.setdefault(int(ctx.area[uid]), []).append(uid)
                else:
                    self._fail(uid, ctx.why_late[uid])
            loads = self._choose_loads(d, pool)
            sent = self._dispatch(d, loads)
            if self._feeders_bound:
                # coaches stand idle while the feeders cannot bring everyone: they collect themselves
                sent |= self._sweep_direct(d, pool, sent)
            for area_units in pool.values():
                area_units[:] = [x for x in area_units if x not in sent]
            # drop units whose last day has passed
            for key in list(pool):
                keep = []
                for x in pool[key]:
                    if ctx.latest[x] <= d:
                        self._fail(x, self._why(x))
                    else:
                        keep.append(x)
                pool[key] = keep
        for key, rest in pool.items():
            for x in rest:
                self._fail(x, self._why(x) if int(x) in self.blocked or x in ctx.train_too_far
                           else "no_vehicle_before_needed_by")
        return self.parts

    def _note(self, units, reason: str) -> None:
        """Remember what kept these units home today; the last one noted is reported if they never leave."""
        for x in units:
            self.blocked[int(x)] = reason

    def _why(self, uid: int) -> str:
        """Why a unit stays home: the limit that bound on its last try, else why its last day is its last.

        A unit a train with free seats could have carried, but whose village no feeder links
        to the train's station within the ride limit, reports that limit instead
        (``feeder_ride_too_long_for_train``): it is what a planner can change.
        """
        reason = self.blocked.get(int(uid)) or str(self.ctx.why_late[uid])
        if uid in self.ctx.train_too_far and reason != "destination_closed":
            return "feeder_ride_too_long_for_train"
        return reason

    def _fail(self, uid: int, reason: str) -> None:
        for pos in self.u.members[uid]:
            self.parts.unplaced[int(pos)] = reason or "no_vehicle_before_needed_by"

    # -------------------------------------------------------------- choose
    def _rule_for(self, factories: list[str], d: int) -> str:
        """Occupancy rule from the strictest level at the destinations around arrival."""
        ctx = self.ctx
        lvl = 0
        for f in factories:
            lo, hi = ctx.arrival_offsets(self.county, f)
            for dd in range(d + lo, d + hi + 1):
                lvl = max(lvl, ctx.factory_level(f, dd))
        return self.sc.occupancy.rule_for(LEVELS[min(lvl, 2)], self.p.days[d])

    def _area_closed(self, f: str, d: int) -> bool:
        lo, hi = self.ctx.arrival_offsets(self.county, f)
        return any(self.ctx.factory_level(f, dd) >= CLOSED for dd in range(d + lo, d + hi + 1))

    def _choose_loads(self, d: int, pool: dict[int, list[int]]) -> list[Load]:
        ctx = self.ctx
        loads: list[Load] = []
        k = self.sc.fleet.max_drop_factories
        for area, members in pool.items():
            if not members:
                continue
            avail = [x for x in members if not self._area_closed(ctx.factory[x], d)]
            if not avail:
                continue
            rule = self._rule_for(sorted({ctx.factory[x] for x in avail}), d)
            cap = self.coach_cap[rule]
            if cap <= 0:
                continue
            bins = pack_area(avail, ctx.size, ctx.factory, ctx.sort_key, cap, k, village=ctx.village)
            # CP-SAT repacks the part-filled coaches only when one of them leaves today:
            # a part-filled coach that waits is packed afresh tomorrow with the new arrivals
            seconds = min(self.ctx.cpsat_seconds, self.cpsat_left)
            if seconds > 0.05 and any(b.load < cap and self._leaves_today(b, cap, d) for b in bins):
                spent: list[float] = []
                bins = pack_area(avail, ctx.size, ctx.factory, ctx.sort_key, cap, k, village=ctx.village,
                                 cpsat_seconds=seconds, cpsat_spent=spent)
                self.cpsat_left -= sum(spent)
            for b in bins:
                if self._leaves_today(b, cap, d):
                    urgency = min(int(ctx.latest[x]) for x in b.units)
                    loads.append(Load(b.units, b.load, sorted(b.factories), area, urgency))
        return self._order_loads(d, loads)

    def _order_loads(self, d: int, loads: list[Load]) -> list[Load]:
        """Who gets today's coaches first.

        When the coaches free today can take every load, the most urgent go first
        (earliest-deadline-first). When there are more loads than coaches (the fleet binds), a
        part-filled coach would spend a whole round trip on few people: full loads go first, the
        most urgent of them first, and part-filled loads get what coaches are left; among
        equally urgent loads, the one moving the most people per coach-hour (nearer factories)
        goes first. Measured (bench/RESULTS.md, "Dispatch when the fleet binds"): +3.3 % workers on
        two fleet-bound counties of the municipality, the demo unchanged; ordering by people per
        coach-hour first moved 3.1 % more there but 2.1 % fewer on the demo.
        """
        latest = at(self.p.days[d], self.sc.fleet.latest_coach_depart_time)
        free = sum(v.free_at <= latest for v in self.coaches)
        if len(loads) <= free or not self.sc.solver.favour_full_coaches:
            loads.sort(key=lambda ld: (ld.urgency, -ld.people))
            return loads

        def part_filled(ld: Load) -> bool:
            return ld.people < self.coach_cap[self._rule_for(ld.factories, d)] - 2

        loads.sort(key=lambda ld: (part_filled(ld), ld.urgency, -ld.people / self._cycle_hours(ld.factories),
                                   -ld.people))
        return loads

    def _cycle_hours(self, factories: list[str]) -> float:
        """Hours a coach is away serving ``factories`` from the terminal: out, turnaround, back, rest.

        An estimate for ordering (the trip's own timing comes from the driver rules when it is
        built): driving at the coach speed with a rest per stretch, twice the farthest factory.
        """
        sc = self.sc
        origin = self.terminal
        worst = 0.0
        for f in factories:
            key = (origin, f)
            hit = self._cycle_cache.get(key)
            if hit is None:
                drive_h = self._coach_minutes(origin, f) / 60.0 if origin else 0.0
                stretches = math.ceil(drive_h / max(sc.drivers.max_continuous_day_h, 0.5))
                hit = self._cycle_cache[key] = drive_h + stretches * sc.drivers.min_rest_min / 60.0
            worst = max(worst, hit)
        return max(1.0, 2 * worst + sc.fleet.turnaround_h + sc.fleet.rest_after_return_h)

    def _leaves_today(self, b, cap: int, d: int) -> bool:
        """A coach load leaves when (nearly) full, when someone on it cannot wait, when waiting is
        off, or when nobody else of its destination area becomes ready before it would have to
        leave (a coach is held only for people the register says are coming)."""
        if b.load >= cap - 2 or not self.sc.solver.wait_for_fuller_coach:
            return True
        last = min(int(self.ctx.latest[x]) for x in b.units)
        if last <= d:
            return True
        days = self.ready_days.get(int(self.ctx.area[b.units[0]]), [])
        return bisect.bisect_right(days, last) == bisect.bisect_right(days, d)

    # ------------------------------------------------------------ dispatch
    def _dispatch(self, d: int, loads: list[Load]) -> set[int]:
        """Give loads coaches, build their trips; return the units sent.

        Township-direct loads leave one by one. Hub loads first reserve a coach
        (most urgent first, within the hub's daily capacity), then share the
        day's feeder runs (:meth:`_send_hub_wave`): a feeder bus carries a
        village's travellers for several coaches, instead of one run per
        village and coach.
        """
        sent: set[int] = set()
        self._feeders_bound = False
        day = self.p.days[d]
        cap_hub = int(self.p.hubs.loc[self.terminal]["daily_capacity_people"]) if self.terminal else 0
        hub_people = self.ctx.hub_used.get((self.terminal, d), 0)
        latest = at(day, self.sc.fleet.latest_coach_depart_time)
        reserved: set[str] = set()
        wave: list[tuple[Load, Vehicle]] = []
        no_coach: list[Load] = []
        for ld in loads:
            if self.terminal is None:
                break
            if self._is_direct(ld):
                if self._send_direct(d, ld, reserved):
                    sent.update(ld.units)
                continue
            if hub_people + ld.people > cap_hub:
                self._note(ld.units, "terminal_capacity")
                continue
            coach = self._pick_coach(latest, ld.people, self._rule_for(ld.factories, d), reserved)
            if coach is None:
                self._note(ld.units, "no_coach_free")
                no_coach.append(ld)
                continue
            reserved.add(coach.vehicle_id)
            wave.append((ld, coach))
            hub_people += ld.people
        gone = self._send_hub_wave(d, wave) if wave else []
        # a load the feeders could not bring, from few enough villages, tries its coach as a
        # pick-up coach going direct (the coach itself calls at the villages)
        went = {id(ld) for ld in gone}
        for ld, coach in wave:
            if id(ld) in went or len({self.ctx.village[x] for x in ld.units}) > self.sc.fleet.max_pickup_stops:
                continue
            if self._send_direct(d, ld, reserved - {coach.vehicle_id}):
                sent.update(ld.units)
                went.add(id(ld))
        self._feeders_bound = len(went) < len(wave)
        if len(went) < len(wave):
            # a coach stood reserved for a load the feeders could not bring: the feeders bound
            for ld in no_coach:
                self._note(ld.units, "no_feeder_in_time")
        for ld in gone:
            sent.update(ld.units)
        if self.terminal:
            used = self.ctx.hub_used.get((self.terminal, d), 0) + sum(ld.people for ld in gone)
            self.ctx.hub_used[(self.terminal, d)] = used
        return sent

    def _is_direct(self, ld: Load) -> bool:
        ctx = self.ctx
        if self.terminal is None or not self.feeders:
            return True
        villages = {ctx.village[x] for x in ld.units}
        if any(ctx.needs_direct[x] for x in ld.units):
            return True
        towns = {ctx.township[x] for x in ld.units}
        return len(towns) == 1 and len(villages) <= self.sc.fleet.max_pickup_stops

    def _pick_coach(self, ready_by: datetime, people: int, rule: str,
                    reserved: set[str] = frozenset()) -> Vehicle | None:
        """The smallest coach free by ``ready_by`` that seats ``people``, not already reserved today."""
        best = None
        for v in self.coaches:
            if usable_from(v, ready_by) <= ready_by and v.seats[rule] >= people and v.vehicle_id not in reserved:
                if best is None or (v.seats[rule], v.free_at, v.vehicle_id) < (best.seats[rule], best.free_at, best.vehicle_id):
                    best = v
        if best is not None:
            claim(best, ready_by)  # a repair replan: it leaves after the kept trips that would clash
        return best

    def _drop_order(self, origin: str, factories: list[str]) -> list[str]:
        order: list[str] = []
        here = origin
        left = list(factories)
        while left:
            nxt = min(left, key=lambda f: (self._km(here, f), f))
            order.append(nxt)
            left.remove(nxt)
            here = nxt
        return order

    def _send_direct(self, d: int, ld: Load, reserved: set[str], *, note: bool = True, later: bool = False) -> bool:
        """A township-direct coach: pick up at the villages, then straight to the factories.

        With ``later``, when no coach is free for the first pick-up of the day, the coach free
        soonest leaves when it is free, if it leaves the last village by
        ``fleet.latest_coach_depart_time``.
        """
        sc = self.sc
        day = self.p.days[d]
        rule = self._rule_for(ld.factories, d)
        villages = self._pickup_order(ld)
        first_pick = at(day, sc.fleet.direct_first_pickup_time)
        leave_base = first_pick - timedelta(minutes=self._feeder_minutes(self.terminal, villages[0]) + 1)
        coach = self._pick_coach(leave_base, ld.people, rule, reserved)
        if coach is None and later:
            return self._send_direct_later(d, ld, rule, villages, leave_base, reserved)
        if coach is None:
            if note:
                self._note(ld.units, "no_coach_free")
            return False
        if self._build_coach(d, ld, coach, rule, leave_base, villages, direct=True):
            return True
        # a stretch touching the night allows only 2 h, which a long pick-up round can
        # exceed; leaving at the end of the night keeps the round in one daytime stretch
        day_start = at(day, sc.drivers.night_end)
        if day_start <= leave_base:
            return False
        return self._build_coach(d, ld, coach, rule, day_start, villages, direct=True)

    def _send_direct_later(self, d: int, ld: Load, rule: str, villages: list[str], leave_base: datetime,
                           reserved: set[str]) -> bool:
        """A pick-up coach leaving the terminal when the coach free soonest (after ``leave_base``) is free."""
        latest = at(self.p.days[d], self.sc.fleet.latest_coach_depart_time)
        free = [v for v in self.coaches
                if v.vehicle_id not in reserved and v.seats[rule] >= ld.people and usable_from(v, latest) <= latest]
        if not free:
            return False
        coach = min(free, key=lambda v: (usable_from(v, latest), v.seats[rule], v.vehicle_id))
        claim(coach, latest)
        depart = ceil_minute(max(leave_base, coach.free_at))
        route = self._coach_route(d, ld, coach, depart, villages)
        if route is None or route.route.departs[len(villages)] > latest:
            return False
        self._write_coach(d, ld, coach, route, villages, direct=True)
        return True

    def _sweep_direct(self, d: int, pool: dict[int, list[int]], sent: set[int]) -> set[int]:
        """Idle coaches collect at the villages themselves when the feeders bound today.

        The loads come from :mod:`planner.solve.sweep` (the best pick-up coach load of each
        destination area; over all areas, loads holding someone on their last day first, then
        the fullest); each goes as a pick-up coach straight to the factories
        (:meth:`_send_direct`). The sweep runs after today's hub coaches have been given their
        coaches and feeders, so it only uses coaches nothing else needs today (free for the
        first pick-up, or the coach free soonest later in the day). Returns the units sent.
        """
        ctx, sc = self.ctx, self.sc
        out: set[int] = set()
        if self.terminal is None or not self.coaches:
            return out
        latest = at(self.p.days[d], sc.fleet.latest_coach_depart_time)
        first_pick = at(self.p.days[d], sc.fleet.direct_first_pickup_time)
        fill = sweep_min_fill(sum(v.free_at <= first_pick for v in self.coaches), len(self.coaches))
        arrays = UnitArrays(ctx.size, ctx.factory, ctx.sort_key, ctx.village, ctx.latest)
        areas: dict[int, SweepArea] = {}
        for area in sorted(pool):
            members = [x for x in pool[area] if x not in sent and not self._area_closed(ctx.factory[x], d)]
            if members:
                villages = sorted({ctx.village[x] for x in members})
                areas[area] = SweepArea(members, {v: i for i, v in enumerate(villages)},
                                        self._feeder_matrix(villages))

        def candidate(st: SweepArea) -> SweepLoad | None:
            if not st.members:
                return None
            cap = self.coach_cap[self._rule_for(sorted({ctx.factory[x] for x in st.members}), d)]
            return best_pickup_load(st, arrays, d, cap, sc.fleet.max_pickup_stops, sc.fleet.max_drop_factories,
                                    fill)

        best = {area: candidate(st) for area, st in areas.items()}
        while any(v.free_at <= latest for v in self.coaches):
            ready = [(c.key, -area) for area, c in best.items() if c is not None]
            if not ready:
                break
            area = -max(ready)[1]
            st, c = areas[area], best[area]
            ld = Load(c.units, c.people, c.factories, area, c.last_day)
            if self._send_direct(d, ld, set(), note=False, later=True):
                out.update(ld.units)
                gone = set(ld.units)
                st.members = [x for x in st.members if x not in gone]
            else:
                st.tried.add(c.seed)
            best[area] = candidate(st)
        return out

    def _send_hub_wave(self, d: int, wave: list[tuple[Load, Vehicle]]) -> list[Load]:
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
        sc, p, ctx = self.sc, self.p, self.ctx
        day = p.days[d]
        t0 = at(day, sc.fleet.coach_depart_time)
        latest = at(day, sc.fleet.latest_coach_depart_time)
        transfer = timedelta(minutes=sc.hub.transfer_min)
        max_wait = timedelta(minutes=max(sc.hub.max_wait_min, sc.hub.transfer_min))
        step = max(timedelta(minutes=30), max_wait - transfer)
        first_dep = at(day, sc.feeders.first_depart_time)
        if not self.feeders:
            return []
        pending = list(wave)
        sent: list[Load] = []
        runs_of: dict[int, list[FeederRun]] = {}
        slot = t0
        while pending and slot <= latest:
            buses = self._bus_timelines(self.terminal, slot)
            for ld, coach in list(pending):
                if coach.free_at > slot or first_dep + self._longest_ride(ld) > slot - transfer:
                    continue
                if id(ld) not in runs_of:
                    by_village: dict[str, list[int]] = {}
                    for x in sorted(ld.units, key=lambda x: (ctx.sort_key[x], x)):
                        by_village.setdefault(ctx.village[x], []).append(x)
                    runs_of[id(ld)] = self._route_feeders(day, self.terminal, by_village)
                plan = self._schedule_feeders(day, self.terminal, runs_of[id(ld)], slot - transfer,
                                              arrive_after=slot - max_wait, buses=buses)
                if len(plan.runs) < len(runs_of[id(ld)]):
                    self._note(ld.units, "no_feeder_in_time")
                    continue
                depart = ceil_minute(max(t0, coach.free_at, max(plan.brought.values()) + transfer))
                route = self._coach_route(d, ld, coach, depart, [])
                pending.remove((ld, coach))
                if route is None:
                    continue
                self._commit_feeders(plan, self.terminal, d)
                self._write_coach(d, ld, coach, route, [], direct=False)
                sent.append(ld)
                buses = [plan.timeline.get(b.bus_id, b) for b in buses]
            slot += step
        return sent

    def _longest_ride(self, ld: Load) -> timedelta:
        """The ride from the load's farthest village to the terminal (the least a feeder needs)."""
        ctx = self.ctx
        worst = max(self._feeder_minutes(v, self.terminal) for v in {ctx.village[x] for x in ld.units})
        return timedelta(minutes=math.ceil(worst - 1e-9))

    def _pickup_order(self, ld: Load) -> list[str]:
        """The order of a direct coach's pick-ups: the least driving from the terminal, through
        every village, to the nearest drop factory (exact over all orders up to 7 villages,
        nearest-next from the farthest village beyond)."""
        ctx = self.ctx
        vills = sorted({ctx.village[x] for x in ld.units})
        to_drop = {v: min(self._coach_minutes(v, f) for f in ld.factories) for v in vills}
        if len(vills) <= 7:
            return pickup_order(vills, {v: self._feeder_minutes(self.terminal, v) for v in vills},
                                self._feeder_minutes, to_drop)
        f0 = ld.factories[0]
        start = max(vills, key=lambda v: (self._km(v, f0), v))
        order = [start]
        left = [v for v in vills if v != start]
        while left:
            nxt = min(left, key=lambda v: (self._km(order[-1], v), v))
            order.append(nxt)
            left.remove(nxt)
        return order

    # -------------------------------------------------------------- feeders
    def _route_feeders(self, day, hub: str, by_village: dict[str, list[int]]) -> list[FeederRun]:
        """Feeder runs that bring ``by_village``'s units to ``hub`` (routing only, no bus yet).

        From the routing engine (:func:`planner.solve.feeders.route_runs`): bus-sized runs whose
        first boarder rides at most the planned ride limit (:func:`feeder_ride_limit_h`).
        """
        sc = self.sc
        rule = self.ctx.feeder_rule(hub, self.p.day_index(day))
        cap = min(v.seats[rule] for v in self.feeders)
        ride_limit = feeder_ride_limit_h(sc)  # the drive out and the ride in: one daytime stretch
        return route_runs(
            hub, by_village, self.ctx.size, cap, self._feeder_matrix,
            ride_limit_min=int(round(ride_limit * 60)), dwell=sc.feeders.dwell_min,
            iterations=sc.solver.feeder_iterations, seed=sc.solver.seed, engine=sc.solver.routing_engine,
        )

    def _plan_feeders(self, day, hub: str, by_village: dict[str, list[int]], arrive_by: datetime, *,
                      arrive_after: datetime | None = None,
                      priority: dict[str, int] | None = None) -> FeederPlan | None:
        """Tentatively route and schedule feeder runs to reach ``hub`` in [``arrive_after``, ``arrive_by``].

        None when the county has no feeder bus. See :meth:`_schedule_feeders`.
        """
        if not self.feeders:
            return None
        runs = self._route_feeders(day, hub, by_village)
        return self._schedule_feeders(day, hub, runs, arrive_by, arrive_after=arrive_after, priority=priority)

    def _schedule_feeders(self, day, hub: str, runs: list[FeederRun], arrive_by: datetime, *,
                          arrive_after: datetime | None = None, priority: dict[str, int] | None = None,
                          buses: list[Bus] | None = None) -> FeederPlan:
        """Put ``runs`` on the county's feeder buses to reach ``hub`` in [``arrive_after``, ``arrive_by``].

        :func:`~planner.solve.feeders.schedule_runs`, under the driver rules for each bus's
        whole day, the runs carrying the most urgent villages (lowest ``priority``) first; a run
        no bus can bring in the window is left out (its units are absent from ``brought``).
        ``buses`` are the buses' timelines (default: as committed). Nothing is committed.
        """
        sc = self.sc
        prio = priority or {}

        def order(run: FeederRun) -> tuple:
            return (min(prio.get(v, 0) for v, _u in run.stops), -run.ride, run.first)

        if buses is None:
            buses = self._bus_timelines(hub, arrive_by)
        planned = schedule_runs(runs, buses, hub, arrive_by, at(day, sc.feeders.first_depart_time), self._dead,
                                order=order, arrive_after=arrive_after, rules=sc.drivers, late=False)
        out: list[PlannedRun] = []
        brought: dict[int, datetime] = {}
        for sr in planned:
            stops = []
            prev = None
            for (vcode, units), (arr, dep) in zip(sr.run.stops, sr.stop_times()):
                km = 0.0 if prev is None else self._km(prev, vcode)
                stops.append(FeederStop(vcode, arr, dep, list(units), km))
                prev = vcode
                for x in units:
                    brought[x] = sr.arrive
            out.append(PlannedRun(sr.bus, stops, sr.arrive, self._km(prev, hub)))
        timeline = {}
        for b in buses:
            mine = [as_bus_run(sr, hub) for sr in planned if sr.bus == b.bus_id]
            if mine:
                timeline[b.bus_id] = Bus(b.bus_id, b.free_at, b.at, tuple(sorted((*b.done, *mine),
                                                                                 key=lambda r: r.board)))
        return FeederPlan(out, timeline, brought)

    def _bus_timelines(self, hub: str, around: datetime) -> list[Bus]:
        """The feeder buses' committed timelines, runs long before ``around`` folded away.

        48 h are kept: a new run may start hours before ``around`` (its ride, the drive out, a
        late run), and the driver rules look 24 h back from it; with 30 h a run of the day
        before fell out of the 24 h total and the checker found 481-486 of 480 minutes (demo).
        """
        return [prune_timeline(Bus(v.vehicle_id, v.free_at, v.at_place or self.terminal or hub, v.runs),
                               around - timedelta(hours=48)) for v in self.feeders]

    def _dead(self, a: str, b: str) -> int:
        """Whole minutes of an empty feeder drive from ``a`` to ``b`` (cached: asked very often)."""
        key = (a, b)
        hit = self._dead_cache.get(key)
        if hit is None:
            hit = self._dead_cache[key] = math.ceil(self._feeder_minutes(a, b) - 1e-9)
        return hit

    def _commit_feeders(self, plan: FeederPlan, hub: str, d: int) -> None:
        """Write the feeder trips, stops and first legs; the buses become busy."""
        ctx, parts = self.ctx, self.parts
        byid = {v.vehicle_id: v for v in self.feeders}
        for bus, b in plan.timeline.items():
            v = byid[bus]
            v.free_at, v.at_place, v.runs = b.free_at, b.at, b.done
        for bus, stops, arr_h, last_km in plan.runs:
            v = byid[bus]
            tid = parts.new_trip_id("F")
            people = int(sum(ctx.size[x] for st in stops for x in st.units))
            rule = ctx.feeder_rule(hub, d)
            seats = allowed_seats(self.p.layouts[v.type_id], rule, self.p.isolation_rows(v.type_id))
            km_total = sum(st.km for st in stops) + last_km
            parts.trips.append(
                self._trip_row(tid, "feeder", v, rule, stops[0].village, stops[0].depart, [hub], arr_h, km_total,
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

    # ---------------------------------------------------------------- coach
    def _trip_row(self, tid, mode, v: Vehicle, rule, origin, depart, dests, arrive, km, drivers, people,
                  purpose="passenger", leader="") -> dict:
        return {
            "trip_id": tid,
            "mode": mode,
            "purpose": purpose,
            "vehicle_type": v.type_id,
            "vehicle_id": v.vehicle_id,
            "home_county_code": self.county,
            "service_id": "",
            "occupancy_rule": rule,
            "seats_rated": self.p.layouts[v.type_id].rated_seats,
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

    def _build_coach(self, d: int, ld: Load, coach: Vehicle, rule: str, depart: datetime,
                     pickups: list[str], *, direct: bool) -> bool:
        """Time the coach's trip and, when every rule allows it, write it; False otherwise."""
        plan = self._coach_route(d, ld, coach, depart, pickups)
        if plan is None:
            return False
        self._write_coach(d, ld, coach, plan, pickups, direct=direct)
        return True

    def _coach_route(self, d: int, ld: Load, coach: Vehicle, depart: datetime,
                     pickups: list[str]) -> CoachRoute | None:
        """The coach trip's timing, or None when a rule forbids it (nothing is written)."""
        sc, p, ctx = self.sc, self.p, self.ctx
        origin = self.terminal
        drops = self._drop_order(pickups[-1] if pickups else origin, ld.factories)
        # segments: (from, to, minutes, km, dwell after)
        places = [origin] + pickups + drops
        segs = []
        for a, b in zip(places[:-1], places[1:]):
            km = self._km(a, b)
            local = b in pickups
            minutes = self._feeder_minutes(a, b) if local else self._coach_minutes(a, b)
            dwell = sc.fleet.pickup_dwell_min if local else sc.fleet.drop_dwell_min
            segs.append((a, b, minutes, km, dwell))
        total_km = sum(s[3] for s in segs)
        drivers = drivers_needed(total_km, sc.drivers)
        route = plan_route(depart, [(s[2], s[4]) for s in segs], drivers, sc.drivers)
        if _rest_while_picking_up(route, len(pickups)):
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
        return out if coach_fits(self, coach, out) else None  # a repair replan: no kept trip overlapped

    def _write_coach(self, d: int, ld: Load, coach: Vehicle, plan: CoachRoute, pickups: list[str], *,
                     direct: bool) -> None:
        """Write a timed coach trip, its stops, seats and legs, and the empty return; the coach becomes busy."""
        sc, p, ctx, parts = self.sc, self.p, self.ctx, self.parts
        origin = self.terminal
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
            self._trip_row(tid, "coach", coach, rule, origin, depart, drops, arrive_last, total_km, drivers,
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
        back_km = self._km(back_from, origin)
        leave = ceil_minute(arrive_last + timedelta(hours=sc.fleet.turnaround_h))
        if sc.fleet.empty_return:
            drv_back = drivers_needed(back_km, sc.drivers)
            back = plan_single(leave, self._coach_minutes(back_from, origin), drv_back, sc.drivers)
            leave = back.departs[0]
            eid = parts.new_trip_id("E")
            parts.trips.append(
                self._trip_row(eid, "coach", coach, rule, back_from, leave, [origin], back.arrive, back_km,
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

    # --------------------------------------------------------------- trains
    def _feed_trains(self, booked: list[tuple[int, str, datetime, int]], d: int) -> list[int]:
        """Feeder runs to the railway station for units booked on today's trains.

        Returns the units a feeder brings in time; the others go back to the
        coach pool.
        """
        ctx = self.ctx
        if not booked:
            return []
        fed: list[int] = []
        by_key: dict[tuple[str, datetime], dict[str, list[int]]] = {}
        for uid, st, by, _d in booked:
            by_key.setdefault((st, by), {}).setdefault(ctx.village[uid], []).append(uid)
        early = timedelta(minutes=max(0, self.sc.hub.max_wait_min - self.sc.hub.transfer_min))
        for (st, by), groups in sorted(by_key.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            # feeders reach the station in [departure - max wait, departure - transfer]
            plan = self._plan_feeders(self.p.days[d], st, groups, by, arrive_after=by - early)
            if plan is None:
                continue
            self._commit_feeders(plan, st, d)
            fed.extend(plan.brought)
        return fed


# imported late to avoid a cycle in type hints
from planner.solve.context import SolveContext, feeder_ride_limit_h  # noqa: E402


def _rest_while_picking_up(route, n_pickups: int) -> bool:
    """True when the route rests on a segment that ends at the 2nd..last pick-up.

    Segment 0 runs from the terminal to the first pick-up with nobody aboard; a
    rest there is harmless. Any later rest before the last pick-up has people on
    board, so the following boarding would be a pick-up en route.
    """
    return any(route.rests[j] for j in range(1, n_pickups))
