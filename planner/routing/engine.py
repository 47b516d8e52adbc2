"""One interface to the routing engines: ``VrpProblem`` in, ``VrpSolution`` out.

Node 0 is the depot, nodes 1..n are the clients. Distances are integers (OR-Tools and PyVRP
both route on integers): either a full matrix, or coordinates whose Euclidean distances are
rounded to the nearest integer (the CVRPLIB EUC_2D convention). Time windows, service times
and a maximum route duration are optional; both engines honour them (travel times are the
``durations`` matrix, or the distances when it is absent).

Engines: ``"pyvrp"`` (PyVRP's iterated local search, ``pyvrp.solve``) and ``"ortools"``
(OR-Tools routing: PATH_CHEAPEST_ARC, then iterated local search through
``SolveWithIteratedLocalSearch``, or guided local search; see ``ortools_engine``).

DEFAULT_ENGINE is ``"pyvrp"``: on the CVRPLIB X instances X-n101-k25, X-n200-k36, X-n439-k37,
X-n502-k39 and X-n1001-k43 (``bench/vrp_engines.py --seconds 10 60``, 2 CPUs, one run at a
time) its mean gap to the best-known cost was 1.42 % at 10 s and 0.50 % at 60 s, against
4.24 % and 3.54 % for OR-Tools (with iterated local search, its better setting here); at
X-n1001-k43, 60 s: PyVRP 1.74 %, OR-Tools 9.37 % (bench/RESULTS.md).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np

from planner.errors import DataError

log = logging.getLogger(__name__)

ENGINES = ("pyvrp", "ortools")
DEFAULT_ENGINE = "pyvrp"


@dataclass(frozen=True, eq=False)
class VrpProblem:
    """A capacitated vehicle routing problem; node 0 is the depot.

    Give ``coords`` (rounded Euclidean distances) or ``distances`` (a full integer matrix,
    node by node, not necessarily symmetric). ``demands[0]`` must be 0. ``num_vehicles``
    None means as many vehicles as needed. ``time_windows`` are (earliest, latest) start of
    service per node, the depot's being the planning horizon; ``service_times`` per node;
    ``durations`` a travel-time matrix (default: the distances); ``max_route_duration``
    bounds each route from leaving the depot to coming back; ``vehicle_fixed_cost`` is added
    to the cost once per route used.
    """

    demands: tuple[int, ...]
    capacity: int
    coords: tuple[tuple[float, float], ...] | None = None
    distances: np.ndarray | None = None
    num_vehicles: int | None = None
    time_windows: tuple[tuple[int, int], ...] | None = None
    service_times: tuple[int, ...] | None = None
    durations: np.ndarray | None = None
    max_route_duration: int | None = None
    vehicle_fixed_cost: int = 0
    name: str = ""
    _matrix: list = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.demands)
        if n < 2:
            msg = f"{self.name or 'VRP'}: 至少需要车场和一个客户 (need a depot and a client), got {n} nodes"
            raise DataError(msg)
        if self.coords is None and self.distances is None:
            msg = f"{self.name or 'VRP'}: 需要坐标或距离矩阵 (give coords or a distance matrix)"
            raise DataError(msg)
        if self.coords is not None and len(self.coords) != n:
            msg = f"{self.name or 'VRP'}: {len(self.coords)} coordinates for {n} nodes"
            raise DataError(msg)
        for label, mat in (("distances", self.distances), ("durations", self.durations)):
            if mat is not None and np.shape(mat) != (n, n):
                msg = f"{self.name or 'VRP'}: {label} matrix is {np.shape(mat)}, expected ({n}, {n})"
                raise DataError(msg)
        if self.demands[0] != 0:
            msg = f"{self.name or 'VRP'}: 车场需求必须为 0 (depot demand must be 0), got {self.demands[0]}"
            raise DataError(msg)
        if self.capacity <= 0:
            msg = f"{self.name or 'VRP'}: 车辆容量必须为正 (capacity must be positive), got {self.capacity}"
            raise DataError(msg)
        too_big = [i for i, q in enumerate(self.demands) if q < 0 or q > self.capacity]
        if too_big:
            i = too_big[0]
            msg = (f"{self.name or 'VRP'}: 客户 {i} 的需求 {self.demands[i]} 超出车辆容量 {self.capacity} "
                   f"(client demand negative or above capacity)")
            raise DataError(msg)
        for label, seq in (("time_windows", self.time_windows), ("service_times", self.service_times)):
            if seq is not None and len(seq) != n:
                msg = f"{self.name or 'VRP'}: {len(seq)} {label} for {n} nodes"
                raise DataError(msg)

    @property
    def num_nodes(self) -> int:
        """Depot plus clients."""
        return len(self.demands)

    @property
    def num_clients(self) -> int:
        return len(self.demands) - 1

    @property
    def has_time(self) -> bool:
        """Whether any time constraint is set (windows or a route duration limit)."""
        return self.time_windows is not None or self.max_route_duration is not None

    def distance_matrix(self) -> np.ndarray:
        """The integer distance matrix (computed once from the coordinates when not given)."""
        if self.distances is not None:
            return np.asarray(self.distances, dtype=np.int64)
        if not self._matrix:
            xy = np.asarray(self.coords, dtype=float)
            d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
            self._matrix.append(np.floor(d + 0.5).astype(np.int64))  # CVRPLIB nint
        return self._matrix[0]

    def duration_matrix(self) -> np.ndarray:
        """Travel times: ``durations`` when given, else the distances."""
        if self.durations is not None:
            return np.asarray(self.durations, dtype=np.int64)
        return self.distance_matrix()

    def vehicle_bound(self) -> int:
        """Vehicles to offer an engine that needs a fixed fleet (``num_vehicles`` when set)."""
        if self.num_vehicles is not None:
            return self.num_vehicles
        if self.has_time:  # time limits can need many more routes than the load does
            return self.num_clients
        lower = math.ceil(sum(self.demands) / self.capacity)
        return min(self.num_clients, max(lower + 2, math.ceil(lower * 1.15) + 1))


@dataclass
class VrpSolution:
    """Routes (client indices in visiting order, depot left out), their total cost and how it was found."""

    routes: list[list[int]]
    cost: int
    seconds: float
    engine: str
    feasible: bool
    seed: int = 1

    @property
    def num_routes(self) -> int:
        return len(self.routes)


def route_cost(problem: VrpProblem, routes: list[list[int]]) -> int:
    """Total distance of the routes, each from and back to the depot, plus the fixed cost per route."""
    d = problem.distance_matrix()
    total = problem.vehicle_fixed_cost * sum(1 for r in routes if r)
    for r in routes:
        path = [0, *r, 0]
        total += int(sum(d[a, b] for a, b in zip(path, path[1:], strict=False)))
    return total


def solution_problems(problem: VrpProblem, routes: list[list[int]]) -> list[str]:
    """Everything wrong with the routes: clients missed or repeated, overloads, late arrivals."""
    out: list[str] = []
    seen: dict[int, int] = {}
    for r in routes:
        for c in r:
            seen[c] = seen.get(c, 0) + 1
    missing = [c for c in range(1, problem.num_nodes) if c not in seen]
    if missing:
        out.append(f"clients not visited: {missing[:10]}")
    twice = [c for c, k in seen.items() if k > 1]
    if twice:
        out.append(f"clients visited more than once: {twice[:10]}")
    bad = [c for c in seen if not 1 <= c < problem.num_nodes]
    if bad:
        out.append(f"unknown nodes in routes: {bad[:10]}")
        return out
    if problem.num_vehicles is not None and len(routes) > problem.num_vehicles:
        out.append(f"{len(routes)} routes for {problem.num_vehicles} vehicles")
    for k, r in enumerate(routes):
        load = sum(problem.demands[c] for c in r)
        if load > problem.capacity:
            out.append(f"route {k}: load {load} > capacity {problem.capacity}")
    if problem.has_time:
        t_mat = problem.duration_matrix()
        tw = problem.time_windows or tuple((0, 2**62) for _ in range(problem.num_nodes))
        svc = problem.service_times or tuple(0 for _ in range(problem.num_nodes))
        for k, r in enumerate(routes):
            start = tw[0][0]
            t, prev = start, 0
            for c in r:
                t = max(t + svc[prev] + t_mat[prev, c], tw[c][0])
                if t > tw[c][1]:
                    out.append(f"route {k}: client {c} served at {t} > latest {tw[c][1]}")
                prev = c
            t += svc[prev] + t_mat[prev, 0]
            if t > tw[0][1]:
                out.append(f"route {k}: back at the depot at {t} > {tw[0][1]}")
            if problem.max_route_duration is not None and t - start > problem.max_route_duration:
                out.append(f"route {k}: duration {t - start} > {problem.max_route_duration}")
    return out


def solve_vrp(problem: VrpProblem, *, engine: str = DEFAULT_ENGINE, seconds: float | None = None, seed: int = 1,
              iterations: int | None = None) -> VrpSolution:
    """Solve ``problem`` with ``engine`` ("pyvrp" or "ortools"), stopped by iterations or by wall time.

    Give ``iterations`` (PyVRP: iterated local search iterations; OR-Tools: solutions found),
    ``seconds`` (wall time), or both (whichever comes first). With ``iterations`` alone no clock
    is read at all: with a seed, the result does not depend on the machine's speed or load,
    which is what a plan needs (the feeder routing always calls it that way). ``seconds`` is for
    benchmarks and the ``planner vrp`` command, where the result may vary with load.

    The returned cost is recomputed from the routes, and ``feasible`` is set from an
    independent check (every client once, capacities, time windows), not from the engine.
    """
    if seconds is None and iterations is None:
        msg = "give iterations (reproducible) or seconds (wall time) to stop the routing search"
        raise ValueError(msg)
    if engine == "pyvrp":
        from planner.routing.pyvrp_engine import solve_pyvrp as solve
    elif engine == "ortools":
        from planner.routing.ortools_engine import solve_ortools as solve
    else:
        msg = f"未知的求解引擎 (unknown routing engine) {engine!r}; choose one of {', '.join(ENGINES)}"
        raise ValueError(msg)
    if seconds is not None and seconds <= 0:
        msg = f"seconds must be positive, got {seconds}"
        raise ValueError(msg)
    if iterations is not None and iterations < 1:
        msg = f"iterations must be at least 1, got {iterations}"
        raise ValueError(msg)
    sol = solve(problem, seconds=seconds, seed=seed, iterations=iterations)
    sol.routes = [r for r in sol.routes if r]
    sol.cost = route_cost(problem, sol.routes)
    problems = solution_problems(problem, sol.routes)
    if problems:
        log.warning("%s solution of %s is infeasible: %s", engine, problem.name, "; ".join(problems[:3]))
    sol.feasible = sol.feasible and not problems
    return sol
