"""The plan format: the one declaration of a plan directory's files, columns, types and meaning.

Like :mod:`planner.schemas` for the inputs, this module is the single source:
the writer (:mod:`planner.plan_writer`) formats its tables with it, every reader
(the checker, the documents, the app, ``planner trace``) goes through
:func:`read_plan`, and ``docs/plan-format.md`` is generated from it by
``tools/gen_plan_format_doc.py`` (a test keeps the two equal).

A plan directory is complete when ``summary.json`` lists every plan file with
its sha256 (``files``) and each file on disk has that checksum. A directory
killed halfway, or holding files of two runs, fails :func:`read_plan` with a
message naming the file, instead of being read as a plan. The writer makes a
directory complete before it becomes visible (:mod:`planner.plan_dir`).

The facts derived from a plan that several tools need (the trunk trips, the
township-direct coaches) are defined here once too (:func:`trunk_trips`,
:func:`direct_coach_ids`); the checker's *rules* stay its own.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from planner.errors import PlanFormatError
from planner.vocab import OCCUPANCY_RULES

TZ = "Asia/Shanghai"
FORMAT_VERSION = 2
SUMMARY_FILE = "summary.json"
GPKG_FILE = "plan.gpkg"

# ------------------------------------------------------------------ value sets
MODES: tuple[str, ...] = ("feeder", "coach", "train")
TRUNK_MODES: tuple[str, ...] = ("coach", "train")  # the inter-provincial vehicles (省际大巴, 专列车厢)
PURPOSES: tuple[str, ...] = ("passenger", "empty_return")
PLACE_KINDS: tuple[str, ...] = ("village", "pickup", "hub", "station", "factory", "rest")
PICKUP_KINDS: tuple[str, ...] = ("village", "pickup")  # where a township-direct coach takes people on
STATUSES: tuple[str, ...] = ("planned", "unassigned")
CHAINS: tuple[str, ...] = ("direct", "hub_coach", "train")
REST_PLACE_ID = "REST"
# literal strings that mean a missing value leaked into a file (format drift): cells must be empty instead
NULL_LITERALS: frozenset[str] = frozenset({"NaT", "nan", "NaN", "None", "<NA>"})


class Column(NamedTuple):
    """One column of a plan table.

    ``kind``: ``str``, ``int``, ``float``, ``time`` (ISO 8601 with offset),
    ``date`` (YYYY-MM-DD), ``code`` (division code, digits as text), ``place``
    (a place id), ``places`` (``;``-separated place ids) or ``enum`` (one of
    ``values``). ``required``: readers refuse a file without it; optional
    columns read as empty when absent (files written before they existed).
    """

    name: str
    kind: str
    meaning: str
    values: tuple[str, ...] = ()
    required: bool = True


class PlanTable(NamedTuple):
    """One CSV file of a plan directory."""

    name: str
    title: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]  # the columns that identify a row
    note: str = ""

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    def names(self) -> list[str]:
        """Column names in file order."""
        return [c.name for c in self.columns]

    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]

    def of_kind(self, *kinds: str) -> list[str]:
        return [c.name for c in self.columns if c.kind in kinds]


TABLES: dict[str, PlanTable] = {t.name: t for t in (
    PlanTable("trips", "one row per vehicle trip", (
        Column("trip_id", "str", "unique; `C…` coach, `F…` feeder, `T…` train carriage, `E…` empty return"),
        Column("mode", "enum", "", MODES),
        Column("purpose", "enum", "an empty return carries nobody back to the home county", PURPOSES),
        Column("vehicle_type", "str", "`type_id` of the vehicle types table"),
        Column("vehicle_id", "str", "one physical vehicle (coach, feeder bus) or one carriage of one service; "
                                    "a vehicle's trips never overlap in time"),
        Column("home_county_code", "code", "county the vehicle belongs to (empty for train carriages)"),
        Column("service_id", "str", "train service (train carriages only)"),
        Column("occupancy_rule", "enum", "seat pattern in force for this trip", OCCUPANCY_RULES),
        Column("seats_rated", "int", "rated seats of the vehicle type"),
        Column("seats_allowed", "int", "seats the pattern allows, isolation rows excluded"),
        Column("origin_id", "place", "where the trip starts"),
        Column("depart", "time", "departure from the origin"),
        Column("destination_ids", "places", "drop points in drop order"),
        Column("arrive", "time", "arrival at the last destination"),
        Column("distance_km", "float", "length of the trip"),
        Column("drivers", "int", "drivers on board (0 for train carriages)"),
        Column("passengers", "int", "people who board this trip"),
        Column("leader_worker_id", "str",
               "`worker_id` of the passenger named group leader (带队人) of the vehicle, one per coach or "
               "carriage as the 2020 notices asked; the arrival manifest prints their name. Empty for feeders "
               "and empty returns", required=False),
    ), ("trip_id",)),
    PlanTable("stops", "every call of every trip, in order", (
        Column("trip_id", "str", ""),
        Column("seq", "int", "1, 2, … in the order the vehicle calls"),
        Column("place_id", "place", "`REST` for a rest stop"),
        Column("place_kind", "enum", "`rest` is a driver rest stop (no boarding)", PLACE_KINDS),
        Column("arrive", "time", "empty at the first stop"),
        Column("depart", "time", "empty at the last stop"),
        Column("boarding", "int", "people boarding here"),
        Column("alighting", "int", "people alighting here"),
        Column("distance_km", "float", "distance driven from the previous stop (0 at the first)"),
    ), ("trip_id", "seq"),
        "Between two consecutive stops the vehicle is driving; at a stop it is not. The checker\n"
        "reads driver rules from this: each driving stretch (depart of one stop to arrive at the\n"
        "next) respects the continuous-driving limit and the 02:00-05:00 stop, and every rest\n"
        "stop lasts at least the minimum rest."),
    PlanTable("legs", "one row per worker per leg", (
        Column("worker_id", "str", ""),
        Column("leg", "int", "1, 2, … in travel order"),
        Column("trip_id", "str", ""),
        Column("seat", "str", "row number then seat letter, e.g. `3A`; rows count from the front (1), "
                              "letters from the left (`A`)"),
        Column("board_place_id", "place", ""),
        Column("board_time", "time", "the vehicle's departure from that place"),
        Column("alight_place_id", "place", ""),
        Column("alight_time", "time", "the vehicle's arrival at that place"),
    ), ("worker_id", "leg")),
    PlanTable("workers", "one row per worker row read, planned or not", (
        Column("source_row", "int", "row of the worker in the input file (header = row 1)"),
        Column("worker_id", "str", "as read (may be empty or duplicated for rejected rows)"),
        Column("status", "enum", "", STATUSES),
        Column("reason", "str", "why unassigned (see below); empty when planned"),
        Column("reason_detail", "str", "the validation code or other detail", required=False),
        Column("village_code", "code", "origin village (12 digits)"),
        Column("township_code", "code", "its township (9 digits)"),
        Column("county_code", "code", "its county (6 digits)"),
        Column("factory_id", "str", ""),
        Column("chain", "enum", "how the worker travels (planned only): township-direct coach, feeder + hub "
                                "coach, feeder + train carriage", CHAINS),
        Column("depart_day", "date", "day the inter-provincial vehicle leaves"),
        Column("planned_arrival", "time", "arrival at the factory gate or the arrival station"),
        Column("group_id", "str", "family group, when given", required=False),
    ), ("source_row",)),
)}
# Optional files of a plan directory: written only for some plans (a replanned one), read with read_report_table.
# When summary.json lists one, its checksum is verified like any plan file; when it does not (written beside an
# existing plan by `planner changes`), the plan's identity (plan_id) stays that of the plan files alone.
CHANGE_KINDS: tuple[str, ...] = ("added", "removed", "moved")
REPORT_TABLES: dict[str, PlanTable] = {t.name: t for t in (
    PlanTable("changes", "one row per worker whose plan changed against the base plan (a replanned plan)", (
        Column("worker_id", "str", ""),
        Column("township_code", "code", "the worker's township: the official who phones them"),
        Column("change", "enum", "`added`: has a seat now and had none; `removed`: had a seat and has none; "
                                 "`moved`: another trip or seat on some leg", CHANGE_KINDS),
        Column("old_trip_id", "str", "the base plan's trips of the worker, one per leg in travel order, "
                                     "`;`-separated (empty when added)"),
        Column("new_trip_id", "str", "the new plan's trips, likewise (empty when removed)"),
        Column("old_seat", "str", "the base plan's seats, one per leg, `;`-separated"),
        Column("new_seat", "str", "the new plan's seats, likewise"),
        Column("reason", "str", "why: an unassigned reason of the new plan (see below, e.g. `fever_at_boarding`), "
                                "`cancelled` (no longer registered), `new_registration`, `newly_planned` "
                                "(was unassigned), or `replanned`"),
    ), ("worker_id",),
        "Written by `planner.store.changes.write_changes` (`planner replan` and\n"
        "`planner changes OLD NEW`). Sorted by township, change and worker; township and province\n"
        "change lists (Excel and PDF, `变更名单_…`) are made from it by `planner changes OLD NEW --out DIR`."),
)}
# every file a plan directory must hold and its summary must list; the writer also writes and lists plan.gpkg
REQUIRED_FILES: tuple[str, ...] = tuple(t.file for t in TABLES.values())
PLAN_FILES: tuple[str, ...] = (*REQUIRED_FILES, GPKG_FILE)


class GpkgLayer(NamedTuple):
    """One layer of ``plan.gpkg``."""

    name: str
    geometry: str
    attributes: str


GPKG_LAYERS: tuple[GpkgLayer, ...] = (
    GpkgLayer("trips", "LineString through the trip's places (rest stops left out)",
              "the columns of `trips.csv`"),
    GpkgLayer("places", "Point", "`place_id`, `place_kind`, `name`, `boarding`, `alighting`"),
    GpkgLayer("rest_stops", "Point, approximate",
              "`trip_id`, `seq`, `arrive`, `depart`, `km_from_origin`: the plan knows how far along its road a "
              "rest stop lies, not which service area it is, so the point is placed that share of the way along "
              "the trip's line"),
)


# summary.json: top-level keys and what they hold (planner.plan_writer.build_summary builds them; a new key
# is declared here too, so docs/plan-format.md lists it)
SUMMARY_KEYS: dict[str, str] = {
    "scenario": "`name`, `path` and `checksum` (sha256 prefix of the scenario file's bytes) of the scenario "
                "planned; the checker compares the checksum with the scenario it is given before anything else",
    "workers": "`read`, `rejected_input`, `eligible`, `planned`, `unassigned`, `unassigned_by_reason` "
               "(reason -> count), `planned_by_chain` (chain -> count)",
    "departures": "`coach`, `direct_coach`, `hub_coach`, `train_carriage`, `feeder`: passenger trips "
                  "(`direct_coach`: coaches taking people on in a village, see below)",
    "vehicle_km": "`coach`, `coach_empty_return`, `feeder`",
    "seats": "`used`, `allowed` and `fill` of the trunk trips (coaches and train carriages)",
    "mean_villages_per_vehicle": "villages whose workers share a trunk vehicle, on average",
    "lower_bound": "`coach_departures`, `coach_departures_planned`, `gap`, `gap_pct`, `how`: a lower bound on "
                   "coach departures and the plan's distance from it",
    "throughput_bound": "`total` (`bound`, `planned`, `gap`, `gap_pct`, `train_seats_usable`), `by_county.<code>` "
                        "(`bound`, `coach_only`, `movable`, `planned`, `gap`, `gap_pct`, `coaches`, "
                        "`shortest_cycle_days`) and `how`: the most workers any plan the checker accepts could move "
                        "(a per-county LP over coach-days, docs/planner.md), and the plan's distance from it",
    "hub_waits": "`transfers`, `median_min`, `p90_min`, `max_min`, `over_2h`, `over_4h`, `share_over_2h`, "
                 "`share_over_4h`, `limit_min` (hub.max_wait_min), `over_limit`: minutes from alighting a feeder "
                 "to boarding the trunk vehicle at the hub (\"over\" is strictly greater)",
    "plan_quality": "`coach_days`, `coach_days_on_road`, `coach_days_on_road_share`, `coach_days_idle_while_waiting`, "
                    "`county_days_with_idle_coach_and_waiting`, `coach_trips`, `part_filled_coach_trips`, "
                    "`part_filled_mean_passengers`, `part_filled_mean_seats_allowed`, `empty_seats`, "
                    "`throughput_gap`, `throughput_gap_pct`, `coach_departures`, `coach_departure_bound`, "
                    "`departure_gap_pct`: what a county planner judges a plan by",
    "wall_time_s": "seconds per stage (`load`, `solve`, `write`, `check`, …)",
    "peak_memory_mb": "peak resident memory of the planning process",
    "warnings": "loud warnings about the input the plan was made from (a register with a header only, a fleet "
                "of zero coaches: why nobody moves), in Chinese; empty when there are none",
    "format_version": f"version of this format ({FORMAT_VERSION})",
    "files": "every plan file with its `sha256` and `bytes`: the directory is complete when each file on disk "
             "has the listed checksum",
}


# ------------------------------------------------------------------ writing
def iso_time(t: object) -> str:
    """A time as ISO 8601 with its +08:00 offset, or "" for none (never a literal ``NaT``)."""
    if t is None or (not isinstance(t, str) and pd.isna(t)):
        return ""
    if isinstance(t, str):
        return t
    if isinstance(t, pd.Timestamp):
        t = t.to_pydatetime()
    if isinstance(t, datetime):
        return t.isoformat(timespec="seconds")
    return str(t)


def iso_date(d: object) -> str:
    """A date as YYYY-MM-DD, or "" for none."""
    if d is None or (not isinstance(d, str) and pd.isna(d)):
        return ""
    if isinstance(d, str):
        return d
    return d.isoformat()[:10] if hasattr(d, "isoformat") else str(d)


def format_table(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """The table as its CSV holds it: declared columns in order, times ISO, every missing value an empty cell.

    Raises PlanFormatError when a required column is missing (a writer bug, said plainly).
    """
    spec = TABLES[name]
    missing = [c for c in spec.required() if c not in df.columns]
    if missing:
        msg = f"{spec.file}: 写出时缺少列 {', '.join(missing)} (writer is missing columns)"
        raise PlanFormatError(msg)
    out = pd.DataFrame(index=df.index)
    for col in spec.columns:
        if col.name not in df.columns:
            out[col.name] = ""
            continue
        s = df[col.name]
        if col.kind == "time":
            out[col.name] = s.map(iso_time).astype(object)
        elif col.kind == "date":
            out[col.name] = s.map(iso_date).astype(object)
        elif col.kind == "int":
            out[col.name] = pd.to_numeric(s.astype(object).where(s.notna(), None)).astype("Int64")
        elif col.kind == "float":
            out[col.name] = pd.to_numeric(s.astype(object).where(s.notna(), None)).astype(float)
        else:
            out[col.name] = s.astype(object).where(s.notna(), "").astype(str)
    return out.reset_index(drop=True)


def write_table(path: Path, name: str, df: pd.DataFrame) -> None:
    """Write one plan table as UTF-8 CSV in the declared format."""
    format_table(name, df).to_csv(path, index=False, encoding="utf-8")


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def plan_id(summary: dict) -> str:
    """A plan version's identity: the first 16 hex digits of the sha256 of its ``files`` list.

    Any change to any plan file changes it; the same files give the same id on
    every machine. '' when the summary lists no files.
    """
    files = (summary or {}).get("files")
    if not isinstance(files, dict):
        return ""
    text = json.dumps({k: files[k].get("sha256") if isinstance(files[k], dict) else None for k in sorted(files)})
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def file_manifest(plan_dir: Path, files: Iterable[str] = PLAN_FILES) -> dict[str, dict]:
    """``summary.json``'s ``files``: for each plan file its sha256 and size in bytes."""
    plan_dir = Path(plan_dir)
    return {f: {"sha256": sha256_file(plan_dir / f), "bytes": (plan_dir / f).stat().st_size} for f in files}


# ------------------------------------------------------------------ reading
class FormatIssue(NamedTuple):
    """A place where a file departs from the declared format (the checker's ``plan_format`` rule)."""

    file: str
    column: str
    message: str


@dataclass
class PlanFiles:
    """The tables of one plan directory, typed (times tz-aware Asia/Shanghai).

    ``issues`` lists format drift found while reading (cells of the wrong type,
    literal ``NaT``, unknown columns, a summary without a file list); readers
    other than the checker may ignore them.
    """

    trips: pd.DataFrame
    stops: pd.DataFrame
    legs: pd.DataFrame
    workers: pd.DataFrame
    summary: dict
    issues: list[FormatIssue] = field(default_factory=list)
    path: Path | None = None

    def tables(self) -> dict[str, pd.DataFrame]:
        """The four tables by name."""
        return {"trips": self.trips, "stops": self.stops, "legs": self.legs, "workers": self.workers}

    @property
    def plan_id(self) -> str:
        """The identity of this plan version ('' when the summary lists no files): see :func:`plan_id`."""
        return plan_id(self.summary)

    @property
    def scenario_checksum(self) -> str:
        """The checksum of the scenario file the plan was made from ('' when not recorded)."""
        sc = (self.summary or {}).get("scenario") or {}
        return str(sc.get("checksum") or "") if isinstance(sc, dict) else ""


def parse_times(s: pd.Series) -> pd.Series:
    """ISO 8601 times with an offset to tz-aware Asia/Shanghai timestamps; empty -> NaT.

    Unparseable values become NaT too (type_table reports them as format issues).
    """
    s = s.astype(str)
    blank = s.isin(["", *NULL_LITERALS])
    vals = s[~blank]
    if len(vals) and bool(vals.str.endswith("+08:00").all()) and bool((vals.str.len() == 25).all()):
        naive = pd.to_datetime(vals.str.slice(0, 19), format="%Y-%m-%dT%H:%M:%S", errors="coerce")
        out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
        out[~blank] = naive
        return out.dt.tz_localize(TZ)
    t = pd.to_datetime(s.where(~blank, None), format="ISO8601", utc=True, errors="coerce")
    return t.dt.tz_convert(TZ)


def _issue(issues: list[FormatIssue] | None, spec: PlanTable, col: str, bad: pd.Series, raw: pd.Series,
           what: str) -> None:
    if issues is None or not bool(bad.any()):
        return
    rows = np.flatnonzero(bad.to_numpy()) + 2  # header = row 1
    examples = ", ".join(f"第 {r} 行 '{v}'" for r, v in zip(rows[:3], raw[bad].head(3)))
    issues.append(FormatIssue(spec.file, col, f"{spec.file} 列 {col}：{int(bad.sum()):,} 个单元格{what}（{examples}）"))


def type_table(name: str, df: pd.DataFrame, issues: list[FormatIssue] | None = None, *,
               only: Iterable[str] | None = None) -> pd.DataFrame:
    """Give the string columns of one plan table their types (in place, returns df).

    With ``issues``, cells that do not match their column's type (and literal
    ``NaT``/``nan`` where the format says empty) are appended to it. ``only``: type
    just these columns (a partial read, :func:`read_columns`); the others are not added.
    """
    spec = TABLES[name]
    columns = spec.columns if only is None else [c for c in spec.columns if c.name in set(only)]
    for c in columns:
        if c.name not in df.columns:
            df[c.name] = ""
    if issues is not None:
        extra = [c for c in df.columns if c not in spec.names()]
        if extra:
            issues.append(FormatIssue(spec.file, ", ".join(extra),
                                      f"{spec.file} 有计划格式中没有的列：{', '.join(extra)}"))
    for c in columns:
        raw = df[c.name].astype(str)
        null = raw.isin(NULL_LITERALS)
        _issue(issues, spec, c.name, null, raw, "写成了缺失值字面量，格式规定应为空")
        filled = (raw != "") & ~null
        if c.kind == "int":
            v = pd.to_numeric(df[c.name].where(filled, None), errors="coerce")
            _issue(issues, spec, c.name, filled & (v.isna() | (v != v.round())), raw, "不是整数")
            df[c.name] = v.where(v == v.round()).fillna(-1).astype(np.int64)
        elif c.kind == "float":
            v = pd.to_numeric(df[c.name].where(filled, None), errors="coerce")
            _issue(issues, spec, c.name, filled & v.isna(), raw, "不是数值")
            df[c.name] = v
        elif c.kind == "time":
            v = parse_times(df[c.name])
            offset = raw.str.contains(r"(?:[+-]\d\d:?\d\d|Z)$", regex=True)
            _issue(issues, spec, c.name, filled & (v.isna() | ~offset), raw, "不是带时区偏移的 ISO 8601 时间")
            df[c.name] = v
        elif c.kind == "date":
            v = pd.to_datetime(df[c.name].where(filled, None), format="%Y-%m-%d", errors="coerce")
            _issue(issues, spec, c.name, filled & v.isna(), raw, "不是 YYYY-MM-DD 日期")
            df[c.name] = v
    return df


def _read_csv(path: Path, name: str) -> pd.DataFrame:
    if not path.exists():
        msg = f"{path}: 计划文件缺失 (plan file missing)"
        raise PlanFormatError(msg)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except UnicodeDecodeError:
        msg = f"{path}: 计划文件须为 UTF-8 编码 (plan file must be UTF-8)"
        raise PlanFormatError(msg) from None
    except pd.errors.EmptyDataError:
        msg = f"{path}: 文件为空，缺少表头 (empty file, no header)"
        raise PlanFormatError(msg) from None
    except pd.errors.ParserError as exc:
        msg = f"{path}: CSV 格式错误 (malformed CSV): {exc}"
        raise PlanFormatError(msg) from None
    missing = [c for c in TABLES[name].required() if c not in df.columns]
    if missing:
        msg = f"{path}: 缺少列 {', '.join(missing)} (missing column{'s' if len(missing) > 1 else ''}: {', '.join(missing)})"
        raise PlanFormatError(msg)
    return df


def read_columns(plan_dir: Path, name: str, columns: Iterable[str]) -> pd.DataFrame:
    """Some columns of one table of a plan directory, typed as :func:`read_plan` types them.

    Not verified against the summary's checksums: for the writer reading back what it has just
    written (``planner replan``'s ``changes.csv``); every other reader uses :func:`read_plan`.
    """
    spec = TABLES[name]
    wanted = [c for c in spec.names() if c in set(columns)]
    path = Path(plan_dir) / spec.file
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8", usecols=wanted)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        msg = f"{path}: 读不回刚写出的计划表 (cannot read back the plan table): {exc}"
        raise PlanFormatError(msg) from None
    return type_table(name, df, only=wanted)


def read_summary(plan_dir: Path) -> dict:
    """``summary.json`` of a plan directory as a dict; PlanFormatError when missing or malformed."""
    path = Path(plan_dir) / SUMMARY_FILE
    if not path.exists():
        msg = f"{path}: 计划文件缺失，该目录不是完整的计划 (plan file missing)"
        raise PlanFormatError(msg)
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        msg = f"{path}: JSON 格式错误 (malformed JSON): {exc}"
        raise PlanFormatError(msg) from None
    if not isinstance(summary, dict):
        msg = f"{path}: 应为 JSON 对象 (must be a JSON object)"
        raise PlanFormatError(msg)
    return summary


def verify_plan_dir(plan_dir: Path, *, require_manifest: bool = True) -> dict:
    """Check that a directory holds one complete plan; return its summary.

    Every file ``summary.json`` lists must exist with the listed sha256, and
    every required plan file must be listed: a directory left half-written, or mixing
    files of two runs, raises PlanFormatError naming the file. A summary with
    no file list (a hand-made plan, or one written before the list existed)
    raises too unless ``require_manifest`` is False.
    """
    plan_dir = Path(plan_dir)
    if not plan_dir.is_dir():
        msg = f"{plan_dir}: 计划目录不存在 (plan directory not found)"
        raise PlanFormatError(msg)
    summary = read_summary(plan_dir)
    files = summary.get("files")
    if not isinstance(files, dict):
        if require_manifest:
            msg = (f"{plan_dir / SUMMARY_FILE}: 没有列出计划文件及其校验和 (files)，无法确认计划完整；"
                   "请重新运行 planner plan (summary lists no files: not a complete plan, or an older one)")
            raise PlanFormatError(msg)
        return summary
    for name in REQUIRED_FILES:
        if name not in files:
            msg = f"{plan_dir / SUMMARY_FILE}: 没有列出 {name}，计划不完整 (plan file not listed)"
            raise PlanFormatError(msg)
    for name, entry in files.items():
        path = plan_dir / str(name)
        if not path.is_file():
            msg = f"{path}: 计划文件缺失，计划目录不完整 (plan file missing; the directory is incomplete)"
            raise PlanFormatError(msg)
        want = entry.get("sha256") if isinstance(entry, dict) else None
        if want != sha256_file(path):
            msg = (f"{path}: 与 summary.json 记录的校验和不符，目录中混有不同次运行的文件或文件被改动；"
                   "请重新运行 planner plan (checksum differs from summary.json: mixed or modified plan directory)")
            raise PlanFormatError(msg)
    return summary


def read_plan(plan_dir: Path, *, require_manifest: bool = True) -> PlanFiles:
    """Read, verify and type every table of a plan directory.

    The directory is first verified complete (:func:`verify_plan_dir`); a
    missing file or column raises PlanFormatError naming both. With
    ``require_manifest=False`` (the checker, for plans made by other tools) a
    summary without a file list is read anyway and reported as a format issue.
    A plan swapped in by a run finishing while this one reads is read again
    whole, so the tables always come from one plan.
    """
    plan_dir = Path(plan_dir)
    for attempt in range(3):
        before = _summary_bytes(plan_dir)
        try:
            plan = _read_once(plan_dir, require_manifest)
        except PlanFormatError:
            # a new plan swapped in while we read (its summary differs): read it again, whole
            if attempt < 2 and before is not None and _summary_bytes(plan_dir) != before:
                continue
            raise
        if _summary_bytes(plan_dir) == before:
            return plan
    return _read_once(plan_dir, require_manifest)


def _summary_bytes(plan_dir: Path) -> bytes | None:
    try:
        return (plan_dir / SUMMARY_FILE).read_bytes()
    except OSError:
        return None


def _read_once(plan_dir: Path, require_manifest: bool) -> PlanFiles:
    summary = verify_plan_dir(plan_dir, require_manifest=require_manifest)
    issues: list[FormatIssue] = []
    if not isinstance(summary.get("files"), dict):
        issues.append(FormatIssue(SUMMARY_FILE, "files", "summary.json 没有列出计划文件及其校验和 (files)，"
                                                         "无法确认计划目录完整"))
    frames = {name: type_table(name, _read_csv(plan_dir / t.file, name), issues) for name, t in TABLES.items()}
    return PlanFiles(frames["trips"], frames["stops"], frames["legs"], frames["workers"], summary, issues, plan_dir)


def is_plan_dir(path: Path) -> bool:
    """True when ``path`` looks like a plan directory (complete or not): it holds summary.json or trips.csv."""
    path = Path(path)
    return path.is_dir() and ((path / SUMMARY_FILE).is_file() or (path / "trips.csv").is_file())


def plan_entries() -> frozenset[str]:
    """Names a plan directory may hold (its files, its optional report files and summary.json)."""
    return frozenset({*PLAN_FILES, *(t.file for t in REPORT_TABLES.values()), SUMMARY_FILE})


def read_report_table(plan_dir: Path, name: str) -> pd.DataFrame | None:
    """An optional plan file (:data:`REPORT_TABLES`) as text columns, or None when the plan has none.

    A missing column raises PlanFormatError naming the file.
    """
    spec = REPORT_TABLES[name]
    path = Path(plan_dir) / spec.file
    if not path.is_file():
        return None
    df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in spec.required() if c not in df.columns]
    if missing:
        msg = f"{path}: 缺少列 {', '.join(missing)} (missing columns)"
        raise PlanFormatError(msg)
    return df[spec.names()]


# ------------------------------------------------------------------ shared derivations
def passenger_trips(trips: pd.DataFrame) -> pd.DataFrame:
    """Trips that carry people (every mode; empty returns left out)."""
    return trips[trips["purpose"].astype(str) == "passenger"]


def trunk_trips(trips: pd.DataFrame) -> pd.DataFrame:
    """The inter-provincial passenger trips: coaches and train carriages (never feeders or empty returns)."""
    return trips[trips["mode"].astype(str).isin(TRUNK_MODES) & (trips["purpose"].astype(str) == "passenger")]


def pickup_boardings(stops: pd.DataFrame) -> pd.DataFrame:
    """Stops where people board in a village (or a township pick-up point), in (trip, seq) order."""
    st = stops[stops["place_kind"].astype(str).isin(PICKUP_KINDS) & (stops["boarding"] > 0)]
    return st.sort_values(["trip_id", "seq"], kind="stable")


def direct_coach_ids(trips: pd.DataFrame, stops: pd.DataFrame) -> set[str]:
    """Township-direct coaches: passenger coach trips that take people on in a village or pick-up point.

    Every other passenger coach is a hub coach (its passengers all board at a hub).
    """
    coach = trips.loc[(trips["mode"].astype(str) == "coach") & (trips["purpose"].astype(str) == "passenger"), "trip_id"]
    board = pickup_boardings(stops)
    return set(board.loc[board["trip_id"].isin(set(coach)), "trip_id"].astype(str))


def first_pickup(stops: pd.DataFrame, trip_ids: Iterable[str]) -> dict[str, str]:
    """trip_id -> the village (or pick-up point) of its first boarding, for the given trips."""
    want = set(trip_ids)
    board = pickup_boardings(stops)
    board = board[board["trip_id"].isin(want)].drop_duplicates("trip_id")
    return dict(zip(board["trip_id"].astype(str), board["place_id"].astype(str)))


def fsync_path(path: Path) -> None:
    """Flush a file or directory to disk (a plan is complete only once its bytes are durable)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
