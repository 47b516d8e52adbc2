"""Uploaded data for the app's 计划 page: save the files, write or pick a scenario.

No Streamlit here, so the logic is testable on its own. A county planner uploads
either a scenario file (``.toml``) together with the data files it names, or only
data files (workers, factories, fleet, optionally train services, risk calendar,
vehicle types, ...); then :func:`scenario_for_uploads` writes ``scenario.toml``
that reads the uploaded tables and takes everything else from the shipped
geodata. Every message is Simplified Chinese.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import date
from pathlib import Path

from planner.errors import PlannerError
from planner.scenario import DataFiles, load_scenario

#: Every table key of a scenario's [data] section.
TABLES: tuple[str, ...] = tuple(DataFiles.model_fields)
#: Chinese names of the tables, for the selectboxes and messages.
TABLE_NAMES: dict[str, str] = {
    "workers": "务工人员",
    "factories": "企业",
    "fleet": "车队",
    "train_services": "专列车次",
    "risk_calendar": "风险等级日历",
    "vehicle_types": "车型",
    "villages": "村",
    "hubs": "枢纽（客运站、火车站）",
    "counties": "区县边界",
    "stations": "到达站",
    "receiving_counties": "接收地区县边界",
}
#: Tables a scenario written for uploads must have from the upload.
REQUIRED = ("workers", "factories", "fleet")
DATA_SUFFIXES = (".csv", ".xlsx", ".geojson", ".json", ".gpkg")
SCENARIO_SUFFIX = ".toml"
SCENARIO_FILE = "scenario.toml"
#: First line of a scenario written here (so it is never taken for an uploaded one).
GENERATED_MARK = "# 由网页上传的数据生成"

#: Shipped geodata, relative to the geodata folder: used for tables not uploaded.
GEODATA = {
    "villages": "chongqing/villages.gpkg",
    "counties": "chongqing/counties.gpkg",
    "hubs": "chongqing/hubs.csv",
    "stations": "receiving/stations.csv",
    "receiving_counties": "receiving/counties.gpkg",
}


class UploadError(PlannerError, ValueError):
    """An upload that cannot be used; the message says why, in Chinese."""


def check_name(name: str) -> str:
    """The base name of an uploaded file; UploadError for names that could leave the folder."""
    if not name or not name.strip():
        raise UploadError("上传的文件没有文件名")
    if "/" in name or "\\" in name or ".." in name or "\x00" in name:
        raise UploadError(f"文件名 “{name}” 不可用：不得包含路径分隔符（/ 或 \\）或 “..”")
    base = Path(name).name
    if base in ("", ".") or base.startswith("."):
        raise UploadError(f"文件名 “{name}” 不可用：不得以 “.” 开头")
    suffix = Path(base).suffix.lower()
    if suffix not in DATA_SUFFIXES and suffix != SCENARIO_SUFFIX:
        allowed = "、".join(s.lstrip(".").upper() for s in (SCENARIO_SUFFIX, *DATA_SUFFIXES))
        raise UploadError(f"文件 “{name}” 的类型不支持：只接受 {allowed} 文件")
    return base


def upload_digest(files: dict[str, bytes]) -> str:
    """A short digest of the uploaded names and contents (same upload, same folder)."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode("utf-8", "surrogatepass") + b"\x00")
        h.update(hashlib.sha256(files[name]).digest())
    return h.hexdigest()[:12]


def save_uploads(files: dict[str, bytes], folder: Path) -> list[Path]:
    """Write the uploaded files (name -> content) into ``folder``; return their paths.

    Every name is checked before anything is written: a name with a path separator
    or ``..`` raises :class:`UploadError`, so no file lands outside ``folder``.
    """
    if not files:
        raise UploadError("没有上传任何文件")
    bases: dict[str, str] = {}
    for name in files:
        base = check_name(name)
        if base.lower() in {b.lower() for b in bases.values()}:
            raise UploadError(f"文件 “{base}” 上传了两次")
        bases[name] = base
    tomls = [b for b in bases.values() if b.lower().endswith(SCENARIO_SUFFIX)]
    if len(tomls) > 1:
        raise UploadError("只能上传一个情景文件（.toml），现有：" + "、".join(sorted(tomls)))
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for name, content in files.items():
        p = folder / bases[name]
        p.write_bytes(content)
        out.append(p)
    return out


def guess_table(file_name: str) -> str | None:
    """The table a data file is, from its name (``workers.csv`` -> workers); None if unknown."""
    p = Path(file_name)
    if p.suffix.lower() not in DATA_SUFFIXES:
        return None
    stem = p.stem.strip().lower().replace("-", "_").replace(" ", "_")
    return stem if stem in TABLES else None


def uploaded_scenario(folder: Path) -> Path | None:
    """The uploaded scenario file in ``folder`` (not one written by this module), if any."""
    tomls = sorted(p for p in Path(folder).glob("*") if p.suffix.lower() == SCENARIO_SUFFIX
                   and not p.read_bytes().startswith(GENERATED_MARK.encode("utf-8")))
    if len(tomls) > 1:
        raise UploadError("只能上传一个情景文件（.toml），现有：" + "、".join(p.name for p in tomls))
    return tomls[0] if tomls else None


def _rel(path: Path, start: Path) -> str:
    """``path`` relative to ``start`` (POSIX separators); absolute when no relative path exists."""
    try:
        return Path(os.path.relpath(Path(path).resolve(), Path(start).resolve())).as_posix()
    except ValueError:  # another drive on Windows
        return Path(path).resolve().as_posix()


def _toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)  # a JSON string is a valid TOML basic string


def scenario_for_uploads(folder: Path, names: dict[str, str], start: date, end: date, name: str,
                         geodata_dir: Path, vehicle_types: Path) -> Path:
    """The scenario file for the uploads in ``folder``.

    When a ``.toml`` was uploaded it is used as is (its relative paths point inside
    ``folder``). Otherwise ``names`` maps each uploaded data file name to its table
    (a key of the scenario's [data] section); tables not uploaded come from the
    shipped geodata under ``geodata_dir`` and ``vehicle_types``; ``scenario.toml``
    is written into ``folder`` with paths relative to it, and returned.
    """
    folder = Path(folder)
    own = uploaded_scenario(folder)
    if own is not None:
        return own
    if end < start:
        raise UploadError(f"计划结束日期 {end} 早于开始日期 {start}")
    tables: dict[str, str] = {}
    for file_name, table in names.items():
        if table not in TABLES:
            raise UploadError(f"文件 “{file_name}” 对应的数据表 “{table}” 未知；可选：" + "、".join(TABLES))
        if table in tables:
            raise UploadError(f"数据表“{TABLE_NAMES[table]}”（{table}）有两个文件："
                              f"{tables[table]} 和 {file_name}；每个表只能上传一个文件")
        if not (folder / check_name(file_name)).is_file():
            raise UploadError(f"找不到上传的文件 “{file_name}”")
        tables[table] = check_name(file_name)
    missing = [t for t in REQUIRED if t not in tables]
    if missing:
        raise UploadError("缺少必需的数据：" + "、".join(f"{TABLE_NAMES[t]}（{t}）" for t in missing)
                          + "。请上传这些文件，或为未识别的文件选择对应的数据表。")
    paths: dict[str, str] = {}
    for table in TABLES:
        if table in tables:
            paths[table] = tables[table]
        elif table in GEODATA:
            paths[table] = _rel(Path(geodata_dir) / GEODATA[table], folder)
        elif table == "vehicle_types":
            paths[table] = _rel(Path(vehicle_types), folder)
    title = name.strip() or f"上传数据 {start:%Y-%m-%d}"
    listed = "、".join(f"{TABLE_NAMES[t]} {f}" for t, f in tables.items())
    lines = [
        GENERATED_MARK + "（app.py 计划页）：上传的表在本文件夹，其余为随程序提供的地理数据。",
        f"name = {_toml_str(title)}",
        f"description = {_toml_str('上传的数据：' + listed)}",
        "",
        "[window]",
        f"start = {start.isoformat()}",
        f"end = {end.isoformat()}",
        "",
        "[data]",
        *(f"{t} = {_toml_str(p)}" for t, p in paths.items()),
        "",
    ]
    out = folder / SCENARIO_FILE
    out.write_text("\n".join(lines), encoding="utf-8")
    load_scenario(out)  # a written file that does not load is a bug here, not the user's
    return out


def missing_data_files(scenario: Path) -> list[str]:
    """Lines naming every [data] file of ``scenario`` that does not exist (Chinese)."""
    sc = load_scenario(scenario)
    out = []
    for table, spec in sc.file_specs().items():
        if sc.synth is not None and table in ("workers", "factories", "fleet", "train_services",
                                              "risk_calendar") and getattr(sc.data, table) is None:
            continue  # generated on first use
        if not Path(spec.path).exists():
            raw = getattr(sc.data, table).path
            out.append(f"[data] {table} = “{raw}”：找不到文件（上传的文件都放在同一个文件夹，"
                       f"情景文件中请只写文件名，例如 “{Path(raw).name}”，并一并上传该文件）")
    return out
