"""Integrity of the shipped geodata: counts, codes, and every place inside its own county."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely

GEO = Path(__file__).resolve().parents[1] / "geodata"
CODES = {c: str for c in ("county_code", "township_code", "village_code", "city_code", "province_code", "region_code", "parent_code")}
PROVINCES = {"广东", "浙江", "福建", "江苏", "上海"}


def _csv(rel: str) -> pd.DataFrame:
    return pd.read_csv(GEO / rel, dtype=CODES, keep_default_na=False, na_values=[""])


@pytest.fixture(scope="module")
def counties() -> gpd.GeoDataFrame:
    return gpd.read_file(GEO / "chongqing/counties.gpkg", layer="counties", engine="pyogrio")


@pytest.fixture(scope="module")
def receiving() -> gpd.GeoDataFrame:
    return gpd.read_file(GEO / "receiving/counties.gpkg", layer="counties", engine="pyogrio")


@pytest.fixture(scope="module")
def towns() -> pd.DataFrame:
    return _csv("chongqing/townships.csv")


@pytest.fixture(scope="module")
def villages() -> pd.DataFrame:
    return _csv("chongqing/villages.csv")


@pytest.fixture(scope="module")
def hubs() -> pd.DataFrame:
    return _csv("chongqing/hubs.csv")


@pytest.fixture(scope="module")
def stations() -> pd.DataFrame:
    return _csv("receiving/stations.csv")


@pytest.fixture(scope="module")
def sites() -> pd.DataFrame:
    return _csv("receiving/factory_sites.csv")


def _outside_own_county(frame: pd.DataFrame, polys: gpd.GeoDataFrame) -> list[str]:
    """Rows (as text) whose lon/lat is not strictly inside the polygon of their county_code."""
    geom = dict(zip(polys["county_code"], polys.geometry))
    bad = []
    for row in frame.itertuples(index=False):
        poly = geom.get(row.county_code)
        if poly is None or not shapely.contains_xy(poly, float(row.lon), float(row.lat)):
            bad.append(f"{row[0]} ({row.county_code}: {row.lon}, {row.lat})")
    return bad


def test_chongqing_counties(counties):
    """38 Chongqing counties with unique 6-digit codes, MultiPolygons in EPSG:4326."""
    assert len(counties) == 38 and counties["county_code"].is_unique
    assert counties["county_code"].str.fullmatch(r"50\d{4}").all()
    assert counties.crs.to_epsg() == 4326
    assert (counties.geom_type == "MultiPolygon").all() and counties.is_valid.all()


def test_township_counts_and_codes(towns, counties):
    """1,028 townships with unique 9-digit codes nested in an existing county code."""
    assert len(towns) == 1028 and towns["township_code"].is_unique
    assert towns["township_code"].str.fullmatch(r"\d{9}").all()
    assert (towns["township_code"].str[:6] == towns["county_code"]).all()
    assert set(towns["county_code"]) <= set(counties["county_code"])
    assert set(towns["seat_source"]) <= {"geonames", "estimated"}


def test_village_counts_and_codes(villages, towns):
    """11,206 villages with unique 12-digit codes starting with their township code, itself starting with the county code."""
    assert len(villages) == 11206 and villages["village_code"].is_unique
    assert villages["village_code"].str.fullmatch(r"\d{12}").all()
    assert (villages["village_code"].str[:9] == villages["township_code"]).all()
    assert (villages["township_code"].str[:6] == villages["county_code"]).all()
    assert set(villages["township_code"]) <= set(towns["township_code"])


def test_township_seats_inside_their_county(towns, counties):
    """Every township seat lies strictly inside its own county polygon."""
    assert _outside_own_county(towns, counties) == []


def test_villages_inside_their_county(villages, counties):
    """Every (synthetic) village position lies strictly inside its own county polygon."""
    assert _outside_own_county(villages, counties) == []


def test_villages_gpkg_matches_csv(villages):
    """villages.gpkg and villages.csv hold the same villages, names and points."""
    g = gpd.read_file(GEO / "chongqing/villages.gpkg", layer="villages", engine="pyogrio")
    assert g.crs.to_epsg() == 4326 and (g.geom_type == "Point").all()
    g = g.sort_values("village_code").reset_index(drop=True)
    v = villages.sort_values("village_code").reset_index(drop=True)
    for col in ("village_code", "village_name", "township_code", "county_code"):
        assert list(g[col]) == list(v[col]), col
    assert ((g.geometry.x - v["lon"]).abs() < 1e-9).all() and ((g.geometry.y - v["lat"]).abs() < 1e-9).all()


def test_hubs_well_formed(hubs, counties):
    """Hub ids are unique, kinds known, capacities positive and every county_code exists."""
    assert hubs["hub_id"].is_unique
    assert set(hubs["kind"]) == {"terminal", "rail_station"}
    assert (hubs["daily_capacity_people"] > 0).all()
    assert set(hubs["county_code"]) <= set(counties["county_code"])
    assert {"R-CQB", "R-CQX", "R-WZB", "R-FLB", "R-QJ", "R-YCD", "R-QJD", "R-SPB"} <= set(hubs["hub_id"])


def test_one_terminal_per_county(hubs, counties):
    """Every county has exactly one passenger terminal, with hub_id T + county code."""
    terminals = hubs[hubs["kind"] == "terminal"]
    assert sorted(terminals["county_code"]) == sorted(counties["county_code"])
    assert (terminals["hub_id"] == "T" + terminals["county_code"]).all()


def test_hubs_inside_their_county(hubs, counties):
    """Every terminal and railway station lies strictly inside the county it names."""
    assert _outside_own_county(hubs, counties) == []


def test_receiving_counties_and_regions(receiving):
    """409 receiving counties in the five provinces; regions.csv holds each with its city and province."""
    assert len(receiving) == 409 and receiving["county_code"].is_unique
    assert set(receiving["province"]) == PROVINCES
    assert (receiving["county_code"].str[:2] == receiving["province_code"]).all()
    regions = _csv("receiving/regions.csv")
    assert regions["region_code"].is_unique
    level = dict(zip(regions["region_code"], regions["level"]))
    assert {level[c] for c in ("44", "33", "35", "32", "31")} == {"province"}
    assert all(level.get(c) == "county" for c in receiving["county_code"])
    assert all(level.get(c) == "city" for c in receiving["city_code"])
    parent = dict(zip(regions["region_code"], regions["parent_code"]))
    for r in receiving.itertuples():
        assert parent[r.county_code] == r.city_code and parent[r.city_code] == r.province_code


def test_stations_inside_their_county(stations, receiving):
    """Destination stations have unique ids and lie strictly inside their receiving county."""
    assert stations["station_id"].is_unique
    assert set(stations["province"]) == PROVINCES
    assert _outside_own_county(stations, receiving) == []


def test_factory_sites(sites, stations, receiving):
    """Factory sites are unique, inside their county, weighted, and arrive at an existing station."""
    assert 120 <= len(sites) <= 220 and sites["site_id"].is_unique
    assert set(sites["province"]) == PROVINCES
    assert (sites["weight"] > 0).all()
    assert set(sites["arrival_station_id"]) <= set(stations["station_id"])
    assert _outside_own_county(sites, receiving) == []
    share = sites["province"].value_counts()
    assert share.idxmax() == "广东" and share["浙江"] > share["江苏"] and share["福建"] > share["上海"]
