"""Great-circle distances and simple road estimates (no road network)."""

from __future__ import annotations

import math

import numpy as np

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lon1, lat1, lon2, lat2):
    """Great-circle distance in km; works on scalars and numpy arrays alike."""
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(x, dtype=float)) for x in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    d = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    return float(d) if np.ndim(d) == 0 else d


def gc_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle km for one pair of plain floats (fast path without numpy)."""
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(min(1.0, a)))


def pairwise_km(lon_a, lat_a, lon_b, lat_b, *, chunk: int = 2048) -> np.ndarray:
    """Distance matrix (len(a) x len(b)) in km, computed in row chunks to bound memory."""
    lon_a = np.asarray(lon_a, float)
    lat_a = np.asarray(lat_a, float)
    lon_b = np.asarray(lon_b, float)
    lat_b = np.asarray(lat_b, float)
    out = np.empty((len(lon_a), len(lon_b)), dtype=np.float64)
    for s in range(0, len(lon_a), chunk):
        e = min(s + chunk, len(lon_a))
        out[s:e] = haversine_km(lon_a[s:e, None], lat_a[s:e, None], lon_b[None, :], lat_b[None, :])
    return out


def road_km(great_circle_km, factor: float):
    """Road length estimate: great-circle km times the detour factor."""
    return great_circle_km * factor


def drive_minutes(km, speed_kmh: float):
    """Minutes to drive ``km`` at ``speed_kmh``."""
    return km / speed_kmh * 60.0


def interpolate(lon1: float, lat1: float, lon2: float, lat2: float, fraction: float) -> tuple[float, float]:
    """A point ``fraction`` of the way from 1 to 2 (linear in lon/lat; fine for maps)."""
    return lon1 + (lon2 - lon1) * fraction, lat1 + (lat2 - lat1) * fraction
