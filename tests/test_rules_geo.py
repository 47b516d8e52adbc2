"""Great-circle distances, distance matrices and road estimates."""

from __future__ import annotations

import time

import numpy as np
import pytest

from planner.rules.geo import (
    EARTH_RADIUS_KM,
    drive_minutes,
    gc_km,
    haversine_km,
    interpolate,
    pairwise_km,
    road_km,
)


def test_one_degree_on_the_equator():
    """One degree of longitude on the equator is 2 pi R / 360 = 111.195 km."""
    assert haversine_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(2 * np.pi * EARTH_RADIUS_KM / 360, rel=1e-12)
    assert haversine_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(111.195, abs=1e-3)


def test_one_degree_of_latitude_anywhere():
    """One degree of latitude is 111.195 km at any longitude."""
    assert haversine_km(106.5, 29.0, 106.5, 30.0) == pytest.approx(111.195, abs=1e-3)


def test_scalar_returns_float_and_zero_distance():
    """Scalars give a plain float; a point is 0 km from itself."""
    d = haversine_km(106.55, 29.56, 106.55, 29.56)
    assert isinstance(d, float) and d == 0.0


def test_chongqing_to_guangzhou():
    """Chongqing (106.55E 29.56N) to Guangzhou (113.26E 23.13N) is about 975 km great circle."""
    d = haversine_km(106.55, 29.56, 113.26, 23.13)
    assert 960 < d < 990
    assert gc_km(106.55, 29.56, 113.26, 23.13) == pytest.approx(d, rel=1e-12)


def test_vectorised_broadcast():
    """Arrays broadcast against a scalar point and agree with the scalar formula."""
    lon = np.array([106.0, 107.0, 108.0])
    lat = np.array([29.0, 30.0, 31.0])
    d = haversine_km(lon, lat, 106.0, 29.0)
    assert d.shape == (3,)
    assert d[0] == 0.0
    assert d[2] == pytest.approx(gc_km(108.0, 31.0, 106.0, 29.0), rel=1e-12)


def test_pairwise_matches_haversine():
    """pairwise_km[i, j] equals haversine of point i of a and point j of b, in float64."""
    rng = np.random.default_rng(0)
    la, pa = rng.uniform(105, 110, 50), rng.uniform(28, 32, 50)
    lb, pb = rng.uniform(110, 122, 7), rng.uniform(22, 32, 7)
    m = pairwise_km(la, pa, lb, pb, chunk=8)
    assert m.shape == (50, 7) and m.dtype == np.float64
    want = haversine_km(la[:, None], pa[:, None], lb[None, :], pb[None, :])
    np.testing.assert_allclose(m, want, rtol=1e-12)


def test_pairwise_empty():
    """An empty side gives an empty matrix of the right shape."""
    assert pairwise_km([], [], [1.0], [2.0]).shape == (0, 1)


def test_pairwise_is_fast():
    """11,206 villages x 40 hubs and 1,000 x 1,000 each take well under a second."""
    rng = np.random.default_rng(1)
    t0 = time.perf_counter()
    a = pairwise_km(rng.uniform(105, 110, 11_206), rng.uniform(28, 32, 11_206), rng.uniform(105, 110, 40),
                    rng.uniform(28, 32, 40))
    b = pairwise_km(rng.uniform(105, 110, 1000), rng.uniform(28, 32, 1000), rng.uniform(105, 110, 1000),
                    rng.uniform(28, 32, 1000))
    assert a.shape == (11_206, 40) and b.shape == (1000, 1000)
    assert time.perf_counter() - t0 < 1.0


def test_road_km_and_drive_minutes():
    """1,000 gc km x 1.3 = 1,300 road km; at 75 km/h that is 1,040 minutes."""
    assert road_km(1000.0, 1.3) == pytest.approx(1300.0)
    assert drive_minutes(1300.0, 75.0) == pytest.approx(1040.0)
    np.testing.assert_allclose(drive_minutes(road_km(np.array([10.0, 35.0]), 1.0), 35.0), [1200 / 70, 60.0])


def test_interpolate():
    """A quarter of the way from (100, 20) to (104, 28) is (101, 22); the ends are the points."""
    assert interpolate(100.0, 20.0, 104.0, 28.0, 0.25) == pytest.approx((101.0, 22.0))
    assert interpolate(100.0, 20.0, 104.0, 28.0, 0.0) == (100.0, 20.0)
    assert interpolate(100.0, 20.0, 104.0, 28.0, 1.0) == (104.0, 28.0)
