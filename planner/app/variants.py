"""The app page 情景变体: edit the levers of the current scenario, plan the variant, compare it with the base.

The planner changes levers without touching files (fleet per county and vehicle
type, occupancy rule and its date, isolation rows, feeder ride limit, waiting
for fuller coaches, the window, a destination's closure, adding or removing a
train service); 写出并规划 writes a named variant next to the scenario
(:func:`planner.variant.write_variant`, so the CLI can plan it too), plans it
through the app's own planning path with its progress bar, and shows it side
by side with the base plan (:func:`planner.compare.compare_plans`) with a
per-day chart of people moved. An invalid edit is refused with the field named
and nothing is written. When a fleet sizing has been run into the plans folder
(``planner size-fleet ... --out <plans folder>/sizing``), its curve is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from planner.vocab import OCCUPANCY_RULE_LABELS, OCCUPANCY_RULES

LEVELS_ZH = {"low": "低风险", "medium": "中风险", "high": "高风险"}


def _fleet_table(sc) -> pd.DataFrame:
    from planner.variant import FLEET_COLUMNS, read_base_table

    df = read_base_table(sc, "fleet", FLEET_COLUMNS)
    df["count"] = pd.to_numeric(df["count"], errors="coerce").fillna(0).astype(int)
    return df


def _train_ids(sc) -> list[str]:
    from planner.variant import TRAIN_COLUMNS, read_base_table

    return sorted(read_base_table(sc, "train_services", TRAIN_COLUMNS)["service_id"].astype(str))


def collect_edits(sc, key: str = "variant") -> dict:
    """The lever widgets; returns only the levers changed against the scenario ``sc``."""
    edits: dict = {}
    st.subheader("车队（各区县各车型车辆数）")
    fleet = _fleet_table(sc)
    counties = sorted(fleet["county_code"].astype(str).unique())
    if counties:
        county = st.selectbox("区县", counties, key=f"{key}-county")
        changed: dict[str, dict[str, int]] = {}
        cols = st.columns(max(1, int((fleet["county_code"] == county).sum())))
        for col, row in zip(cols, fleet[fleet["county_code"] == county].itertuples(index=False)):
            n = col.number_input(f"{row.type_id} 辆数", value=int(row.count), step=1,
                                 key=f"{key}-fleet-{county}-{row.type_id}")
            if int(n) != int(row.count):
                changed.setdefault(county, {})[str(row.type_id)] = int(n)
        # edits to other counties made earlier in this session stay
        for k, v in st.session_state.items():
            if isinstance(k, str) and k.startswith(f"{key}-fleet-"):
                _, _, c, t = k.rsplit("-", 3)
                base = fleet[(fleet["county_code"] == c) & (fleet["type_id"] == t)]["count"]
                if len(base) and int(v) != int(base.iloc[0]):
                    changed.setdefault(c, {})[t] = int(v)
        if changed:
            edits["fleet"] = changed
    st.subheader("载客规则")
    occ = sc.occupancy
    rules = list(OCCUPANCY_RULES)
    label = OCCUPANCY_RULE_LABELS.get
    cols = st.columns(3)
    occ_edit: dict = {}
    for col, lv in zip(cols, ("low", "medium", "high")):
        r = col.selectbox(f"{LEVELS_ZH[lv]}目的地", rules, index=rules.index(getattr(occ, lv)), format_func=label,
                          key=f"{key}-occ-{lv}")
        if r != getattr(occ, lv):
            occ_edit[lv] = r
    relax = st.checkbox("自某日起放宽低风险目的地的规则", value=occ.low_relaxed_from is not None, key=f"{key}-relax")
    if relax:
        c1, c2 = st.columns(2)
        d = c1.date_input("放宽日期", value=occ.low_relaxed_from or date(2020, 2, 28), key=f"{key}-relax-date")
        r = c2.selectbox("放宽后的规则", rules, index=rules.index(occ.low_relaxed_rule), format_func=label,
                         key=f"{key}-relax-rule")
        if d != occ.low_relaxed_from:
            occ_edit["low_relaxed_from"] = d
        if r != occ.low_relaxed_rule:
            occ_edit["low_relaxed_rule"] = r
    elif occ.low_relaxed_from is not None:
        occ_edit["low_relaxed_from"] = None
    if occ_edit:
        edits["occupancy"] = occ_edit
    c1, c2, c3 = st.columns(3)
    iso = {}
    for col, (k, attr, zh) in zip((c1, c2, c3), (("coach", "coach_isolation_rows", "大巴"),
                                                 ("carriage", "carriage_isolation_rows", "车厢"),
                                                 ("feeder", "feeder_isolation_rows", "接驳车"))):
        n = col.number_input(f"{zh}留观排数", value=int(getattr(occ, attr)), step=1, key=f"{key}-iso-{k}")
        if int(n) != int(getattr(occ, attr)):
            iso[k] = int(n)
    if iso:
        edits["isolation_rows"] = iso
    st.subheader("接驳与发车")
    c1, c2 = st.columns(2)
    ride = c1.number_input("接驳车程上限（小时）", value=float(sc.feeders.max_ride_h), step=0.5, key=f"{key}-ride")
    if float(ride) != float(sc.feeders.max_ride_h):
        edits["feeder_max_ride_h"] = float(ride)
    wait = c2.checkbox("等待更满的大巴（无紧急人员时）", value=sc.solver.wait_for_fuller_coach, key=f"{key}-wait")
    if wait != sc.solver.wait_for_fuller_coach:
        edits["wait_for_fuller_coach"] = wait
    st.subheader("规划期、目的地封闭、专列")
    c1, c2 = st.columns(2)
    start = c1.date_input("规划起始日", value=sc.window.start, key=f"{key}-start")
    end = c2.date_input("规划结束日", value=sc.window.end, key=f"{key}-end")
    win = {k: v for k, v, old in (("start", start, sc.window.start), ("end", end, sc.window.end)) if v != old}
    if win:
        edits["window"] = win
    if st.checkbox("封闭一个目的地若干天", key=f"{key}-close"):
        c1, c2, c3 = st.columns(3)
        code = c1.text_input("目的地区划代码（省2位/市4位/县6位）", key=f"{key}-close-code")
        a = c2.date_input("封闭起", value=sc.window.start, key=f"{key}-close-from")
        b = c3.date_input("封闭止", value=sc.window.start, key=f"{key}-close-to")
        edits["close"] = [{"region_code": code.strip(), "from": a, "to": b}]
    remove = st.multiselect("取消的专列车次", _train_ids(sc), key=f"{key}-remove")
    if remove:
        edits["remove_trains"] = list(remove)
    if st.checkbox("增开一趟专列", key=f"{key}-add"):
        c = st.columns(4)
        row = {"service_id": c[0].text_input("车次", key=f"{key}-add-id"),
               "date": c[1].date_input("日期", value=sc.window.start, key=f"{key}-add-date"),
               "depart_time": c[2].text_input("发车时间 HH:MM", value="10:00", key=f"{key}-add-time"),
               "origin_station_id": c[3].text_input("始发站编号", key=f"{key}-add-from")}
        c = st.columns(4)
        row |= {"destination_station_id": c[0].text_input("到达站编号", key=f"{key}-add-to"),
                "carriages": int(c[1].number_input("车厢数", value=8, step=1, key=f"{key}-add-n")),
                "carriage_type": c[2].text_input("车厢车型", value="YZ25", key=f"{key}-add-type"),
                "travel_hours": float(c[3].number_input("运行小时", value=20.0, step=0.5, key=f"{key}-add-h"))}
        edits["add_trains"] = [row]
    return edits


def comparison_frame(cmp, county: str = "全部") -> pd.DataFrame:
    """The compare table of one county for the screen: label, one column per plan, 差异 (◆ where they differ)."""
    from planner.compare import DIFF_MARK

    t = cmp.table[cmp.table["county"] == county]
    out = t[["label", *cmp.names]].rename(columns={"label": "指标"}).copy()
    out.insert(0, "差异", t["differs"].map({True: DIFF_MARK, False: ""}).to_numpy())
    for n in cmp.names:
        out[n] = out[n].map(lambda v: "" if v is None else (f"{v:,}" if isinstance(v, int) else f"{v:,.2f}"
                                                               if isinstance(v, float) else str(v)))
    return out.reset_index(drop=True)


def show_comparison(base_plan: Path, variant_plan: Path, names: list[str]) -> None:
    """The side-by-side table (differences marked) and the per-day chart of people moved."""
    from planner.compare import compare_plans

    try:
        cmp = compare_plans([base_plan, variant_plan], names=names)
    except Exception as exc:  # noqa: BLE001 - a broken plan folder: say so, never a traceback
        st.error(f"无法比较计划：{exc}")
        return
    st.subheader("并排比较（◆ 为有差异的指标）")
    counties = ["全部", *sorted(c for c in cmp.table["county"].unique() if c != "全部")]
    county = st.selectbox("区县", counties, key="variant-cmp-county") if len(counties) > 2 else "全部"
    st.dataframe(comparison_frame(cmp, county), hide_index=True, width="stretch")
    if len(cmp.per_day):
        st.subheader("每日出发人数")
        st.line_chart(cmp.per_day.set_index("day")[cmp.names])
    for n in cmp.notes:
        st.caption(n)


def show_sizing(folder: Path) -> None:
    """The fleet-sizing curve (workers moved against extra vehicles) when a sizing was run into ``folder``."""
    curve = folder / "curve.csv"
    if not curve.exists():
        return
    df = pd.read_csv(curve, dtype={"county": str}, encoding="utf-8-sig")
    if df.empty:
        return
    st.subheader("车队测算：增加车辆与运送人数")
    wide = df.pivot_table(index="extra_coaches", columns="county", values="workers_moved", aggfunc="max")
    st.line_chart(wide)
    sizing = folder / "sizing.csv"
    if sizing.exists():
        s = pd.read_csv(sizing, dtype={"county": str}, encoding="utf-8-sig")
        cols = {"county": "区县", "extra_coaches": "需增加大巴", "extra_feeders": "需增加接驳车",
                "target": "目标人数", "workers_moved": "运送人数", "reached": "达到目标", "note": "说明"}
        st.dataframe(s[[c for c in cols if c in s.columns]].rename(columns=cols), hide_index=True, width="stretch")
    report = folder / "报告.md"
    if report.exists():
        with st.expander("测算依据（报告）"):
            st.markdown(report.read_text(encoding="utf-8"))


def page_variants(scenario: Path, plan_dir: Path, run_planning: Callable, plans_dir: Path) -> None:
    """The page 情景变体 (see the module docstring)."""
    from planner.errors import PlannerError
    from planner.scenario import load_scenario
    from planner.variant import VariantError, write_variant

    st.header("情景变体：调整参数、规划并与基准比较")
    try:
        sc = load_scenario(scenario)
    except PlannerError as exc:
        st.error(f"无法读取情景：{exc}")
        return
    st.caption(f"基准情景：{sc.name}（{scenario.name}），基准计划：{plan_dir.name}")
    ss = st.session_state
    name = st.text_input("变体名称（字母、数字、汉字、-、_）", value="变体1", key="variant-name")
    edits = collect_edits(sc)
    st.caption("调整项：" + ("、".join(edits) if edits else "（尚未调整）"))
    if st.button("写出并规划变体", key="variant-run", type="primary"):
        try:
            v = write_variant(scenario, name.strip(), edits, overwrite=True)
        except VariantError as exc:
            st.error(f"变体无效，未写出。有问题的项：{'、'.join(exc.fields)}\n\n{exc}")
            v = None
        except PlannerError as exc:
            st.error(f"无法写出变体：{exc}")
            v = None
        if v is not None:
            out = Path(plans_dir) / f"variant-{v.path.stem}"
            with st.status(f"正在规划变体 {name}…", expanded=True) as status:
                ok = run_planning(v.path, out, status)
                status.update(label="变体计划已生成" if ok else "变体规划失败", state="complete" if ok else "error")
            if ok:
                ss["variant_plan"], ss["variant_scenario"], ss["variant_label"] = str(out), str(v.path), name.strip()
                st.success(f"变体已写出：{v.path.name}（命令行也可规划：planner plan {v.path.name} --out 目录）")
    if ss.get("variant_plan") and Path(ss["variant_plan"], "summary.json").exists():
        show_comparison(plan_dir, Path(ss["variant_plan"]), ["基准", ss.get("variant_label") or "变体"])
    show_sizing(Path(plans_dir) / "sizing")
