"""Packing travelling units into coaches: fewest coaches, then least mixing.

Units (a family or a single worker) are packed into coaches of ``cap`` seats,
each coach serving at most ``k`` factories of one destination area.

1. Per factory, units sorted by township and village fill coaches in turn, so
   a coach holds as few villages as possible (fewer contacts, easier tracing).
   Gaps left by a family that does not fit are filled from the same list.
2. The part-filled coach left per factory is merged with others of the same
   area: first-fit decreasing, whole blocks first, respecting ``k``.
3. When step 2 opens more coaches than ``ceil(people / cap)``, or mixes many
   villages, a small CP-SAT model repacks the leftovers (OR-Tools), limited
   in time; the greedy answer is kept when CP-SAT finds nothing better.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

LOOKAHEAD = 64  # how far ahead a gap-filling unit is searched for


@dataclass
class Bin:
    """One coach load being built."""

    units: list[int] = field(default_factory=list)
    load: int = 0
    factories: set[str] = field(default_factory=set)


def _fill_sequential(order: list[int], size: np.ndarray, cap: int) -> list[Bin]:
    """Fill coaches in list order; a gap is filled from the next LOOKAHEAD units."""
    bins: list[Bin] = []
    remaining = list(order)
    while remaining:
        b = Bin()
        rest: list[int] = []
        for idx, u in enumerate(remaining):
            s = int(size[u])
            if b.load + s <= cap:
                b.units.append(u)
                b.load += s
                if b.load == cap:
                    rest.extend(remaining[idx + 1 :])
                    break
            else:
                rest.append(u)
                if len(rest) > LOOKAHEAD:
                    rest.extend(remaining[idx + 1 :])
                    break
        bins.append(b)
        remaining = rest
    return bins


def pack_area(
    units: list[int],
    size: np.ndarray,
    factory: np.ndarray,
    sort_key: np.ndarray,
    cap: int,
    k: int,
    *,
    village: np.ndarray | None = None,
    cpsat_seconds: float = 0.0,
    cpsat_spent: list[float] | None = None,
) -> list[Bin]:
    """Pack ``units`` (indices) of one destination area into coach loads.

    Parameters
    ----------
    size, factory, sort_key, village
        Per-unit arrays indexed by unit number: people, factory id, an order key
        (township and village first) and the village code.
    cap
        Seats allowed per coach.
    k
        Factories a coach may serve.
    cpsat_seconds
        Deterministic time for the CP-SAT repacking of leftovers; 0 switches it off.
    cpsat_spent
        Receives the deterministic time CP-SAT used, for a caller's budget.
    """
    if cap <= 0:
        msg = f"coach capacity must be positive, got {cap}"
        raise ValueError(msg)
    by_factory: dict[str, list[int]] = {}
    for u in sorted(units, key=lambda x: (factory[x], sort_key[x], -size[x], x)):
        by_factory.setdefault(str(factory[u]), []).append(u)
    full: list[Bin] = []
    leftovers: list[Bin] = []
    for fid, lst in by_factory.items():
        for b in _fill_sequential(lst, size, cap):
            b.factories = {fid}
            (full if b.load == cap else leftovers).append(b)
    merged = _merge_leftovers(leftovers, size, factory, cap, k)
    people = sum(b.load for b in leftovers)
    if cpsat_seconds > 0 and len(merged) > 1 and village is not None:
        lower = math.ceil(people / cap)
        left_units = [u for b in leftovers for u in b.units]
        if len(left_units) <= 160 and (len(merged) > lower or _mixing(merged, village) > len(merged) + 1):
            better = repack_cpsat(left_units, size, factory, village, cap, k, merged, cpsat_seconds,
                                  cpsat_spent)
            if better is not None:
                merged = better
    return full + merged


def _mixing(bins: list[Bin], village: np.ndarray) -> int:
    return sum(len({village[u] for u in b.units}) for b in bins)


def _merge_leftovers(leftovers: list[Bin], size: np.ndarray, factory: np.ndarray, cap: int, k: int) -> list[Bin]:
    """First-fit decreasing over the per-factory leftovers, splitting a block when needed."""
    out: list[Bin] = []
    for blk in sorted(leftovers, key=lambda b: (-b.load, min(b.factories))):
        fid = next(iter(blk.factories))
        target = None
        for b in out:
            if b.load + blk.load <= cap and (fid in b.factories or len(b.factories) < k):
                target = b
                break
        if target is not None:
            target.units += blk.units
            target.load += blk.load
            target.factories.add(fid)
            continue
        # no bin takes the whole block: top up open bins unit by unit, the rest opens a new bin
        rest: list[int] = []
        for u in blk.units:
            s = int(size[u])
            placed = False
            for b in out:
                if b.load + s <= cap and (fid in b.factories or len(b.factories) < k) and b.load >= cap // 2:
                    b.units.append(u)
                    b.load += s
                    b.factories.add(fid)
                    placed = True
                    break
            if not placed:
                rest.append(u)
        if rest:
            nb = Bin(units=rest, load=int(sum(size[u] for u in rest)), factories={fid})
            out.append(nb)
    return out


def repack_cpsat(
    units: list[int],
    size: np.ndarray,
    factory: np.ndarray,
    village: np.ndarray,
    cap: int,
    k: int,
    incumbent: list[Bin],
    seconds: float,
    spent: list[float] | None = None,
) -> list[Bin] | None:
    """Repack leftover units with CP-SAT: fewest coaches, then fewest village-coach pairs.

    ``seconds`` is a deterministic-time limit; the deterministic time used is
    appended to ``spent`` when given. Returns None when CP-SAT finds nothing
    better than ``incumbent`` in that time.
    """
    from ortools.sat.python import cp_model

    n_bins = len(incumbent)
    facs = sorted({str(factory[u]) for u in units})
    vils = sorted({str(village[u]) for u in units})
    m = cp_model.CpModel()
    x = {(u, j): m.NewBoolVar(f"x{u}_{j}") for u in units for j in range(n_bins)}
    used = [m.NewBoolVar(f"used{j}") for j in range(n_bins)]
    fy = {(f, j): m.NewBoolVar(f"f{f}_{j}") for f in facs for j in range(n_bins)}
    vy = {(v, j): m.NewBoolVar(f"v{v}_{j}") for v in vils for j in range(n_bins)}
    for u in units:
        m.AddExactlyOne(x[u, j] for j in range(n_bins))
    for j in range(n_bins):
        m.Add(sum(int(size[u]) * x[u, j] for u in units) <= cap * used[j])
        m.Add(sum(fy[f, j] for f in facs) <= k)
        for u in units:
            m.AddImplication(x[u, j], fy[str(factory[u]), j])
            m.AddImplication(x[u, j], vy[str(village[u]), j])
        if j > 0:
            m.Add(used[j] <= used[j - 1])
    big = 10 * (len(units) + 1)
    m.Minimize(big * sum(used) + sum(vy.values()))
    for j, b in enumerate(incumbent):
        for u in b.units:
            m.AddHint(x[u, j], 1)
    solver = cp_model.CpSolver()
    # a deterministic limit (CP-SAT's work units, close to seconds here) with one worker
    # gives the same answer on any machine and under any load: plans are reproducible.
    # No max_time_in_seconds, not even as a guard: under load a wall-clock guard can bind first.
    solver.parameters.max_deterministic_time = seconds
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = 1
    status = solver.Solve(m)
    if spent is not None:
        spent.append(solver.deterministic_time)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None
    old = big * len(incumbent) + _mixing(incumbent, village)
    if solver.ObjectiveValue() >= old:
        return None
    bins: list[Bin] = []
    for j in range(n_bins):
        members = [u for u in units if solver.Value(x[u, j])]
        if members:
            bins.append(
                Bin(units=members, load=int(sum(size[u] for u in members)), factories={str(factory[u]) for u in members})
            )
    return bins
