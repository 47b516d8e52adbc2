"""Destination areas: factories close enough to share one coach.

A coach may drop at up to K factories lying within R km of each other
(scenario ``fleet.max_drop_factories`` and ``fleet.drop_radius_km``). Factories
are grouped greedily around seeds with radius R/2, so any two factories of one
area are at most R km apart; a coach then takes at most K of them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.rules.geo import haversine_km


def destination_areas(factories: pd.DataFrame, radius_km: float) -> pd.Series:
    """Area number per factory (index = factory_id), deterministic.

    Seeds are taken in order of (province, city, factory_id); each seed takes
    every not yet grouped factory within ``radius_km / 2`` of it.
    """
    f = factories.sort_values(["province", "city", "factory_id"])
    ids = f["factory_id"].astype(str).to_numpy()
    lon = f["lon"].to_numpy(float)
    lat = f["lat"].to_numpy(float)
    area = np.full(len(f), -1, dtype=np.int64)
    half = radius_km / 2.0
    next_area = 0
    for i in range(len(f)):
        if area[i] >= 0:
            continue
        free = np.flatnonzero(area < 0)
        d = haversine_km(lon[i], lat[i], lon[free], lat[free])
        area[free[d <= half]] = next_area
        area[i] = next_area
        next_area += 1
    return pd.Series(area, index=ids, name="area")
