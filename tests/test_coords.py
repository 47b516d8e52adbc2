"""Coordinate systems: GCJ-02 and BD-09 against known pairs, round trips, China box, swapped lon/lat."""

from __future__ import annotations

import numpy as np
import pytest

from planner.coords import (
    bd09_to_wgs84,
    gcj02_to_wgs84,
    in_china_bbox,
    looks_swapped,
    to_wgs84,
    wgs84_to_bd09,
    wgs84_to_gcj02,
)


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Great-circle distance in metres (small distances)."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, float)) for v in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371008.8 * np.arcsin(np.sqrt(a))


TIANANMEN_WGS = (116.397428, 39.90923)
TIANANMEN_GCJ = (116.403664, 39.910627)


def test_forward_gcj02_matches_the_published_pair():
    """WGS-84 (116.397428, 39.90923) becomes GCJ-02 (116.403664, 39.910627) within 2 m."""
    x, y = wgs84_to_gcj02(*TIANANMEN_WGS)
    assert _metres(x, y, *TIANANMEN_GCJ) < 2


def test_inverse_gcj02_matches_the_published_pair():
    """GCJ-02 (116.403664, 39.910627) converts back to WGS-84 (116.397428, 39.90923) within 2 m."""
    x, y = gcj02_to_wgs84(*TIANANMEN_GCJ)
    assert _metres(x, y, *TIANANMEN_WGS) < 2


def test_gcj02_offset_in_chongqing_is_300_to_700_m():
    """At 万州 and in central Chongqing the GCJ-02 offset is a few hundred metres."""
    lon = np.array([108.3800, 106.5516, 109.8800])
    lat = np.array([30.8000, 29.5630, 31.0700])
    x, y = wgs84_to_gcj02(lon, lat)
    d = _metres(lon, lat, x, y)
    assert np.all((d > 300) & (d < 700)), d


def test_gcj02_round_trip_is_within_a_millimetre():
    """gcj02_to_wgs84 inverts wgs84_to_gcj02 to better than 1 mm over mainland China."""
    rng = np.random.default_rng(1)
    lon = rng.uniform(98, 123, 5000)
    lat = rng.uniform(20, 45, 5000)
    bx, by = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert _metres(lon, lat, bx, by).max() < 1e-3


def test_bd09_round_trip_and_offset():
    """BD-09 is further off than GCJ-02 (about 1 km in Chongqing) and round-trips within 1 mm."""
    lon = np.array([108.38, 106.55])
    lat = np.array([30.80, 29.56])
    x, y = wgs84_to_bd09(lon, lat)
    assert np.all(_metres(lon, lat, x, y) > 700)
    bx, by = bd09_to_wgs84(x, y)
    assert _metres(lon, lat, bx, by).max() < 1e-3


def test_to_wgs84_dispatches_and_rejects_unknown_systems():
    """to_wgs84 leaves WGS-84 alone, converts gcj02/bd09, and refuses an unknown name."""
    x, y = to_wgs84([108.38], [30.8], "wgs84")
    assert x[0] == 108.38 and y[0] == 30.8
    gx, gy = wgs84_to_gcj02(108.38, 30.8)
    x, y = to_wgs84([gx], [gy], "gcj02")
    assert _metres(x, y, 108.38, 30.8)[0] < 1e-3
    with pytest.raises(ValueError, match="unknown coordinate system"):
        to_wgs84([1.0], [2.0], "utm")


def test_china_box_and_swapped_detector():
    """A Chongqing point is inside; Paris is outside and not swapped; (lat, lon) of Chongqing is swapped."""
    lon = np.array([108.38, 2.35, 30.80, np.nan])
    lat = np.array([30.80, 48.85, 108.38, 30.0])
    assert in_china_bbox(lon, lat).tolist() == [True, False, False, False]
    assert looks_swapped(lon, lat).tolist() == [False, False, True, False]
