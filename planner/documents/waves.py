"""Wave plan (波次计划) for the county human-resources bureau.

:func:`write_wave_plan` writes ``波次计划_<区县代码 or 全部>.xlsx`` and ``.pdf`` for one
county (``home_county_code`` of the trips; workers by their ``county_code``) or
for the whole scenario.

Definitions (all from the plan files; a "departure" is an inter-provincial
passenger trip: a coach or one train carriage, never a feeder or an empty return):

* departures and people moved count by the local day the vehicle leaves; people
  moved are the workers (of the county) on board; for a county, a train carriage
  counts when it carries at least one of the county's workers;
* mode: 枢纽大巴 (coach whose passengers all board at a hub), 乡镇直达大巴 (coach
  picking its passengers up in the villages, listed under the township of its
  first pick-up), 专列车厢 (train carriage); destination is
  the province and city of the drop points (several joined with "、");
* coaches on the road (在途大巴) on a day: coaches away from home at any time that
  day, from the departure of a passenger trip to the arrival of the empty return
  that follows it (or the trip's own arrival when none follows); coaches back
  (当日返回) end an empty return that day; the fleet (大巴总数) is the coach rows of
  the scenario's fleet table (vehicle types of mode ``coach``), or the coaches the
  plan uses when the table cannot be read; free coaches (空闲大巴) = fleet - on the road;
* waiting (等待出发): planned workers whose ``ready_date`` (scenario workers table,
  matched on ``source_row``) is on or before the day and whose departure day is
  after it; 已就绪未安排: unassigned workers (except rejected input rows) ready on or
  before the day. When the workers table has no usable ready dates these columns
  stay empty;
* unassigned by reason: ``workers.csv`` rows with status ``unassigned``. For one
  county, rejected input rows without a county code are not counted.

Excel sheets: 每日汇总 (one row per day of the window and any later day with
vehicles out), 按日按枢纽 (day x origin x mode x destination), 未安排原因, and 图表 with
two native charts (departures per day by mode; coaches on the road and free per
day). The PDF shows the same charts drawn as bars, the daily table, the reasons,
and one table per departure day.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from planner.documents.common import CjkPdf, DocData, DocumentBatch, as_dates, print_setup, write_excel
from planner.documents.manifest import day_label, place_region, station_table
from planner.plan_format import first_pickup, trunk_trips
from planner.vocab import reason_labels

log = logging.getLogger(__name__)

MODE_CATS = ["枢纽大巴", "乡镇直达大巴", "专列车厢"]
REASON_NAMES = reason_labels()  # code -> Chinese label (planner/vocab.py)
DAILY_COLUMNS = ["日期", "发车合计", *MODE_CATS, "接驳车趟次", "运送人数", "在途大巴", "当日返回大巴", "空闲大巴",
                 "大巴总数", "等待出发人数", "已就绪未安排人数"]
HUB_COLUMNS = ["日期", "出发地", "方式", "目的省", "目的市", "发车数", "运送人数"]
REASON_COLUMNS = ["原因代码", "原因", "人数"]
BOUND_COLUMNS = ["区县", "可出行人数", "运力上界", "其中仅大巴", "已安排", "差距", "差距%", "大巴总数", "最短往返天数"]


def bound_table(summary: dict, county: str | None) -> pd.DataFrame:
    """The throughput bound of summary.json (``throughput_bound``) as a small table: per county, and 合计.

    The bound is the most workers any plan could move with the county's fleet and trains
    (``planner.solve.bounds``); 差距 = bound - planned. Empty when the summary has no bound.
    """
    tb = (summary or {}).get("throughput_bound") or {}
    per = tb.get("by_county") or {}
    rows = [{"区县": c, "可出行人数": b["movable"], "运力上界": b["bound"], "其中仅大巴": b["coach_only"],
             "已安排": b["planned"], "差距": b["gap"], "差距%": b["gap_pct"], "大巴总数": b["coaches"],
             "最短往返天数": b["shortest_cycle_days"]}
            for c, b in sorted(per.items()) if county is None or c == county]
    if county is None and rows and "total" in tb:
        t = tb["total"]
        rows.append({"区县": "合计", "可出行人数": sum(r["可出行人数"] for r in rows), "运力上界": t["bound"],
                     "其中仅大巴": sum(r["其中仅大巴"] for r in rows), "已安排": t["planned"], "差距": t["gap"],
                     "差距%": t["gap_pct"], "大巴总数": sum(r["大巴总数"] for r in rows), "最短往返天数": ""})
    return pd.DataFrame(rows, columns=BOUND_COLUMNS)


def _day(ts: pd.Series) -> pd.Series:
    return ts.dt.tz_localize(None).dt.normalize()


def _read_optional(data: DocData, table: str) -> pd.DataFrame | None:
    """A validated scenario table, or None when the scenario has none."""
    frame = data.tables.get(table)
    return None if frame is None or frame.empty else frame


def coach_fleet(data: DocData, county: str | None) -> int | None:
    """Coaches in the scenario's fleet table (of one county or all), None if it cannot be read."""
    fleet = _read_optional(data, "fleet")
    types = _read_optional(data, "vehicle_types")
    if fleet is None or types is None:
        return None
    coach_types = set(types.loc[types["mode"] == "coach", "type_id"])
    f = fleet[fleet["type_id"].isin(coach_types)]
    if county is not None:
        f = f[f["county_code"] == county]
    return int(pd.to_numeric(f["count"], errors="coerce").fillna(0).sum())


def _ready_dates(data: DocData) -> pd.Series | None:
    """source_row -> ready date (naive day) from the scenario workers table, None if not there."""
    w = _read_optional(data, "workers")
    if w is None or "ready_date" not in w.columns:
        return None
    return pd.Series(pd.to_datetime(w["ready_date"]).to_numpy(), index=w["_row"].astype(int))


class WaveTables:
    """The numbers of the wave plan, as frames with Chinese column names."""

    def __init__(self, data: DocData, county: str | None) -> None:
        plan = data.plan
        trips = plan.trips
        workers = plan.workers
        if county is not None:
            workers = workers[workers["county_code"].astype(str) == county]
        self.workers = workers
        planned_ids = set(workers.loc[workers["status"] == "planned", "worker_id"])
        inter = trunk_trips(trips)
        legs = plan.legs[plan.legs["trip_id"].isin(inter["trip_id"]) & plan.legs["worker_id"].isin(planned_ids)]
        people = legs.groupby("trip_id").size()
        if county is not None:
            own = inter["home_county_code"].astype(str) == county
            inter = inter[own | ((inter["mode"] == "train") & inter["trip_id"].isin(people.index))]
        inter = inter.assign(people=inter["trip_id"].map(people).fillna(0).astype(int), day=_day(inter["depart"]))
        # a township-direct coach picks its passengers up in the villages (as summary.json counts it)
        coaches = inter.loc[inter["mode"] == "coach", "trip_id"]
        first_village = first_pickup(plan.stops, coaches)
        region = place_region(data, station_table(data))

        def category(r) -> str:
            if r["mode"] == "train":
                return "专列车厢"
            return "乡镇直达大巴" if r["trip_id"] in first_village else "枢纽大巴"

        def origin(r) -> str:
            if r["cat"] == "乡镇直达大巴":
                code = first_village[r["trip_id"]][:9]
                return f"{data.townships.get(code, code)}（乡镇直达）"
            return data.places.get(r["origin_id"], r["origin_id"])

        def dest(r, i: int) -> str:
            vals = []
            for p in str(r["destination_ids"]).split(";"):
                v = region.get(p, ("", ""))[i]
                if v and v not in vals:
                    vals.append(v)
            return "、".join(vals)

        if len(inter):
            inter["cat"] = inter.apply(category, axis=1)
            inter["origin"] = inter.apply(origin, axis=1)
            inter["prov"] = inter.apply(lambda r: dest(r, 0), axis=1)
            inter["city"] = inter.apply(lambda r: dest(r, 1), axis=1)
        else:
            for c in ("cat", "origin", "prov", "city"):
                inter[c] = pd.Series(dtype=str)
        self.inter = inter

        coaches = trips[trips["mode"] == "coach"]
        feeders = trips[(trips["mode"] == "feeder") & (trips["purpose"] == "passenger")]
        if county is not None:
            coaches = coaches[coaches["home_county_code"].astype(str) == county]
            feeders = feeders[feeders["home_county_code"].astype(str) == county]
        self.coaches_used = int(coaches["vehicle_id"].nunique())
        fleet = coach_fleet(data, county)
        self.fleet_from_table = fleet is not None
        self.fleet = fleet if fleet is not None else self.coaches_used

        # days: the window, plus any later day with a coach out
        spans = self._coach_spans(coaches)
        start = pd.Timestamp(data.scenario.window.start)
        end = pd.Timestamp(data.scenario.window.end)
        if len(spans):
            end = max(end, spans["last"].max())
            start = min(start, spans["first"].min())
        days = pd.date_range(start, end, freq="D")

        on_road = {d: set() for d in days}
        for vid, first, last in spans[["vehicle_id", "first", "last"]].itertuples(index=False):
            for d in pd.date_range(first, last, freq="D"):
                on_road[d].add(vid)
        back = coaches[coaches["purpose"] == "empty_return"].assign(day=lambda x: _day(x["arrive"]))
        back_n = back.groupby("day")["vehicle_id"].nunique()
        feeder_n = _day(feeders["depart"]).value_counts()
        dep = inter.groupby(["day", "cat"]).size().unstack(fill_value=0) if len(inter) else pd.DataFrame()
        moved = inter.groupby("day")["people"].sum() if len(inter) else pd.Series(dtype=int)

        ready = _ready_dates(data)
        wait = {d: None for d in days}
        idle = {d: None for d in days}
        self.has_ready = ready is not None and bool(ready.notna().any())
        if self.has_ready:
            rd = workers["source_row"].map(ready)
            pl = workers["status"] == "planned"
            dd = workers["depart_day"]
            un = (workers["status"] == "unassigned") & (workers["reason"] != "rejected_input")
            for d in days:
                wait[d] = int((pl & (rd <= d) & (dd > d)).sum())
                idle[d] = int((un & (rd <= d)).sum())

        rows = []
        for d in days:
            cats = {c: int(dep.at[d, c]) if d in dep.index and c in dep.columns else 0 for c in MODE_CATS}
            road = len(on_road[d])
            rows.append({
                "日期": d.strftime("%Y-%m-%d"), "发车合计": sum(cats.values()), **cats,
                "接驳车趟次": int(feeder_n.get(d, 0)), "运送人数": int(moved.get(d, 0)),
                "在途大巴": road, "当日返回大巴": int(back_n.get(d, 0)), "空闲大巴": max(self.fleet - road, 0),
                "大巴总数": self.fleet, "等待出发人数": wait[d], "已就绪未安排人数": idle[d],
            })
        self.daily = pd.DataFrame(rows, columns=DAILY_COLUMNS)

        if len(inter):
            g = inter.groupby(["day", "origin", "cat", "prov", "city"], sort=True)
            hub = g.agg(发车数=("trip_id", "size"), 运送人数=("people", "sum")).reset_index()
            hub["日期"] = hub["day"].dt.strftime("%Y-%m-%d")
            hub = hub.rename(columns={"origin": "出发地", "cat": "方式", "prov": "目的省", "city": "目的市"})
            self.by_hub = hub[HUB_COLUMNS]
        else:
            self.by_hub = pd.DataFrame(columns=HUB_COLUMNS)

        un = workers[workers["status"] == "unassigned"]
        counts = un["reason"].value_counts()
        self.reasons = pd.DataFrame(
            [{"原因代码": r, "原因": REASON_NAMES.get(r, r), "人数": int(n)} for r, n in counts.items()],
            columns=REASON_COLUMNS)
        self.planned = len(planned_ids)
        self.unassigned = len(un)
        self.bound = bound_table(plan.summary, county)

    @staticmethod
    def _coach_spans(coaches: pd.DataFrame) -> pd.DataFrame:
        """Per coach tour: vehicle_id and first/last local day away from home."""
        rows = []
        c = coaches.sort_values(["vehicle_id", "depart"])
        for vid, g in c.groupby("vehicle_id", sort=False):
            recs = list(g[["purpose", "depart", "arrive"]].itertuples(index=False))
            for i, (purpose, dep, arr) in enumerate(recs):
                if purpose != "passenger":
                    continue
                end = arr
                if i + 1 < len(recs) and recs[i + 1][0] == "empty_return":
                    end = recs[i + 1][2]
                rows.append((vid, pd.Timestamp(dep).tz_localize(None).normalize(),
                             pd.Timestamp(end).tz_localize(None).normalize()))
        return pd.DataFrame(rows, columns=["vehicle_id", "first", "last"])


def write_wave_plan(data: DocData, out_dir: Path, county: str | None = None, *,
                    on_file: Callable[[Path, bool], None] | None = None) -> list[Path]:
    """Write the wave plan (Excel with native charts, and PDF) for one county or the whole scenario.

    ``county`` is a 6-digit county code; None covers the whole scenario. Returns
    the paths written (Excel, PDF). ``on_file(path, ok)`` is called after each file.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    county = str(county) if county is not None else None
    t = WaveTables(data, county)
    scope = county or "全部"
    title = f"波次计划 · {'区县 ' + county if county else '全部区县'} · {data.scenario.name}"
    batch = DocumentBatch(on_file=on_file)
    batch.write(out_dir / f"波次计划_{scope}.xlsx", lambda p: _write_excel(p, t, title))
    batch.write(out_dir / f"波次计划_{scope}.pdf", lambda p: _write_pdf(p, t, title))
    log.info("wave plan written: %d days, %d departures", len(t.daily), int(t.daily["发车合计"].sum()))
    return batch.result()


def _write_excel(path: Path, t: WaveTables, title: str) -> Path:
    # days as Excel dates (the tables keep text dates for the app and the PDF)
    daily = t.daily.assign(日期=as_dates(t.daily["日期"]))
    by_hub = t.by_hub.assign(日期=as_dates(t.by_hub["日期"])) if len(t.by_hub) else t.by_hub
    sheets = {"每日汇总": daily, "按日按枢纽": by_hub, "未安排原因": t.reasons}
    if len(t.bound):
        sheets["运力上界"] = t.bound
    return write_excel(path, sheets, title=title, finish=lambda book: _add_charts(book, t, title))


def _add_charts(book, t: WaveTables, title: str) -> None:
    """A sheet 图表 with native charts of departures per day and coaches in use, from sheet 每日汇总."""
    ws = book.add_worksheet("图表")
    print_setup(ws, title, 0, 0)
    n = len(t.daily)
    sheet = "每日汇总"
    cat = [sheet, 1, 0, n, 0]
    colors = {"枢纽大巴": "#2F5597", "乡镇直达大巴": "#70AD47", "专列车厢": "#C55A11"}
    dep = book.add_chart({"type": "column", "subtype": "stacked"})
    for c in MODE_CATS:
        j = DAILY_COLUMNS.index(c)
        dep.add_series({"name": [sheet, 0, j], "categories": cat, "values": [sheet, 1, j, n, j],
                        "fill": {"color": colors[c]}, "gap": 40})
    dep.set_title({"name": "每日发车数（按方式）"})
    dep.set_y_axis({"name": "发车数"})
    dep.set_x_axis({"num_font": {"rotation": -45}})
    dep.set_size({"width": 960, "height": 340})
    ws.insert_chart("A1", dep)
    use = book.add_chart({"type": "column", "subtype": "stacked"})
    for c, color in (("在途大巴", "#2F5597"), ("空闲大巴", "#A9D18E")):
        j = DAILY_COLUMNS.index(c)
        use.add_series({"name": [sheet, 0, j], "categories": cat, "values": [sheet, 1, j, n, j],
                        "fill": {"color": color}, "gap": 40})
    use.set_title({"name": "每日大巴使用（在途 / 空闲）"})
    use.set_y_axis({"name": "辆"})
    use.set_x_axis({"num_font": {"rotation": -45}})
    use.set_size({"width": 960, "height": 340})
    ws.insert_chart("A19", use)


def _bar_chart(pdf: CjkPdf, title: str, labels: list[str], series: list[tuple[str, list[int], tuple[int, int, int]]],
               height: float = 55) -> None:
    """A stacked bar chart of fpdf2 rectangles: one bar per label, a legend, y ticks."""
    p = pdf.pdf
    if p.get_y() + height + 22 > p.h - p.b_margin:
        pdf.page()
    pdf.heading(title)
    x0 = p.l_margin + 12
    width = p.epw - 14
    y_top = p.get_y() + 2
    y_base = y_top + height
    totals = [sum(s[1][i] for s in series) for i in range(len(labels))]
    top = max(totals + [1])
    step = _nice_step(top)
    top = step * -(-top // step)
    p.set_draw_color(180, 180, 180)
    p.set_font("cjk", size=6)
    v = 0
    while v <= top:
        y = y_base - height * v / top
        p.line(x0, y, x0 + width, y)
        p.set_xy(p.l_margin, y - 1.5)
        p.cell(11, 3, str(v), align="R")
        v += step
    n = max(len(labels), 1)
    slot = width / n
    bar = slot * 0.7
    for i, lab in enumerate(labels):
        y = y_base
        for _name, values, color in series:
            h = height * values[i] / top
            if h > 0:
                p.set_fill_color(*color)
                p.rect(x0 + i * slot + (slot - bar) / 2, y - h, bar, h, style="F")
            y -= h
        if n <= 45 or i % 2 == 0:
            p.set_xy(x0 + i * slot, y_base + 0.5)
            p.cell(slot, 3, lab, align="C")
    # legend
    lx = x0
    ly = y_base + 5
    for name, _values, color in series:
        p.set_fill_color(*color)
        p.rect(lx, ly + 0.5, 3, 3, style="F")
        p.set_xy(lx + 4, ly)
        p.set_font("cjk", size=7)
        p.cell(30, 4, name)
        lx += 36
    p.set_draw_color(0, 0, 0)
    p.set_fill_color(255, 255, 255)
    p.set_font("cjk", size=9)
    p.set_xy(p.l_margin, ly + 7)


def _nice_step(top: int) -> int:
    for s in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if top / s <= 6:
            return s
    return 10 ** len(str(top))


def _write_pdf(path: Path, t: WaveTables, title: str) -> Path:
    pdf = CjkPdf(title)
    pdf.page()
    d = t.daily
    fleet_note = "（情景车队表）" if t.fleet_from_table else "（车队表不可读，按计划用车计）"
    pdf.text(f"已安排 {t.planned} 人，未安排 {t.unassigned} 人；省际发车 {int(d['发车合计'].sum())} 次"
             f"（枢纽大巴 {int(d['枢纽大巴'].sum())}，乡镇直达大巴 {int(d['乡镇直达大巴'].sum())}，"
             f"专列车厢 {int(d['专列车厢'].sum())}）；大巴总数 {t.fleet} 辆{fleet_note}，计划使用 {t.coaches_used} 辆。")
    labels = [x[5:] for x in d["日期"]]
    _bar_chart(pdf, "每日发车数（按方式）", labels, [
        ("枢纽大巴", list(d["枢纽大巴"]), (47, 85, 151)),
        ("乡镇直达大巴", list(d["乡镇直达大巴"]), (112, 173, 71)),
        ("专列车厢", list(d["专列车厢"]), (197, 90, 17)),
    ])
    _bar_chart(pdf, "每日大巴使用（在途 / 空闲）", labels, [
        ("在途大巴", list(d["在途大巴"]), (47, 85, 151)),
        ("空闲大巴", list(d["空闲大巴"]), (169, 209, 142)),
    ])
    pdf.page()
    pdf.heading("每日汇总")
    daily = d.copy()
    daily["日期"] = [day_label(pd.Timestamp(x)) for x in daily["日期"]]
    if not t.has_ready:
        pdf.text("工人名单中无可用的就绪日期，等待人数未统计。")
    pdf.table(daily, widths=[2.2] + [1] * (len(DAILY_COLUMNS) - 1), size=7)
    if len(t.bound):
        pdf.heading("运力上界（任何计划最多可运送人数）与已安排")
        pdf.text("运力上界：按本区县大巴车队（每车往返一趟所需时间内不能再发车）、各日允许售座、每人可出发日期"
                 "（就绪、健康证明有效期、计划期、用工日期）与专列车厢座位计算；差距 = 上界 - 已安排。")
        pdf.table(t.bound, widths=[1.2, 1.2, 1.2, 1.2, 1, 1, 1, 1, 1.2], size=7)
    pdf.heading("未安排人员（按原因）")
    if len(t.reasons):
        pdf.table(t.reasons, widths=[2, 3, 1])
    else:
        pdf.text("无未安排人员。")
    for day, block in t.by_hub.groupby("日期", sort=True):
        if pdf.pdf.get_y() > pdf.pdf.h - 45:
            pdf.page()
        pdf.heading(f"{day_label(pd.Timestamp(day))}：发车 {int(block['发车数'].sum())} 次，运送 {int(block['运送人数'].sum())} 人")
        pdf.table(block.drop(columns=["日期"]), widths=[2.5, 1.2, 1.2, 1.5, 0.8, 0.8])
    return pdf.save(path)
