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
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path

from planner.errors import PlannerError, ScenarioError
from planner.scenario import DataFiles, load_scenario

#: Every table key of a scenario's [data] section.
TABLES: tuple[str, ...] = tuple(DataFiles.model_fields)
#: Chinese names of the tables, for the selectboxes and messages.
TABLE_NAMES: dict[str, str] = {
    "workers": "务工人员",
    "factories": "企业",
    "fleet": "车队",
    "vehicles": "车辆登记（号牌、驾驶员）",
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


#: Longest file name kept (characters; and at most MAX_NAME_BYTES in UTF-8): longer names are shortened.
MAX_NAME_CHARS = 100
MAX_NAME_BYTES = 200
#: Longest file name shown in a message; longer ones are shortened in the middle with '…'.
SHOWN_NAME_CHARS = 40
#: Unicode categories removed from file names: control, format (bidi overrides), surrogates, private use,
#: line and paragraph separators.
_DROPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Zl", "Zp"}


class UploadError(PlannerError, ValueError):
    """An upload that cannot be used; the message says why, in Chinese."""


def clean_name(name: str) -> str:
    """``name`` without control or invisible formatting characters, NFC-normalised, stripped."""
    text = unicodedata.normalize("NFC", str(name or ""))
    return "".join(ch for ch in text if unicodedata.category(ch) not in _DROPPED_CATEGORIES).strip()


def shown_name(name: str) -> str:
    """A file name as messages show it: cleaned (:func:`clean_name`), long ones cut in the middle with '…'."""
    s = clean_name(name)
    if len(s) <= SHOWN_NAME_CHARS:
        return s
    tail = 12
    return s[: SHOWN_NAME_CHARS - tail - 1] + "…" + s[-tail:]


def _shorten(base: str) -> str:
    """``base`` within MAX_NAME_CHARS characters and MAX_NAME_BYTES bytes, its suffix kept."""
    suffix = Path(base).suffix
    stem = base[: len(base) - len(suffix)] if suffix else base
    while stem and (len(stem) + len(suffix) > MAX_NAME_CHARS
                    or len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES):
        stem = stem[:-1]
    return stem.rstrip() + suffix


def check_name(name: str) -> str:
    """The name an uploaded file is saved under; UploadError for names that could leave the folder.

    Control and invisible formatting characters are removed and overlong names
    shortened (keeping the suffix), so a name never makes writing fail; names
    with a path separator or ``..``, hidden names and unsupported types are
    refused. Messages show the name shortened (:func:`shown_name`).
    """
    cleaned = clean_name(name)
    if not cleaned:
        raise UploadError("上传的文件没有文件名")
    shown = shown_name(cleaned)
    if "/" in cleaned or "\\" in cleaned or ".." in cleaned:
        raise UploadError(f"文件名 “{shown}” 不可用：不得包含路径分隔符（/ 或 \\）或 “..”")
    if cleaned.startswith("."):
        raise UploadError(f"文件名 “{shown}” 不可用：不得以 “.” 开头")
    suffix = Path(cleaned).suffix.lower()
    if suffix not in DATA_SUFFIXES and suffix != SCENARIO_SUFFIX:
        allowed = "、".join(s.lstrip(".").upper() for s in (SCENARIO_SUFFIX, *DATA_SUFFIXES))
        raise UploadError(f"文件 “{shown}” 的类型不支持：只接受 {allowed} 文件")
    return _shorten(cleaned)


# absolute paths with at least two parts, not inside a word (so 'km/h' and '1/2' stay)
_ABS_PATH = re.compile(r"(?<![\w.~])(?:/[^/\s\"'“”‘’()（）:：,，;；]+){2,}/?")


def public_message(text: str, hidden_dirs: Iterable[str | Path] = ()) -> str:
    """``text`` without server paths, for showing to whoever uploaded: safe to put on screen.

    Paths inside ``hidden_dirs`` (the upload folder, the project folder) lose
    that prefix, in every spelling (as given, resolved, relative to the
    working folder), so ``/srv/…/uploads/ab12/workers.csv:2`` reads
    ``workers.csv:2``; any other absolute path is cut to ``…/its-name``.
    """
    absolute: set[str] = set()
    relative: set[str] = set()
    cwd = os.getcwd()
    for d in hidden_dirs:
        for form in {os.path.abspath(d), os.path.realpath(d)}:
            absolute.add(form.rstrip("/"))
            rel = os.path.relpath(form, cwd)
            if not rel.startswith("..") and rel != ".":
                relative.add(rel)
    out = str(text)
    for form in sorted(absolute, key=len, reverse=True):  # longest first: a sub-folder before its parent
        if len(form) > 1:
            out = out.replace(form + "/", "").replace(form, "…")
    for form in sorted(relative, key=len, reverse=True):  # only as the start of a path
        out = re.sub(r"(?<![\w./])" + re.escape(form) + "/", "", out)
    return _ABS_PATH.sub(lambda m: "…/" + m.group(0).rstrip("/").rsplit("/", 1)[-1], out)


def upload_digest(files: dict[str, bytes]) -> str:
    """A short digest of the uploaded names and contents (same upload, same folder)."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode("utf-8", "surrogatepass") + b"\x00")
        h.update(hashlib.sha256(files[name]).digest())
    return h.hexdigest()[:12]


def save_uploads(files: dict[str, bytes], folder: Path, *, max_bytes: int | None = None) -> list[Path]:
    """Write the uploaded files (name -> content) into ``folder``; return their paths.

    Every name is checked before anything is written (:func:`check_name`): a
    name with a path separator or ``..`` raises :class:`UploadError`, so no
    file lands outside ``folder``. A file larger than ``max_bytes`` (the app
    passes Streamlit's ``server.maxUploadSize``) is refused with its size and
    the limit. Messages name the uploaded files only (shortened), never a
    server path.
    """
    if not files:
        raise UploadError("没有上传任何文件")
    bases: dict[str, str] = {}
    for name, content in files.items():
        base = check_name(name)
        if base.lower() in {b.lower() for b in bases.values()}:
            raise UploadError(f"文件 “{shown_name(base)}” 上传了两次")
        if max_bytes is not None and len(content) > max_bytes:
            raise UploadError(f"文件 “{shown_name(name)}” 大小为 {len(content) / 2**20:.1f} MB，"
                              f"超过上传上限 {max_bytes / 2**20:.0f} MB；请拆分成几个较小的文件，"
                              "或请管理员调高 .streamlit/config.toml 中的 server.maxUploadSize")
        bases[name] = base
    tomls = [b for b in bases.values() if b.lower().endswith(SCENARIO_SUFFIX)]
    if len(tomls) > 1:
        raise UploadError("只能上传一个情景文件（.toml），现有：" + "、".join(sorted(shown_name(b) for b in tomls)))
    folder = Path(folder)
    out = []
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for name, content in files.items():
            p = folder / bases[name]
            p.write_bytes(content)
            out.append(p)
    except OSError as exc:  # the message names the file, never the server folder
        raise UploadError(f"无法保存上传的文件 “{shown_name(name)}”：{exc.strerror or type(exc).__name__}") from None
    return out


def upload_roots(folder: Path, geodata_dir: Path, vehicle_types: Path | None = None) -> list[Path]:
    """Where an uploaded scenario may read from: its upload folder, the shipped geodata, the shipped vehicle types."""
    return [Path(folder), Path(geodata_dir)] + ([Path(vehicle_types)] if vehicle_types is not None else [])


def confine(scenario: Path, roots: Sequence[Path]) -> None:
    """Refuse an uploaded scenario whose data paths leave ``roots`` (:func:`upload_roots`).

    Absolute paths, ``..`` and links pointing out are refused; the Chinese
    message names each offending key (UploadError), no server path.
    """
    try:
        load_scenario(scenario, data_root=list(roots))
    except ScenarioError as exc:
        raise UploadError(public_message(str(exc), [Path(scenario).parent, *roots])) from None


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
    ``folder``), once every data path is checked to stay in ``folder``, the
    shipped geodata or the shipped vehicle types (:func:`confine`). Otherwise ``names`` maps each uploaded data file name to its table
    (a key of the scenario's [data] section); tables not uploaded come from the
    shipped geodata under ``geodata_dir`` and ``vehicle_types``; ``scenario.toml``
    is written into ``folder`` with paths relative to it, and returned.
    """
    folder = Path(folder)
    roots = upload_roots(folder, geodata_dir, vehicle_types)
    own = uploaded_scenario(folder)
    if own is not None:
        confine(own, roots)
        return own
    if end < start:
        raise UploadError(f"计划结束日期 {end} 早于开始日期 {start}")
    tables: dict[str, str] = {}
    for file_name, table in names.items():
        if table not in TABLES:
            raise UploadError(f"文件 “{shown_name(file_name)}” 对应的数据表 “{table}” 未知；可选：" + "、".join(TABLES))
        if table in tables:
            raise UploadError(f"数据表“{TABLE_NAMES[table]}”（{table}）有两个文件："
                              f"{shown_name(tables[table])} 和 {shown_name(file_name)}；每个表只能上传一个文件")
        if not (folder / check_name(file_name)).is_file():
            raise UploadError(f"找不到上传的文件 “{shown_name(file_name)}”")
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
    load_scenario(out, data_root=roots)  # a written file that does not load is a bug here, not the user's
    return out


def missing_data_files(scenario: Path, roots: Sequence[Path] | None = None) -> list[str]:
    """Lines naming every [data] file of ``scenario`` that does not exist (Chinese).

    With ``roots`` the scenario is first confined to them (:func:`confine`), so
    nothing outside is even looked at.
    """
    if roots is not None:
        confine(scenario, roots)
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
