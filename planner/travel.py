"""Road km and travel minutes between scenario places: one source for the solver and the checker.

Without a road network (the default), road km is the great-circle distance times the detour
factor of the county the trip starts in (``[travel]``, larger in mountain counties), and
minutes are km over the coach or feeder speed. When the scenario names a road network
(``[roads] network``), every pair of places that the network covers (both inside its area)
takes its minutes from the fastest road path and its km from the shortest road path
(:func:`planner.roads.road_tables`, cached by the network's checksum); pairs it does not
cover (a factory in another province) keep the estimate. Villages no road reaches are
listed in :attr:`TravelTimes.unreachable`: their workers are unassigned with the reason
``no_road_to_village``, never dropped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from planner.errors import DataError
from planner.roads import RoadTables, resolve_speeds, road_tables
from planner.rules.geo import gc_km, haversine_km
from planner.scenario import Scenario, Travel

log = logging.getLogger(__name__)

#: pairs remembered by :meth:`TravelTimes.feeder_minutes` (the pick-up order search asks the same
#: few village pairs thousands of times); the memo is emptied when full, so memory stays bounded
FEEDER_MEMO_MAX = 1 << 18


class TravelTimes:
    """km and minutes between places (ids of villages, hubs, stations, factories)."""

    def __init__(self, travel: Travel, xy: Mapping[str, tuple[float, float]], roads: RoadTables | None = None,
                 road_max_kmh: float = 0.0) -> None:
        self.travel = travel
        self.xy = xy
        self.roads = roads
        self._row: dict[str, int] = {}
        if roads is not None:
            self._row = {p: i for i, p in enumerate(roads.place_ids) if roads.covered[i]}
        self.unreachable: frozenset[str] = roads.unreachable if roads is not None else frozenset()
        #: the fastest speed any pair can show (the checker's "too fast" bound)
        self.max_kmh = max(travel.coach_speed_kmh, travel.feeder_speed_kmh, road_max_kmh)
        self._feeder_memo: dict[tuple[str, str, str], float] = {}

    def _road(self, a: str, b: str) -> tuple[int, int] | None:
        i = self._row.get(a)
        j = self._row.get(b)
        return None if i is None or j is None else (i, j)

    def km(self, a: str, b: str, county: str) -> float:
        """Road km from ``a`` to ``b`` for a trip starting in ``county``."""
        ij = self._road(a, b)
        if ij is not None:
            return float(self.roads.km[ij])
        x1, y1 = self.xy[a]
        x2, y2 = self.xy[b]
        return gc_km(x1, y1, x2, y2) * self.travel.factor(county)

    def feeder_minutes(self, a: str, b: str, county: str) -> float:
        """Feeder bus (and in-county pick-up) minutes from ``a`` to ``b`` (remembered: the same float every time)."""
        key = (a, b, county)
        hit = self._feeder_memo.get(key)
        if hit is not None:
            return hit
        ij = self._road(a, b)
        if ij is not None:
            out = float(self.roads.minutes[ij])
        else:
            out = self.km(a, b, county) / self.travel.feeder_speed_kmh * 60.0
        if len(self._feeder_memo) >= FEEDER_MEMO_MAX:
            self._feeder_memo.clear()
        self._feeder_memo[key] = out
        return out

    def coach_minutes(self, a: str, b: str, county: str) -> float:
        """Coach driving minutes from ``a`` to ``b``."""
        ij = self._road(a, b)
        if ij is not None:
            return float(self.roads.minutes[ij])
        return self.km(a, b, county) / self.travel.coach_speed_kmh * 60.0

    def feeder_matrix(self, places: list[str], county: str) -> np.ndarray:
        """Feeder minutes between every two of ``places`` (row = from)."""
        lon = np.array([self.xy[v][0] for v in places])
        lat = np.array([self.xy[v][1] for v in places])
        km = haversine_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :]) * self.travel.factor(county)
        out = km / self.travel.feeder_speed_kmh * 60.0
        if self._row:
            rows = np.array([self._row.get(p, -1) for p in places])
            on = np.flatnonzero(rows >= 0)
            if len(on):
                out[np.ix_(on, on)] = self.roads.minutes[np.ix_(rows[on], rows[on])]
        return out

    def feeder_minutes_many(self, a: Iterable[str], b: Iterable[str], county: Iterable[str]) -> np.ndarray:
        """Feeder minutes for many pairs at once (NaN where a place is unknown)."""
        out = []
        for x, y, c in zip(a, b, county):
            out.append(self.feeder_minutes(x, y, c) if x in self.xy and y in self.xy else np.nan)
        return np.asarray(out, dtype=np.float64)


def build_travel(sc: Scenario, places: pd.DataFrame) -> TravelTimes:
    """The scenario's travel times over ``places`` (columns place_id, lon, lat, used).

    ``used`` marks the places the road tables must include (villages with workers, hubs,
    stations, factories); others are left to the estimate. Raises :class:`DataError` when a
    hub lies in the network's area but no road reaches it.
    """
    xy = dict(zip(places["place_id"].astype(str), zip(places["lon"].astype(float), places["lat"].astype(float))))
    r = sc.roads
    if r.network is None:
        return TravelTimes(sc.travel, xy)
    path = sc.resolve(r.network)
    sel = places[places["used"]].drop_duplicates("place_id")
    tables = road_tables(path, sel[["place_id", "lon", "lat"]].assign(place_id=sel["place_id"].astype(str)),
                         cache_dir=sc.resolve(r.cache_dir), speeds_kmh=r.speeds_kmh, max_snap_m=r.max_snap_m)
    kinds = dict(zip(sel["place_id"].astype(str), sel["kind"].astype(str)))
    bad_hubs = sorted(p for p in tables.unreachable if kinds.get(p) == "hub")
    if bad_hubs:
        msg = (f"{path}: 枢纽 {', '.join(bad_hubs)} 在路网范围内却没有道路可达 "
               f"(hub inside the road network's area but no road reaches it; check [roads] max_snap_m)")
        raise DataError(msg)
    covered = int(tables.covered.sum())
    log.info("road network %s covers %d of %d places; %d unreachable", path, covered, len(sel),
             len(tables.unreachable))
    speeds = resolve_speeds(r.speeds_kmh)
    return TravelTimes(sc.travel, xy, tables, road_max_kmh=max(speeds.values()))


def scenario_places(villages: pd.DataFrame, hubs: pd.DataFrame, stations: pd.DataFrame, factories: pd.DataFrame,
                    worker_villages: Iterable[str]) -> pd.DataFrame:
    """All places of a scenario with their kind; ``used``: villages with workers and every other place."""
    wv = set(map(str, worker_villages))
    parts = [
        pd.DataFrame({"place_id": villages["village_code"].astype(str).to_numpy(), "kind": "village",
                      "lon": villages["lon"].astype(float).to_numpy(), "lat": villages["lat"].astype(float).to_numpy()}),
        pd.DataFrame({"place_id": hubs["hub_id"].astype(str).to_numpy(), "kind": "hub",
                      "lon": hubs["lon"].astype(float).to_numpy(), "lat": hubs["lat"].astype(float).to_numpy()}),
        pd.DataFrame({"place_id": factories["factory_id"].astype(str).to_numpy(), "kind": "factory",
                      "lon": factories["lon"].astype(float).to_numpy(), "lat": factories["lat"].astype(float).to_numpy()}),
    ]
    if len(stations):
        parts.append(pd.DataFrame({"place_id": stations["station_id"].astype(str).to_numpy(), "kind": "station",
                                   "lon": stations["lon"].astype(float).to_numpy(),
                                   "lat": stations["lat"].astype(float).to_numpy()}))
    out = pd.concat(parts, ignore_index=True).drop_duplicates("place_id")
    out["used"] = (out["kind"] != "village") | out["place_id"].isin(wv)
    if not np.isfinite(out[["lon", "lat"]].to_numpy()).all():
        msg = "地点坐标缺失 (a place has no coordinates)"
        raise DataError(msg)
    return out.reset_index(drop=True)
