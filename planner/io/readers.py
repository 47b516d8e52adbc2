"""Reading input files: CSV (UTF-8, UTF-8 with BOM, GB18030), Excel, GeoPackage, GeoJSON.

Every table comes back as text (nothing is guessed or silently converted; an
empty cell is ``""``) with a ``_row`` column giving the row number a user sees
in the file: for CSV and Excel the header is row 1 and the first data row is
row 2; for GeoPackage and GeoJSON the first feature is row 1. Blank lines count
(they keep the numbering right) but yield no row.

Point geometries become ``lon``/``lat`` text columns; polygon layers (the
``counties`` and ``receiving_counties`` tables) keep a shapely ``geometry``
column. Positions are converted to WGS-84 when the scenario says a file is
GCJ-02 or BD-09 (:mod:`planner.coords`); points outside the China bounding box
are left untouched so that validation can report them as they were written.

Problems that make a whole file unreadable raise :class:`planner.errors.DataError`
with a message naming the file (and, for a malformed CSV, the row as counted
above: a record broken over several lines by a quoted line break is one row, as
in Excel); row-level problems are left to :mod:`planner.validate`. Doubts about a
readable file (an ``encoding`` declared in the scenario that decodes, while UTF-8
or GB18030 would give Chinese text) are listed in ``df.attrs["warnings"]`` for
validation to report.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from planner.coords import in_china_bbox, to_wgs84
from planner.errors import DataError
from planner.scenario import FileSpec

log = logging.getLogger(__name__)

CSV_EXT = {".csv", ".txt"}
EXCEL_EXT = {".xlsx", ".xlsm"}
GIS_EXT = {".gpkg", ".geojson", ".json"}
POLYGON_TABLES = {"counties", "receiving_counties"}
AUTO_ENCODINGS = ("utf-8-sig", "gb18030")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_TOKENIZE_LINE = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")
_TOKENIZE_QUOTE = re.compile(r"EOF inside string starting at row (\d+)")


# ------------------------------------------------------------------ helpers
def _encoding_doubt(raw: bytes, text: str, encoding: str) -> str | None:
    """A warning when the ``encoding`` the scenario declares may be wrong, or None.

    ``latin-1`` (and other single-byte encodings) decode any bytes, and GBK
    decodes many UTF-8 files, so a register read with them gives mojibake names
    without any error. Doubtful: the bytes are also valid UTF-8 holding Chinese
    and read differently (non-ASCII text that is valid UTF-8 almost always is
    UTF-8), or the declared decoding holds no Chinese character while GB18030
    gives some.
    """
    if encoding.lower().replace("_", "-").replace("-sig", "") in ("utf-8", "utf8", "u8"):
        return None
    try:
        as_utf8 = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        as_utf8 = None
    other = None
    if as_utf8 is not None and as_utf8 != text and _CJK.search(as_utf8):
        other = "UTF-8"
    elif not _CJK.search(text) and "gb" not in encoding.lower():
        try:
            if _CJK.search(raw.decode("gb18030")):
                other = "GB18030"
        except UnicodeDecodeError:
            pass
    if other is None:
        return None
    return (f"按情景声明的编码 {encoding} 读出的文字与按 {other} 读出的不同，而 {other} 读出的是汉字：编码可能声明错了，"
            f"姓名会变成乱码 (declared encoding {encoding} decodes, but {other} also does and gives Chinese text: "
            f"check the encoding)")


def _decode(raw: bytes, path: Path, encoding: str | None) -> str:
    if encoding:
        try:
            return raw.decode(encoding)
        except LookupError:
            msg = f"{path}: 未知的编码 {encoding!r} (unknown encoding in the scenario)"
            raise DataError(msg) from None
        except UnicodeDecodeError as exc:
            msg = f"{path}: 不能按 {encoding} 解码，第 {exc.start} 字节出错 (cannot decode as {encoding})"
            raise DataError(msg) from None
    for enc in AUTO_ENCODINGS:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    msg = f"{path}: 编码无法识别，请另存为 UTF-8 或 GB18030 (text is neither UTF-8 nor GB18030)"
    raise DataError(msg)


def _clean_columns(df: pd.DataFrame) -> pd.DataFrame:
    df.columns = [str(c).strip().lstrip("\ufeff").strip() for c in df.columns]
    return df


def _drop_blank_rows(df: pd.DataFrame) -> pd.DataFrame:
    data_cols = [c for c in df.columns if c not in ("_row", "geometry")]
    if not data_cols or not len(df):
        return df
    blank = np.ones(len(df), dtype=bool)
    for c in data_cols:
        blank &= (df[c] == "").to_numpy()
    return df.loc[~blank].reset_index(drop=True) if blank.any() else df


def _cell_text(v: object) -> str:
    """One spreadsheet or attribute value as text: dates in ISO, whole floats without '.0'."""
    if v is None:
        return ""
    if isinstance(v, str):
        return v.strip()
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, float | np.floating):
        if np.isnan(v):
            return ""
        return str(int(v)) if float(v).is_integer() and abs(v) < 1e15 else repr(float(v))
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, pd.Timestamp):
        if pd.isna(v):
            return ""
        v = v.to_pydatetime()
    if isinstance(v, dt.datetime):
        if v.time() == dt.time(0, 0):
            return v.date().isoformat()
        return v.isoformat(sep=" ", timespec="minutes" if v.second == 0 else "seconds")
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dt.time):
        return v.strftime("%H:%M" if v.second == 0 else "%H:%M:%S")
    if isinstance(v, dt.timedelta):  # Excel may store a time of day as a duration
        s = int(round(v.total_seconds()))
        return f"{s // 3600:02d}:{s % 3600 // 60:02d}"
    return str(v).strip()


# ------------------------------------------------------------------ formats
def _parser_error_text(exc: Exception) -> str:
    """pandas' tokenizer message in the user's row numbers (header = row 1)."""
    text = str(exc).strip()
    m = _TOKENIZE_LINE.search(text)
    if m:  # "line N" counts records from 1 with the header as record 1: already the user's row
        want, row, saw = m.groups()
        return f"第 {row} 行有 {saw} 个字段，而表头只有 {want} 列 (row {row} has {saw} fields, the header {want})"
    m = _TOKENIZE_QUOTE.search(text)
    if m:  # "row N" counts records from 0
        row = int(m.group(1)) + 1
        return f"第 {row} 行的引号没有闭合 (unclosed quote starting at row {row})"
    return text.splitlines()[0] if text else type(exc).__name__


def _header(text: str, path: Path) -> list[str]:
    """The column names of the first record, stripped; a repeated name is a DataError."""
    try:
        first = next(csv.reader(io.StringIO(text)), [])
    except csv.Error as exc:
        msg = f"{path}: CSV 格式错误 (malformed CSV): 第 1 行 (row 1): {exc}"
        raise DataError(msg) from None
    names = [c.strip().lstrip("\ufeff").strip() for c in first]
    seen: set[str] = set()
    for name in names:
        if name and name in seen:
            msg = f"{path}: 第 1 行的列名 {name} 出现了两次 (column name repeated in the header)"
            raise DataError(msg)
        seen.add(name)
    return names


def _parse(text: str, path: Path, *, header: int | None) -> pd.DataFrame:
    """pandas' C parser on ``text``; a row with more fields than the header is an error, never an index."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", pd.errors.ParserWarning)  # index_col=False would drop the extra field
        try:
            return pd.read_csv(
                io.StringIO(text), dtype=str, header=header, index_col=False, keep_default_na=False,
                na_filter=False, skip_blank_lines=False,
            )
        except pd.errors.ParserWarning:
            if header is None:
                raise
            return _parse(text, path, header=None)  # header=None parses the header as data and names the row
        except (pd.errors.ParserError, csv.Error) as exc:
            msg = f"{path}: CSV 格式错误 (malformed CSV): {_parser_error_text(exc)}"
            raise DataError(msg) from None


def read_csv_text(path: Path, encoding: str | None = None) -> pd.DataFrame:
    """A CSV file as text columns plus ``_row`` (header = row 1).

    A row with more fields than the header, an unclosed quote or a repeated
    column name is a DataError naming the row; pandas never turns a first
    data row with an extra field into an index column.
    """
    raw = path.read_bytes()
    text = _decode(raw, path, encoding)
    if not text.strip():
        msg = f"{path}: 文件为空 (file is empty)"
        raise DataError(msg)
    names = _header(text, path)
    df = _parse(text, path, header=0)
    if len(names) == len(df.columns):
        df.columns = [n or f"Unnamed: {i}" for i, n in enumerate(names)]
    else:  # the csv module and pandas split the header differently (odd quoting): pandas' names
        df = _clean_columns(df)
    for c in df.columns:
        df[c] = df[c].fillna("").astype(str).str.strip()
    df["_row"] = np.arange(2, len(df) + 2)
    out = _drop_blank_rows(df)
    if encoding:
        doubt = _encoding_doubt(raw, text, encoding)
        if doubt:
            out.attrs["warnings"] = [doubt]
    return out


def read_excel(path: Path, sheet: str | None = None) -> pd.DataFrame:
    """The first (or named) sheet of a workbook as text columns plus ``_row`` (header = row 1)."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        msg = f"{path}: 无法读取 Excel 文件 (cannot read workbook): {type(exc).__name__}: {exc}"
        raise DataError(msg) from None
    try:
        if sheet is not None:
            if sheet not in wb.sheetnames:
                msg = f"{path}: 找不到工作表 {sheet!r}，现有 {wb.sheetnames} (sheet not found)"
                raise DataError(msg)
            ws = wb[sheet]
        else:
            ws = wb.worksheets[0]
        rows = list(ws.iter_rows(values_only=True))
    except DataError:
        raise
    except Exception as exc:
        msg = f"{path}: 无法读取 Excel 文件 (cannot read workbook): {type(exc).__name__}: {exc}"
        raise DataError(msg) from None
    finally:
        wb.close()
    if not rows or all(v is None for v in rows[0]):
        msg = f"{path}: 第1行应为列名 (row 1 must hold the column names)"
        raise DataError(msg)
    header = [_cell_text(v) for v in rows[0]]
    width = max(i + 1 for i, h in enumerate(header) if h) if any(header) else 0
    header = header[:width]
    body = [[_cell_text(v) for v in r[:width]] + [""] * (width - len(r)) for r in rows[1:]]
    df = pd.DataFrame(body, columns=header, dtype=object) if body else pd.DataFrame(columns=header)
    df = _clean_columns(df).astype(str)
    df["_row"] = np.arange(2, len(df) + 2)
    return _drop_blank_rows(df)


def _attribute_text(s: pd.Series) -> pd.Series:
    """An attribute column of a spatial file as text, vectorised for the common dtypes."""
    if pd.api.types.is_integer_dtype(s) and not s.isna().any():
        return s.astype("int64").astype(str)
    if pd.api.types.is_string_dtype(s) or s.dtype == object:
        if s.map(lambda v: isinstance(v, str) or v is None).all():
            return s.fillna("").astype(str).str.strip()
    return pd.Series([_cell_text(v) for v in s], index=s.index, dtype=object)


def read_gis(path: Path, layer: str | None = None, *, polygons: bool = False) -> pd.DataFrame:
    """A GeoPackage/GeoJSON layer: points as ``lon``/``lat`` text (EPSG:4326), polygons as geometry."""
    import geopandas as gpd
    import pyogrio

    try:
        if layer is not None:
            names = [str(n) for n in pyogrio.list_layers(path)[:, 0]]
            if layer not in names:
                msg = f"{path}: 找不到图层 {layer!r}，现有 {names} (layer not found)"
                raise DataError(msg)
        gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
    except DataError:
        raise
    except Exception as exc:
        msg = f"{path}: 无法读取地理数据文件 (cannot read spatial file): {type(exc).__name__}: {exc}"
        raise DataError(msg) from None
    has_geom = isinstance(gdf, gpd.GeoDataFrame) and gdf.geometry.name in gdf.columns
    if has_geom and gdf.crs is not None and gdf.crs.to_epsg() not in (4326, 4490):
        try:
            gdf = gdf.to_crs(4326)
        except Exception as exc:
            msg = f"{path}: 坐标系无法转换到 WGS-84 (cannot reproject {gdf.crs}): {exc}"
            raise DataError(msg) from None
    gcol = gdf.geometry.name if has_geom else None
    out = pd.DataFrame({str(c): _attribute_text(gdf[c]) for c in gdf.columns if c != gcol})
    out = _clean_columns(out)
    if has_geom:
        geom = gdf.geometry
        kinds = set(geom.geom_type.dropna())
        if polygons:
            if kinds - {"Polygon", "MultiPolygon"}:
                msg = f"{path}: 区县边界须为面 (polygons expected, found {sorted(kinds)})"
                raise DataError(msg)
            out["geometry"] = geom.values
        else:
            if kinds - {"Point"}:
                msg = f"{path}: 位置须为点 (Point geometries expected, found {sorted(kinds)})"
                raise DataError(msg)
            empty = geom.isna() | geom.is_empty
            x = np.where(empty, np.nan, geom.x.where(~empty))
            y = np.where(empty, np.nan, geom.y.where(~empty))
            out = out.drop(columns=[c for c in ("lon", "lat") if c in out.columns])
            out["lon"] = _num_text(x)
            out["lat"] = _num_text(y)
    out["_row"] = np.arange(1, len(out) + 1)
    return out


# ------------------------------------------------------------------ CRS
def _num_text(v: np.ndarray) -> pd.Series:
    """Floats as text with 8 decimals (about 1 mm); NaN as ""."""
    s = pd.Series(np.round(np.asarray(v, float), 8)).astype(str)
    return s.where(~np.isnan(np.asarray(v, float)), "")


def _convert_points(df: pd.DataFrame, crs: str) -> None:
    """Convert text ``lon``/``lat`` from ``crs`` to WGS-84 in place; leaves unusable values alone."""
    if crs == "wgs84" or "lon" not in df.columns or "lat" not in df.columns:
        return
    lon = pd.to_numeric(df["lon"], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(df["lat"], errors="coerce").to_numpy(float)
    ok = ~np.isnan(lon) & ~np.isnan(lat) & in_china_bbox(lon, lat)
    if not ok.any():
        return
    x, y = to_wgs84(lon[ok], lat[ok], crs)
    new_lon = df["lon"].to_numpy(object).copy()
    new_lat = df["lat"].to_numpy(object).copy()
    new_lon[ok] = _num_text(x).to_numpy()
    new_lat[ok] = _num_text(y).to_numpy()
    df["lon"] = new_lon
    df["lat"] = new_lat


def _convert_polygons(df: pd.DataFrame, crs: str) -> None:
    if crs == "wgs84" or "geometry" not in df.columns:
        return
    import shapely

    def fn(xy: np.ndarray) -> np.ndarray:
        x, y = to_wgs84(xy[:, 0], xy[:, 1], crs)
        return np.column_stack([x, y])

    df["geometry"] = shapely.transform(np.asarray(df["geometry"].to_numpy(), dtype=object), fn)


# ------------------------------------------------------------------ entry point
def read_table(spec: FileSpec, *, table: str) -> pd.DataFrame:
    """Read one input file according to its extension and spec.

    Parameters
    ----------
    spec
        The file and how to read it (``encoding``, ``sheet``, ``layer``, ``crs``).
    table
        The table it holds (``workers``, ``counties`` ...): polygon tables keep
        their geometry, the others need Point geometries in spatial files.

    Returns
    -------
    pandas.DataFrame
        Text columns (``""`` for empty cells), ``lon``/``lat`` in WGS-84 where
        the file has positions, ``geometry`` for polygon tables, and ``_row``.

    Raises
    ------
    DataError
        The file is missing, has an unknown extension, cannot be decoded, or
        the workbook / spatial file cannot be read.
    """
    path = Path(spec.path)
    if not path.exists():
        msg = f"{path}: 找不到文件 (file not found)"
        raise DataError(msg)
    if path.is_dir():
        msg = f"{path}: 是文件夹而不是文件 (is a directory, not a file)"
        raise DataError(msg)
    ext = path.suffix.lower()
    try:
        if ext in CSV_EXT:
            df = read_csv_text(path, spec.encoding)
        elif ext in EXCEL_EXT:
            df = read_excel(path, spec.sheet)
        elif ext in GIS_EXT:
            df = read_gis(path, spec.layer, polygons=table in POLYGON_TABLES)
        else:
            msg = f"{path}: 不支持的文件类型 {ext or '(无扩展名)'} (use .csv, .xlsx, .gpkg or .geojson)"
            raise DataError(msg)
    except OSError as exc:
        msg = f"{path}: 无法读取文件 (cannot read file): {exc.strerror or exc}"
        raise DataError(msg) from None
    if table in POLYGON_TABLES:
        _convert_polygons(df, spec.crs)
    else:
        _convert_points(df, spec.crs)
    log.debug("read %s: %d rows from %s", table, len(df), path)
    return df
