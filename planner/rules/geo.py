"""Great-circle distances and simple road estimates (when no road network is given).

Road length is estimated as the great-circle distance times a detour factor
(``Travel.detour_factor``, larger in the winding mountain counties), and drive
time as road length over an average speed. Positions are WGS-84 longitude and
latitude in degrees.
"""

from __future__ import annotations

import math
from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG), km."""

FloatArray = NDArray[np.float64]


@overload
def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float: ...
@overload
def haversine_km(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> float | FloatArray: ...
def haversine_km(lon1: ArrayLike, lat1: ArrayLike, lon2: ArrayLike, lat2: ArrayLike) -> float | FloatArray:
    """Great-circle distance in km by the haversine formula.

    Parameters
    ----------
    lon1, lat1, lon2, lat2 : float or array_like
        Degrees; arrays broadcast against each other like numpy arithmetic.

    Returns
    -------
    float or numpy.ndarray
        A plain float when every input is a scalar, else an array of the
        broadcast shape (float64).
    """
    x1, y1, x2, y2 = (np.radians(np.asarray(v, dtype=np.float64)) for v in (lon1, lat1, lon2, lat2))
    a = np.sin((y2 - y1) * 0.5) ** 2 + np.cos(y1) * np.cos(y2) * np.sin((x2 - x1) * 0.5) ** 2
    d = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return float(d) if np.ndim(d) == 0 else d


def gc_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle km for one pair of plain floats (pure-Python fast path, no numpy overhead)."""
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def pairwise_km(
    lon_a: ArrayLike, lat_a: ArrayLike, lon_b: ArrayLike, lat_b: ArrayLike, *, chunk: int = 2048
) -> FloatArray:
    """Distance matrix between two sets of points.

    Parameters
    ----------
    lon_a, lat_a : array_like
        The n row points, degrees.
    lon_b, lat_b : array_like
        The m column points, degrees.
    chunk : int
        Rows computed at a time, so temporaries stay near ``chunk * m`` floats
        (11,206 villages x 40 hubs or 1,000 x 1,000 take milliseconds).

    Returns
    -------
    numpy.ndarray
        float64 array of shape (n, m), km.
    """
    ya = np.radians(np.asarray(lat_a, dtype=np.float64).ravel())
    xa = np.radians(np.asarray(lon_a, dtype=np.float64).ravel())
    yb = np.radians(np.asarray(lat_b, dtype=np.float64).ravel())
    xb = np.radians(np.asarray(lon_b, dtype=np.float64).ravel())
    if xa.shape != ya.shape or xb.shape != yb.shape:
        msg = "pairwise_km: longitudes and latitudes differ in length"
        raise ValueError(msg)
    cos_a = np.cos(ya)
    cos_b = np.cos(yb)
    out = np.empty((xa.size, xb.size), dtype=np.float64)
    step = max(1, int(chunk))
    for s in range(0, xa.size, step):
        e = min(s + step, xa.size)
        a = np.sin((yb[None, :] - ya[s:e, None]) * 0.5) ** 2
        a += cos_a[s:e, None] * cos_b[None, :] * np.sin((xb[None, :] - xa[s:e, None]) * 0.5) ** 2
        np.clip(a, 0.0, 1.0, out=a)
        out[s:e] = np.arcsin(np.sqrt(a, out=a), out=a)
    out *= 2.0 * EARTH_RADIUS_KM
    return out


@overload
def road_km(great_circle_km: float, factor: float) -> float: ...
@overload
def road_km(great_circle_km: FloatArray, factor: float) -> FloatArray: ...
def road_km(great_circle_km: float | FloatArray, factor: float) -> float | FloatArray:
    """Road length estimate: great-circle km times the detour factor (``Travel.factor``)."""
    return great_circle_km * factor


@overload
def drive_minutes(km: float, speed_kmh: float) -> float: ...
@overload
def drive_minutes(km: FloatArray, speed_kmh: float) -> FloatArray: ...
def drive_minutes(km: float | FloatArray, speed_kmh: float) -> float | FloatArray:
    """Minutes of driving for ``km`` at an average ``speed_kmh`` (rests not included)."""
    return km / speed_kmh * 60.0


def interpolate(lon1: float, lat1: float, lon2: float, lat2: float, fraction: float) -> tuple[float, float]:
    """The point ``fraction`` (0 to 1) of the way from point 1 to point 2.

    Linear in longitude and latitude: used only to place rest stops on the map
    of a plan, where the straight line is an estimate anyway.
    """
    return lon1 + (lon2 - lon1) * fraction, lat1 + (lat2 - lat1) * fraction
