"""Validation: every input table checked against its schema and against the others.

Each problem names the file, the row a user sees in it and the column. A row
that cannot be used goes to a rejected table with its reason; nothing
disappears: for every table, rows read = accepted + rejected. References
cascade: a worker whose village was rejected is rejected too, naming the
village. Personal data (names, ID numbers, phones) never appears in a message:
workers are named by file row and worker_id.

Accepted tables are typed: codes as strings, dates as ``datetime64[ns]``
(midnight, local), integers and floats numeric, ``job_confirmed`` bool,
positions as float ``lon``/``lat`` in WGS-84, ``_row`` kept.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from planner.coords import in_china_bbox, looks_swapped, to_wgs84
from planner.errors import DataError
from planner.idcard import _CHECK_CHARS, _WEIGHTS
from planner.io.readers import read_table
from planner.scenario import Scenario
from planner.schemas import ID_COLUMNS, POLYGON_TABLES, TABLES, Column

log = logging.getLogger(__name__)

PROVINCE_ALIASES = {"广东省": "广东", "浙江省": "浙江", "福建省": "福建", "江苏省": "江苏", "上海市": "上海"}
TRUE = {"true", "1", "yes", "y", "是", "t"}
FALSE = {"false", "0", "no", "n", "否", "f"}
ORDER = ["counties", "receiving_counties", "vehicle_types", "villages", "hubs", "stations", "factories",
         "fleet", "train_services", "risk_calendar", "workers"]


@dataclass(frozen=True)
class Problem:
    """One problem found in the input."""

    file: str
    row: int | None
    column: str | None
    code: str
    message: str
    severity: str  # fatal | error | warning


@dataclass
class ValidationResult:
    """Accepted typed tables, rejected rows with reasons, and every problem."""

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

    def report_text(self, max_per_code: int = 50) -> str:
        """A readable report: problems by file (file:row:column: message), then the balance."""
        lines: list[str] = []
        by_file: dict[str, list[Problem]] = {}
        for p in self.problems:
            by_file.setdefault(p.file, []).append(p)
        sev_zh = {"fatal": "致命", "error": "拒绝", "warning": "提醒"}
        for f, probs in by_file.items():
            lines.append(f"== {f}")
            shown: dict[str, int] = {}
            for p in probs:
                shown[p.code] = shown.get(p.code, 0) + 1
                if shown[p.code] > max_per_code:
                    continue
                loc = f"{f}:{p.row if p.row is not None else '-'}:{p.column or '-'}"
                lines.append(f"  {loc}: [{sev_zh[p.severity]} {p.code}] {p.message}")
            for code, n in shown.items():
                if n > max_per_code:
                    lines.append(f"  … {code} 另有 {n - max_per_code} 处 (more)")
        lines.append("== 行数核对 (rows read = accepted + rejected)")
        names = {"workers": "工人", "villages": "村", "hubs": "枢纽", "factories": "企业", "fleet": "车队",
                 "vehicle_types": "车型", "train_services": "专列", "risk_calendar": "风险日历",
                 "stations": "到达站", "counties": "区县", "receiving_counties": "接收地区县"}
        for t in ORDER:
            if t in self.counts:
                c = self.counts[t]
                lines.append(f"  {names.get(t, t)} ({t}) 读入 {c['read']:,} = 接受 {c['accepted']:,} + 拒绝 {c['rejected']:,}")
        n_err = sum(1 for p in self.problems if p.severity != "warning")
        n_warn = sum(1 for p in self.problems if p.severity == "warning")
        lines.append(f"共 {n_err:,} 个问题、{n_warn:,} 个提醒 (problems, warnings)")
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
        """Record a problem for ``rows`` (or the whole file) and reject them when asked."""
        if rows is None:
            self.res.problems.append(Problem(self.file, None, column, code, message, severity))
            return
        if len(rows) == 0:
            return
        row_nums = self.df.loc[rows, "_row"].to_numpy()
        ids = self.df.loc[rows, ID_COLUMNS[self.name]].to_numpy() if ID_COLUMNS.get(self.name) in self.df else None
        for k, (idx, rn) in enumerate(zip(rows, row_nums)):
            msg = per_row.loc[idx] if per_row is not None else message
            if ids is not None and self.name == "workers":
                msg = f"{ids[k]}: {msg}"
            self.res.problems.append(Problem(self.file, int(rn), column, code, msg, severity))
        if reject:
            fresh = self.reason.loc[rows] == ""
            self.reason.loc[rows[fresh.to_numpy()]] = f"{code}:{column or ''}"

    def ok(self) -> pd.Series:
        return self.reason == ""


def _relpath(p: Path) -> str:
    try:
        return str(Path(p).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(p)


# ------------------------------------------------------------------ parsing
_DATE_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]00:00(?::00)?)?$")


def parse_dates(s: pd.Series) -> pd.Series:
    """ISO-like dates (2020-02-14, 2020/2/14, Excel's '2020-02-14 00:00:00') to datetime64; NaT if bad."""
    m = s.str.extract(_DATE_RE)
    txt = m[0] + "-" + m[1].str.zfill(2) + "-" + m[2].str.zfill(2)
    return pd.to_datetime(txt, format="%Y-%m-%d", errors="coerce")


def _check_columns(t: _Table, cols: tuple[Column, ...]) -> bool:
    missing = [c.name for c in cols if c.required and c.name not in t.df.columns]
    for name in missing:
        t.problem("missing_column", f"缺少必需的列 {name} (missing column)", column=name, severity="fatal")
    return not missing


def _parse_column(t: _Table, c: Column, sc: Scenario) -> None:
    df = t.df
    if c.name not in df.columns:
        return
    s = df[c.name].astype(str).str.strip()
    empty = s == ""
    if c.required:
        t.problem("missing_value", f"{c.name} 不能为空 (empty)", rows=df.index[empty & t.ok()], column=c.name)
    present = ~empty
    if c.kind == "code":
        pat = "|".join(rf"\d{{{d}}}" for d in c.digits)
        bad = present & ~s.str.fullmatch(pat)
        t.problem("bad_type", f"{c.name} 应为{'或'.join(str(d) for d in c.digits)}位数字代码 (code of digits)",
                  rows=df.index[bad], column=c.name)
        df[c.name] = s
    elif c.kind in ("int", "float"):
        num = pd.to_numeric(s.where(present), errors="coerce")
        bad = present & num.isna()
        if c.kind == "int":
            bad |= present & num.notna() & (num != np.floor(num.fillna(0)))
        t.problem("bad_type", f"{c.name} 应为{'整数' if c.kind == 'int' else '数字'} (not a number)",
                  rows=df.index[bad], column=c.name)
        if c.minimum is not None:
            low = present & ~bad & (num < c.minimum)
            t.problem("out_of_range", f"{c.name} 不能小于 {c.minimum:g} (too small)", rows=df.index[low], column=c.name)
        df[c.name] = num
    elif c.kind == "date":
        d = parse_dates(s)
        bad = present & d.isna()
        t.problem("bad_type", f"{c.name} 应为日期 YYYY-MM-DD (not a date)", rows=df.index[bad], column=c.name)
        df[c.name] = d
    elif c.kind == "time":
        bad = present & ~s.str.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d(:00)?")
        t.problem("bad_type", f"{c.name} 应为时间 HH:MM (not a time)", rows=df.index[bad], column=c.name)
        df[c.name] = s.str[:5].str.zfill(5)
    elif c.kind == "bool":
        low = s.str.lower()
        bad = present & ~low.isin(TRUE | FALSE)
        t.problem("bad_type", f"{c.name} 应为 true/false、是/否 或 1/0 (not a yes/no value)",
                  rows=df.index[bad], column=c.name)
        df[c.name] = low.isin(TRUE)
    elif c.kind == "enum":
        bad = present & ~s.isin(c.values)
        t.problem("bad_value", f"{c.name} 应为 {' / '.join(c.values)} 之一 (unknown value)",
                  rows=df.index[bad], column=c.name)
        df[c.name] = s
    else:
        df[c.name] = s


def _positions(t: _Table, crs: str) -> None:
    df = t.df
    if "lon" not in df.columns or "lat" not in df.columns:
        return
    usable = df["lon"].notna() & df["lat"].notna()
    lon = df["lon"].to_numpy(float, copy=True)
    lat = df["lat"].to_numpy(float, copy=True)
    swapped = usable.to_numpy() & looks_swapped(lon, lat)
    outside = usable.to_numpy() & ~in_china_bbox(lon, lat) & ~swapped
    t.problem("lonlat_swapped", "经纬度似乎写反了（lon 应约为 73-136，lat 约为 3-54）(lon/lat swapped)",
              rows=df.index[swapped], column="lon")
    t.problem("outside_china", "位置在中国境外，请检查坐标 (position outside China)", rows=df.index[outside], column="lon")
    if crs != "wgs84":
        ok = usable.to_numpy() & ~swapped & ~outside
        x, y = to_wgs84(lon[ok], lat[ok], crs)
        lon[ok], lat[ok] = x, y
        df["lon"] = lon
        df["lat"] = lat


def _duplicates(t: _Table) -> None:
    key = ID_COLUMNS.get(t.name)
    if key is None or key not in t.df.columns:
        return
    s = t.df[key]
    dup = s.duplicated(keep="first") & (s.astype(str) != "")
    first_row = t.df.drop_duplicates(key).set_index(key)["_row"]
    msgs = pd.Series([f"{key} {v} 重复，首次出现在第 {first_row.get(v, '?')} 行 (duplicate id)" for v in s[dup]],
                     index=t.df.index[dup], dtype=object)
    t.problem("duplicate_id", "", rows=t.df.index[dup], column=key, per_row=msgs)


def _dangling(t: _Table, column: str, valid: set, target: str, *, allow_empty: bool = False) -> None:
    if column not in t.df.columns:
        return
    s = t.df[column].astype(str)
    bad = ~s.isin(valid) & t.ok()
    if allow_empty:
        bad &= s != ""
    msgs = pd.Series([f"{column} {v} 在{target}中不存在或已被拒绝 (dangling reference)" for v in s[bad]],
                     index=t.df.index[bad], dtype=object)
    t.problem("dangling_reference", "", rows=t.df.index[bad], column=column, per_row=msgs)


def _id_number_checks(t: _Table) -> None:
    s = t.df["id_number"].astype(str).str.strip().str.upper()
    shape_ok = s.str.fullmatch(r"\d{17}[\dX]")
    t.problem("bad_id_number", "身份证号应为18位（17位数字加校验位）(ID number malformed)",
              rows=t.df.index[~shape_ok & (s != "")], column="id_number")
    good = s[shape_ok]
    if len(good):
        digits = np.frombuffer(good.str[:17].to_numpy().astype("S17").tobytes(), dtype=np.uint8).reshape(-1, 17) - 48
        check = np.array(list(_CHECK_CHARS))[(digits.astype(np.int64) * np.array(_WEIGHTS)).sum(axis=1) % 11]
        born = pd.to_datetime(good.str[6:14], format="%Y%m%d", errors="coerce")
        bad_born = born.isna() | (born < pd.Timestamp("1900-01-01")) | (born > pd.Timestamp.now())
        t.problem("bad_id_birth_date", "身份证号中的出生日期无效 (birth date in ID invalid)",
                  rows=good.index[bad_born.to_numpy()], column="id_number")
        bad_check = (good.str[17].to_numpy() != check) & ~bad_born.to_numpy()
        t.problem("bad_id_check_digit", "身份证号校验位错误 (ID number check digit wrong)",
                  rows=good.index[bad_check], column="id_number")
    t.df["id_number"] = s


def _phone_checks(t: _Table) -> None:
    s = t.df["phone"].astype(str).str.replace(r"[\s-]", "", regex=True).str.replace(r"^\+86", "", regex=True)
    bad = (s != "") & ~s.str.fullmatch(r"1[3-9]\d{9}")
    t.problem("bad_phone", "手机号应为11位、以1开头 (malformed mobile number)", rows=t.df.index[bad], column="phone")
    t.df["phone"] = s


def _inside_polygons(t: _Table, polys: pd.DataFrame, code_col: str = "county_code") -> None:
    """Reject rows whose position is outside the polygon of the county they name."""
    if polys is None or "geometry" not in polys.columns or code_col not in t.df.columns:
        return
    geom = dict(zip(polys["county_code"], polys["geometry"]))
    df = t.df
    ok = t.ok() & df["lon"].notna() & df["lat"].notna() & df[code_col].isin(geom.keys())
    bad_idx = []
    for code, grp in df[ok].groupby(code_col):
        inside = shapely.contains_xy(geom[code], grp["lon"].to_numpy(float), grp["lat"].to_numpy(float))
        bad_idx += list(grp.index[~inside])
    if bad_idx:
        idx = pd.Index(bad_idx)
        msgs = pd.Series([f"位置不在其所属区县 {c} 的范围内 (outside its own county)" for c in df.loc[idx, code_col]],
                         index=idx, dtype=object)
        t.problem("outside_county", "", rows=idx, column="lon", per_row=msgs)


def _derive_county(df: pd.DataFrame, polys: pd.DataFrame | None) -> None:
    """Fill an absent or empty county_code from the position (receiving counties)."""
    if polys is None or "geometry" not in polys.columns:
        if "county_code" not in df.columns:
            df["county_code"] = ""
        return
    if "county_code" not in df.columns:
        df["county_code"] = ""
    need = (df["county_code"].fillna("").astype(str) == "") & df["lon"].notna() & df["lat"].notna()
    if not need.any():
        return
    tree = shapely.STRtree(polys["geometry"].to_numpy())
    pts = shapely.points(df.loc[need, "lon"].to_numpy(float), df.loc[need, "lat"].to_numpy(float))
    pi, gi = tree.query(pts, predicate="within")
    codes = np.full(len(pts), "", dtype=object)
    codes[pi] = polys["county_code"].to_numpy()[gi]
    df.loc[need, "county_code"] = codes


# -------------------------------------------------------------- table rules
def _rules(name: str, t: _Table, sc: Scenario, res: ValidationResult) -> None:
    """Checks that need other tables or the scenario."""
    df = t.df
    acc = res.tables
    start = pd.Timestamp(sc.window.start)
    end = pd.Timestamp(sc.window.end)
    if name == "villages":
        counties = acc.get("counties")
        if counties is not None:
            _dangling(t, "county_code", set(counties["county_code"]), "区县表")
        mism = t.ok() & (df["village_code"].str[:9] != df["township_code"])
        t.problem("inconsistent_code", "village_code 前9位应等于 township_code (codes disagree)",
                  rows=df.index[mism], column="township_code")
        mism = t.ok() & (df["township_code"].str[:6] != df["county_code"])
        t.problem("inconsistent_code", "township_code 前6位应等于 county_code (codes disagree)",
                  rows=df.index[mism], column="county_code")
        _inside_polygons(t, counties)
    elif name == "hubs":
        counties = acc.get("counties")
        if counties is not None:
            _dangling(t, "county_code", set(counties["county_code"]), "区县表")
            _inside_polygons(t, counties)
    elif name == "stations":
        _derive_county(df, acc.get("receiving_counties"))
    elif name == "factories":
        df["province"] = df["province"].replace(PROVINCE_ALIASES)
        _derive_county(df, acc.get("receiving_counties"))
        st = acc.get("stations")
        if st is not None and "arrival_station_id" in df.columns:
            _dangling(t, "arrival_station_id", set(st["station_id"]), "到达站表", allow_empty=True)
        early = t.ok() & (df["needed_by"] < start)
        t.problem("date_outside_window", f"needed_by 早于规划开始日 {sc.window.start} (before the window)",
                  rows=df.index[early], column="needed_by")
        unknown = t.ok() & ~df["province"].isin(sc.health.provinces.keys())
        if sc.health.unknown_province == "refuse":
            t.problem("unknown_province", "该省份不在情景的 [health.provinces] 中，没有认可的健康证明 (province not in scenario)",
                      rows=df.index[unknown], column="province", severity="warning", reject=False)
    elif name == "fleet":
        if "counties" in acc:
            _dangling(t, "county_code", set(acc["counties"]["county_code"]), "区县表")
        if "vehicle_types" in acc:
            vt = acc["vehicle_types"]
            _dangling(t, "type_id", set(vt[vt["mode"].isin(["coach", "feeder"])]["type_id"]), "车型表（大巴或接驳车）")
    elif name == "vehicle_types":
        calc = (df["rows"] - 1) * df["seats_per_row"] + df["last_row_seats"]
        bad = t.ok() & (calc != df["rated_seats"])
        t.problem("inconsistent_seats", "rated_seats 应等于 (rows-1)×seats_per_row+last_row_seats (seat count disagrees)",
                  rows=df.index[bad], column="rated_seats")
        bad = t.ok() & (df["aisle_after"] >= df["seats_per_row"])
        t.problem("bad_value", "aisle_after 应小于 seats_per_row", rows=df.index[bad], column="aisle_after")
    elif name == "train_services":
        hubs = acc.get("hubs")
        if hubs is not None:
            _dangling(t, "origin_station_id", set(hubs[hubs["kind"] == "rail_station"]["hub_id"]), "枢纽表的火车站")
        st = acc.get("stations")
        _dangling(t, "destination_station_id", set(st["station_id"]) if st is not None else set(), "到达站表")
        vt = acc.get("vehicle_types")
        if vt is not None:
            _dangling(t, "carriage_type", set(vt[vt["mode"] == "train_carriage"]["type_id"]), "车型表的车厢")
        out = t.ok() & ((df["date"] < start) | (df["date"] > end))
        t.problem("date_outside_window", f"date 不在规划期 {sc.window.start}~{sc.window.end} 内 (outside the window)",
                  rows=df.index[out], column="date")
    elif name == "risk_calendar":
        rc = acc.get("receiving_counties")
        if rc is not None:
            codes = set(rc["county_code"])
            prefixes = codes | {c[:4] for c in codes} | {c[:2] for c in codes}
            _dangling(t, "region_code", prefixes, "接收地区县表")
        bad = t.ok() & (df["from"] > df["to"])
        t.problem("bad_date_range", "from 晚于 to (range reversed)", rows=df.index[bad], column="to")
    elif name == "workers":
        _id_number_checks(t)
        _phone_checks(t)
        no_proof = df["health_proof"] == "none"
        miss = t.ok() & ~no_proof & df["proof_date"].isna()
        t.problem("missing_value", "持有健康证明时 proof_date 不能为空 (proof_date missing)",
                  rows=df.index[miss], column="proof_date")
        late = t.ok() & (df["ready_date"] > end)
        t.problem("date_outside_window", f"ready_date 晚于规划结束日 {sc.window.end} (after the window)",
                  rows=df.index[late], column="ready_date")
        future = t.ok() & df["proof_date"].notna() & (df["proof_date"] > end)
        t.problem("date_outside_window", f"proof_date 晚于规划结束日 {sc.window.end} (after the window)",
                  rows=df.index[future], column="proof_date")
        v = acc.get("villages")
        f = acc.get("factories")
        _dangling(t, "village_code", set(v["village_code"]) if v is not None else set(), "村表")
        _dangling(t, "factory_id", set(f["factory_id"]) if f is not None else set(), "企业表")
        if v is not None:
            vi = v.set_index("village_code")
            df["township_code"] = df["village_code"].map(vi["township_code"]).fillna("")
            df["county_code"] = df["village_code"].map(vi["county_code"]).fillna("")
        if "group_id" in df.columns:
            g = df[t.ok() & (df["group_id"].astype(str) != "")]
            spread = g.groupby("group_id")[["village_code", "factory_id"]].nunique()
            mixed = spread[(spread > 1).any(axis=1)].index
            rows = g.index[g["group_id"].isin(mixed)]
            t.problem("group_mixed", "同一 group_id 的成员村或企业不同，将按村和企业分开出行 (group members differ)",
                      rows=rows, column="group_id", severity="warning", reject=False)


def validate_scenario(sc: Scenario, *, progress: Callable[[str], None] | None = None) -> ValidationResult:
    """Read and check every data file of ``sc``; see the module docstring."""
    say = progress or (lambda _m: None)
    res = ValidationResult()
    specs = sc.file_specs()
    for name in ORDER:
        spec = specs.get(name)
        if spec is None:
            continue
        file = _relpath(spec.path)
        res.files[name] = file
        try:
            raw = read_table(spec)
        except DataError as exc:
            hint = " 请先运行 planner synth 或检查 [synth] 设置" if name in ("workers", "factories", "fleet") and sc.synth else ""
            res.problems.append(Problem(file, None, None, "unreadable_file", str(exc) + hint, "fatal"))
            res.counts[name] = {"read": 0, "accepted": 0, "rejected": 0}
            continue
        say(f"检查 {name}：{len(raw):,} 行 (checking)")
        t = _Table(name, file, raw.reset_index(drop=True), res)
        cols = TABLES[name]
        if name in POLYGON_TABLES and "geometry" not in t.df.columns:
            t.problem("missing_column", "需要多边形几何 (polygon geometry required): use GeoPackage or GeoJSON",
                      column="geometry", severity="fatal")
        if not _check_columns(t, cols):
            res.counts[name] = {"read": len(raw), "accepted": 0, "rejected": len(raw)}
            rej = raw.copy()
            rej["reason"] = "missing_column"
            res.rejected[name] = rej
            continue
        for c in cols:
            _parse_column(t, c, sc)
        _positions(t, spec.crs)
        _duplicates(t)
        _rules(name, t, sc, res)
        ok = t.ok()
        accepted = t.df[ok].reset_index(drop=True)
        rejected = raw[~ok.to_numpy()].copy()
        rejected["reason"] = t.reason[~ok].to_numpy()
        res.tables[name] = accepted
        res.rejected[name] = rejected.reset_index(drop=True)
        res.counts[name] = {"read": len(raw), "accepted": len(accepted), "rejected": len(rejected)}
    return res


__all__ = ["Problem", "ValidationResult", "validate_scenario", "parse_dates", "Path"]
