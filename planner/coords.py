"""Coordinate systems of Chinese web maps, converted to WGS-84 on load.

Amap and Tencent give GCJ-02 ("Mars" coordinates), Baidu gives BD-09; both are
300-700 m off WGS-84 in Chongqing. The forward transforms are the published
ones; the inverses iterate the forward transform until the round trip is
within a millimetre, vectorised over numpy arrays (scalars give 0-d arrays).
The transforms apply everywhere; callers convert only points inside China
(:func:`in_china_bbox`), as the web maps do.
"""

from __future__ import annotations

import numpy as np

_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0


def _lat_shift(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _lon_shift(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """The published WGS-84 -> GCJ-02 transform."""
    lon = np.asarray(lon, float)
    lat = np.asarray(lat, float)
    dlat = _lat_shift(lon - 105.0, lat - 35.0)
    dlon = _lon_shift(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """Inverse of :func:`wgs84_to_gcj02` by fixed-point iteration (error below 1 mm)."""
    glon = np.asarray(lon, float)
    glat = np.asarray(lat, float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(30):
        tlon, tlat = wgs84_to_gcj02(wlon, wlat)
        dlon, dlat = glon - tlon, glat - tlat
        wlon = wlon + dlon
        wlat = wlat + dlat
        if np.size(dlon) == 0 or np.all(np.isnan(dlon)):
            break
        if np.nanmax(np.abs(np.concatenate([np.ravel(dlon), np.ravel(dlat)]))) < 1e-10:
            break
    return wlon, wlat


def gcj02_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 -> BD-09 (Baidu)."""
    x = np.asarray(lon, float)
    y = np.asarray(lat, float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd09_to_gcj02_approx(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(lon, float) - 0.0065
    y = np.asarray(lat, float) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def bd09_to_gcj02(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 -> GCJ-02: the published approximate inverse (about 10 cm), refined by iteration."""
    blon = np.asarray(lon, float)
    blat = np.asarray(lat, float)
    glon, glat = _bd09_to_gcj02_approx(blon, blat)
    for _ in range(10):
        tlon, tlat = gcj02_to_bd09(glon, glat)
        dlon, dlat = blon - tlon, blat - tlat
        glon = glon + dlon
        glat = glat + dlat
        if np.size(dlon) == 0 or np.nanmax(np.abs(np.concatenate([np.ravel(dlon), np.ravel(dlat)]))) < 1e-10:
            break
    return glon, glat


def wgs84_to_bd09(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 -> BD-09."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))


def bd09_to_wgs84(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 -> WGS-84."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


def to_wgs84(lon, lat, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert positions given in ``crs`` (``wgs84``, ``gcj02`` or ``bd09``) to WGS-84."""
    if crs == "wgs84":
        return np.asarray(lon, float), np.asarray(lat, float)
    if crs == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if crs == "bd09":
        return bd09_to_wgs84(lon, lat)
    msg = f"unknown coordinate system {crs!r}; expected wgs84, gcj02 or bd09"
    raise ValueError(msg)


def in_china_bbox(lon, lat) -> np.ndarray:
    """True where a point lies in the bounding box of China (lon 73-136, lat 3-54)."""
    lon = np.asarray(lon, float)
    lat = np.asarray(lat, float)
    return (lon >= 73) & (lon <= 136) & (lat >= 3) & (lat <= 54)


def looks_swapped(lon, lat) -> np.ndarray:
    """True where a point is outside China but would be inside with lon and lat exchanged."""
    return ~in_china_bbox(lon, lat) & in_china_bbox(lat, lon)
