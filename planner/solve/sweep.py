"""The idle-coach sweep: pick-up coach loads from the people still waiting (no plan records here).

On a day the feeder buses bind, :func:`planner.solve.direct.sweep_direct` sends the coaches
nothing else needs today to collect people at the villages themselves. This module chooses
the loads: for one destination area, the people still waiting are grouped around a seed
village with its nearest villages (at most ``max_pickup_stops`` pick-ups, any township),
packed as usual (:func:`planner.solve.packing.pack_area`: seats, ``max_drop_factories``), and
the best load is returned: one holding someone on their last day first (earliest deadline
first), then the fullest. A load may go when it fills at least :data:`SWEEP_MIN_FILL` of the
seats (:data:`SWEEP_LOW_FILL` while :data:`SWEEP_IDLE_SHARE` of the coaches stand free), or
when someone on it is on their last day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from planner.solve.packing import pack_area

#: A pick-up coach of the sweep fills at least this share of its seats (unless someone on it is
#: on their last day): a coach away for days is not spent on a few people.
SWEEP_MIN_FILL = 0.5
#: ... and at least this share when at least :data:`SWEEP_IDLE_SHARE` of the county's coaches stand
#: free for the day's first pick-up: such a coach is back (about 2-3 days) before the fleet binds.
SWEEP_LOW_FILL = 1 / 3
SWEEP_IDLE_SHARE = 0.5
#: Seed villages (the fullest groups) whose coach loads are packed and compared, per coach sent.
SWEEP_CANDIDATES = 8


@dataclass
class SweepArea:
    """One destination area's waiting people during the sweep."""

    members: list[int]
    pos: dict[str, int]  # village -> row of ``near``
    near: np.ndarray  # feeder minutes between the area's villages
    tried: set[str] = field(default_factory=set)  # seed villages whose load no coach could take


class UnitArrays(NamedTuple):
    """Per-unit arrays the sweep reads (indexed by unit number)."""

    size: np.ndarray
    factory: np.ndarray
    sort_key: np.ndarray
    village: np.ndarray
    latest: np.ndarray


class SweepLoad(NamedTuple):
    """A pick-up coach load the sweep proposes."""

    key: tuple[bool, int, int]  # (someone on their last day, people, -last day): larger goes first
    seed: str
    units: list[int]
    people: int
    factories: list[str]
    last_day: int


def min_fill(idle: int, coaches: int) -> float:
    """The share of seats a sweep load must fill, given how many of the county's coaches stand free."""
    return SWEEP_LOW_FILL if idle >= SWEEP_IDLE_SHARE * coaches else SWEEP_MIN_FILL


def best_pickup_load(st: SweepArea, u: UnitArrays, d: int, cap: int, n_stops: int, k: int,
                     fill: float) -> SweepLoad | None:
    """The best pick-up coach load of one area's waiting people on day ``d``, or None.

    ``cap`` seats, at most ``n_stops`` villages, at most ``k`` factories; the load must fill
    ``fill`` of the seats unless someone on it has ``d`` as their last day.
    """
    if not st.members or cap <= 0:
        return None
    by_v: dict[str, list[int]] = {}
    for x in st.members:
        by_v.setdefault(u.village[x], []).append(x)
    here = sorted(by_v)
    idx = np.array([st.pos[v] for v in here])
    people_v = np.array([sum(int(u.size[x]) for x in by_v[v]) for v in here])
    groups = []
    for i, seed in enumerate(here):
        if seed in st.tried:
            continue
        row = st.near[idx[i], idx]
        order = np.lexsort((np.arange(len(here)), row))[:n_stops]
        if i not in order:  # ties at distance 0: the seed itself always calls
            order = np.concatenate(([i], order[:n_stops - 1]))
        vills = [here[j] for j in order]
        urgent = any(int(u.latest[x]) <= d for v in vills for x in by_v[v])
        groups.append((int(min(cap, people_v[order].sum())), seed, vills, urgent))
    groups.sort(key=lambda g: (-g[0], g[1]))
    # the fullest groups, and the fullest of those holding someone on their last day
    picked = groups[:SWEEP_CANDIDATES] + [g for g in groups[SWEEP_CANDIDATES:] if g[3]][:SWEEP_CANDIDATES]
    best = None
    for _n, seed, vills, _u in picked:
        units = [x for v in vills for x in by_v[v]]
        for b in pack_area(units, u.size, u.factory, u.sort_key, cap, k, village=u.village):
            last = min(int(u.latest[x]) for x in b.units)
            if last <= d or b.load >= fill * cap:
                key = (last <= d, b.load, -last)
                if best is None or key > best[0]:
                    best = (key, seed, b)
    if best is None:
        return None
    key, seed, b = best
    return SweepLoad(key, seed, list(b.units), b.load, sorted(b.factories), -key[2])
