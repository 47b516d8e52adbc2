"""Vehicle routing behind one small interface (``solve_vrp``), with OR-Tools and PyVRP engines.

``VrpProblem`` describes a capacitated routing problem (depot 0, clients 1..n), ``solve_vrp``
solves it with a named engine under a time limit and returns a ``VrpSolution``;
``read_cvrplib`` reads a CVRPLIB ``.vrp`` file into a ``VrpProblem``.
"""

from planner.routing.cvrplib import read_cvrplib, read_cvrplib_solution
from planner.routing.engine import (
    DEFAULT_ENGINE,
    ENGINES,
    VrpProblem,
    VrpSolution,
    solution_problems,
    solve_vrp,
)

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "VrpProblem",
    "VrpSolution",
    "read_cvrplib",
    "read_cvrplib_solution",
    "solution_problems",
    "solve_vrp",
]
