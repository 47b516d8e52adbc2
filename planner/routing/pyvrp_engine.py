"""PyVRP engine: build ``pyvrp.ProblemData`` from a ``VrpProblem`` and run ``pyvrp.solve``."""

from __future__ import annotations

import time

import numpy as np
import pyvrp
from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria

from planner.routing.engine import VrpProblem, VrpSolution

_NO_LIMIT = np.iinfo(np.int64).max


def to_problem_data(problem: VrpProblem) -> pyvrp.ProblemData:
    """The PyVRP data of ``problem``: location i is node i, client j-1 is node j."""
    n = problem.num_nodes
    coords = problem.coords or tuple((0.0, 0.0) for _ in range(n))
    locations = [pyvrp.Location(x=float(x), y=float(y)) for x, y in coords]
    tw = problem.time_windows
    svc = problem.service_times or tuple(0 for _ in range(n))
    depot = pyvrp.Depot(0, tw_early=tw[0][0] if tw else 0, tw_late=tw[0][1] if tw else _NO_LIMIT)
    clients = [
        pyvrp.Client(
            i,
            delivery=[int(problem.demands[i])],
            service_duration=int(svc[i]),
            tw_early=int(tw[i][0]) if tw else 0,
            tw_late=int(tw[i][1]) if tw else _NO_LIMIT,
        )
        for i in range(1, n)
    ]
    vehicles = pyvrp.VehicleType(
        num_available=problem.num_vehicles or problem.num_clients,
        capacity=[int(problem.capacity)],
        tw_early=tw[0][0] if tw else 0,
        tw_late=tw[0][1] if tw else _NO_LIMIT,
        shift_duration=int(problem.max_route_duration) if problem.max_route_duration is not None else _NO_LIMIT,
        fixed_cost=int(problem.vehicle_fixed_cost),
    )
    dist = np.ascontiguousarray(problem.distance_matrix(), dtype=np.int64)
    dur = (np.ascontiguousarray(problem.duration_matrix(), dtype=np.int64) if problem.has_time
           else np.zeros_like(dist))
    return pyvrp.ProblemData(locations, clients, [depot], [vehicles], [dist], [dur])


def solve_pyvrp(problem: VrpProblem, *, seconds: float | None = None, seed: int = 1,
                iterations: int | None = None) -> VrpSolution:
    """PyVRP's iterated local search, seeded, for ``iterations`` (``MaxIterations``) and/or ``seconds``.

    With ``iterations`` alone the stop is a pure iteration count (no clock), so the same
    problem and seed give the same routes on any machine and under any load.
    """
    t0 = time.perf_counter()  # reported only, never used to stop the search when iterations are given
    data = to_problem_data(problem)
    criteria = []
    if iterations is not None:
        criteria.append(MaxIterations(max(1, int(iterations))))
    if seconds is not None:
        criteria.append(MaxRuntime(max(0.01, seconds - (time.perf_counter() - t0))))
    if not criteria:
        msg = "solve_pyvrp needs iterations or seconds"
        raise ValueError(msg)
    stop = criteria[0] if len(criteria) == 1 else MultipleCriteria(criteria)
    result = pyvrp.solve(data, stop, seed=seed, collect_stats=False, display=False)
    routes = [[a.idx + 1 for a in route if a.is_client()] for route in result.best.routes()]
    return VrpSolution(routes=routes, cost=int(result.cost()) if result.is_feasible() else -1,
                       seconds=time.perf_counter() - t0, engine="pyvrp",
                       feasible=bool(result.is_feasible()), seed=seed)
