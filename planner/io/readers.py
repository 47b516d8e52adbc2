"""Reading input files: CSV (UTF-8, UTF-8 with BOM, GB18030), Excel, GeoPackage, GeoJSON.

Every table comes back as strings (nothing is guessed or silently converted),
with a ``_row`` column giving the row number a user sees in the file: for CSV
and Excel the header is row 1 and the first data row is row 2; for GeoPackage
and GeoJSON the first feature is row 1. Point geometries become ``lon``/``lat``
columns; polygon layers keep their geometry. Problems that make a whole file
unreadable raise :class:`planner.errors.DataError` naming the file.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from planner.errors import DataError
from planner.scenario import FileSpec

CSV_EXT = {".csv", ".txt"}
EXCEL_EXT = {".xlsx", ".xlsm"}
GIS_EXT = {".gpkg", ".geojson", ".json", ".shp"}


def _decode(raw: bytes, path: Path, encoding: str | None) -> str:
    if encoding:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            msg = f"{path}: 不能按 {encoding} 解码 (cannot decode as {encoding}): {exc}"
            raise DataError(msg) from None
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    msg = f"{path}: 编码无法识别，请另存为 UTF-8 或 GB18030 (unknown text encoding)"
    raise DataError(msg)


def _clean_columns(df: pd.DataFrame) -> pd.DataFrame:
    df.columns = [str(c).strip().lstrip("\ufeff") for c in df.columns]
    return df


def read_csv_text(path: Path, encoding: str | None = None) -> pd.DataFrame:
    """A CSV as strings; empty cells are ""."""
    text = _decode(path.read_bytes(), path, encoding)
    try:
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        msg = f"{path}: 文件为空 (file is empty)"
        raise DataError(msg) from None
    except pd.errors.ParserError as exc:
        msg = f"{path}: CSV 格式错误 (malformed CSV): {exc}"
        raise DataError(msg) from None
    df = _clean_columns(df)
    df = df.apply(lambda s: s.str.strip())
    df["_row"] = np.arange(2, len(df) + 2)
    return df


def _excel_cell(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d") if v == v.normalize() else v.isoformat()
    if hasattr(v, "isoformat") and not isinstance(v, str):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def read_excel(path: Path, sheet: str | None = None) -> pd.DataFrame:
    """The first (or named) sheet of a workbook as strings."""
    try:
        df = pd.read_excel(path, sheet_name=sheet if sheet is not None else 0, dtype=object, engine="openpyxl")
    except ValueError as exc:
        msg = f"{path}: 找不到工作表 {sheet!r} (sheet not found): {exc}"
        raise DataError(msg) from None
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        msg = f"{path}: 无法读取 Excel 文件 (cannot read workbook): {exc}"
        raise DataError(msg) from None
    df = _clean_columns(df)
    for c in df.columns:
        df[c] = [_excel_cell(v) for v in df[c]]
    df["_row"] = np.arange(2, len(df) + 2)
    return df


def read_gis(path: Path, layer: str | None = None) -> pd.DataFrame:
    """A GeoPackage/GeoJSON layer: points as lon/lat (EPSG:4326), polygons as geometry."""
    import geopandas as gpd

    try:
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except Exception as exc:
        msg = f"{path}: 无法读取地理数据文件 (cannot read spatial file): {exc}"
        raise DataError(msg) from None
    if gdf.crs is not None and gdf.crs.to_epsg() not in (4326, 4490):
        gdf = gdf.to_crs(4326)
    out = pd.DataFrame({c: gdf[c] for c in gdf.columns if c != gdf.geometry.name})
    for c in out.columns:
        out[c] = [_excel_cell(v) for v in out[c]]
    geom = gdf.geometry
    kinds = set(geom.geom_type.dropna())
    if kinds and kinds <= {"Point"}:
        out["lon"] = [f"{g.x:.8f}" if g is not None else "" for g in geom]
        out["lat"] = [f"{g.y:.8f}" if g is not None else "" for g in geom]
    else:
        out["geometry"] = geom.values
    out["_row"] = np.arange(1, len(out) + 1)
    return out


def read_table(spec: FileSpec) -> pd.DataFrame:
    """Read one input file according to its extension and spec (see the module docstring)."""
    path = Path(spec.path)
    if not path.exists():
        msg = f"{path}: 找不到文件 (file not found)"
        raise DataError(msg)
    ext = path.suffix.lower()
    if ext in CSV_EXT:
        return read_csv_text(path, spec.encoding)
    if ext in EXCEL_EXT:
        return read_excel(path, spec.sheet)
    if ext in GIS_EXT:
        return read_gis(path, spec.layer)
    msg = f"{path}: 不支持的文件类型 {ext} (use .csv, .xlsx, .gpkg or .geojson)"
    raise DataError(msg)
