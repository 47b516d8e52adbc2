"""Packing units into coaches: counts on paper, villages kept together, CP-SAT improves."""

from __future__ import annotations

import math

import numpy as np

from planner.solve.packing import Bin, pack_area, repack_cpsat


def _arrays(sizes, factories, villages):
    n = len(sizes)
    return (
        np.array(sizes),
        np.array(factories, dtype=object),
        np.array([f"{v}" for v in villages], dtype=object),
        np.array(villages, dtype=object),
        list(range(n)),
    )


def test_single_factory_fills_coaches_to_the_bound():
    """50 singles to one factory at 22 seats: 3 coaches (22, 22, 6)."""
    size, fac, key, vil, units = _arrays([1] * 50, ["F1"] * 50, ["V1"] * 25 + ["V2"] * 25)
    bins = pack_area(units, size, fac, key, 22, 3)
    assert sorted(b.load for b in bins) == [6, 22, 22]
    assert sum(b.load for b in bins) == 50


def test_families_are_never_split():
    """Families of 3 stay in one coach even when that leaves a seat empty."""
    sizes = [3] * 10
    size, fac, key, vil, units = _arrays(sizes, ["F1"] * 10, ["V1"] * 10)
    bins = pack_area(units, size, fac, key, 22, 3)
    assert all(b.load <= 22 for b in bins)
    assert sorted(u for b in bins for u in b.units) == units


def test_leftovers_of_small_factories_share_a_coach():
    """Three factories with 5, 6 and 7 people in one area fit one coach (K = 3)."""
    size, fac, key, vil, units = _arrays([1] * 18, ["F1"] * 5 + ["F2"] * 6 + ["F3"] * 7, ["V1"] * 18)
    bins = pack_area(units, size, fac, key, 22, 3)
    assert len(bins) == 1 and bins[0].factories == {"F1", "F2", "F3"}


def test_k_limits_factories_per_coach():
    """Four factories of 4 people with K = 2 need two coaches."""
    size, fac, key, vil, units = _arrays([1] * 16, sum([[f"F{i}"] * 4 for i in range(4)], []), ["V"] * 16)
    bins = pack_area(units, size, fac, key, 22, 2)
    assert len(bins) == 2 and all(len(b.factories) <= 2 for b in bins)


def test_cpsat_repacks_to_fewer_coaches():
    """A poor incumbent (3 coaches for 20 people at 10 seats) is repacked to the bound of 2."""
    sizes = [4, 4, 3, 3, 3, 3]
    size, fac, key, vil, units = _arrays(sizes, ["F1"] * 6, ["V1", "V2", "V1", "V2", "V1", "V2"])
    incumbent = [Bin([0, 2], 7, {"F1"}), Bin([1, 3], 7, {"F1"}), Bin([4, 5], 6, {"F1"})]
    better = repack_cpsat(units, size, fac, vil, 10, 3, incumbent, 5.0)
    assert better is not None and len(better) == math.ceil(20 / 10)
    assert all(b.load <= 10 for b in better)
