"""Readers: CSV encodings, Excel, GeoPackage/GeoJSON, row numbers, CRS conversion, unreadable files."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from planner.errors import DataError
from planner.io import read_table
from planner.scenario import FileSpec

DATA = Path(__file__).resolve().parent / "data"
TINY = DATA / "tiny"
BAD = DATA / "bad"


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, float)) for v in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371008.8 * np.arcsin(np.sqrt(a))


def read(path: Path, table: str = "workers", **kw) -> pd.DataFrame:
    return read_table(FileSpec(path=path, **kw), table=table)


def test_csv_is_text_with_user_row_numbers():
    """A CSV comes back as text, empty cells as "", and _row 2 for the first data row."""
    df = read(TINY / "workers.csv")
    assert len(df) == 20
    assert df["_row"].tolist() == list(range(2, 22))
    assert df["id_number"].map(type).eq(str).all()
    assert df.loc[0, "group_id"] == ""
    assert df.loc[0, "id_number"].endswith("X")


@pytest.mark.parametrize("fname", ["workers_gb18030.csv", "workers_bom.csv", "workers.xlsx"])
def test_encodings_and_excel_give_the_same_table(fname):
    """GB18030, UTF-8 with BOM and Excel (with real date cells) read the same as the UTF-8 CSV."""
    ref = read(TINY / "workers.csv")
    got = read(BAD / fname)
    assert list(got.columns) == list(ref.columns)
    pd.testing.assert_frame_equal(got.reset_index(drop=True), ref.reset_index(drop=True), check_dtype=False)


def test_gb18030_is_detected_without_being_told():
    """The GB18030 file really is not UTF-8, and auto-detection still reads its Chinese names."""
    raw = (BAD / "workers_gb18030.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    assert set(read(BAD / "workers_gb18030.csv")["name"]) == {"张某华", "李某芳"}


def test_declared_encoding_is_used_and_a_wrong_one_is_a_data_error():
    """encoding = "gb18030" reads the file; encoding = "utf-8" on it is a DataError naming the file."""
    assert len(read(BAD / "workers_gb18030.csv", encoding="gb18030")) == 20
    with pytest.raises(DataError, match="workers_gb18030.csv"):
        read(BAD / "workers_gb18030.csv", encoding="utf-8")


def test_blank_lines_keep_row_numbers(tmp_path):
    """A blank line in a CSV yields no row but the rows after it keep the numbers a user sees."""
    p = tmp_path / "w.csv"
    p.write_text("a,b\n1,2\n\n3,4\n", encoding="utf-8")
    df = read(p)
    assert df["_row"].tolist() == [2, 4]
    assert df["a"].tolist() == ["1", "3"]


def test_missing_file_unknown_extension_and_garbage_are_data_errors(tmp_path):
    """Missing file, .dbf, undecodable bytes and a broken workbook each raise DataError naming the file."""
    with pytest.raises(DataError, match="nope.csv"):
        read(tmp_path / "nope.csv")
    (tmp_path / "x.dbf").write_bytes(b"x")
    with pytest.raises(DataError, match="x.dbf"):
        read(tmp_path / "x.dbf")
    (tmp_path / "bin.csv").write_bytes(b"a,b\n\xff\xfe\x00\x81\x30\xff\n")
    with pytest.raises(DataError, match="bin.csv"):
        read(tmp_path / "bin.csv")
    (tmp_path / "broken.xlsx").write_bytes(b"PK not a workbook")
    with pytest.raises(DataError, match="broken.xlsx"):
        read(tmp_path / "broken.xlsx")
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(DataError, match="empty.csv"):
        read(tmp_path / "empty.csv")


def test_excel_named_sheet_and_missing_sheet():
    """sheet = "名单" reads that sheet; an unknown sheet is a DataError listing the sheets."""
    assert len(read(BAD / "workers.xlsx", sheet="名单")) == 20
    with pytest.raises(DataError, match="名单"):
        read(BAD / "workers.xlsx", sheet="Sheet9")


def test_gcj02_known_pair_is_converted_on_load():
    """A GCJ-02 file holding (116.403664, 39.910627) reads as WGS-84 (116.397428, 39.90923) within 2 m."""
    df = read(BAD / "stations_gcj02_known_pair.csv", table="stations", crs="gcj02")
    d = _metres(float(df.loc[0, "lon"]), float(df.loc[0, "lat"]), 116.397428, 39.90923)
    assert d < 2
    undeclared = read(BAD / "stations_gcj02_known_pair.csv", table="stations")
    assert undeclared.loc[0, "lon"] == "116.403664"


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_village_file_in_web_map_coordinates_lands_on_the_wgs84_positions(crs):
    """Villages written in GCJ-02 or BD-09 and declared so come within 1 mm of the WGS-84 file."""
    ref = read(TINY / "villages.csv", table="villages")
    got = read(BAD / f"villages_{crs}.csv", table="villages", crs=crs)
    d = _metres(ref["lon"].astype(float), ref["lat"].astype(float), got["lon"].astype(float), got["lat"].astype(float))
    assert d.max() < 0.01


def test_points_outside_china_are_not_converted(tmp_path):
    """A GCJ-02 file with a point outside China keeps it as written, for validation to report."""
    p = tmp_path / "v.csv"
    p.write_text("village_code,lon,lat\n1,2.35,48.85\n2,abc,30\n", encoding="utf-8")
    df = read(p, table="villages", crs="gcj02")
    assert df["lon"].tolist() == ["2.35", "abc"]


def test_geopackage_points_become_lon_lat_and_rows_count_from_one(tmp_path):
    """Point features of a GeoPackage become text lon/lat (converted from GCJ-02 when declared) with _row 1, 2 ..."""
    v = pd.read_csv(TINY / "villages.csv", dtype=str)
    gdf = gpd.GeoDataFrame(
        v.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(v["lon"].astype(float), v["lat"].astype(float)),
        crs=4326,
    )
    path = tmp_path / "villages.gpkg"
    gdf.to_file(path, layer="村", driver="GPKG")
    df = read(path, table="villages")
    assert df["_row"].tolist() == list(range(1, len(v) + 1))
    assert df["village_code"].tolist() == v["village_code"].tolist()
    assert np.allclose(df["lon"].astype(float), v["lon"].astype(float))
    df2 = read(path, table="villages", layer="村")
    assert len(df2) == len(v)
    with pytest.raises(DataError, match="layer"):
        read(path, table="villages", layer="nope")


def test_geojson_polygons_keep_geometry_and_points_refuse_polygons():
    """County polygons keep shapely geometry; the same file read as villages is a DataError."""
    df = read(TINY / "counties.geojson", table="counties")
    assert set(df["county_code"]) == {"500101", "500154"}
    assert all(isinstance(g, shapely.MultiPolygon | shapely.Polygon) for g in df["geometry"])
    with pytest.raises(DataError, match="Point"):
        read(TINY / "counties.geojson", table="villages")


def test_projected_geopackage_is_reprojected_to_wgs84(tmp_path):
    """A layer in a projected CRS (UTM 48N) comes back in degrees."""
    gdf = gpd.GeoDataFrame({"hub_id": ["T1"]}, geometry=gpd.points_from_xy([108.38], [30.80]), crs=4326)
    path = tmp_path / "h.gpkg"
    gdf.to_crs(32648).to_file(path, driver="GPKG")
    df = read(path, table="hubs")
    assert abs(float(df.loc[0, "lon"]) - 108.38) < 1e-6 and abs(float(df.loc[0, "lat"]) - 30.80) < 1e-6


@pytest.mark.parametrize(("text", "row", "what"), [
    ("a,b\n1,2,3\n4,5\n", 2, "3 个字段"),
    ("a,b\n1,2\n4,5,6\n", 3, "3 个字段"),
    ("a,b\n1,2\n\n4,5,6\n", 4, "3 个字段"),
    ('a,b\n"x\ny",2\n1,2\n4,5,6\n', 4, "3 个字段"),
    ('a,b\n"1,2\n4,5\n', 2, "引号"),
    ('a,b\n1,2\n"4,5\n', 3, "引号"),
])
def test_malformed_csv_names_the_row_a_user_sees(tmp_path, text, row, what):
    """A row with too many fields or an unclosed quote is a DataError naming that row (header = row 1).

    A quoted line break keeps one record on one row, as Excel shows it; a first data row with an
    extra field is an error, never silently read with its first cell as an index.
    """
    p = tmp_path / "w.csv"
    p.write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as exc:
        read(p)
    msg = str(exc.value)
    assert f"第 {row} 行" in msg and f"row {row}" in msg and what in msg and "w.csv" in msg


def test_repeated_column_name_is_a_data_error(tmp_path):
    """Two columns named phone: a DataError naming the column, not a silent phone.1."""
    p = tmp_path / "w.csv"
    p.write_text("worker_id,phone,phone\nW1,1,2\n", encoding="utf-8")
    with pytest.raises(DataError, match="phone"):
        read(p)


def test_header_only_csv_is_an_empty_table(tmp_path):
    """A CSV with a header and no data row reads as an empty table with its columns."""
    p = tmp_path / "w.csv"
    p.write_text("worker_id,name\n", encoding="utf-8")
    df = read(p)
    assert len(df) == 0 and list(df.columns) == ["worker_id", "name", "_row"]


def test_declared_single_byte_encoding_over_chinese_text_is_doubted(tmp_path):
    """latin-1 decodes a UTF-8 file; the table carries a warning that UTF-8 would give Chinese."""
    p = tmp_path / "w.csv"
    p.write_bytes("worker_id,name\nW1,张某华\n".encode())
    df = read(p, encoding="latin-1")
    assert len(df) == 1 and "UTF-8" in df.attrs["warnings"][0]
    assert "warnings" not in read(p).attrs and "warnings" not in read(p, encoding="utf-8").attrs
