"""The solver: eligibility, trains, county waves, and the lower bound.

Objective, in this order (see docs/planner.md): every eligible worker moved
before the factory needs them; then fewest vehicle departures; then least
mixing (fewest villages per vehicle); then least vehicle-km and hours on board.
The method is a decomposition: trains first (given services cost no coach),
then each county on its own, day by day (:mod:`planner.solve.county`), with
CP-SAT repacking small leftover sets (:mod:`planner.solve.packing`).
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planner.solve.bounds import ThroughputBound, throughput_bound
from planner.solve.context import SolveContext, build_context
from planner.solve.county import CountyInput, CountyPlanner, CountyResult
from planner.solve.problem import ProblemData, Units, build_units, worker_eligibility
from planner.solve.records import PlanParts
from planner.solve.trains import book_trains, build_train_trips

log = logging.getLogger(__name__)


@dataclass
class SolveResult:
    """The plan records plus what the summary needs."""

    parts: PlanParts
    reasons: pd.Series  # per worker position: "" or why the worker cannot travel
    units: Units
    ctx: SolveContext
    lower_bound: dict
    wall_time_s: dict[str, float] = field(default_factory=dict)
    #: the throughput bound of the problem (:func:`planner.solve.bounds.throughput_bound`), computed
    #: beside the county plans (it needs only the problem); None: the writer computes it
    throughput: ThroughputBound | None = None


def solve(p: ProblemData, *, processes: int = 1, progress: Callable[[str], None] | None = None,
          scheduler: str | None = None) -> SolveResult:
    """Plan every eligible worker of ``p``; see the module docstring.

    ``processes`` > 1 plans counties in that many worker processes (they are
    independent: a charter starts in its home county); ``scheduler`` (a
    dask.distributed scheduler address, e.g. ``tcp://10.0.0.5:8786``) sends them to
    that cluster's workers instead. The plan is the same either way.
    """
    t0 = time.perf_counter()
    say = progress or (lambda _m: None)
    elig = worker_eligibility(p)
    units, reasons = build_units(p, elig)
    say(f"可出行单元 {len(units.frame):,} 个（家庭同行算一个）(travelling units)")
    ctx = build_context(p, units)
    if p.locked is not None:  # replan, repair mode: the people kept boarding at each hub
        p.locked.prime(ctx)
    t1 = time.perf_counter()
    booking = book_trains(p, ctx)
    say(f"专列车厢预订 {len(ctx.on_train):,} 个单元 (units booked on trains)")
    parts = PlanParts(prefix="")
    tasks = _county_tasks(ctx, booking)
    county_parts, bound = _run_tasks(p, ctx, tasks, processes, say, scheduler=scheduler)
    for cp in county_parts:
        parts.extend(cp)
    parts.extend(build_train_trips(p, ctx, booking))
    if p.locked is not None:  # replan (planner/solve/locked.py): fresh trip ids, the locked trips added
        parts = p.locked.merge(p, parts)
    t2 = time.perf_counter()
    lb = lower_bound(p, ctx, parts)
    return SolveResult(parts, reasons, units, ctx, lb, {"prepare": t1 - t0, "solve": t2 - t1}, throughput=bound)


# state a forked worker process inherits (copy-on-write) instead of receiving it pickled
_SHARED: tuple[ProblemData, SolveContext] | None = None


def _county_tasks(ctx: SolveContext, booking) -> list[list[CountyInput]]:
    """Counties to plan, grouped so that counties sharing a terminal are planned together, in order.

    A terminal's daily capacity is shared by the counties that use it, so they
    cannot be planned in separate processes. Largest tasks first, for balance.
    """
    by_terminal: dict[str, list[CountyInput]] = {}
    for county in sorted(set(ctx.county.tolist())):
        inp = CountyInput(
            county_code=county,
            unit_ids=np.flatnonzero(ctx.county == county),
            terminal_id=ctx.terminals.get(county),
            train_feeds=booking.feeds.get(county, []),
        )
        by_terminal.setdefault(inp.terminal_id or f"none:{county}", []).append(inp)
    return sorted(by_terminal.values(), key=lambda t: -sum(len(i.unit_ids) for i in t))


def _plan_task(task: list[CountyInput], shared: tuple[ProblemData, SolveContext] | None = None,
               ) -> list[tuple[CountyResult, float]]:
    """Plan one task's counties in turn; return per county its result (records and what it changed in the
    context) and the seconds it took.

    ``shared`` is the (problem, context) pair; None reads the one a forked process inherited.
    """
    p, ctx = shared if shared is not None else _SHARED
    out = []
    for inp in task:
        t0 = time.perf_counter()
        planner = CountyPlanner(p, ctx, inp)
        if p.locked is not None:  # replan: vehicles out on locked trips are free once back
            p.locked.apply_fleet(planner.coaches, planner.feeders)
        result = planner.run()
        out.append((result, time.perf_counter() - t0))
    return out


def _bound_task(shared: tuple[ProblemData, SolveContext] | None = None) -> ThroughputBound:
    """The throughput bound of the problem (of the inherited one when ``shared`` is None)."""
    p, _ctx = shared if shared is not None else _SHARED
    return throughput_bound(p)


def _run_tasks(p: ProblemData, ctx: SolveContext, tasks: list[list[CountyInput]], processes: int,
               say: Callable[[str], None], *, scheduler: str | None = None,
               ) -> tuple[list[PlanParts], ThroughputBound]:
    """Plan every task through a ``concurrent.futures.Executor``; county records in county order,
    and the throughput bound.

    One process: in this process. Several: a pool of forked processes that inherit the
    problem (no copy is sent); the throughput bound (an LP per county, needing only the
    problem) is one more job of the pool, so that it runs beside the county plans instead of
    after them in the writer. With a dask scheduler address: that cluster's executor
    (``distributed.Client.get_executor``), the problem scattered to every worker once.
    """
    global _SHARED
    n_counties = sum(len(t) for t in tasks)
    units_total = sum(len(i.unit_ids) for t in tasks for i in t) or 1
    size = {i.county_code: len(i.unit_ids) for t in tasks for i in t}
    done: dict[str, PlanParts] = {}
    started = time.perf_counter()
    units_done = 0

    def collect(results) -> None:
        nonlocal units_done
        for result, seconds in results:
            county = result.county_code
            done[county] = result.parts
            ctx.train_fed.update(result.train_fed)
            ctx.hub_used.update(result.hub_used)
            units_done += size[county]
            say(progress_line(len(done), n_counties, units_done / units_total, time.perf_counter() - started,
                              f"区县 {county} 完成，{seconds:.0f} 秒 (county done)"))

    _SHARED = (p, ctx)
    try:
        workers = min(max(1, processes), len(tasks) + 1)  # + the throughput bound
        if scheduler:
            from planner.solve.cluster import dask_executor

            with dask_executor(scheduler) as (executor, scatter):
                shared = scatter((p, ctx))
                bound_fut = executor.submit(_bound_task, shared)
                futures = [executor.submit(_plan_task, task, shared) for task in tasks]
                for fut in as_completed(futures):
                    collect(fut.result())
                bound = bound_fut.result()
        elif workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            for task in tasks:
                collect(_plan_task(task))
            bound = _bound_task()
        else:
            mp = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=workers, mp_context=mp) as pool:
                bound_fut = pool.submit(_bound_task)
                futures = [pool.submit(_plan_task, task) for task in tasks]
                for fut in as_completed(futures):
                    collect(fut.result())
                bound = bound_fut.result()
    finally:
        _SHARED = None
    return [done[c] for c in sorted(done)], bound


class ProgressMessage(str):
    """A progress text that also carries the share of the work done and the seconds left.

    It is a plain ``str`` for every progress callback (the CLI prints it); a caller that can
    draw a bar (the app) reads ``share`` and ``seconds_left``.
    """

    share: float
    seconds_left: float

    def __new__(cls, text: str, share: float, seconds_left: float) -> ProgressMessage:
        obj = super().__new__(cls, text)
        obj.share = share
        obj.seconds_left = seconds_left
        return obj


def progress_line(done: int, total: int, share: float, elapsed_s: float, what: str,
                  width: int = 20) -> ProgressMessage:
    """``[████░░░░] 5/38 · 已用 1:20 · 预计剩余 3:40 · what``: parts done and time left.

    Time left assumes the rest goes at the pace so far, by share of the work (travelling
    units) done, not by parts: counties differ a lot in size.
    """
    share = min(max(share, 0.0), 1.0)
    filled = int(round(share * width))
    bar = "█" * filled + "░" * (width - filled)
    left = elapsed_s * (1 - share) / share if share > 0 else float("nan")
    eta = _mmss(left) if math.isfinite(left) else "?"
    return ProgressMessage(f"[{bar}] {done}/{total} · 已用 {_mmss(elapsed_s)} · 预计剩余 {eta} · {what}", share, left)


def _mmss(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 60}:{s % 60:02d}"


def lower_bound(p: ProblemData, ctx: SolveContext, parts: PlanParts) -> dict:
    """A lower bound on coach departures for the workers the plan moves by coach.

    Valid for every plan the checker accepts (``planner.solve.bounds.coach_departure_bound``):
    per (county, group of factories linked within the drop radius), ceil(people / most seats a
    county coach may sell under any rule in force). Not the planner's own destination areas.
    """
    from planner.solve.bounds import coach_departure_bound

    pos = [pos for pos, (chain, _d, _a) in parts.outcome.items() if chain != "train"]
    w = p.workers.iloc[pos]
    dep = coach_departure_bound(p, pd.DataFrame({"county_code": w["county_code"].astype(str).to_numpy(),
                                                 "factory_id": w["factory_id"].astype(str).to_numpy()}))
    bound = dep["coach_departures"]
    used = sum(1 for t in parts.trips if t["mode"] == "coach" and t["purpose"] == "passenger")
    gap = used - bound
    return {
        "coach_departures": int(bound),
        "coach_departures_planned": int(used),
        "gap": int(gap),
        "gap_pct": round(100.0 * gap / bound, 2) if bound else 0.0,
        "how": "sum over (origin county, factories linked within drop_radius_km) of ceil(coach passengers / "
        "most seats a county coach may sell under any rule in force); ignores days, fleet and the K-drop limit",
    }
