"""Validation: every input table checked against its schema and against the others.

Each problem names the file, the row a user sees in it and the column. A row
that cannot be used goes to a rejected table with its reason; nothing
disappears: for every table, rows read = accepted + rejected. References
cascade: a worker whose village was rejected is rejected too, and the reason
names the village and why it was rejected. Personal data (names, ID numbers,
phones) never appears in a message: workers are named by file row and
``worker_id``; values echoed in messages have control characters replaced and
are cut to 40 characters (:func:`shown`).

Every input is treated as hostile: a cell with a control or invisible character
rejects its row; every cell but names is NFKC-normalised first (full-width
digits typed with a Chinese input method read as digits); digit strings that
Excel stored as numbers are named as such; resident IDs must be of people who
can exist (born before the window start, each person once); the scenario's
keys are checked against the data (``scenario_conflict``, which planning
refuses), and a plan that would move nobody is warned about loudly
(:meth:`ValidationResult.plan_warnings`). The rows rejected keep personal data
in full: :func:`write_rejected` writes them only where nothing serves them.

Accepted tables are typed:

- codes and identifiers: ``str`` (NFKC-normalised);
- dates: pandas ``datetime64[ns]`` at midnight, local time (``NaT`` for an empty
  optional date such as ``proof_date`` when ``health_proof`` is ``none``);
- times: ``str`` ``"HH:MM"``;
- integers ``int64``, floats ``float64``; booleans ``bool``;
- ``lon``/``lat``: ``float64`` in WGS-84 (converted on read when the scenario
  says a file is GCJ-02 or BD-09);
- polygon tables keep a shapely ``geometry`` column;
- workers get ``township_code`` and ``county_code`` from their village;
  factories and stations get ``county_code`` from the receiving counties when
  the file leaves it out;
- ``_row`` (the row number in the file) is kept everywhere.

Rejected tables hold the original row as text, ``_row`` and ``reason``
(``"code [column]: message"``).

The checks are vectorised (pandas string operations, ``isin``, numpy): Python
loops run only over the rows that have a problem, so 730,000 workers validate
in a few seconds.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from planner.coords import in_china_bbox, looks_swapped
from planner.errors import DataError, ScenarioError
from planner.idcard import _CHECK_CHARS, _WEIGHTS
from planner.io.readers import read_table
from planner.rules.seats import SeatLayout, seats_allowed
from planner.scenario import SYNTH_TABLES, Scenario
from planner.schemas import (
    COMPOSITE_KEYS,
    FREE_TEXT_COLUMNS,
    ID_COLUMNS,
    PROVINCE_CODES,
    PROVINCES,
    TABLES,
    Column,
)

log = logging.getLogger(__name__)

TRUE = {"true", "1", "yes", "y", "是", "t"}
FALSE = {"false", "0", "no", "n", "否", "f"}
ORDER = ["counties", "receiving_counties", "vehicle_types", "villages", "hubs", "stations", "factories",
         "fleet", "vehicles", "train_services", "risk_calendar", "workers"]
TABLE_ZH = {"workers": "工人", "villages": "村", "hubs": "枢纽", "factories": "企业", "fleet": "车队", "vehicles": "车辆登记",
            "vehicle_types": "车型", "train_services": "专列", "risk_calendar": "风险日历",
            "stations": "到达站", "counties": "区县", "receiving_counties": "接收地区县"}
SEVERITY_ZH = {"fatal": "致命", "error": "拒绝", "warning": "提醒"}
BORDER_TOLERANCE_DEG = 0.01  # about 1 km: the shipped county polygons are simplified
_PROVINCE_SUFFIX = re.compile(r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$")
# C0/C1 controls (NUL, tab, line breaks ...), zero-width and bidi controls, BOM, interlinear marks:
# invisible in a spreadsheet, they break documents or make one name look like another.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]")
# What Excel makes of a long digit string stored as a number: 5.00101E+17, 500101198001019000.0
_EXCEL_NUMBER = r"[0-9](?:\.[0-9]+)?[eE][+-]?[0-9]+|[0-9]+\.0*"
EXCEL_HINT = ("该列在 Excel 中被存成了数字，请把该列设为文本格式后重新录入 "
              "(the column was stored as a number in Excel; format it as text)")
MIN_WORKING_AGE = 16  # 《劳动法》第十五条: no employment under 16
# Codes of the problems that mean nobody (or nobody by coach) can be planned.
PLAN_WARNING_CODES = ("no_workers", "no_coaches")


@dataclass(frozen=True)
class Problem:
    """One problem found in the input.

    ``file`` is the path as shown to the user (relative to the working folder
    when inside it), ``row`` the row a user sees (header = row 1; ``None`` for
    the whole file), ``column`` the column (``None`` for the whole row or file),
    ``code`` a short machine code (see :data:`planner.schemas.PROBLEM_CODES`),
    ``message`` Chinese with English in parentheses, ``severity`` one of
    ``fatal`` (a table is unusable), ``error`` (the row is rejected) or
    ``warning`` (the row is kept).
    """

    file: str
    row: int | None
    column: str | None
    code: str
    message: str
    severity: str  # fatal | error | warning


@dataclass
class ValidationResult:
    """Accepted typed tables, rejected rows with reasons, every problem, and the row balance."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    rejected: dict[str, pd.DataFrame] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)

    @property
    def fatal(self) -> bool:
        """True when a table could not be used at all."""
        return any(p.severity == "fatal" for p in self.problems)

    @property
    def ok(self) -> bool:
        """No fatal problem and no rejected row."""
        return not self.fatal and not any(len(f) for f in self.rejected.values())

    def codes(self) -> set[str]:
        """The problem codes found (for tests and summaries)."""
        return {p.code for p in self.problems}

    def by_code(self, code: str) -> list[Problem]:
        """Every problem with ``code``."""
        return [p for p in self.problems if p.code == code]

    def plan_warnings(self) -> list[str]:
        """Loud warnings that nobody (or nobody by coach) can be planned, for the plan report and summary."""
        return [f"警告 (warning): {p.message}" for p in self.problems if p.code in PLAN_WARNING_CODES]

    def scenario_conflicts(self) -> list[Problem]:
        """Scenario keys the data makes impossible (``scenario_conflict``): planning must refuse them."""
        return self.by_code("scenario_conflict")

    def raise_for_scenario(self) -> None:
        """Raise :class:`ScenarioError` naming every conflicting scenario key (called before planning).

        Such a plan would blame the fleet or the proofs for what the scenario
        made impossible, so it is refused instead of written.
        """
        conflicts = self.scenario_conflicts()
        if conflicts:
            lines = [f"{p.file}: {p.column}: {p.message}" for p in conflicts]
            msg = "情景设置与数据矛盾，无法规划 (scenario keys contradict the data):\n" + "\n".join(lines)
            raise ScenarioError(msg)

    def report_text(self, max_per_code: int = 50) -> str:
        """A readable report: problems by file (``file:row:column: message``), then the balance.

        At most ``max_per_code`` lines per problem code and file; the rest are counted.
        """
        lines: list[str] = []
        by_file: dict[str, list[Problem]] = {}
        for p in self.problems:
            by_file.setdefault(p.file, []).append(p)
        for f, probs in by_file.items():
            lines.append(f"== {f}")
            probs = sorted(probs, key=lambda p: (p.row is not None, p.row or 0))
            shown: dict[str, int] = {}
            for p in probs:
                shown[p.code] = shown.get(p.code, 0) + 1
                if shown[p.code] > max_per_code:
                    continue
                row = p.row if p.row is not None else "-"
                tag = "" if p.severity == "error" else f"[{SEVERITY_ZH[p.severity]}] "
                lines.append(f"{f}:{row}:{p.column or '-'}: {tag}{p.message} ({p.code})")
            for code, n in shown.items():
                if n > max_per_code:
                    lines.append(f"{f}: … 另有 {n - max_per_code:,} 处 {code} 未列出 ({n - max_per_code:,} more)")
        lines.append("== 行数核对 (rows read = accepted + rejected)")
        for t in ORDER:
            if t in self.counts:
                c = self.counts[t]
                lines.append(f"{TABLE_ZH[t]} 读入 {c['read']} = 接受 {c['accepted']} + 拒绝 {c['rejected']} ({t})")
        n = {s: sum(1 for p in self.problems if p.severity == s) for s in SEVERITY_ZH}
        rejected = sum(c["rejected"] for c in self.counts.values())
        lines.append(
            f"合计：致命 {n['fatal']}，拒绝 {n['error']}，提醒 {n['warning']}；被拒绝的行 {rejected} "
            f"(total: {n['fatal']} fatal, {n['error']} errors, {n['warning']} warnings; {rejected} rows rejected)"
        )
        lines += [f"！！ {w}" for w in self.plan_warnings()]
        if self.ok and self.plan_warnings():
            lines.append("结论：数据可用，但见上方警告：计划中将没有人（或没有大巴）出行 (OK, but see the warnings above)")
        else:
            lines.append("结论：数据可用 (OK)" if self.ok else "结论：有被拒绝的行或无法使用的表 (NOT OK)")
        return "\n".join(lines)


class _Table:
    """One table being validated: its frame, the rows rejected so far and why."""

    def __init__(self, name: str, file: str, frame: pd.DataFrame, res: ValidationResult) -> None:
        self.name = name
        self.file = file
        self.df = frame
        self.res = res
        self.reason = pd.Series("", index=frame.index, dtype=object)

    def problem(self, code: str, message: str, *, rows: pd.Index | None = None, column: str | None = None,
                severity: str = "error", reject: bool = True, per_row: pd.Series | None = None) -> None:
        """Record a problem for ``rows`` (or the whole file) and reject those rows when asked.

        ``per_row`` (indexed like the frame) replaces ``message`` row by row.
        With ``rows=None`` and ``reject=True`` every row still unrejected is rejected.
        """
        if rows is None:
            self.res.problems.append(Problem(self.file, None, column, code, message, severity))
            if reject and severity != "warning":
                fresh = self.reason == ""
                self.reason[fresh] = f"{code} [{column or '-'}]: {message}"
            return
        if len(rows) == 0:
            return
        msgs = per_row.loc[rows].to_numpy() if per_row is not None else np.full(len(rows), message, dtype=object)
        row_nums = self.df.loc[rows, "_row"].to_numpy()
        key = ID_COLUMNS.get(self.name)
        ids = None
        if self.name == "workers" and key in self.df:
            ids = np.array([shown(v) for v in self.df.loc[rows, key].astype(str)], dtype=object)
        for k in range(len(rows)):
            msg = f"{ids[k]}: {msgs[k]}" if ids is not None and ids[k] else msgs[k]
            self.res.problems.append(Problem(self.file, int(row_nums[k]), column, code, msg, severity))
        if reject and severity != "warning":
            fresh = (self.reason.loc[rows] == "").to_numpy()
            idx = rows[fresh]
            self.reason.loc[idx] = [f"{code} [{column or '-'}]: {m}" for m in msgs[fresh]]

    def ok(self) -> pd.Series:
        return self.reason == ""


def shown(value: object, limit: int = 40) -> str:
    """A value fit for a message: control characters as U+FFFD, at most ``limit`` characters."""
    text = _CONTROL.sub("\ufffd", str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _display_path(p: Path) -> str:
    try:
        return str(Path(p).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)


# ------------------------------------------------------------------ parsing
# [0-9], not \d: \d also matches other scripts' digits, which numpy and pandas cannot read
_DATE_RE = re.compile(r"^([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})日?(?:[ T]00:00(?::00)?)?$")
_TIME_RE = re.compile(r"^([01]?[0-9]|2[0-3])[:：]([0-5][0-9])(?::[0-5][0-9])?$")


def parse_dates(s: pd.Series) -> pd.Series:
    """ISO-like dates (2020-02-14, 2020/2/14, 2020年2月14日, '2020-02-14 00:00:00') to datetime64; NaT if bad."""
    m = s.astype(str).str.extract(_DATE_RE)
    txt = m[0] + "-" + m[1].str.zfill(2) + "-" + m[2].str.zfill(2)
    return pd.to_datetime(txt, format="%Y-%m-%d", errors="coerce").astype("datetime64[ns]")


def normalise_province(s: pd.Series) -> pd.Series:
    """Province names to the short form: 广东省 -> 广东, 上海市 -> 上海, 广西壮族自治区 -> 广西."""
    s = s.astype(str).str.strip()
    short = s.str.replace(_PROVINCE_SUFFIX, "", regex=True)
    return s.where(~short.isin(PROVINCES), short)


def _clean_text(t: _Table) -> None:
    """Reject cells holding control characters; NFKC-normalise every cell but names.

    NFKC turns full-width digits, letters and punctuation (５００１, ：) into
    their ASCII forms, so codes, ID numbers, dates and numbers typed with a
    Chinese input method read as meant. Names of people and places
    (:data:`planner.schemas.FREE_TEXT_COLUMNS`) are kept as written. Both
    checks are vectorised; only the cells that are not ASCII are normalised.
    """
    for col in list(t.df.columns):
        if col in ("_row", "geometry") or not (pd.api.types.is_string_dtype(t.df[col]) or t.df[col].dtype == object):
            continue
        s = t.df[col].astype(str)
        bad = s.str.contains(_CONTROL.pattern, regex=True)  # vectorised (pyarrow's RE2 for str columns)
        if bad.any():
            t.problem("control_character",
                      f"{col} 含有控制字符或不可见字符（如 NUL、换行、制表符、方向控制符），请删除 "
                      "(control or invisible character)", rows=t.df.index[bad], column=col)
        if col in FREE_TEXT_COLUMNS:
            continue
        wide = ~s.str.isascii()
        if not wide.any():
            continue
        norm = s[wide].str.normalize("NFKC").str.strip()
        changed = norm != s[wide]
        if changed.any():
            first = int(t.df.loc[changed.index[changed], "_row"].iloc[0])
            t.problem("normalised_text",
                      f"{col} 有 {int(changed.sum())} 个单元格含全角或兼容字符（首个在第 {first} 行），已按 NFKC 转换后检查，"
                      f"如 ５→5、：→: (full-width characters read as ASCII)", column=col, severity="warning",
                      reject=False)
            s = s.copy()
            s[wide] = norm
            t.df[col] = s


#: An id (worker_id, factory_id, ...) is copied into every plan file and document; one that a
#: spreadsheet would run as a formula (=, +, -, @ first) or that holds blanks is refused here,
#: so the plan's machine-readable CSVs never need escaping.
_UNSAFE_ID = re.compile(r"^[=+\-@]|\s")


def _safe_ids(t: _Table, cols: tuple[Column, ...]) -> None:
    """Reject rows whose id cells (columns ending in ``_id``) start like a formula or hold blanks."""
    for c in cols:
        if not c.name.endswith("_id") or c.name not in t.df.columns:
            continue
        s = t.df[c.name].astype(str)
        bad = s.str.contains(_UNSAFE_ID.pattern, regex=True) & (s.str.strip() != "")
        if bad.any():
            t.problem("unsafe_id", f"{c.name} 不能以 = + - @ 开头，也不能含空格 "
                      "(an id may not start with = + - @ or hold blanks: spreadsheets would run it as a formula)",
                      rows=t.df.index[bad], column=c.name)


def _excel_like(s: pd.Series, among: pd.Series) -> pd.Series:
    """True where a cell of ``s`` (looked at only ``among``) looks like a digit string Excel stored as a number.

    5.00101E+17, 500101198001019000.0: what Excel writes for a long code typed into a number cell.
    """
    out = pd.Series(False, index=s.index)
    if among.any():
        out[among] = s[among].str.fullmatch(_EXCEL_NUMBER).fillna(False).astype(bool)
    return out


def _check_columns(t: _Table, cols: tuple[Column, ...]) -> bool:
    missing = [c.name for c in cols if c.required and c.name not in t.df.columns]
    for name in missing:
        hint = ""
        if name == "geometry":
            hint = "；区县边界须用 GeoPackage 或 GeoJSON (polygons need a GeoPackage or GeoJSON)"
        elif name in ("lon", "lat"):
            hint = "；或用带点几何的 GeoPackage/GeoJSON (or Point geometries)"
        t.problem("missing_column", f"缺少必需的列 {name}{hint} (missing column)", column=name,
                  severity="fatal", reject=False)
    return not missing


def _parse_column(t: _Table, c: Column) -> None:
    df = t.df
    if c.name not in df.columns or c.kind == "geometry":
        return
    s = df[c.name].astype(str).str.strip()
    empty = s == ""
    if c.required:
        t.problem("missing_value", f"{c.name} 不能为空 (empty)", rows=df.index[empty], column=c.name)
    present = ~empty
    if c.kind == "code":
        pat = "|".join(rf"[0-9]{{{d}}}" for d in c.digits)
        bad = present & ~s.str.fullmatch(pat)
        msg = f"{c.name} 应为{'或'.join(str(d) for d in c.digits)}位数字代码 (code of digits)"
        excel = _excel_like(s, bad)
        t.problem("bad_type", f"{msg}；{EXCEL_HINT}", rows=df.index[excel], column=c.name)
        t.problem("bad_type", msg, rows=df.index[bad & ~excel], column=c.name)
        df[c.name] = s
    elif c.kind in ("int", "float"):
        num = pd.to_numeric(s.where(present), errors="coerce").astype(float)
        bad = present & (num.isna() | ~np.isfinite(num.fillna(0)))
        if c.kind == "int":
            bad |= present & num.notna() & (num != np.floor(num.fillna(0)))
        t.problem("bad_type", f"{c.name} 应为{'整数' if c.kind == 'int' else '数字'} (not a number)",
                  rows=df.index[bad], column=c.name)
        if c.minimum is not None:
            low = present & ~bad & (num < c.minimum)
            t.problem("out_of_range", f"{c.name} 不能小于 {c.minimum:g} (below minimum)", rows=df.index[low],
                      column=c.name)
        df[c.name] = num
    elif c.kind == "date":
        d = parse_dates(s)
        bad = present & d.isna()
        t.problem("bad_type", f"{c.name} 应为日期 YYYY-MM-DD (not a date)", rows=df.index[bad], column=c.name)
        df[c.name] = d
    elif c.kind == "time":
        m = s.str.extract(_TIME_RE)
        bad = present & m[0].isna()
        t.problem("bad_type", f"{c.name} 应为时间 HH:MM (not a time)", rows=df.index[bad], column=c.name)
        df[c.name] = (m[0].str.zfill(2) + ":" + m[1]).fillna("")
    elif c.kind == "bool":
        low = s.str.lower()
        bad = present & ~low.isin(TRUE | FALSE)
        t.problem("bad_type", f"{c.name} 应为 true/false、是/否、1/0 或 yes/no (not a yes/no value)",
                  rows=df.index[bad], column=c.name)
        df[c.name] = low.isin(TRUE)
    elif c.kind == "enum":
        bad = present & ~s.isin(c.values)
        t.problem("bad_value", f"{c.name} 应为 {' / '.join(c.values)} 之一 (unknown value)",
                  rows=df.index[bad], column=c.name)
        df[c.name] = s
    else:
        df[c.name] = s


def _positions(t: _Table) -> None:
    """Reject positions outside China, naming the swapped ones."""
    df = t.df
    if "lon" not in df.columns or "lat" not in df.columns or df["lon"].dtype == object:
        return
    lon = df["lon"].to_numpy(float)
    lat = df["lat"].to_numpy(float)
    usable = ~np.isnan(lon) & ~np.isnan(lat)
    swapped = usable & looks_swapped(lon, lat)
    outside = usable & ~in_china_bbox(lon, lat) & ~swapped
    t.problem("lonlat_swapped", "经纬度似乎写反了：lon 应约为 73-136，lat 约为 3-54 (lon/lat swapped)",
              rows=df.index[swapped], column="lon")
    t.problem("outside_china", "位置在中国境外，请检查坐标 (position outside China)", rows=df.index[outside],
              column="lon")


def _duplicates(t: _Table) -> None:
    key = COMPOSITE_KEYS.get(t.name) or ((ID_COLUMNS[t.name],) if t.name in ID_COLUMNS else None)
    if key is None or any(k not in t.df.columns for k in key):
        return
    df = t.df
    keyval = df[key[0]].astype(str)
    for k in key[1:]:
        keyval = keyval + "|" + df[k].astype(str)
    dup = keyval.duplicated(keep="first") & (df[key[0]].astype(str) != "")
    if not dup.any():
        return
    first_row = df.loc[~keyval.duplicated(keep="first")].set_index(keyval[~keyval.duplicated(keep="first")])["_row"]
    label = "+".join(key)
    msgs = pd.Series(
        [f"{label} {shown(v.replace('|', ' + '))} 重复，首次出现在第 {first_row.get(v, '?')} 行 (duplicate id)"
         for v in keyval[dup]],
        index=df.index[dup], dtype=object,
    )
    t.problem("duplicate_id", "", rows=df.index[dup], column=key[-1] if len(key) > 1 else key[0], per_row=msgs)


def _rejected_reasons(res: ValidationResult, target: str) -> dict[str, str]:
    """id -> problem code of the rows rejected from ``target``."""
    rej = res.rejected.get(target)
    key = ID_COLUMNS.get(target)
    if rej is None or not len(rej) or key not in rej.columns:
        return {}
    codes = rej["reason"].astype(str).str.split(" ", n=1).str[0]
    return dict(zip(rej[key].astype(str).str.strip(), codes))


def _dangling(t: _Table, column: str, valid: pd.Series | set | None, target: str, *,
              allow_empty: bool = False, what: str | None = None) -> None:
    """Reject rows whose ``column`` names no accepted row of ``target``.

    ``valid`` is the set of acceptable values, or None when ``target`` is
    unusable (missing or fatal): then every row is rejected with one problem.
    """
    if column not in t.df.columns:
        return
    label = what or f"{TABLE_ZH[target]}表"
    s = t.df[column].astype(str)
    candidates = t.ok() & ((s != "") if allow_empty else True)
    if valid is None:
        if candidates.any():
            msg = f"{label}不可用，无法核对 {column}，相关行全部拒绝 ({target} table unusable)"
            t.problem("dangling_reference", msg, column=column, reject=False)
            t.reason[candidates & t.ok()] = f"dangling_reference [{column}]: {msg}"
        return
    valid_idx = pd.Index(list(valid) if isinstance(valid, set) else valid)
    bad = candidates & ~s.isin(valid_idx)
    if not bad.any():
        return
    why = _rejected_reasons(t.res, target)
    msgs = []
    for v in s[bad]:
        if v in why:
            msgs.append(f"{column} {shown(v)}：该{TABLE_ZH[target]}已被拒绝（{why[v]}）(refers to a rejected row)")
        elif v == "":
            msgs.append(f"{column} 为空 (empty reference)")
        else:
            msgs.append(f"{column} {shown(v)} 在{label}中不存在 (dangling reference)")
    t.problem("dangling_reference", "", rows=t.df.index[bad], column=column,
              per_row=pd.Series(msgs, index=t.df.index[bad], dtype=object))


def _id_number_checks(t: _Table, start: pd.Timestamp) -> None:
    """Shape, birth date and check character of the 18-digit resident ID, vectorised.

    The birth date is judged against the window start, not today's date, so a
    scenario validates the same whenever it is run: born after the window
    start is impossible (rejected), under 16 at the window start is a warning.
    """
    s = t.df["id_number"].astype(str).str.strip().str.upper()
    shape_ok = s.str.fullmatch(r"[0-9]{17}[0-9X]").fillna(False).astype(bool)
    malformed = ~shape_ok & (s != "")
    excel = _excel_like(s, malformed)
    t.problem("bad_id_number", f"身份证号应为18位：17位数字加校验位；{EXCEL_HINT}", rows=t.df.index[excel],
              column="id_number")
    t.problem("bad_id_number", "身份证号应为18位：17位数字加校验位 (ID number malformed)",
              rows=t.df.index[malformed & ~excel], column="id_number")
    good = s[shape_ok & t.ok()]
    if len(good):
        raw = good.str[:17].to_numpy().astype("S17")
        digits = np.frombuffer(raw.tobytes(), dtype=np.uint8).reshape(-1, 17).astype(np.int64) - 48
        check = np.array(list(_CHECK_CHARS))[(digits @ np.array(_WEIGHTS, dtype=np.int64)) % 11]
        birth = good.str[6:14]
        born = pd.to_datetime(birth, format="%Y%m%d", errors="coerce")
        impossible = (born.isna() | (born < pd.Timestamp("1900-01-01"))).to_numpy()
        after = ~impossible & (born > start).to_numpy()
        t.problem("bad_id_birth_date", "身份证号中的出生日期无效 (birth date in ID invalid)",
                  rows=good.index[impossible], column="id_number")
        t.problem("bad_id_birth_date",
                  f"身份证号中的出生日期晚于规划开始日 {start.date()} (birth date in ID after the window start)",
                  rows=good.index[after], column="id_number")
        bad_born = impossible | after
        bad_check = (good.str[17].to_numpy() != check) & ~bad_born
        t.problem("bad_id_check_digit", "身份证号校验位错误 (ID number check digit wrong)",
                  rows=good.index[bad_check], column="id_number")
        sixteenth = f"{start.year - MIN_WORKING_AGE:04d}{start.month:02d}{start.day:02d}"
        young = ~bad_born & ~bad_check & (birth > sixteenth).to_numpy()
        t.problem("underage_worker",
                  f"按身份证号，规划开始日 {start.date()} 时未满 {MIN_WORKING_AGE} 周岁（法定最低就业年龄），请核实 "
                  f"(under {MIN_WORKING_AGE}, the legal working age)",
                  rows=good.index[young], column="id_number", severity="warning", reject=False)
    t.df["id_number"] = s


def _duplicate_resident_ids(t: _Table) -> None:
    """Reject later accepted rows whose resident ID an earlier accepted row already has (one person twice)."""
    df = t.df
    ok = t.ok() & (df["id_number"] != "")
    ids = df.loc[ok, "id_number"]
    dup = ids.duplicated(keep="first")
    if not dup.any():
        return
    first = ids[~dup]
    first_row = pd.Series(df.loc[first.index, "_row"].to_numpy(), index=first.to_numpy())
    first_wid = pd.Series(df.loc[first.index, "worker_id"].astype(str).to_numpy(), index=first.to_numpy())
    rows = ids.index[dup]
    msgs = pd.Series(
        [f"身份证号与第 {first_row[v]} 行（{shown(first_wid[v])}）相同：同一人登记了两次，保留第一行 "
         f"(duplicate resident ID, first at row {first_row[v]})" for v in ids[dup]],
        index=rows, dtype=object,
    )
    t.problem("duplicate_resident_id", "", rows=rows, column="id_number", per_row=msgs)


def _phone_checks(t: _Table) -> None:
    s = t.df["phone"].astype(str).str.replace(r"[\s-]", "", regex=True).str.replace(r"^\+?86(?=1)", "", regex=True)
    bad = (s != "") & ~s.str.fullmatch(r"1[3-9][0-9]{9}").fillna(False).astype(bool)
    excel = _excel_like(s, bad)
    t.problem("bad_phone", f"手机号应为11位、以1开头；{EXCEL_HINT}", rows=t.df.index[excel], column="phone")
    t.problem("bad_phone", "手机号应为11位、以1开头 (malformed mobile number)", rows=t.df.index[bad & ~excel],
              column="phone")
    t.df["phone"] = s


def _inside_polygons(t: _Table, polys: pd.DataFrame | None) -> None:
    """Reject rows whose position lies clearly outside the polygon of the county they name."""
    if polys is None or "geometry" not in polys.columns or "county_code" not in t.df.columns:
        return
    geom = dict(zip(polys["county_code"], polys["geometry"]))
    df = t.df
    ok = t.ok() & df["lon"].notna() & df["lat"].notna() & df["county_code"].isin(geom.keys())
    outside: list = []
    for code, grp in df[ok].groupby("county_code"):
        inside = shapely.intersects_xy(geom[code], grp["lon"].to_numpy(float), grp["lat"].to_numpy(float))
        outside += list(grp.index[~inside])
    if not outside:
        return
    idx = pd.Index(outside)
    pts = shapely.points(df.loc[idx, "lon"].to_numpy(float), df.loc[idx, "lat"].to_numpy(float))
    dist = shapely.distance(np.array([geom[c] for c in df.loc[idx, "county_code"]], dtype=object), pts)
    near = dist <= BORDER_TOLERANCE_DEG
    codes = df.loc[idx, "county_code"].to_numpy()
    far_msgs = pd.Series([f"位置不在其所属区县 {c} 的范围内，约偏出 {d * 100:.1f} km (outside its own county)"
                          for c, d in zip(codes, dist)], index=idx, dtype=object)
    t.problem("outside_county", "", rows=idx[~near], column="lon", per_row=far_msgs)
    t.problem("near_county_border", "位置在所属区县边界外约1公里以内，按边界简化误差接受 (just outside the simplified border)",
              rows=idx[near], column="lon", severity="warning", reject=False)


def _derive_county(t: _Table, polys: pd.DataFrame | None) -> None:
    """Fill an absent or empty county_code from the position (receiving counties)."""
    df = t.df
    if "county_code" not in df.columns:
        df["county_code"] = ""
    df["county_code"] = df["county_code"].fillna("").astype(str)
    if polys is None or "geometry" not in polys.columns:
        return
    need = (df["county_code"] == "") & df["lon"].notna() & df["lat"].notna() & t.ok()
    if not need.any():
        return
    tree = shapely.STRtree(polys["geometry"].to_numpy())
    pts = shapely.points(df.loc[need, "lon"].to_numpy(float), df.loc[need, "lat"].to_numpy(float))
    pi, gi = tree.query(pts, predicate="intersects")
    codes = np.full(len(pts), "", dtype=object)
    codes[pi] = polys["county_code"].to_numpy()[gi]
    df.loc[need, "county_code"] = codes
    missing = df.index[need][codes == ""]
    t.problem("county_not_found", "位置不在任何接收地区县内，无法确定 county_code；风险等级按省计 (no receiving county)",
              rows=missing, column="county_code", severity="warning", reject=False)


def _county_province(t: _Table, polys: pd.DataFrame | None) -> None:
    """Reject factories and stations whose county_code lies in another province.

    Another province than the ``province`` column (the first two digits of a
    division code are its province, GB/T 2260), or than the receiving county
    polygon the position lies in: a factory filed under the wrong province
    would be judged by the wrong health-proof and risk rules.
    """
    df = t.df
    cc = df["county_code"].astype(str)
    code_prov = cc.str[:2].map(PROVINCE_CODES).fillna("")
    ok = t.ok() & (cc != "")
    unknown = ok & (code_prov == "")
    t.problem("county_province_mismatch", "county_code 的前两位不是任何省份的代码 (no province has this code)",
              rows=df.index[unknown], column="county_code")
    named = ok & (code_prov != "") & df["province"].isin(PROVINCES) & (code_prov != df["province"])
    msgs = pd.Series([f"county_code {c} 属于{cp}，而 province 为 {pv} (county code in another province)"
                      for c, cp, pv in zip(cc[named], code_prov[named], df.loc[named, "province"])],
                     index=df.index[named], dtype=object)
    t.problem("county_province_mismatch", "", rows=df.index[named], column="county_code", per_row=msgs)
    if polys is None or "geometry" not in polys.columns:
        return
    need = t.ok() & (cc != "") & (code_prov != "") & df["lon"].notna() & df["lat"].notna()
    if not need.any():
        return
    tree = shapely.STRtree(polys["geometry"].to_numpy())
    pts = shapely.points(df.loc[need, "lon"].to_numpy(float), df.loc[need, "lat"].to_numpy(float))
    pi, gi = tree.query(pts, predicate="intersects")
    where = pd.Series(polys["county_code"].astype(str).to_numpy()[gi], index=df.index[need][pi])
    where = where[~where.index.duplicated(keep="first")]
    other = where[where.str[:2] != cc.loc[where.index].str[:2]]
    msgs = pd.Series([f"位置在{PROVINCE_CODES.get(w[:2], w[:2])}（区县 {w}），而 county_code {cc[i]} 属于"
                      f"{code_prov[i]} (position in another province than county_code)" for i, w in other.items()],
                     index=other.index, dtype=object)
    t.problem("county_province_mismatch", "", rows=other.index, column="county_code", per_row=msgs)


# -------------------------------------------------------------- table rules
def _ids(res: ValidationResult, table: str, column: str, unusable: set[str],
         where: Callable[[pd.DataFrame], pd.Series] | None = None) -> pd.Series | None:
    """Accepted values of ``table.column`` (optionally filtered), or None when the table is unusable or empty."""
    if table in unusable:
        return None
    df = res.tables.get(table)
    if df is None or len(df) == 0:  # absent, or every row rejected: one problem, not one per row
        return None
    if where is not None:
        df = df[where(df)]
    return df[column].astype(str)


def _rules(name: str, t: _Table, sc: Scenario, res: ValidationResult, unusable: set[str]) -> None:
    """Checks that need other tables or the scenario."""
    df = t.df
    acc = res.tables
    start = pd.Timestamp(sc.window.start)
    end = pd.Timestamp(sc.window.end)
    counties_ok = None if "counties" in unusable else acc.get("counties")
    if name == "villages":
        mism = t.ok() & (df["village_code"].str[:9] != df["township_code"])
        t.problem("inconsistent_code", "village_code 前9位应等于 township_code (codes disagree)",
                  rows=df.index[mism], column="township_code")
        mism = t.ok() & (df["township_code"].str[:6] != df["county_code"])
        t.problem("inconsistent_code", "township_code 前6位应等于 county_code (codes disagree)",
                  rows=df.index[mism], column="county_code")
        _dangling(t, "county_code", _ids(res, "counties", "county_code", unusable), "counties")
        _inside_polygons(t, counties_ok)
    elif name == "hubs":
        _dangling(t, "county_code", _ids(res, "counties", "county_code", unusable), "counties")
        _inside_polygons(t, counties_ok)
    elif name in ("stations", "factories"):
        df["province"] = normalise_province(df["province"])
        rc = None if "receiving_counties" in unusable else acc.get("receiving_counties")
        _derive_county(t, rc)
        if rc is not None:
            given = t.ok() & (df["county_code"] != "") & ~df["county_code"].isin(rc["county_code"])
            t.problem("county_not_found", "county_code 不在接收地区县表中 (county not in receiving_counties)",
                      rows=df.index[given], column="county_code", severity="warning", reject=False)
        _county_province(t, rc)
        if name == "factories":
            if "arrival_station_id" in df.columns and "stations" in res.files:
                _dangling(t, "arrival_station_id", _ids(res, "stations", "station_id", unusable), "stations",
                          allow_empty=True)
            elif "arrival_station_id" not in df.columns:
                df["arrival_station_id"] = ""
            early = t.ok() & (df["needed_by"] < start)
            t.problem("date_outside_window",
                      f"needed_by 早于规划开始日 {sc.window.start}，工人必然迟到，将尽早运送 (before the window)",
                      rows=df.index[early], column="needed_by", severity="warning", reject=False)
            unknown = t.ok() & ~df["province"].isin(sc.health.provinces.keys())
            if sc.health.unknown_province == "refuse":
                t.problem("unknown_province",
                          "该省份不在情景的 [health.provinces] 中，不认可任何健康证明，工人无法出行 (province not in scenario)",
                          rows=df.index[unknown], column="province", severity="warning", reject=False)
    elif name == "fleet":
        _dangling(t, "county_code", _ids(res, "counties", "county_code", unusable), "counties")
        _dangling(t, "type_id", _ids(res, "vehicle_types", "type_id", unusable,
                                     lambda v: v["mode"].isin(["coach", "feeder"])),
                  "vehicle_types", what="车型表（大巴或接驳车）")
    elif name == "vehicles":
        _vehicle_register(t, res, unusable)
    elif name == "vehicle_types":
        calc = (df["rows"] - 1) * df["seats_per_row"] + df["last_row_seats"]
        bad = t.ok() & (calc != df["rated_seats"])
        msgs = pd.Series([f"rated_seats 应等于 (rows-1)×seats_per_row+last_row_seats = {c:.0f} (seat count disagrees)"
                          for c in calc[bad]], index=df.index[bad], dtype=object)
        t.problem("inconsistent_seats", "", rows=df.index[bad], column="rated_seats", per_row=msgs)
        bad = t.ok() & (df["aisle_after"] >= df["seats_per_row"])
        t.problem("bad_value", "aisle_after 应小于 seats_per_row (aisle outside the row)", rows=df.index[bad],
                  column="aisle_after")
    elif name == "train_services":
        _dangling(t, "origin_station_id", _ids(res, "hubs", "hub_id", unusable, lambda h: h["kind"] == "rail_station"),
                  "hubs", what="枢纽表的火车站")
        _dangling(t, "destination_station_id", _ids(res, "stations", "station_id", unusable), "stations")
        _dangling(t, "carriage_type", _ids(res, "vehicle_types", "type_id", unusable,
                                           lambda v: v["mode"] == "train_carriage"),
                  "vehicle_types", what="车型表的车厢")
        out = t.ok() & ((df["date"] < start) | (df["date"] > end))
        t.problem("date_outside_window", f"date 不在规划期 {sc.window.start}~{sc.window.end} 内 (outside the window)",
                  rows=df.index[out], column="date")
    elif name == "risk_calendar":
        if "receiving_counties" in res.files and "receiving_counties" not in unusable:
            codes = acc["receiving_counties"]["county_code"].astype(str)
            prefixes = pd.Index(pd.concat([codes, codes.str[:4], codes.str[:2]]).unique())
            _dangling(t, "region_code", prefixes, "receiving_counties")
        bad = t.ok() & (df["from"] > df["to"])
        t.problem("bad_date_range", "from 晚于 to (range reversed)", rows=df.index[bad], column="to")
    elif name == "workers":
        _workers(t, sc, res, unusable, start, end)


def _workers(t: _Table, sc: Scenario, res: ValidationResult, unusable: set[str],
             start: pd.Timestamp, end: pd.Timestamp) -> None:
    df = t.df
    _id_number_checks(t, start)
    _phone_checks(t)
    no_proof = df["health_proof"] == "none"
    if "proof_date" not in df.columns:
        df["proof_date"] = pd.NaT
    miss = t.ok() & ~no_proof & df["proof_date"].isna()
    t.problem("missing_value", "持有健康证明时 proof_date 不能为空 (proof_date missing)",
              rows=df.index[miss], column="proof_date")
    late = t.ok() & (df["ready_date"] > end)
    t.problem("date_outside_window", f"ready_date 晚于规划结束日 {sc.window.end} (after the window)",
              rows=df.index[late], column="ready_date")
    future = t.ok() & df["proof_date"].notna() & (df["proof_date"] > end)
    t.problem("proof_date_future", f"proof_date 晚于规划结束日 {sc.window.end}，规划期内无效 (proof dated after the window)",
              rows=df.index[future], column="proof_date", severity="warning", reject=False)
    _dangling(t, "village_code", _ids(res, "villages", "village_code", unusable), "villages")
    _dangling(t, "factory_id", _ids(res, "factories", "factory_id", unusable), "factories")
    v = res.tables.get("villages")
    if v is not None and "villages" not in unusable:
        vi = v.set_index("village_code")
        df["township_code"] = df["village_code"].map(vi["township_code"]).fillna("").astype(str)
        df["county_code"] = df["village_code"].map(vi["county_code"]).fillna("").astype(str)
    else:
        df["township_code"] = df["village_code"].str[:9]
        df["county_code"] = df["village_code"].str[:6]
    _duplicate_resident_ids(t)
    if "group_id" not in df.columns:
        df["group_id"] = ""
    g = df[t.ok() & (df["group_id"] != "")]
    if len(g):
        spread = g.groupby("group_id")[["village_code", "factory_id"]].nunique()
        mixed = spread.index[(spread > 1).any(axis=1)]
        rows = g.index[g["group_id"].isin(mixed)]
        t.problem("group_mixed", "同一 group_id 的成员村或企业不同，将按村和企业分开出行 (group members differ)",
                  rows=rows, column="group_id", severity="warning", reject=False)


def fleet_vehicle_ids(fleet: pd.DataFrame) -> set[str]:
    """The vehicle ids the planner gives the fleet's vehicles: ``<county>-<type_id>-<001..count>``."""
    ids: set[str] = set()
    for county, tid, n in zip(fleet["county_code"].astype(str), fleet["type_id"].astype(str), fleet["count"]):
        ids.update(f"{county}-{tid}-{i:03d}" for i in range(1, int(n) + 1))
    return ids


def _vehicle_register(t: _Table, res: ValidationResult, unusable: set[str]) -> None:
    """The vehicle register: county and type known, vehicle_id one of the fleet's, phones, date range."""
    df = t.df
    _dangling(t, "county_code", _ids(res, "counties", "county_code", unusable), "counties")
    _dangling(t, "type_id", _ids(res, "vehicle_types", "type_id", unusable,
                                 lambda v: v["mode"].isin(["coach", "feeder"])),
              "vehicle_types", what="车型表（大巴或接驳车）")
    own = t.ok() & (df["vehicle_id"].astype(str) != df["county_code"].astype(str) + "-" + df["type_id"].astype(str)
                    + "-" + df["vehicle_id"].astype(str).str.rsplit("-", n=1).str[-1])
    t.problem("inconsistent_code", "vehicle_id 应为 county_code-type_id-序号，如 500101-C53-001 (id disagrees with "
              "county_code and type_id)", rows=df.index[own], column="vehicle_id")
    fleet = None if "fleet" in unusable or res.tables.get("fleet") is None else res.tables["fleet"]
    valid = fleet_vehicle_ids(fleet) if fleet is not None else None
    _dangling(t, "vehicle_id", valid, "fleet", what="车队表（区县代码-车型-序号，序号不超过该车型数量）")
    for col in ("driver_phone", "driver2_phone"):
        if col not in df.columns:
            continue
        s = df[col].astype(str).str.replace(r"[\s-]", "", regex=True).str.replace(r"^\+?86(?=1)", "", regex=True)
        bad = t.ok() & (s != "") & ~s.str.fullmatch(r"1[3-9][0-9]{9}").fillna(False).astype(bool)
        t.problem("bad_phone", "手机号应为11位、以1开头 (malformed mobile number)", rows=df.index[bad], column=col)
        df[col] = s
    if {"available_from", "available_until"} <= set(df.columns):
        bad = t.ok() & (df["available_from"] > df["available_until"]).fillna(False).astype(bool)
        t.problem("bad_date_range", "available_from 晚于 available_until (range reversed)", rows=df.index[bad],
                  column="available_until")


def _finish_types(df: pd.DataFrame, cols: tuple[Column, ...]) -> pd.DataFrame:
    """Integer columns to int64 (nullable Int64 when an optional one has gaps)."""
    for c in cols:
        if c.kind == "int" and c.name in df.columns:
            s = df[c.name]
            df[c.name] = s.astype("int64") if not s.isna().any() else s.astype("Int64")
    for c in ("lon", "lat"):
        if c in df.columns:
            df[c] = df[c].astype(float)
    return df


# -------------------------------------------------------------- entry point
def validate_scenario(sc: Scenario, *, progress: Callable[[str], None] | None = None) -> ValidationResult:
    """Read and check every data file of ``sc``.

    Parameters
    ----------
    sc
        A loaded scenario; its files come from :meth:`Scenario.file_specs`
        (tables left out of ``[data]`` come from the ``[synth]`` cache folder).
    progress
        Called with a short message as each table is read.

    Returns
    -------
    ValidationResult
        Never raises for bad data: unreadable files are fatal problems.
    """
    say = progress or (lambda _m: None)
    res = ValidationResult()
    specs = sc.file_specs()
    unusable: set[str] = set()
    for name in ORDER:
        spec = specs.get(name)
        if spec is None:
            continue
        file = _display_path(spec.path)
        res.files[name] = file
        res.counts[name] = {"read": 0, "accepted": 0, "rejected": 0}
        if not Path(spec.path).exists():
            unusable.add(name)
            if name in SYNTH_TABLES and getattr(sc.data, name) is None:
                msg = (f"合成数据尚未生成，请先运行 planner synth（或 planner plan 会自动生成）"
                       f" (synthetic {name} not generated yet: run `planner synth` first)")
            else:
                msg = "找不到文件 (file not found)"
            res.problems.append(Problem(file, None, None, "missing_file", msg, "fatal"))
            continue
        try:
            raw = read_table(spec, table=name)
        except DataError as exc:
            unusable.add(name)
            res.problems.append(Problem(file, None, None, "unreadable_file", str(exc), "fatal"))
            continue
        say(f"检查 {TABLE_ZH[name]} ({name})：{len(raw):,} 行 (checking)")
        for doubt in raw.attrs.get("warnings", []):
            res.problems.append(Problem(file, None, None, "suspicious_encoding", doubt, "warning"))
        raw = raw.reset_index(drop=True)
        t = _Table(name, file, raw.copy(), res)
        cols = TABLES[name]
        if not _check_columns(t, cols):
            unusable.add(name)
            rej = raw.drop(columns=["geometry"], errors="ignore")
            rej["reason"] = "missing_column: 表缺少必需的列 (table unusable)"
            res.rejected[name] = rej
            res.counts[name] = {"read": len(raw), "accepted": 0, "rejected": len(raw)}
            continue
        _clean_text(t)
        _safe_ids(t, cols)
        for c in cols:
            _parse_column(t, c)
        _positions(t)
        _duplicates(t)
        _rules(name, t, sc, res, unusable)
        ok = t.ok().to_numpy()
        accepted = _finish_types(t.df[ok].reset_index(drop=True), cols)
        rejected = raw[~ok].drop(columns=["geometry"], errors="ignore").copy()
        rejected["reason"] = t.reason[~ok].to_numpy()
        res.tables[name] = accepted
        res.rejected[name] = rejected.reset_index(drop=True)
        res.counts[name] = {"read": len(raw), "accepted": len(accepted), "rejected": len(rejected)}
    _scenario_checks(sc, res, unusable)
    _nobody_moves(res, unusable)
    return res


def _scenario_checks(sc: Scenario, res: ValidationResult, unusable: set[str]) -> None:
    """Scenario keys the data makes impossible, each a fatal ``scenario_conflict`` naming the key.

    For every vehicle type in use (coach and feeder types with vehicles in the
    fleet, carriage types of the train services): its isolation rows must
    leave at least one row, and every occupancy rule the scenario can apply
    must leave at least one seat to sell. Otherwise the plan would blame the
    fleet for people the scenario made impossible to seat.
    """
    vt = res.tables.get("vehicle_types")
    if vt is None or "vehicle_types" in unusable or not len(vt):
        return
    used: set[str] = set()
    fleet = res.tables.get("fleet")
    if fleet is not None and "fleet" not in unusable:
        used |= set(fleet.loc[fleet["count"] > 0, "type_id"].astype(str))
    trains = res.tables.get("train_services")
    if trains is not None and "train_services" not in unusable:
        used |= set(trains.loc[trains["carriages"] > 0, "carriage_type"].astype(str))
    occ = sc.occupancy
    iso_key = {"coach": "coach_isolation_rows", "feeder": "feeder_isolation_rows",
               "train_carriage": "carriage_isolation_rows"}
    rules = {"low": occ.low, "medium": occ.medium, "high": occ.high}
    if occ.low_relaxed_from is not None:
        rules["low_relaxed_rule"] = occ.low_relaxed_rule
    file = _display_path(sc.source_path) if sc.source_path else "scenario"
    for row in vt[vt["type_id"].astype(str).isin(used)].itertuples(index=False):
        key = iso_key.get(str(row.mode))
        if key is None:
            continue
        iso = int(getattr(occ, key))
        if iso >= int(row.rows):
            msg = (f"occupancy.{key} = {iso} 不小于车型 {shown(row.type_id)} 的座位排数 {int(row.rows)}："
                   f"该车型一个座位也不能卖 (isolation rows leave no row of type {shown(row.type_id)})")
            res.problems.append(Problem(file, None, f"occupancy.{key}", "scenario_conflict", msg, "fatal"))
            continue
        layout = SeatLayout.from_row(row._asdict())
        for level, rule in rules.items():
            if seats_allowed(layout, rule, iso) == 0:
                msg = (f"occupancy.{level} = {rule}，留观 {iso} 排后车型 {shown(row.type_id)} 没有可售座位 "
                       f"(no sellable seat on type {shown(row.type_id)})")
                res.problems.append(Problem(file, None, f"occupancy.{level}", "scenario_conflict", msg, "fatal"))


def _nobody_moves(res: ValidationResult, unusable: set[str]) -> None:
    """Loud warnings for a register without a usable row and a fleet without a coach."""
    if "workers" in res.counts and res.counts["workers"]["accepted"] == 0:
        c = res.counts["workers"]
        why = ("工人名单没有数据行（只有表头）(the register has a header only)" if c["read"] == 0 and "workers" not in unusable
               else f"工人名单读入 {c['read']} 行，没有一行可用 (no usable worker row)")
        res.problems.append(Problem(res.files["workers"], None, None, "no_workers",
                                    f"{why}：没有人可以规划，计划将为空 (nobody to plan)", "warning"))
    if "fleet" in res.counts and "fleet" not in unusable:
        fleet = res.tables.get("fleet")
        vt = res.tables.get("vehicle_types")
        coach_types = set() if vt is None else set(vt.loc[vt["mode"] == "coach", "type_id"].astype(str))
        coaches = 0 if fleet is None else int(fleet.loc[fleet["type_id"].astype(str).isin(coach_types), "count"].sum())
        if coaches == 0:
            trains = res.tables.get("train_services")
            carriages = 0 if trains is None else int(trains["carriages"].sum())
            tail = ("只有乘专列的人能出行 (only train passengers can travel)" if carriages
                    else "没有人能出行 (nobody can travel)")
            res.problems.append(Problem(res.files["fleet"], None, "count", "no_coaches",
                                        f"车队中可用的大巴为 0 辆：{tail}", "warning"))


# ------------------------------------------------------------ rejected rows
_REPO_ROOT = Path(__file__).resolve().parent.parent
PERSONAL_DATA_NOTE = ("被拒绝行文件保存原始行，含完整的姓名、身份证号和手机号（个人信息），请妥善保管、用完删除，勿外传 "
                      "(the rejected-rows files keep the full rows: names, full ID numbers and phones)")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _served_dirs() -> list[Path]:
    """Folders the app serves or saves uploads to (see ``app.py``): no personal data may be written there."""
    upload = Path(os.environ.get("PLANNER_APP_UPLOAD_DIR", _REPO_ROOT / "out" / "uploads"))
    return [upload.resolve(), (_REPO_ROOT / "static").resolve()]


def rejected_dir_problem(out: Path) -> str | None:
    """Why ``out`` must not receive the rejected rows, or None when it may.

    Refused: a plan directory or any folder inside one (a folder or ancestor
    holding ``summary.json``: documents and the app read and serve plan
    directories), and the app's upload and static folders.
    """
    target = Path(out).resolve()
    for d in (target, *target.parents):
        if (d / "summary.json").is_file():
            return f"{out} 位于计划目录 {d} 内，计划目录会被文件和网页读取 (inside a plan directory)"
    for served in _served_dirs():
        if target == served or served in target.parents:
            return f"{out} 位于网页应用的上传/发布目录 {served} 内 (inside a folder the app serves)"
    return None


def check_rejected_dir(out: Path) -> None:
    """Raise :class:`DataError` when ``out`` may not receive the rejected rows (see :func:`rejected_dir_problem`)."""
    why = rejected_dir_problem(out)
    if why:
        msg = f"不能把被拒绝的行（含个人信息）写入此目录 (refusing to write personal data there): {why}"
        raise DataError(msg)
    if Path(out).exists() and not Path(out).is_dir():
        msg = f"{out} 是文件而不是目录 (--rejected-dir is a file)"
        raise DataError(msg)


def _as_written(frame: pd.DataFrame) -> pd.DataFrame:
    """The rejected rows safe to open in a spreadsheet: no live formulas, no raw control characters.

    Cells starting with ``= + - @`` (or tab, CR) get a leading apostrophe (OWASP CSV injection
    advice); control characters become U+FFFD so the file stays one row per line.
    """
    out = frame.copy()
    for col in out.columns:
        if col == "_row":
            continue
        s = out[col].astype(str).str.replace(_CONTROL, "\ufffd", regex=True)
        risky = s.str.startswith(_FORMULA_START)
        out[col] = s.where(~risky, "'" + s)
    return out


def write_rejected(res: ValidationResult, out: Path) -> list[Path]:
    """Write ``rejected_<table>.csv`` (UTF-8 with BOM) for every table with rejected rows.

    The files keep the rows as written, so they hold full names, ID numbers
    and phones (:data:`PERSONAL_DATA_NOTE`); they are readable by the owner
    only (mode 600) and refused inside a plan directory or a folder the app
    serves (:func:`rejected_dir_problem`).

    Raises
    ------
    DataError
        ``out`` is such a folder, or is a file.
    """
    check_rejected_dir(out)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, frame in res.rejected.items():
        if len(frame):
            path = out / f"rejected_{name}.csv"
            _as_written(frame).to_csv(path, index=False, encoding="utf-8-sig")
            path.chmod(0o600)
            written.append(path)
    return written


__all__ = ["Problem", "ValidationResult", "validate_scenario", "parse_dates", "normalise_province",
           "write_rejected", "check_rejected_dir", "rejected_dir_problem", "PERSONAL_DATA_NOTE"]
