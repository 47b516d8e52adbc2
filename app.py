"""The planner in a browser, for people who do not use a command line: ``streamlit run app.py``.

Pages (sidebar): 计划 (validate a shipped scenario, plan it, or open a plan
directory; or upload a scenario with its data files, or only data files, which
are then planned with the shipped geodata: planner.app.upload), 地图, 区县人社局,
乡镇, 接收省份, 追溯, 上车登记 and 交接签收 (the daily loop: planner.app.boarding_page;
``?view=boarding`` opens 上车登记 alone, phone-sized). On start the app opens the demo plan
(planning it first when ``out/demo/summary.json`` is missing). The environment
variables ``PLANNER_APP_SCENARIO`` and ``PLANNER_APP_PLAN_DIR`` choose another
scenario and plan directory to open first (the tests use them);
``PLANNER_APP_UPLOAD_DIR`` is where uploads are saved (default ``out/uploads``);
``PLANNER_APP_PLANS_DIR`` is the folder plans are written to and opened from
(default ``out``; the default plan's own folder is allowed too): a browser user
names a plan, never a server path.

The app calls the same functions as the CLI and reads only a plan directory and
its scenario. Everything a user reads is Simplified Chinese; ID numbers are
always masked.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import streamlit as st

from planner.app import views
from planner.app.deck import build_deck

ROOT = Path(__file__).resolve().parent
SCENARIO_DIR = ROOT / "scenarios"
DEFAULT_SCENARIO = Path(os.environ.get("PLANNER_APP_SCENARIO", ROOT / "scenarios" / "demo-wanzhou.toml"))
DEFAULT_PLAN_DIR = Path(os.environ.get("PLANNER_APP_PLAN_DIR", ROOT / "out" / "demo"))
UPLOAD_DIR = Path(os.environ.get("PLANNER_APP_UPLOAD_DIR", ROOT / "out" / "uploads"))
# plans are written and opened only inside these folders (planner.app.paths): a browser user names a plan, never a path
PLANS_DIR = Path(os.environ.get("PLANNER_APP_PLANS_DIR", ROOT / "out"))
PLAN_ROOTS = list(dict.fromkeys([PLANS_DIR, DEFAULT_PLAN_DIR.parent]))
GEODATA_DIR = ROOT / "geodata"
VEHICLE_TYPES = ROOT / "scenarios" / "data" / "common" / "vehicle_types.csv"
ALL = "全部"
PAGES = ["计划", "地图", "区县人社局", "乡镇", "接收省份", "追溯", "上车登记", "交接签收", "情景变体", "发布与重新规划"]
# ?view=boarding opens 上车登记 alone in a narrow layout, for a phone at the vehicle door
PHONE_VIEW = st.query_params.get("view") == "boarding"

st.set_page_config(page_title="点对点返岗包车规划", layout="centered" if PHONE_VIEW else "wide",
                   initial_sidebar_state="collapsed" if PHONE_VIEW else "auto")


# ------------------------------------------------------------------ loading
def _stamp(plan_dir: Path) -> float:
    """Modification time of summary.json, so a re-planned directory is read again."""
    p = Path(plan_dir) / "summary.json"
    return p.stat().st_mtime if p.exists() else 0.0


@st.cache_resource(show_spinner="正在读取计划和情景数据…", max_entries=4)
def load_data(plan_dir: str, scenario: str, stamp: float):
    from planner.documents.common import load_doc_data

    return load_doc_data(Path(plan_dir), Path(scenario))


def current():
    """(plan_dir, scenario) the app shows, from the session or the defaults."""
    ss = st.session_state
    if "plan_dir" not in ss:
        ss.plan_dir = str(DEFAULT_PLAN_DIR)
        ss.scenario = str(DEFAULT_SCENARIO)
    return Path(ss.plan_dir), Path(ss.scenario)


def ensure_plan(plan_dir: Path, scenario: Path) -> bool:
    """Plan the scenario into plan_dir when it has no summary.json yet (the demo, about 8 s).

    A directory with a summary is opened as it is: reading it goes through
    ``read_plan``, which refuses an incomplete or mixed one with a message.
    """
    if (plan_dir / "summary.json").exists():
        return True
    if not scenario.exists():
        st.error(f"找不到情景文件：{scenario}")
        return False
    with st.status(f"首次打开：正在为情景 {scenario.name} 生成计划…", expanded=True) as status:
        ok = run_planning(scenario, plan_dir, status)
        status.update(label="计划已生成" if ok else "计划生成失败", state="complete" if ok else "error")
    return ok


def run_planning(scenario: Path, out: Path, status, data_root: list[Path] | None = None) -> bool:
    """Plan ``scenario`` into ``out`` with a progress bar; with ``data_root`` (uploads) its paths are confined first."""
    from planner.errors import PlannerError
    from planner.pipeline import run_plan
    from planner.scenario import load_scenario

    import time

    bar = st.progress(0.0, text="开始规划…")
    steps = {"n": 0, "shown": 0.0}

    def progress(msg: str) -> None:
        # at most a few screen updates a second: each one is a message to the browser
        steps["n"] += 1
        now = time.monotonic()
        if now - steps["shown"] < 0.5:
            return
        steps["shown"] = now
        status.write(msg)
        share = getattr(msg, "share", None)  # the solver's county progress carries its share of the work
        if share is not None:
            steps["solve"] = share
        done = 0.1 + 0.8 * steps.get("solve", 0.0) if "solve" in steps else min(0.1, steps["n"] / 200)
        bar.progress(min(0.95, done), text=msg)

    try:
        if data_root is not None:
            load_scenario(scenario, data_root=data_root)  # an uploaded scenario reads only what was uploaded
        report = run_plan(scenario, out, progress=progress)
    except PlannerError as exc:
        st.error(f"规划失败：{shown(exc, data_root)}")
        return False
    except Exception as exc:  # noqa: BLE001 - never a traceback on screen
        st.error(f"规划失败（程序错误）：{type(exc).__name__}: {shown(exc, data_root)}")
        return False
    bar.progress(1.0, text="完成")
    st.code(report.text(), language=None)
    if not report.ok:
        st.warning("独立校验发现问题，详见上方报告。")
    return True


def data_or_stop():
    plan_dir, scenario = current()
    if not ensure_plan(plan_dir, scenario):
        st.stop()
    try:
        return load_data(str(plan_dir), str(scenario), _stamp(plan_dir))
    except Exception as exc:  # a broken plan directory or scenario: say so, no traceback
        st.error(f"无法读取计划 {plan_dir}：{exc}")
        st.stop()


def shown(text, data_root: list[Path] | None) -> str:
    """A message for the screen; for uploads (``data_root`` given) without any server path."""
    if data_root is None:
        return str(text)
    from planner.app.upload import public_message

    return public_message(str(text), [*data_root, UPLOAD_DIR, ROOT])


def show_table(frame, **kwargs) -> None:
    """st.dataframe with formula-like text cells neutralised (a leading ').

    Streamlit's table toolbar offers a CSV download that writes cells as they
    are; a name typed as ``=HYPERLINK(...)`` would be a live formula in Excel
    (OWASP CSV injection), so such cells are shown, and downloaded, as text.
    """
    import pandas as pd

    from planner.documents.common import excel_safe_frame

    st.dataframe(excel_safe_frame(pd.DataFrame(frame)), **kwargs)


def download_files(paths: list[Path], key: str) -> None:
    """A download button per written file."""
    mimes = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".pdf": "application/pdf"}
    cols = st.columns(max(len(paths), 1))
    for i, p in enumerate(paths):
        cols[i % len(cols)].download_button(f"下载 {p.name}", data=p.read_bytes(), file_name=p.name,
                                            mime=mimes.get(p.suffix, "application/octet-stream"), key=f"{key}-{i}")


def make_files(key: str, label: str, writer) -> None:
    """A button that writes documents into a temporary folder once; then their download buttons."""
    from planner.documents.common import ExportError, failure_reason

    ss = st.session_state
    if st.button(label, key=f"make-{key}"):
        with st.spinner("正在生成文件…"):
            tmp = Path(tempfile.mkdtemp(prefix="planner-app-"))
            try:
                ss[f"files-{key}"] = writer(tmp)
            except ExportError as exc:  # the documents that could be written are still offered
                ss[f"files-{key}"] = exc.written
                st.error("部分文件生成失败：" + "；".join(f"{f.path.name}（{f.reason}）" for f in exc.failed))
            except Exception as exc:  # noqa: BLE001 - a message, never a traceback
                st.error(f"文件生成失败：{failure_reason(exc)}")
    paths = ss.get(f"files-{key}")
    if paths:
        download_files([Path(p) for p in paths], key)


def validate_and_plan(chosen: Path, prefix: str, default_out: Path, data_root: list[Path] | None = None) -> None:
    """The validation report and the plan button for one scenario file (shipped or uploaded).

    ``data_root`` (uploads): the folders the scenario may read from; messages then show no server path.
    """
    if st.button("校验数据", key=f"{prefix}validate"):
        from planner.loader import load_and_validate

        with st.spinner("正在读取并检查数据…"):
            try:
                sc, result = load_and_validate(chosen, data_root=data_root)
            except Exception as exc:  # noqa: BLE001 - a message, never a traceback
                st.error(f"情景无法读取：{shown(exc, data_root)}")
                result = None
        if result is not None:
            (st.success if result.ok else st.warning)(
                f"情景 {sc.name}：" + ("数据无误" if result.ok else "发现问题，见下方报告（文件、行、列）"))
            st.code(shown(result.report_text(max_per_code=20), data_root), language=None)
    out_text = st.text_input("计划名称（保存在程序的计划文件夹中）", value=default_out.name, key=f"{prefix}plan-out")
    if st.button("生成计划", type="primary", key=f"{prefix}run-plan"):
        from planner.app.paths import plan_dir_in
        from planner.app.upload import UploadError

        try:
            out = plan_dir_in(out_text, PLAN_ROOTS)
        except UploadError as exc:
            st.error(str(exc))
            return
        with st.status(f"正在规划 {chosen.name}…", expanded=True) as status:
            ok = run_planning(chosen, Path(out), status, data_root)
            status.update(label="计划已生成" if ok else "计划生成失败", state="complete" if ok else "error")
        if ok:
            st.session_state.plan_dir = str(Path(out))
            st.session_state.scenario = str(chosen)
            st.success("已切换到新计划，可在左侧选择其他页面查看。")


NOT_CHOSEN = "（请选择）"


def upload_section() -> None:
    """Upload a scenario with its data files, or data files only; then validate and plan them."""
    from datetime import date

    from planner.app import upload

    st.markdown(
        "上传**情景文件（.toml）和它列出的数据文件**（情景文件中的路径请只写文件名），"
        "或者**只上传数据文件**：务工人员 `workers`、企业 `factories`、车队 `fleet`（必需），"
        "以及可选的专列车次 `train_services`、风险等级日历 `risk_calendar`、车型 `vehicle_types`。"
        "只上传数据文件时，村、区县、枢纽、到达站等使用随程序提供的地理数据。"
        "格式见 docs/data-format.md。")
    limit_mb = int(st.get_option("server.maxUploadSize"))  # .streamlit/config.toml
    files = st.file_uploader(f"选择文件（CSV、XLSX、GeoJSON、GPKG、TOML，可多选；每个文件不超过 {limit_mb} MB）",
                             type=["toml", "csv", "xlsx", "geojson", "json", "gpkg"],
                             accept_multiple_files=True, key="upload-files")
    if not files:
        st.info("尚未上传文件。")
        return
    contents = {f.name: f.getvalue() for f in files}
    folder = UPLOAD_DIR / upload.upload_digest(contents)
    roots = upload.upload_roots(folder, GEODATA_DIR, VEHICLE_TYPES)
    # the server refuses larger files; checked here too (AppTest and other front ends bypass the server)
    max_bytes = limit_mb * 2**20
    try:
        upload.save_uploads(contents, folder, max_bytes=max_bytes)
    except upload.UploadError as exc:
        st.error(f"上传的文件无法使用：{exc}")
        return
    except OSError as exc:
        st.error(f"无法保存上传的文件：{exc.strerror or type(exc).__name__}")
        return
    try:
        own = upload.uploaded_scenario(folder)
    except upload.UploadError as exc:
        st.error(str(exc))
        return
    if own is not None:
        st.info(f"使用上传的情景文件 {own.name}；其中的相对路径指向上传的文件所在的文件夹。")
        try:
            missing = upload.missing_data_files(own, roots)
        except upload.UploadError as exc:  # a path outside the upload: the key is named
            st.error(f"情景文件 {own.name} 不可用：{exc}")
            return
        except Exception as exc:  # noqa: BLE001 - a ScenarioError names the key; never a traceback
            st.error(f"情景文件 {own.name} 无法读取：{shown(exc, roots)}")
            return
        if missing:
            st.error("情景文件列出的数据文件缺失：\n\n" + "\n\n".join(f"- {m}" for m in missing))
            return
        chosen = own
    else:
        names: dict[str, str] = {}
        rows = []
        for name in contents:
            table = upload.guess_table(name)
            if table is None:
                pick = st.selectbox(f"文件 {upload.shown_name(name)} 是哪个数据表？", [NOT_CHOSEN, *upload.TABLES],
                                    format_func=lambda t: t if t == NOT_CHOSEN else f"{upload.TABLE_NAMES[t]}（{t}）",
                                    key=f"upload-table-{name}")
                table = None if pick == NOT_CHOSEN else pick
            if table is not None:
                names[name] = table
            rows.append({"文件": upload.shown_name(name), "数据表": f"{upload.TABLE_NAMES[table]}（{table}）" if table else "未指定（不使用）"})
        show_table(rows, hide_index=True)
        c1, c2, c3 = st.columns([2, 1, 1])
        title = c1.text_input("情景名称", value="上传数据返岗包车计划", key="upload-name")
        start = c2.date_input("计划开始日期", value=date(2020, 2, 14), key="upload-start")
        end = c3.date_input("计划结束日期", value=date(2020, 3, 15), key="upload-end")
        try:
            chosen = upload.scenario_for_uploads(folder, names, start, end, title, GEODATA_DIR, VEHICLE_TYPES)
        except upload.UploadError as exc:
            st.error(str(exc))
            return
        except Exception as exc:  # noqa: BLE001
            st.error(f"无法为上传的数据生成情景文件：{shown(exc, roots)}")
            return
        with st.expander(f"生成的情景文件 {chosen.name}"):
            st.code(chosen.read_text(encoding="utf-8"), language="toml")
    st.caption(f"情景文件：{chosen.name}（上传的文件所在的文件夹）")
    validate_and_plan(chosen, "upload-", ROOT / "out" / f"upload-{folder.name}", roots)


# ------------------------------------------------------------------ pages
def page_plan() -> None:
    st.header("计划")
    plan_dir, scenario = current()
    st.info(f"当前计划：{plan_dir}　情景：{scenario}")
    shipped = sorted(SCENARIO_DIR.glob("*.toml"))
    choices = [str(p) for p in shipped]
    if str(scenario) not in choices:
        choices.insert(0, str(scenario))
    tab_new, tab_upload, tab_open = st.tabs(["校验并生成计划", "上传数据", "打开已有计划"])
    with tab_new:
        chosen = Path(st.selectbox("情景文件", choices, index=choices.index(str(scenario)),
                                   format_func=lambda p: Path(p).name, key="plan-scenario"))
        validate_and_plan(chosen, "", ROOT / "out" / chosen.stem)
    with tab_upload:
        upload_section()
    with tab_open:
        from planner.app.paths import plans_in

        known = [p.name for p in plans_in(PLAN_ROOTS)]
        if known:
            st.caption("可打开的计划：" + "、".join(known[:30]))
        d = st.text_input("计划名称（或当前计划目录）", value=str(plan_dir), key="open-dir")
        s = st.selectbox("对应的情景文件", choices, index=choices.index(str(scenario)),
                         format_func=lambda p: Path(p).name, key="open-scenario")
        if st.button("打开", key="open"):
            from planner.app.paths import plan_dir_in
            from planner.app.upload import UploadError, public_message
            from planner.errors import PlanFormatError
            from planner.plan_format import verify_plan_dir

            try:
                chosen_dir = plan_dir_in(d, PLAN_ROOTS)
                verify_plan_dir(chosen_dir)  # an incomplete or mixed directory is refused, with the file named
            except UploadError as exc:
                st.error(str(exc))
            except PlanFormatError as exc:
                st.error(f"{chosen_dir.name} 不是完整的计划目录：{public_message(str(exc), PLAN_ROOTS)}")
            else:
                d = str(chosen_dir)
                st.session_state.plan_dir = d
                st.session_state.scenario = s
                st.success(f"已打开计划 {d}")


def page_map(data) -> None:
    """The map (planner.app.map_page, issue 15 section 3)."""
    from planner.app.map_page import page_map as show_map

    plan_dir, _ = current()
    show_map(data, f"{plan_dir}:{_stamp(plan_dir)}", show_table)


def page_county(data) -> None:
    st.header("区县人社局")
    counties = views.county_options(data)
    county = st.selectbox("区县", [ALL, *counties], format_func=lambda c: "全部区县" if c == ALL else counties[c],
                          key="county")
    code = None if county == ALL else county
    k = views.county_kpis(data, code)
    c = st.columns(4)
    c[0].metric("已安排人数", f"{k['planned']:,}")
    c[1].metric("未安排人数", f"{k['unassigned']:,}")
    c[2].metric("省际大巴发车", f"{k['departures']['省际大巴']:,}")
    c[3].metric("专列车厢", f"{k['departures']['专列车厢']:,}")
    if k["lower_bound"]:
        lb = k["lower_bound"]
        c = st.columns(4)
        c[0].metric("大巴发车下界", f"{lb['下界（大巴发车）']:,}")
        c[1].metric("与下界差距", f"{lb['差距']:,}（{lb['差距百分比']}%）")
        if k["seat_fill"] is not None:
            c[2].metric("座位利用率", f"{k['seat_fill']:.1%}")
    else:
        st.caption("大巴发车下界仅对全部区县计算。")
    left, right = st.columns(2)
    with left:
        st.subheader("发车数")
        st.table({"方式": list(k["departures"]), "数量": list(k["departures"].values())})
        st.subheader("车公里")
        st.table({"类别": list(k["vehicle_km"]), "公里": [f"{v:,.1f}" for v in k["vehicle_km"].values()]})
    with right:
        st.subheader("未安排人员（按原因）")
        show_table(k["reasons"], hide_index=True, width="stretch")
    t = views.daily_tables(data, code)
    st.subheader("每日发车数（按方式）")
    st.bar_chart(t["departures"])
    st.subheader("每日大巴使用（在途 / 空闲）")
    st.bar_chart(t["coaches"])
    with st.expander("每日汇总"):
        show_table(t["daily"], hide_index=True, width="stretch")
    with st.expander("按日按枢纽发车"):
        show_table(t["by_hub"], hide_index=True, width="stretch")
    from planner.documents.waves import write_wave_plan

    make_files(f"waves-{county}", "生成波次计划（Excel、PDF）", lambda out: write_wave_plan(data, out, code))
    from planner.app.exceptions_page import show_unassigned  # issue 15 section 1

    show_unassigned(data, code, f"unassigned-{county}")


def page_township(data) -> None:
    st.header("乡镇")
    counties = views.county_options(data)
    county = st.selectbox("区县", [ALL, *counties], format_func=lambda c: "全部区县" if c == ALL else counties[c],
                          key="town-county")
    towns = views.township_options(data, None if county == ALL else county)
    if not towns:
        st.info("没有已安排人员的乡镇。")
        return
    town = st.selectbox("乡镇", list(towns), format_func=lambda c: towns[c], key="township")
    rows = views.pickup_rows(data, town)
    st.metric("乘车人数", f"{len(rows):,}")
    if len(rows):
        per_day = rows.groupby("日期").size().rename("人数")
        st.bar_chart(per_day)
    show_table(rows, hide_index=True, width="stretch")
    from planner.documents.pickup import write_pickup_lists

    make_files(f"pickup-{town}", "生成乘车人员名单（Excel、PDF）", lambda out: write_pickup_lists(data, out, [town]))
    from planner.app.exceptions_page import show_unassigned  # issue 15 section 1

    show_unassigned(data, town, f"unassigned-{town}")


def page_province(data) -> None:
    st.header("接收省份")
    provinces = views.province_options(data)
    if not provinces:
        st.info("计划中没有到达外省的人员。")
        return
    prov = st.selectbox("省份", provinces, key="province")
    a = views.province_arrivals(data, prov)
    c = st.columns(2)
    c[0].metric("到达人数", f"{a['people']:,}")
    c[1].metric("到达车辆（车次×目的地）", f"{len(a['vehicles']):,}")
    if len(a["per_day"]):
        st.subheader("每日到达人数")
        st.bar_chart(a["per_day"]["人数"])
    st.subheader("按日期、目的地")
    show_table(a["by_destination"], hide_index=True, width="stretch")
    with st.expander("到达车辆"):
        show_table(a["vehicles"], hide_index=True, width="stretch")
    from planner.documents.manifest import write_manifests

    st.caption("下载的到达名单中身份证号已脱敏（前 6 位和后 4 位）。")
    make_files(f"manifest-{prov}", "生成到达名单（Excel、PDF）", lambda out: write_manifests(data, out, prov))


def page_trace(data) -> None:
    st.header("追溯")
    wid = st.text_input("务工人员编号", key="trace-worker", placeholder="例如 W0000001").strip()
    if not wid:
        st.info("请输入务工人员编号，查询同车、同站人员。")
        return
    info = views.worker_info(data, wid)
    if info is None:
        st.error(f"计划中没有务工人员 {wid}。")
        return
    st.write(f"**{info['worker_id']}**　{info['name']}　身份证号 {info['id_masked']}　{info['status']}"
             + (f"（{info['reason']}）" if info["reason"] else "")
             + f"　{info['village']} → {info['factory']}")
    st.subheader("行程")
    show_table(info["legs"], hide_index=True, width="stretch")
    trace = views.worker_trace(data, wid)
    same = trace[trace["接触类型"] == "同车"]
    hub = trace[trace["接触类型"] == "同站"]
    st.subheader(f"同车人员（{same['接触人员编号'].nunique()} 人）")
    show_table(same.drop(columns=["枢纽", "相隔分钟"]), hide_index=True, width="stretch")
    st.subheader("地图：本人和同车人员的行程")
    people = {wid} | set(same["接触人员编号"].astype(str))
    st.pydeck_chart(build_deck(data, worker_ids=people), height=480, key="trace-map")
    st.subheader(f"同站人员（同一枢纽 60 分钟内，{hub['接触人员编号'].nunique()} 人）")
    show_table(hub[["接触人员编号", "姓名", "身份证号", "枢纽", "车次", "同行开始", "同行结束", "相隔分钟"]],
                 hide_index=True, width="stretch")
    if len(info["legs"]):
        trip = st.selectbox("查看车次乘客", list(info["legs"]["车次"]), key="trace-trip")
        show_table(views.trip_passengers(data, trip), hide_index=True, width="stretch")


# ------------------------------------------------------------------ main
from planner.app.boarding_page import page_boarding, page_handover  # noqa: E402

st.sidebar.title("点对点返岗包车规划")
page = st.sidebar.radio("页面", PAGES, index=PAGES.index("上车登记") if PHONE_VIEW else 1, key="page")
plan_dir, scenario = current()
st.sidebar.caption(f"计划：{plan_dir.name}　情景：{scenario.name}")

if page == "计划":
    page_plan()
elif page == "情景变体":  # what-if variants and fleet sizing (planner.app.variants, issue 16)
    from planner.app.variants import page_variants
    page_variants(scenario, plan_dir, run_planning, PLANS_DIR)
elif page == "发布与重新规划":  # publish, then replan around it (planner.app.replan_page, issue 14)
    from planner.app.replan_page import page_replan
    page_replan(plan_dir, scenario, PLAN_ROOTS)
else:
    data = data_or_stop()
    {"地图": page_map, "区县人社局": page_county, "乡镇": page_township, "接收省份": page_province,
     "追溯": page_trace, "上车登记": lambda d: page_boarding(d, plan_dir),
     "交接签收": lambda d: page_handover(d, plan_dir)}[page](data)
