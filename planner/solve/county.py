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

This module keeps the daily loop (:class:`CountyPlanner`) and composes the steps, each in
its own module, sharing one :class:`~planner.solve.county_state.CountyState`:

* :mod:`planner.solve.county_records`: the records passed between the steps (and re-exported here);
* :mod:`planner.solve.county_state`: the county's fleet, plan records, reasons, caches;
* :mod:`planner.solve.dispatch`: which loads leave today and who gets the coaches;
* :mod:`planner.solve.direct`: pick-up coaches going direct, and the idle-coach sweep;
* :mod:`planner.solve.feeder_wave`: feeder runs for a hub wave and to the trains;
* :mod:`planner.solve.coach_timing`: one coach trip timed under every rule;
* :mod:`planner.solve.trip_writer`: the trips, stops, seats and legs written.
"""

from __future__ import annotations

from planner.solve.context import SolveContext
from planner.solve.county_records import (CoachRoute, CountyInput, CountyResult, Dispatched, FeederPlan,
                                          FeederStop, Load, PlannedRun, Vehicle)
from planner.solve.county_state import CountyState
from planner.solve.direct import sweep_direct
from planner.solve.dispatch import choose_loads, dispatch
from planner.solve.feeder_wave import feed_trains
from planner.solve.problem import ProblemData
from planner.solve.records import PlanParts

__all__ = [
    "CoachRoute", "CountyInput", "CountyPlanner", "CountyResult", "CountyState", "Dispatched", "FeederPlan",
    "FeederStop", "Load", "PlannedRun", "Vehicle",
]


class CountyPlanner:
    """Plans one county. See the module docstring for the method.

    ``state`` is the county's shared :class:`CountyState`; ``coaches`` and ``feeders`` are its
    vehicles (a replan sets their kept trips before :meth:`run`).
    """

    def __init__(self, p: ProblemData, ctx: SolveContext, inp: CountyInput) -> None:
        self.inp = inp
        self.state = CountyState.create(p, ctx, inp)

    @property
    def coaches(self) -> list[Vehicle]:
        """The county's coaches."""
        return self.state.coaches

    @property
    def feeders(self) -> list[Vehicle]:
        """The county's feeder buses."""
        return self.state.feeders

    @property
    def parts(self) -> PlanParts:
        """The plan records written so far."""
        return self.state.parts

    def run(self) -> CountyResult:
        """Plan every day of the window; return the county's plan records and what it changed in the context."""
        st = self.state
        p, ctx = st.p, st.ctx
        fed_before = set(ctx.train_fed)
        n_days = len(p.days)
        latest = ctx.latest[st.ids]
        earliest = ctx.earliest[st.ids]
        # units that can never leave
        for i, uid in enumerate(st.ids):
            if latest[i] < earliest[i]:
                st.fail(uid, ctx.why_late[uid])
        todo = [(int(earliest[i]), int(uid)) for i, uid in enumerate(st.ids) if latest[i] >= earliest[i]]
        todo.sort()
        # when people of each destination area become ready (from the register): a part-filled
        # coach waits only for people expected before it would have to leave
        st.ready_days = {}
        for day, uid in todo:
            if uid not in ctx.on_train:
                st.ready_days.setdefault(int(ctx.area[uid]), []).append(day)
        pool: dict[int, list[int]] = {}
        ptr = 0
        for d in range(n_days):
            while ptr < len(todo) and todo[ptr][0] <= d:
                uid = todo[ptr][1]
                if uid not in ctx.on_train:
                    pool.setdefault(int(ctx.area[uid]), []).append(uid)
                ptr += 1
            booked = [t for t in self.inp.train_feeds if t[3] == d]
            fed = set(feed_trains(st, booked, d))
            for uid, _st, _by, _d in booked:
                if uid in fed:
                    ctx.train_fed.add(uid)
                elif ctx.latest[uid] >= d:
                    # no feeder could reach the station in time: back to the coaches
                    pool.setdefault(int(ctx.area[uid]), []).append(uid)
                else:
                    st.fail(uid, ctx.why_late[uid])
            loads = choose_loads(st, d, pool)
            sent, feeders_bound = dispatch(st, d, loads)
            if feeders_bound:
                # coaches stand idle while the feeders cannot bring everyone: they collect themselves
                sent |= sweep_direct(st, d, pool, sent)
            for area_units in pool.values():
                area_units[:] = [x for x in area_units if x not in sent]
            # drop units whose last day has passed
            for key in list(pool):
                keep = []
                for x in pool[key]:
                    if ctx.latest[x] <= d:
                        st.fail(x, st.why(x))
                    else:
                        keep.append(x)
                pool[key] = keep
        for key, rest in pool.items():
            for x in rest:
                st.fail(x, st.why(x) if int(x) in st.blocked or x in ctx.train_too_far
                        else "no_vehicle_before_needed_by")
        hub = {k: v for k, v in ctx.hub_used.items() if k[0] == st.terminal}
        return CountyResult(st.county, st.parts, ctx.train_fed - fed_before, hub)
