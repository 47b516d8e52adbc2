"""Integrity of the shipped geodata: counts, codes, and every place inside its own county."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

GEO = Path(__file__).resolve().parents[1] / "geodata"


@pytest.fixture(scope="module")
def counties() -> gpd.GeoDataFrame:
    return gpd.read_file(GEO / "chongqing/counties.gpkg", layer="counties", engine="pyogrio")


@pytest.fixture(scope="module")
def villages() -> pd.DataFrame:
    return pd.read_csv(GEO / "chongqing/villages.csv", dtype={"village_code": str, "township_code": str, "county_code": str})


def _inside_own_county(frame: pd.DataFrame, polys: gpd.GeoDataFrame, code_col: str = "county_code") -> pd.Series:
    geom = polys.set_index("county_code").geometry
    return pd.Series(
        [bool(shapely.contains_xy(geom[c], x, y)) for c, x, y in zip(frame[code_col], frame["lon"], frame["lat"])],
        index=frame.index,
    )


def test_counts(counties, villages):
    """38 counties, 1,028 townships and 11,206 villages, each code unique."""
    towns = pd.read_csv(GEO / "chongqing/townships.csv", dtype=str)
    assert len(counties) == 38 and counties["county_code"].is_unique
    assert len(towns) == 1028 and towns["township_code"].is_unique
    assert len(villages) == 11206 and villages["village_code"].is_unique


def test_codes_nest(villages):
    """A village code starts with its township code, which starts with its county code."""
    assert (villages["village_code"].str.len() == 12).all()
    assert (villages["village_code"].str[:9] == villages["township_code"]).all()
    assert (villages["township_code"].str[:6] == villages["county_code"]).all()


def test_every_village_inside_its_county(counties, villages):
    """Synthetic village positions all lie strictly inside their real county polygon."""
    assert _inside_own_county(villages, counties).all()


def test_township_seats_and_hubs_inside_their_county(counties):
    """Township seats, terminals and railway stations lie inside the county they name."""
    towns = pd.read_csv(GEO / "chongqing/townships.csv", dtype={"township_code": str, "county_code": str})
    hubs = pd.read_csv(GEO / "chongqing/hubs.csv", dtype={"county_code": str})
    assert _inside_own_county(towns, counties).all()
    assert _inside_own_county(hubs, counties).all()
    terminals = hubs[hubs["kind"] == "terminal"]
    assert sorted(terminals["county_code"]) == sorted(counties["county_code"])
    assert hubs["hub_id"].is_unique and (hubs["daily_capacity_people"] > 0).all()
    assert {"R-CQB", "R-CQX", "R-WZB", "R-FLB", "R-QJ", "R-YCD"} <= set(hubs["hub_id"])


def test_gpkg_and_csv_agree(villages):
    """villages.gpkg and villages.csv hold the same villages at the same points."""
    g = gpd.read_file(GEO / "chongqing/villages.gpkg", layer="villages", engine="pyogrio")
    g = g.sort_values("village_code").reset_index(drop=True)
    assert list(g["village_code"]) == list(villages["village_code"])
    assert (abs(g.geometry.x - villages["lon"]) < 1e-6).all() and (abs(g.geometry.y - villages["lat"]) < 1e-6).all()


def test_receiving_side_consistent():
    """Stations and factory sites lie in their receiving county; every site's station exists."""
    rc = gpd.read_file(GEO / "receiving/counties.gpkg", layer="counties", engine="pyogrio")
    assert set(rc["province"]) == {"广东", "浙江", "福建", "江苏", "上海"}
    st = pd.read_csv(GEO / "receiving/stations.csv", dtype={"county_code": str})
    sites = pd.read_csv(GEO / "receiving/factory_sites.csv", dtype={"county_code": str})
    assert _inside_own_county(st, rc).all()
    assert _inside_own_county(sites, rc).all()
    assert set(sites["arrival_station_id"]) <= set(st["station_id"])
    assert set(sites["province"]) == {"广东", "浙江", "福建", "江苏", "上海"}
    regions = pd.read_csv(GEO / "receiving/regions.csv", dtype=str)
    assert set(rc["county_code"]) <= set(regions["region_code"])
