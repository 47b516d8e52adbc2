"""Named scenario variants: a what-if written next to its base scenario.

A variant is a new scenario TOML beside the base (``<base stem>-<name>.toml``)
plus copies of only the data files an edit changes, in
``variants/<base stem>-<name>/``; every other data file is referenced where the
base has it. So the CLI plans a variant like any scenario
(``planner plan scenarios/demo-wanzhou-more-coaches.toml``).

The levers (keys of the ``edits`` dict, all optional):

- ``fleet``: ``{county_code: {type_id: count}}``, absolute counts (0 removes the type);
- ``occupancy``: ``{low|medium|high|low_relaxed_rule: rule, low_relaxed_from: date or None}``;
- ``isolation_rows``: ``{coach|carriage|feeder: rows}``;
- ``feeder_max_ride_h``: the longest feeder ride (hours);
- ``wait_for_fuller_coach``: bool;
- ``window``: ``{start: date, end: date}``;
- ``close``: a list of ``{region_code, from, to}``: a destination closed those days
  (appended to the risk calendar with level ``closed``);
- ``add_trains``: a list of train-service rows (the columns of ``train_services``);
- ``remove_trains``: a list of ``service_id``.

Every edit is checked before anything is written: the scenario schema (a
window end before its start names ``window.end``), the edits themselves (a
negative fleet names ``fleet.<county>.<type>``, a train with no carriages names
``add_trains[i].carriages``), then the project's own validation of the whole
variant (:func:`planner.validate.validate_scenario`) on a staged copy; a
problem raises :class:`VariantError` naming the field, and nothing is left
behind. The variant appears whole or not at all (data folder renamed into
place, then the TOML written through a temporary file and renamed).
"""

from __future__ import annotations

import os
import re
import shutil
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pandas as pd

from planner.errors import PlannerError, ScenarioError
from planner.scenario import Scenario, load_scenario

NAME_RE = re.compile(r"^[0-9A-Za-z\u4e00-\u9fff][0-9A-Za-z\u4e00-\u9fff_.-]{0,59}$")
EDIT_KEYS = ("fleet", "occupancy", "isolation_rows", "feeder_max_ride_h", "wait_for_fuller_coach", "window",
             "close", "add_trains", "remove_trains")
TRAIN_COLUMNS = ("service_id", "date", "depart_time", "origin_station_id", "destination_station_id",
                 "carriages", "carriage_type", "travel_hours")
RISK_COLUMNS = ("region_code", "from", "to", "level")
FLEET_COLUMNS = ("county_code", "type_id", "count")
ISO_KEYS = {"coach": "coach_isolation_rows", "carriage": "carriage_isolation_rows",
            "feeder": "feeder_isolation_rows"}
OCC_KEYS = ("low", "medium", "high", "low_relaxed_rule", "low_relaxed_from")


class VariantError(PlannerError, ValueError):
    """An edit would make the scenario invalid; ``fields`` names each offending field."""

    def __init__(self, message: str, fields: list[str] | None = None) -> None:
        super().__init__(message)
        self.fields = list(fields or [])


@dataclass
class Variant:
    """A variant written to disk: its TOML, its own data folder and the files copied there."""

    name: str
    path: Path
    data_dir: Path
    changed: list[str] = field(default_factory=list)


def variant_paths(base: Path, name: str, folder: Path | None = None) -> tuple[Path, Path]:
    """Where the variant ``name`` of the scenario ``base`` lives: (TOML, data folder).

    Beside the base by default; in ``folder`` when given (fleet sizing writes its probes there).
    """
    base = Path(base).resolve()
    stem = f"{base.stem}-{name}"
    where = Path(folder).resolve() if folder is not None else base.parent
    return where / f"{stem}.toml", where / "variants" / stem


# ------------------------------------------------------------------ TOML writing
def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, (date, time)):
        return v.isoformat()
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(x)}" for k, x in v.items()) + " }"
    msg = f"cannot write {type(v).__name__} to TOML"
    raise TypeError(msg)


def _toml_key(k: str) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else _toml_value(k)


def dump_toml(doc: Mapping[str, Any], header: str = "") -> str:
    """A TOML text for a scenario document (top-level scalars, then one table per section)."""
    lines = [f"# {line}" for line in header.splitlines()]
    for k, v in doc.items():
        if not isinstance(v, dict):
            lines.append(f"{_toml_key(k)} = {_toml_value(v)}")

    def section(prefix: str, body: Mapping[str, Any]) -> None:
        lines.append("")
        lines.append(f"[{prefix}]")
        nested = []
        for k, v in body.items():
            if isinstance(v, dict) and prefix != "data":
                nested.append((k, v))
            else:
                lines.append(f"{_toml_key(k)} = {_toml_value(v)}")
        for k, v in nested:
            section(f"{prefix}.{_toml_key(k)}", v)

    for k, v in doc.items():
        if isinstance(v, dict):
            section(_toml_key(k), v)
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ edits
def read_base_table(sc: Scenario, table: str, columns: tuple[str, ...] = (), *, keep_rows: bool = False
                    ) -> pd.DataFrame:
    """The scenario's table as text cells (empty with ``columns`` when it has none); ``_row`` kept on request."""
    from planner.io.readers import read_table

    spec = sc.file_specs().get(table)
    if spec is None or not Path(spec.path).exists():
        return pd.DataFrame(columns=list(columns))
    df = read_table(spec, table=table)
    return df.drop(columns=[c for c in ("geometry",) if c in df.columns] + ([] if keep_rows else ["_row"]))


def _as_int(value: object, where: str, errors: list[tuple[str, str]], minimum: int = 0) -> int | None:
    try:
        n = int(value)  # type: ignore[arg-type]
        if isinstance(value, float) and value != n:
            raise ValueError
    except (TypeError, ValueError):
        errors.append((where, f"{where} = {value!r} 不是整数 (not a whole number)"))
        return None
    if n < minimum:
        what = "不能为负数 (must not be negative)" if minimum == 0 else f"至少为 {minimum} (must be at least {minimum})"
        errors.append((where, f"{where} = {n} {what}"))
        return None
    return n


def _edit_fleet(df: pd.DataFrame, fleet: Mapping[str, Mapping[str, object]], errors: list[tuple[str, str]]
                ) -> pd.DataFrame:
    df = df[list(FLEET_COLUMNS)].astype(str).copy()
    for county, types in fleet.items():
        for type_id, count in types.items():
            n = _as_int(count, f"fleet.{county}.{type_id}", errors)
            if n is None:
                continue
            hit = (df["county_code"] == str(county)) & (df["type_id"] == str(type_id))
            df = df[~hit]
            if n > 0:
                df = pd.concat([df, pd.DataFrame([{"county_code": str(county), "type_id": str(type_id),
                                                   "count": str(n)}])], ignore_index=True)
    return df.sort_values(["county_code", "type_id"], kind="stable").reset_index(drop=True)


def _edit_trains(df: pd.DataFrame, add: list[Mapping[str, object]], remove: list[str],
                 errors: list[tuple[str, str]]) -> pd.DataFrame:
    df = df.reindex(columns=list(TRAIN_COLUMNS)).fillna("").astype(str)
    known = set(df["service_id"])
    for sid in remove:
        if str(sid) not in known:
            errors.append(("remove_trains", f"remove_trains: 没有专列车次 {sid} (no such train service)"))
    df = df[~df["service_id"].isin([str(s) for s in remove])]
    rows = []
    for i, row in enumerate(add):
        where = f"add_trains[{i}]"
        missing = [c for c in TRAIN_COLUMNS if str(row.get(c, "")).strip() == ""]
        if missing:
            errors.append((f"{where}.{missing[0]}", f"{where}.{missing[0]}: 缺少必填项 (required)"))
            continue
        if _as_int(row["carriages"], f"{where}.carriages", errors, minimum=1) is None:
            continue
        if str(row["service_id"]) in set(df["service_id"]) | {r["service_id"] for r in rows}:
            errors.append((f"{where}.service_id", f"{where}.service_id: 车次 {row['service_id']} 已存在 (duplicate)"))
            continue
        rows.append({c: (v.isoformat() if isinstance(v, (date, time)) else str(v))
                     for c, v in ((c, row[c]) for c in TRAIN_COLUMNS)})
    if rows:
        df = pd.concat([df, pd.DataFrame(rows)], ignore_index=True)
    return df.reset_index(drop=True)


def _edit_risk(df: pd.DataFrame, close: list[Mapping[str, object]], errors: list[tuple[str, str]]) -> pd.DataFrame:
    df = df.reindex(columns=list(RISK_COLUMNS)).fillna("").astype(str)
    rows = []
    for i, row in enumerate(close):
        where = f"close[{i}]"
        vals = {}
        for c in ("region_code", "from", "to"):
            v = row.get(c)
            if v in (None, ""):
                errors.append((f"{where}.{c}", f"{where}.{c}: 缺少必填项 (required)"))
                break
            vals[c] = v.isoformat() if isinstance(v, date) else str(v)
        else:
            try:
                a, b = date.fromisoformat(vals["from"]), date.fromisoformat(vals["to"])
            except ValueError:
                errors.append((f"{where}.from", f"{where}: 日期须为 YYYY-MM-DD (dates must be YYYY-MM-DD)"))
                continue
            if b < a:
                errors.append((f"{where}.to", f"{where}.to ({b}) 早于 from ({a}) (ends before it starts)"))
                continue
            rows.append({**vals, "level": "closed"})
    if rows:
        df = pd.concat([df, pd.DataFrame(rows)], ignore_index=True)
    return df.reset_index(drop=True)


def _edit_doc(doc: dict, edits: Mapping[str, Any], errors: list[tuple[str, str]]) -> None:
    """Apply the scenario-key levers to the TOML document ``doc`` in place."""
    if "window" in edits:
        w = doc.setdefault("window", {})
        for k in ("start", "end"):
            if k in edits["window"]:
                w[k] = edits["window"][k]
    if "occupancy" in edits:
        occ = doc.setdefault("occupancy", {})
        for k, v in edits["occupancy"].items():
            if k not in OCC_KEYS:
                errors.append((f"occupancy.{k}", f"occupancy.{k}: 未知的键 (unknown key)"))
            elif v is None:
                occ.pop(k, None)
            else:
                occ[k] = v
    if "isolation_rows" in edits:
        occ = doc.setdefault("occupancy", {})
        for k, v in edits["isolation_rows"].items():
            if k not in ISO_KEYS:
                errors.append((f"isolation_rows.{k}", f"isolation_rows.{k}: 未知的车辆类别 (coach/carriage/feeder)"))
                continue
            n = _as_int(v, f"occupancy.{ISO_KEYS[k]}", errors)
            if n is not None:
                occ[ISO_KEYS[k]] = n
    if "feeder_max_ride_h" in edits:
        doc.setdefault("feeders", {})["max_ride_h"] = edits["feeder_max_ride_h"]
    if "wait_for_fuller_coach" in edits:
        doc.setdefault("solver", {})["wait_for_fuller_coach"] = bool(edits["wait_for_fuller_coach"])


def _schema_errors(doc: dict) -> list[tuple[str, str]]:
    from pydantic import ValidationError

    try:
        Scenario.model_validate(doc)
    except ValidationError as exc:
        out = []
        for e in exc.errors():
            loc = ".".join(str(x) for x in e["loc"]) or "(top level)"
            msg = e["msg"].removeprefix("Value error, ")
            if loc == "window" and "window.end" in msg:
                loc = "window.end"  # the ordering check names the end as the field to change
            out.append((loc, f"{loc}: {msg} (got {e.get('input')!r})" if e["type"] != "value_error"
                        else f"{loc}: {msg}"))
        return out
    return []


def _error(errors: list[tuple[str, str]]) -> VariantError:
    lines = "\n".join(f"  {m}" for _f, m in errors)
    return VariantError(f"情景变体无效，未写出 (variant refused, nothing written):\n{lines}", [f for f, _m in errors])


def _rel(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start)).as_posix()


def write_variant(base: str | Path, name: str, edits: Mapping[str, Any], *, overwrite: bool = False,
                  folder: str | Path | None = None, tables: Mapping[str, pd.DataFrame] | None = None) -> Variant:
    """Write the variant ``name`` of the scenario file ``base`` with ``edits`` (see the module docstring).

    ``folder``: write it there instead of beside the base (data paths are made relative to it).
    ``tables``: whole data tables to use instead of the base's (text cells, the columns of
    docs/data-format.md), e.g. a county's workers only; the edits apply on top of them.

    Raises
    ------
    VariantError
        An edit is invalid (its fields named); nothing is written.
    ScenarioError
        The base scenario cannot be read.
    """
    base = Path(base).resolve()
    if not NAME_RE.match(name or ""):
        raise VariantError(f"变体名称 {name!r} 无效：只能用字母、数字、汉字、-、_、.，不超过 60 个字符 (bad variant name)",
                           ["name"])
    unknown = [k for k in edits if k not in EDIT_KEYS]
    if unknown:
        raise _error([(k, f"{k}: 未知的调整项 (unknown lever; known: {', '.join(EDIT_KEYS)})") for k in unknown])
    sc = load_scenario(base)
    doc = tomllib.loads(base.read_text(encoding="utf-8-sig"))
    toml_path, data_dir = variant_paths(base, name, None if folder is None else Path(folder))
    if not overwrite and (toml_path.exists() or data_dir.exists()):
        raise VariantError(f"变体 {name} 已存在：{toml_path.name}（请换一个名称）(variant exists)", ["name"])
    errors: list[tuple[str, str]] = []
    _edit_doc(doc, edits, errors)
    given = dict(tables or {})
    tables = {k: v.drop(columns=[c for c in ("_row", "geometry") if c in v.columns]) for k, v in given.items()}

    def current(name: str, columns: tuple[str, ...]) -> pd.DataFrame:
        return tables[name] if name in tables else read_base_table(sc, name, columns)

    if "fleet" in edits:
        tables["fleet"] = _edit_fleet(current("fleet", FLEET_COLUMNS), edits["fleet"], errors)
    if "add_trains" in edits or "remove_trains" in edits:
        tables["train_services"] = _edit_trains(current("train_services", TRAIN_COLUMNS),
                                                list(edits.get("add_trains") or []),
                                                list(edits.get("remove_trains") or []), errors)
    if "close" in edits:
        tables["risk_calendar"] = _edit_risk(current("risk_calendar", RISK_COLUMNS),
                                             list(edits["close"]), errors)
    # every data path: as the base has it, made relative to the variant's folder (the same folder)
    data = doc.setdefault("data", {})
    for key, spec in sc.file_specs().items():
        if key in tables:
            continue
        if key in data:
            entry = data[key] if isinstance(data[key], dict) else {"path": data[key]}
            p = Path(entry["path"])
            if not p.is_absolute():
                entry = {**entry, "path": _rel(base.parent / p, toml_path.parent)}
            data[key] = entry["path"] if set(entry) == {"path"} else entry
        else:  # generated by [synth]: reference the generated file itself
            data[key] = _rel(Path(spec.path), toml_path.parent)
    for section, key in (("roads", "network"), ("roads", "cache_dir"), ("synth", "cache_dir"),
                         ("synth", "geodata_dir")):
        block = doc.get(section)
        default = {"cache_dir": Path(".cache/roads") if section == "roads" else Path(".cache/synth"),
                   "geodata_dir": Path("../geodata"), "network": None}[key]
        if block is None or (key == "network" and not block.get(key)):
            continue
        raw = Path(block.get(key) or default)
        if not raw.is_absolute():
            block[key] = _rel(base.parent / raw, toml_path.parent)
    errors += _schema_errors({**doc, "data": {**data, **{k: f"{k}.csv" for k in tables}}})
    if errors:
        raise _error(errors)
    # stage: data folder and TOML under temporary names, validated there, then renamed into place
    made_parent = not data_dir.parent.exists()
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    stage = data_dir.with_name(f".{data_dir.name}.{os.getpid()}.tmp")
    shutil.rmtree(stage, ignore_errors=True)
    stage_toml = toml_path.with_name(f".{toml_path.stem}.{os.getpid()}.tmp.toml")
    try:
        stage.mkdir()
        for key, frame in tables.items():
            frame.to_csv(stage / f"{key}.csv", index=False, encoding="utf-8")
        header = (f"情景变体 {name}（基于 {base.name}）(scenario variant of {base.name})\n"
                  f"调整 (edits): {', '.join(edits) or '无'}；由 planner.variant 写出")
        staged_doc = {**doc, "data": {**data, **{k: _rel(stage / f"{k}.csv", toml_path.parent) for k in tables}}}
        staged_doc["name"] = f"{sc.name}（{name}）"
        stage_toml.write_text(dump_toml(staged_doc, header), encoding="utf-8")
        problems = _validation_errors(stage_toml, set(tables))
        if problems:
            raise _error(problems)
        if overwrite:
            shutil.rmtree(data_dir, ignore_errors=True)
        final_doc = {**staged_doc, "data": {**data, **{k: _rel(data_dir / f"{k}.csv", toml_path.parent)
                                                       for k in tables}}}
        os.replace(stage, data_dir)
        stage_toml.write_text(dump_toml(final_doc, header), encoding="utf-8")
        with open(stage_toml, "rb") as f:
            os.fsync(f.fileno())
        os.replace(stage_toml, toml_path)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        stage_toml.unlink(missing_ok=True)
        if made_parent and not any(data_dir.parent.iterdir()):
            data_dir.parent.rmdir()
        raise
    return Variant(name, toml_path, data_dir, sorted(tables))


def _validation_errors(toml_path: Path, changed: set[str]) -> list[tuple[str, str]]:
    """Problems the project's validation finds that the edit caused: scenario conflicts, unusable or rejected rows of the tables it changed."""
    from planner.loader import load_and_validate

    try:
        _sc, res = load_and_validate(toml_path)
    except ScenarioError as exc:
        return [("scenario", str(exc))]
    out = []
    for p in res.problems:
        table = next((t for t, f in res.files.items() if f == p.file), None)
        if p.code == "scenario_conflict":
            out.append((p.column or "scenario", f"{p.column}: {p.message}"))
        elif table in changed and p.severity in ("fatal", "error"):
            where = f"{table}" + (f" 第 {p.row} 行" if p.row else "") + (f" {p.column}" if p.column else "")
            out.append((f"{table}.{p.column or ''}".rstrip("."), f"{where}: {p.message}"))
    return out


def list_variants(base: str | Path) -> list[Path]:
    """The variant TOML files written next to ``base`` (``<stem>-*.toml`` with a data folder or a variant header)."""
    base = Path(base).resolve()
    out = []
    for p in sorted(base.parent.glob(f"{base.stem}-*.toml")):
        try:
            head = p.read_text(encoding="utf-8")[:200]
        except OSError:
            continue
        if "planner.variant" in head:
            out.append(p)
    return out
