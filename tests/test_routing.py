"""The routing engines behind ``solve_vrp``, the CVRPLIB reader and the ``planner vrp`` command."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from planner.cli import EXIT_FATAL, EXIT_OK, main
from planner.errors import DataError
from planner.routing import ENGINES, VrpProblem, read_cvrplib, solution_problems, solve_vrp
from planner.routing.cvrplib import load_best_known

ROOT = Path(__file__).resolve().parent.parent
HAND = Path(__file__).parent / "data" / "hand-n7-k2.vrp"
X101 = ROOT / "bench" / "instances" / "X-n101-k25.vrp"
X439 = ROOT / "bench" / "instances" / "X-n439-k37.vrp"

HAND_OPTIMUM = 320


def _brute_force_optimum(problem: VrpProblem) -> int:
    """The exact optimum of a tiny instance: every split into routes, every order within a route."""
    d = problem.distance_matrix()
    clients = list(range(1, problem.num_nodes))

    def tour(group: tuple[int, ...]) -> int:
        return min(
            int(d[0, p[0]] + sum(d[a, b] for a, b in itertools.pairwise(p)) + d[p[-1], 0])
            for p in itertools.permutations(group)
        )

    def best(rest: tuple[int, ...]) -> int:
        if not rest:
            return 0
        first, others = rest[0], rest[1:]
        out = 10**9
        for k in range(len(others) + 1):
            for mates in itertools.combinations(others, k):
                group = (first, *mates)
                if sum(problem.demands[c] for c in group) <= problem.capacity:
                    left = tuple(c for c in others if c not in mates)
                    out = min(out, tour(group) + best(left))
        return out

    return best(tuple(clients))


def test_hand_instance_optimum_is_what_we_argue():
    """East 0-(40,30)-(40,0)-(40,-30)-0 = 50+30+30+50 = 160, west the same: 320.

    Capacity 3 with six unit demands needs two routes; without it one tour would cost 300
    (crossing once at the bottom), so capacity decides the answer. The enumeration proves 320.
    """
    problem = read_cvrplib(HAND)
    assert _brute_force_optimum(problem) == HAND_OPTIMUM
    free = VrpProblem(demands=problem.demands, capacity=6, coords=problem.coords)
    assert _brute_force_optimum(free) == 300


@pytest.mark.parametrize("engine", ENGINES)
def test_both_engines_find_the_hand_optimum(engine):
    problem = read_cvrplib(HAND)
    sol = solve_vrp(problem, engine=engine, seconds=1)
    assert sol.feasible and sol.engine == engine
    assert sol.cost == HAND_OPTIMUM
    assert sorted(sorted(r) for r in sol.routes) == [[1, 2, 3], [4, 5, 6]]


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_on_a_matrix_problem(engine):
    """The same instance given as a distance matrix instead of coordinates."""
    problem = read_cvrplib(HAND)
    as_matrix = VrpProblem(demands=problem.demands, capacity=3, distances=problem.distance_matrix())
    assert solve_vrp(as_matrix, engine=engine, seconds=0.5).cost == HAND_OPTIMUM


@pytest.mark.parametrize("engine", ENGINES)
def test_time_windows_are_respected(engine):
    """A window that closes early forces client 3 (40,0) first on its route: 40+30+60+50 = 180 east."""
    problem = read_cvrplib(HAND)
    wide = (0, 10_000)
    tw = [wide] * problem.num_nodes
    tw[2] = (0, 40)  # client 2 (40,0) must be reached straight from the depot
    timed = VrpProblem(demands=problem.demands, capacity=3, coords=problem.coords, time_windows=tuple(tw),
                       service_times=(0,) + (5,) * 6)
    sol = solve_vrp(timed, engine=engine, seconds=1)
    assert sol.feasible and not solution_problems(timed, sol.routes)
    east = next(r for r in sol.routes if 2 in r)
    assert east[0] == 2
    assert sol.cost == 180 + 160


@pytest.mark.parametrize("engine", ENGINES)
def test_cvrplib_solution_visits_each_client_once_within_capacity(engine):
    problem = read_cvrplib(X101)
    sol = solve_vrp(problem, engine=engine, seconds=2, seed=3)
    visits = sorted(c for r in sol.routes for c in r)
    assert visits == list(range(1, problem.num_nodes))
    assert all(sum(problem.demands[c] for c in r) <= problem.capacity for r in sol.routes)
    assert sol.feasible and not solution_problems(problem, sol.routes)
    best = load_best_known(ROOT / "bench" / "instances" / "best_known.csv")["X-n101-k25"]
    assert best <= sol.cost < 1.15 * best  # time-limited: never assert an exact cost


def test_reader_parses_x_instances():
    p = read_cvrplib(X101)
    assert (p.name, p.num_nodes, p.capacity, sum(p.demands)) == ("X-n101-k25", 101, 206, 5147)
    assert p.demands[0] == 0 and p.coords[0] == (365.0, 689.0)
    d = p.distance_matrix()
    assert d[0, 1] == round(((365 - 146) ** 2 + (689 - 180) ** 2) ** 0.5)  # nearest integer
    assert (d == d.T).all() and (np.diag(d) == 0).all()
    q = read_cvrplib(X439)  # CRLF line ends, as in PyVRP's copy
    assert (q.num_nodes, q.capacity, sum(q.demands)) == (439, 12, 438)


def test_checker_catches_bad_routes():
    p = read_cvrplib(HAND)
    assert solution_problems(p, [[1, 2, 3], [4, 5, 6]]) == []
    found = " ".join(solution_problems(p, [[1, 2, 3, 4], [4, 5]]))
    assert "load 4 > capacity 3" in found and "not visited: [6]" in found and "more than once: [4]" in found


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("NAME : x\nDIMENSION : 3\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n1 0 0\n", "CAPACITY"),
        ("NAME : x\nDIMENSION : 2\nCAPACITY : 5\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 1 1\n"
         "DEMAND_SECTION\n1 0\n2 9\nDEPOT_SECTION\n1\n-1\nEOF\n", "超出车辆容量"),
        ("NAME : x\nDIMENSION : 2\nCAPACITY : 5\nEDGE_WEIGHT_TYPE : EUC_2D\nNODE_COORD_SECTION\n1 0 0\n2 1 y\n"
         "DEMAND_SECTION\n1 0\n2 1\n", "line 7"),
        ("just some text\n", "line 1"),
    ],
)
def test_reader_names_the_problem(tmp_path, text, words):
    f = tmp_path / "bad.vrp"
    f.write_text(text)
    with pytest.raises(DataError, match=words):
        read_cvrplib(f)


def test_cli_vrp_prints_cost_and_gap(capsys):
    assert main(["vrp", str(X101), "--engine", "pyvrp", "--seconds", "1", "--seed", "2"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "总距离 (cost)" in out and "27591" in out and "路线 (route) 1" in out


def test_cli_vrp_hand_instance_with_ortools(capsys):
    assert main(["vrp", str(HAND), "--engine", "ortools", "--seconds", "0.5"]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"总距离 (cost) {HAND_OPTIMUM}" in out and "gap" not in out


@pytest.mark.parametrize("content", [None, "NAME : broken\nDIMENSION : many\n"])
def test_cli_vrp_missing_or_broken_file_exits_2(tmp_path, capsys, content):
    f = tmp_path / "broken.vrp"
    if content is not None:
        f.write_text(content)
    assert main(["vrp", str(f), "--seconds", "1"]) == EXIT_FATAL
    err = capsys.readouterr().err
    assert "broken" in err and "Traceback" not in err


def test_solution_reader(tmp_path):
    from planner.routing import read_cvrplib_solution

    f = tmp_path / "hand.sol"
    f.write_text("Route #1: 1 2 3\nRoute #2: 6 5 4\nCost 320\n")
    routes, cost = read_cvrplib_solution(f)
    assert (routes, cost) == ([[1, 2, 3], [6, 5, 4]], 320)
    assert solution_problems(read_cvrplib(HAND), routes) == []
