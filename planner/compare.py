"""``planner compare PLAN_A PLAN_B [...]``: plans side by side, per county, differences marked.

Reads only plan directories (:func:`planner.plan_format.read_plan`, their
``summary.json``, :mod:`planner.plan_metrics`): no scenario, no solver. For
the whole plan and for each origin county it lists workers planned,
unassigned by reason, departures by mode, coach-days used, seats filled,
villages per trunk vehicle, hub waits, km, cost, the gaps to the lower bounds,
and a per-day table of people moved (inter-provincial departures by day).
Rows whose values differ between the plans are marked ``◆`` on screen and
``differs = true`` in the CSV.

Definitions (the same for every plan, so differences are fair):

- *coach-days used*: days on which a coach is on the road (any trip of it,
  passenger or empty return, touches the day), summed over coaches;
- *seats filled*: passengers / seats allowed over inter-provincial passenger trips (coach and train);
- *villages per vehicle*: distinct villages of the passengers of each inter-provincial trip, mean;
- *cost*: coach km (empty returns included) x ``costs.coach_yuan_per_km`` + coach departures x
  ``costs.subsidy_yuan_per_coach``, with the scenario's costs when the scenario file recorded in
  ``summary.json`` can still be read, else the defaults (said in the output).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from planner.plan_format import PlanFiles, read_plan
from planner.plan_metrics import hub_transfers
from planner.vocab import reason_label

ALL = "全部"
DIFF_MARK = "◆"

# metric key -> Chinese label (the order of the table)
LABELS: dict[str, str] = {
    "workers_read": "务工人员（读入）",
    "planned": "已安排人数",
    "planned_share": "已安排比例 %",
    "unassigned": "未安排人数",
    "dep_coach": "大巴发车（班）",
    "dep_direct_coach": "  其中乡镇直达",
    "dep_train_carriage": "专列车厢（节）",
    "dep_feeder": "接驳车发车（班）",
    "coach_days": "大巴使用车日",
    "coaches_used": "使用的大巴（辆）",
    "seats_used": "已售座位",
    "seats_allowed": "可售座位",
    "seat_fill_pct": "座位利用率 %",
    "villages_per_vehicle": "每车平均村数",
    "hub_transfers": "枢纽换乘人次",
    "hub_wait_median_min": "枢纽候车中位数（分钟）",
    "hub_wait_max_min": "枢纽候车最长（分钟）",
    "km_coach": "大巴里程 km（含空驶返回）",
    "km_feeder": "接驳车里程 km",
    "cost_yuan": "费用（元）",
    "throughput_bound": "运力上界（人）",
    "throughput_gap_pct": "距运力上界差距 %",
    "departure_bound": "大巴发车下界（班）",
    "departure_gap_pct": "距发车下界差距 %",
}


@dataclass
class Comparison:
    """Plans side by side: ``table`` (county, metric, label, one column per plan, differs), ``per_day``."""

    names: list[str]
    table: pd.DataFrame
    per_day: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    def text(self, *, counties: bool = True) -> str:
        """The comparison for a terminal: total first, then each county; differing rows marked."""
        lines = [f"比较 (comparing): {'  |  '.join(self.names)}", *self.notes]
        for county, block in self.table.groupby("county", sort=False):
            if county != ALL and not counties:
                continue
            lines.append("")
            lines.append(f"== {'全部区县 (all counties)' if county == ALL else f'区县 {county}'}")
            lines += _render(block, self.names)
        if len(self.per_day):
            lines.append("")
            lines.append("== 每日出发人数 (people moved per day)")
            lines += _render_days(self.per_day, self.names)
        return "\n".join(lines)

    def write_csv(self, path: Path) -> Path:
        """The table (county, metric, label, plan columns, differs), then the per-day rows; written atomically."""
        days = self.per_day.copy()
        if len(days):
            days.insert(0, "county", ALL)
            days.insert(1, "metric", "moved_on_" + days["day"].astype(str))
            days.insert(2, "label", "出发人数 " + days["day"].astype(str))
            days = days.drop(columns=["day"])
            days["differs"] = days[self.names].nunique(axis=1) > 1
        out = pd.concat([self.table, days], ignore_index=True)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            out.to_csv(tmp, index=False, encoding="utf-8-sig")  # BOM: Excel opens the Chinese labels right
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path


def _fmt(v: object) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "-"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):,.0f}" if abs(v) >= 1000 else f"{float(v):.2f}".rstrip("0").rstrip(".")
    return str(v)


def _width(s: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _pad(s: str, n: int, right: bool = False) -> str:
    fill = " " * max(0, n - _width(s))
    return fill + s if right else s + fill


def _render(block: pd.DataFrame, names: list[str]) -> list[str]:
    cols = [[_fmt(v) for v in block[n]] for n in names]
    labels = block["label"].tolist()
    wl = max(_width(x) for x in labels + ["指标"])
    wc = [max(_width(x) for x in c + [n]) for c, n in zip(cols, names)]
    out = [_pad("指标", wl + 2) + "  ".join(_pad(n, w, True) for n, w in zip(names, wc))]
    if len(names) == 2:
        out[0] += "  差值(B-A)"
    for i, (label, differs) in enumerate(zip(labels, block["differs"])):
        row = (DIFF_MARK if differs else " ") + " " + _pad(label, wl) + "  ".join(
            _pad(c[i], w, True) for c, w in zip(cols, wc))
        if len(names) == 2 and differs:
            a, b = block[names[0]].iloc[i], block[names[1]].iloc[i]
            if isinstance(a, (int, float, np.number)) and isinstance(b, (int, float, np.number)):
                d = b - a
                row += "  " + ("+" if d > 0 else "") + _fmt(d)
        out.append(row)
    return out


def _render_days(days: pd.DataFrame, names: list[str]) -> list[str]:
    out = ["日期        " + "  ".join(_pad(n, max(8, _width(n)), True) for n in names)]
    for _, r in days.iterrows():
        vals = [int(r[n]) for n in names]
        mark = DIFF_MARK if len(set(vals)) > 1 else " "
        out.append(f"{mark} {r['day']}  " + "  ".join(_pad(f"{v:,}", max(8, _width(n)), True)
                                                    for v, n in zip(vals, names)))
    return out


# ------------------------------------------------------------------ figures of one plan
def _costs(plan: PlanFiles) -> tuple[float, float, str | None]:
    """(yuan per coach-km, subsidy per coach departure, note) from the scenario recorded in the summary."""
    from planner.scenario import Costs, load_scenario

    path = ((plan.summary or {}).get("scenario") or {}).get("path")
    if path and Path(path).is_file():
        try:
            c = load_scenario(path).costs
            return c.coach_yuan_per_km, c.subsidy_yuan_per_coach, None
        except Exception:  # noqa: BLE001 - a changed scenario file only means default costs, said in the output
            pass
    c = Costs()
    return c.coach_yuan_per_km, c.subsidy_yuan_per_coach, (
        f"{plan.path.name if plan.path else '计划'}：找不到计划记录的情景文件，费用按默认单价计算 "
        f"({c.coach_yuan_per_km:g} 元/车公里, {c.subsidy_yuan_per_coach:g} 元/班)")


def _trip_county(plan: PlanFiles) -> pd.Series:
    """Origin county of each trip: its home county, or (train carriages) the county of most of its passengers."""
    trips = plan.trips
    county = trips.set_index("trip_id")["home_county_code"].astype(str)
    empty = county[county == ""].index
    if len(empty):
        wc = plan.workers.drop_duplicates("worker_id").set_index("worker_id")["county_code"].astype(str)
        lg = plan.legs[plan.legs["trip_id"].isin(empty)]
        top = (lg.assign(c=lg["worker_id"].map(wc)).groupby("trip_id")["c"]
               .agg(lambda s: s.value_counts().index[0] if s.notna().any() else ""))
        county.loc[top.index] = top
    return county


def _coach_days(trips: pd.DataFrame) -> pd.DataFrame:
    """(vehicle_id, county, day) for every day a coach is on the road."""
    c = trips[trips["mode"].astype(str) == "coach"]
    if c.empty:
        return pd.DataFrame(columns=["vehicle_id", "county", "day"])
    a = c["depart"].dt.tz_convert("Asia/Shanghai").dt.normalize().dt.tz_localize(None)
    b = c["arrive"].dt.tz_convert("Asia/Shanghai").dt.normalize().dt.tz_localize(None)
    n = ((b - a).dt.days.clip(lower=0) + 1).to_numpy()
    rows = pd.DataFrame({"vehicle_id": np.repeat(c["vehicle_id"].astype(str).to_numpy(), n),
                         "county": np.repeat(c["home_county_code"].astype(str).to_numpy(), n),
                         "day": np.repeat(a.to_numpy(), n) + pd.to_timedelta(
                             np.concatenate([np.arange(k) for k in n]) if len(n) else [], unit="D")})
    return rows.drop_duplicates()


def plan_figures(plan: PlanFiles) -> tuple[dict[str, dict[str, object]], pd.Series, list[str]]:
    """Per county (and ``全部``): metric -> value; the people moved per day; notes."""
    w, trips, legs, s = plan.workers, plan.trips, plan.legs, plan.summary or {}
    yuan_km, subsidy, note = _costs(plan)
    notes = [note] if note else []
    tcounty = _trip_county(plan)
    trips = trips.assign(county=trips["trip_id"].map(tcounty).fillna("").astype(str))
    wcounty = w.drop_duplicates("worker_id").set_index("worker_id")["county_code"].astype(str)
    trunk = trips[trips["mode"].isin(["coach", "train"]) & (trips["purpose"] == "passenger")]
    # villages of each trunk trip's passengers
    wv = w.drop_duplicates("worker_id").set_index("worker_id")["village_code"].astype(str)
    tl = legs[legs["trip_id"].isin(trunk["trip_id"])]
    vil = tl.assign(v=tl["worker_id"].map(wv)).groupby("trip_id")["v"].nunique()
    direct = set()
    if "chain" in w.columns:
        dw = w.loc[w["chain"].astype(str) == "direct", "worker_id"]
        direct = set(legs.loc[legs["worker_id"].isin(dw) & legs["trip_id"].isin(trunk["trip_id"]), "trip_id"])
    transfers = hub_transfers(plan.trips, legs)
    transfers["county"] = transfers["worker_id"].map(wcounty)
    cdays = _coach_days(trips)
    tb = s.get("throughput_bound") or {}
    lb = s.get("lower_bound") or {}
    counties = sorted(set(w["county_code"].astype(str)) - {""})
    out: dict[str, dict[str, object]] = {}
    for county in [ALL, *counties]:
        sel_w = w if county == ALL else w[w["county_code"].astype(str) == county]
        sel_t = trips if county == ALL else trips[trips["county"] == county]
        sel_trunk = trunk if county == ALL else trunk[trunk["county"] == county]
        sel_x = transfers if county == ALL else transfers[transfers["county"] == county]
        sel_cd = cdays if county == ALL else cdays[cdays["county"] == county]
        planned = int((sel_w["status"] == "planned").sum())
        f: dict[str, object] = {"workers_read": len(sel_w), "planned": planned,
                                "planned_share": round(100.0 * planned / len(sel_w), 2) if len(sel_w) else 0.0,
                                "unassigned": int((sel_w["status"] == "unassigned").sum())}
        pas = sel_t[sel_t["purpose"] == "passenger"]
        f["dep_coach"] = int((pas["mode"] == "coach").sum())
        f["dep_direct_coach"] = int(pas["trip_id"].isin(direct).sum())
        f["dep_train_carriage"] = int((pas["mode"] == "train").sum())
        f["dep_feeder"] = int((pas["mode"] == "feeder").sum())
        f["coach_days"] = len(sel_cd)
        f["coaches_used"] = int(sel_cd["vehicle_id"].nunique())
        used, allowed = int(sel_trunk["passengers"].sum()), int(sel_trunk["seats_allowed"].sum())
        f["seats_used"], f["seats_allowed"] = used, allowed
        f["seat_fill_pct"] = round(100.0 * used / allowed, 2) if allowed else 0.0
        v = vil.reindex(sel_trunk["trip_id"]).dropna()
        f["villages_per_vehicle"] = round(float(v.mean()), 2) if len(v) else 0.0
        waits = sel_x["wait_min"].dropna()
        f["hub_transfers"] = len(waits)
        f["hub_wait_median_min"] = round(float(waits.median()), 1) if len(waits) else 0.0
        f["hub_wait_max_min"] = round(float(waits.max()), 1) if len(waits) else 0.0
        km_coach = float(sel_t.loc[sel_t["mode"] == "coach", "distance_km"].sum())
        f["km_coach"] = round(km_coach, 1)
        f["km_feeder"] = round(float(sel_t.loc[sel_t["mode"] == "feeder", "distance_km"].sum()), 1)
        f["cost_yuan"] = round(km_coach * yuan_km + f["dep_coach"] * subsidy, 0)
        block = tb.get("total") if county == ALL else (tb.get("by_county") or {}).get(county)
        f["throughput_bound"] = (block or {}).get("bound")
        f["throughput_gap_pct"] = (block or {}).get("gap_pct")
        f["departure_bound"] = lb.get("coach_departures") if county == ALL else None
        f["departure_gap_pct"] = lb.get("gap_pct") if county == ALL else None
        for reason, n in sel_w.loc[sel_w["status"] == "unassigned", "reason"].astype(str).value_counts().items():
            f[f"unassigned:{reason}"] = int(n)
        out[county] = f
    pl = w[w["status"] == "planned"]
    per_day = pl["depart_day"].dropna().dt.strftime("%Y-%m-%d").value_counts().sort_index()
    return out, per_day, notes


def _label(key: str) -> str:
    if key.startswith("unassigned:"):
        code = key.split(":", 1)[1]
        return f"  未安排：{reason_label(code)}"
    return LABELS.get(key, key)


def plan_names(dirs: Sequence[Path]) -> list[str]:
    """Short, distinct names for the plans (the folder name, with its parent when two share one)."""
    names = [Path(d).name or str(d) for d in dirs]
    if len(set(names)) < len(names):
        names = [f"{Path(d).parent.name}/{Path(d).name}" for d in dirs]
    if len(set(names)) < len(names):
        names = [f"{i + 1}:{n}" for i, n in enumerate(names)]
    return names


def compare_plans(dirs: Sequence[str | Path], names: Sequence[str] | None = None) -> Comparison:
    """Read the plan directories and put their figures side by side (see the module docstring)."""
    paths = [Path(d) for d in dirs]
    names = list(names) if names else plan_names(paths)
    figs, days, notes = [], [], []
    for d in paths:
        f, pd_, n = plan_figures(read_plan(d))
        figs.append(f)
        days.append(pd_)
        notes += n
    counties = [ALL] + sorted({c for f in figs for c in f if c != ALL})
    rows = []
    for county in counties:
        keys = list(LABELS)
        extra = sorted({k for f in figs for k in f.get(county, {}) if k.startswith("unassigned:")})
        keys = keys[:4] + extra + keys[4:]
        for key in keys:
            vals = [f.get(county, {}).get(key, 0 if key.startswith("unassigned:") or county not in f else None)
                    for f in figs]
            if all(v is None for v in vals):
                continue
            row = {"county": county, "metric": key, "label": _label(key)}
            row.update(dict(zip(names, vals)))
            row["differs"] = len({None if v is None else float(v) for v in vals}) > 1
            rows.append(row)
    table = pd.DataFrame(rows, columns=["county", "metric", "label", *names, "differs"], dtype=object)
    per_day = pd.concat(days, axis=1, keys=names).fillna(0).astype(int).sort_index() if days else pd.DataFrame()
    per_day = per_day.rename_axis("day").reset_index()
    return Comparison(names, table, per_day, notes)


# ------------------------------------------------------------------ command line
def register_compare(sub: argparse._SubParsersAction) -> None:
    """Add ``planner compare`` to the command's subparsers."""
    c = sub.add_parser("compare", help="并排比较两份或多份计划 (compare plans side by side)")
    c.add_argument("plans", nargs="+", metavar="计划目录", help="两个或更多计划目录 (two or more plan folders)")
    c.add_argument("--csv", metavar="文件", help="另存为 CSV（每区县每指标一行）(also write a CSV file)")
    c.add_argument("--total-only", action="store_true", help="只显示全部区县合计 (only the total)")
    c.set_defaults(func=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    """Handler of ``planner compare``."""
    import sys

    if len(args.plans) < 2:
        print("错误 (error): 请给出至少两个计划目录 (give at least two plan folders)", file=sys.stderr)
        return 2
    cmp = compare_plans(args.plans)
    print(cmp.text(counties=not args.total_only))
    if args.csv:
        print(f"已写出 (written) {cmp.write_csv(Path(args.csv))}")
    return 0
