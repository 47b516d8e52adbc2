"""The planner in a browser, for people who do not use a command line: ``streamlit run app.py``.

Pages (sidebar): 概览, the first page (the state of the plan: names, when
planned, the checker's verdict, planned and unassigned, departures, the gaps to
the bounds; then a role to choose, which opens that user's page:
planner.app.overview), 计划 (validate a shipped scenario, plan it, or open a plan
directory; or upload a scenario with its data files, or only data files, which
are then planned with the shipped geodata: planner.app.upload; an Excel
template per table: planner.app.templates; the validation report as a table:
planner.app.validation_view), 地图, 区县人社局,
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
its scenario. Everything a user reads is Simplified Chinese (the planner's
bilingual messages lose their English glosses on screen: planner.app.zh;
Streamlit's toolbar is hidden by .streamlit/config.toml and its uploader's words
replaced: planner.app.chrome); ID numbers are always masked. 追溯 finds a worker
by name (a township tells people of one name apart) or by worker id.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import streamlit as st

from planner.app import views
from planner.app.charts import bar_chart
from planner.app.tables import show_table
from planner.app.zh import zh_only
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
PAGES = ["概览", "计划", "地图", "区县人社局", "乡镇", "接收省份", "追溯", "上车登记", "交接签收", "情景变体", "发布与重新规划"]
# ?view=boarding opens 上车登记 alone in a narrow layout, for a phone at the vehicle door
PHONE_VIEW = st.query_params.get("view") == "boarding"

st.set_page_config(page_title="点对点返岗包车规划", layout="centered" if PHONE_VIEW else "wide",
                   initial_sidebar_state="collapsed" if PHONE_VIEW else "auto")


from planner.app.chrome import use_chinese_chrome  # noqa: E402

use_chinese_chrome()


def go(page: str) -> None:
    """Open ``page`` (a button callback: the sidebar's radio is set before it is drawn)."""
    st.session_state.page = page


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
        share = getattr(msg, "share", None)  # the solver's county progress carries its share of the work
        msg = zh_only(msg)  # the log in Chinese only; the command line keeps the English glosses
        status.write(msg)
        if share is not None:
            steps["solve"] = share
        done = 0.1 + 0.8 * steps.get("solve", 0.0) if "solve" in steps else min(0.1, steps["n"] / 200)
        bar.progress(min(0.95, done), text=msg)

    try:
        if data_root is not None:
            load_scenario(scenario, data_root=data_root)  # an uploaded scenario reads only what was uploaded
        report = run_plan(scenario, out, progress=progress)
    except PlannerError as exc:
        st.error(f"规划失败：{zh_only(shown(exc, data_root))}")
        return False
    except Exception as exc:  # noqa: BLE001 - never a traceback on screen
        st.error(f"规划失败（程序错误）：{type(exc).__name__}: {zh_only(shown(exc, data_root))}")
        return False
    bar.progress(1.0, text="完成")
    from planner.app import verdict
    from planner.app.zh import plan_report_lines

    if report.check_ok is not None:  # the overview shows it (planner.app.verdict)
        verdict.record(out, report.check_ok, report.check_text)
    lines = plan_report_lines(report.summary, plan_name=Path(out).name, replaced=report.replaced,
                              notes=[shown(n, data_root) for n in report.notes], check_ok=report.check_ok,
                              check_text=shown(report.check_text, data_root))
    st.session_state.plan_log = {"plan": Path(out).name, "lines": lines, "ok": report.ok}
    st.code("\n".join(lines), language=None)
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
        from planner.app.upload import public_message

        st.error(f"无法读取计划 {plan_dir.name}：{zh_only(public_message(str(exc), PLAN_ROOTS + [ROOT]))}")
        st.stop()


@st.cache_data(show_spinner=False, max_entries=8)
def overview_summary(plan_dir: str, stamp: float) -> dict:
    from planner.app.overview import read_overview_summary

    return read_overview_summary(Path(plan_dir))


@st.cache_data(show_spinner=False, max_entries=4)
def county_names(scenario: str) -> dict[str, str]:
    from planner.app.overview import county_names as names

    return names(Path(scenario))


def summary_or_stop() -> dict:
    """The open plan's summary.json (checksums verified) for the first page, without reading its tables."""
    plan_dir, scenario = current()
    if not ensure_plan(plan_dir, scenario):
        st.stop()
    try:
        return overview_summary(str(plan_dir), _stamp(plan_dir))
    except Exception as exc:  # a broken plan directory: say so, no traceback
        from planner.app.upload import public_message

        st.error(f"无法读取计划 {plan_dir.name}：{zh_only(public_message(str(exc), PLAN_ROOTS + [ROOT]))}")
        st.stop()


def shown(text, data_root: list[Path] | None) -> str:
    """A message for the screen; for uploads (``data_root`` given) without any server path."""
    if data_root is None:
        return str(text)
    from planner.app.upload import public_message

    return public_message(str(text), [*data_root, UPLOAD_DIR, ROOT])


def download_files(paths: list[Path], key: str) -> None:
    """A download button per written file."""
    mimes = {".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ".pdf": "application/pdf"}
    cols = st.columns(max(len(paths), 1))
    for i, p in enumerate(paths):
        cols[i % len(cols)].download_button(f"下载 {p.name}", data=p.read_bytes(), file_name=p.name,
                                            mime=mimes.get(p.suffix, "application/octet-stream"), key=f"{key}-{i}")


def make_files(key: str, label: str, writer, files: int = 2) -> None:
    """A button that writes documents into a temporary folder once; then their download buttons.

    ``writer(folder, on_file)`` writes the ``files`` files, calling ``on_file(path, ok)`` after each: a
    progress bar shows the files done (a province's manifest takes a few seconds).
    """
    from planner.documents.common import ExportError, failure_reason

    ss = st.session_state
    if st.button(label, key=f"make-{key}"):
        bar = st.progress(0.0, text=f"正在生成文件（共 {files} 个）…")
        done = {"n": 0}

        def on_file(path: Path, ok: bool) -> None:
            done["n"] += 1
            state = "已生成" if ok else "未能生成"
            bar.progress(min(done["n"] / max(files, 1), 1.0), text=f"{done['n']}/{files} {state} {Path(path).name}")

        tmp = Path(tempfile.mkdtemp(prefix="planner-app-"))
        try:
            ss[f"files-{key}"] = writer(tmp, on_file)
        except ExportError as exc:  # the documents that could be written are still offered
            ss[f"files-{key}"] = exc.written
            st.error("部分文件生成失败：" + "；".join(f"{f.path.name}（{f.reason}）" for f in exc.failed))
        except Exception as exc:  # noqa: BLE001 - a message, never a traceback
            st.error(f"文件生成失败：{zh_only(failure_reason(exc))}")
        bar.empty()
    paths = ss.get(f"files-{key}")
    if paths:
        download_files([Path(p) for p in paths], key)


def validate_and_plan(chosen: Path, prefix: str, default_out: Path, data_root: list[Path] | None = None) -> None:
    """The validation report and the plan button for one scenario file (shipped or uploaded).

    ``data_root`` (uploads): the folders the scenario may read from; messages then show no server path.
    """
    held_key = f"{prefix}validation-held"
    if st.button("校验数据", key=f"{prefix}validate"):
        from planner.loader import load_and_validate
        from planner.app.validation_view import report_only

        st.session_state.pop(held_key, None)
        with st.spinner("正在读取并检查数据…"):
            try:
                sc, result = load_and_validate(chosen, data_root=data_root)
            except Exception as exc:  # noqa: BLE001 - a message, never a traceback
                st.error(f"情景无法读取：{zh_only(shown(exc, data_root))}")
            else:  # kept, so that filtering the report (a rerun) does not lose it
                st.session_state[held_key] = (str(chosen), sc.name, report_only(result))
    held = st.session_state.get(held_key)
    if held is not None and held[0] == str(chosen):
        from planner.app.validation_view import show_validation

        show_validation(held[2], held[1], key=f"{prefix}validation", show_table=show_table)
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
            st.session_state.flash = f"已生成并切换到新计划 {Path(out).name}，可在左侧选择其他页面查看。"
            st.rerun()  # the banner and the sidebar name the new plan at once


NOT_CHOSEN = "（请选择）"


def template_downloads() -> None:
    """One Excel template per table (columns, types in Chinese, an example row), from planner.schemas."""
    from planner.app import templates
    from planner.app.upload import TABLE_NAMES

    with st.expander("下载 Excel 模板（每个数据表一个：列名、类型说明、一行示例）"):
        st.caption("模板由程序的数据表定义生成，与校验规则一致。第一个工作表填写数据，第二个工作表是各列的中文说明。"
                   "填好后按原文件名上传即可自动识别数据表。")
        cols = st.columns(3)
        for i, table in enumerate(templates.TEMPLATE_TABLES):
            cols[i % 3].download_button(
                f"{TABLE_NAMES.get(table, table)}（{templates.template_name(table)}）",
                data=lambda t=table: templates.template_workbook(t), file_name=templates.template_name(table),
                mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=f"template-{table}")


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
    template_downloads()
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
            st.error(f"情景文件 {own.name} 不可用：{zh_only(exc)}")
            return
        except Exception as exc:  # noqa: BLE001 - a ScenarioError names the key; never a traceback
            st.error(f"情景文件 {own.name} 无法读取：{zh_only(shown(exc, roots))}")
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
            st.error(f"无法为上传的数据生成情景文件：{zh_only(shown(exc, roots))}")
            return
        with st.expander(f"生成的情景文件 {chosen.name}"):
            st.code(chosen.read_text(encoding="utf-8"), language="toml")
    st.caption(f"情景文件：{chosen.name}（上传的文件所在的文件夹）")
    validate_and_plan(chosen, "upload-", ROOT / "out" / f"upload-{folder.name}", roots)


# ------------------------------------------------------------------ pages
def page_plan() -> None:
    st.header("计划")
    plan_dir, scenario = current()
    ss = st.session_state
    if ss.get("flash"):
        st.success(ss.pop("flash"))
        log = ss.get("plan_log")
        if log and log.get("plan") == plan_dir.name:
            with st.expander(f"规划记录：{log['plan']}", expanded=not log.get("ok", True)):
                st.code("\n".join(log["lines"]), language=None)
    st.info(f"当前计划：{plan_dir.name}　情景：{scenario.name}")
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
                st.error(f"{chosen_dir.name} 不是完整的计划目录：{zh_only(public_message(str(exc), PLAN_ROOTS))}")
            else:
                st.session_state.plan_dir = str(chosen_dir)
                st.session_state.scenario = s
                st.session_state.flash = f"已打开计划 {chosen_dir.name}"
                st.rerun()  # the banner and the sidebar name it at once


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
    c = st.columns(4)
    if k["lower_bound"]:
        lb = k["lower_bound"]
        c[0].metric("大巴发车下界", f"{lb['下界（大巴发车）']:,}")
        c[1].metric("与下界差距", f"{lb['差距']:,}（{lb['差距百分比']}%）")
        if k["seat_fill"] is not None:
            c[2].metric("座位利用率", f"{k['seat_fill']:.1%}")
    if k.get("throughput"):
        tb = k["throughput"]
        c[3].metric("与运力上界差距（人）", f"{tb['差距']:,}（{tb['差距百分比']}%）",
                    help=f"运力上界 {tb['上界']:,} 人：车队在计划期内最多能运送的人数")
    if k.get("county_only"):
        st.caption("本计划只有这一个区县，下界与全部区县相同。")
    elif not k["lower_bound"]:
        st.caption("大巴发车下界由规划程序对全部区县计算；选择“全部区县”查看。")
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
    bar_chart(t["departures"], value="发车数", series="方式")
    st.subheader("每日大巴使用（在途 / 空闲）")
    bar_chart(t["coaches"], value="大巴数", series="状态")
    with st.expander("每日汇总"):
        show_table(t["daily"], hide_index=True, width="stretch")
    with st.expander("按日按枢纽发车"):
        show_table(t["by_hub"], hide_index=True, width="stretch")
    from planner.documents.waves import write_wave_plan

    make_files(f"waves-{county}", "生成波次计划（Excel、PDF）",
               lambda out, on_file: write_wave_plan(data, out, code, on_file=on_file))
    from planner.app.exceptions_page import show_unassigned  # issue 15 section 1

    show_unassigned(data, code, f"unassigned-{county}")


def page_township(data) -> None:
    st.header("乡镇")
    counties = views.county_options(data)
    county = st.selectbox("区县", [ALL, *counties], format_func=lambda c: "全部区县" if c == ALL else counties[c],
                          key="town-county")
    towns = views.township_options(data, None if county == ALL else county)
    if not towns:
        st.info("所选区县没有登记的务工人员。")
        return
    town = st.selectbox("乡镇", list(towns), format_func=lambda c: towns[c], key="township")
    rows = views.pickup_rows(data, town)
    st.metric("乘车人数", f"{len(rows):,}")
    if len(rows):
        per_day = rows.groupby("日期").size().rename("人数")
        bar_chart(per_day, value="人数")
        show_table(rows, hide_index=True, width="stretch")
        from planner.documents.pickup import write_pickup_lists

        make_files(f"pickup-{town}", "生成乘车人员名单（Excel、PDF）",
                   lambda out, on_file: write_pickup_lists(data, out, [town], on_file=on_file))
    else:
        st.warning("本乡镇登记的务工人员都未安排乘车，原因和处理建议见下方名单。")
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
        bar_chart(a["per_day"]["人数"], value="人数")
    st.subheader("按日期、目的地")
    show_table(a["by_destination"], hide_index=True, width="stretch")
    with st.expander("到达车辆"):
        show_table(a["vehicles"], hide_index=True, width="stretch")
    from planner.documents.manifest import write_manifests

    st.caption("下载的到达名单中身份证号已脱敏（前 6 位和后 4 位）。")
    make_files(f"manifest-{prov}", "生成到达名单（Excel、PDF）",
               lambda out, on_file: write_manifests(data, out, prov, on_file=on_file))


def find_trace_worker(data) -> str | None:
    """The worker 追溯 is about: typed as a worker id or a name, a township to tell people of one name apart."""
    left, right = st.columns([2, 1])
    query = left.text_input("姓名或务工人员编号", key="trace-worker", placeholder="例如 张某华 或 W0000001").strip()
    if not query:
        st.info("请输入姓名或务工人员编号，查询同车、同站人员。")
        return None
    found = views.find_workers(data, query)
    if found.empty:
        st.error(f"计划中没有姓名或编号为“{query}”的务工人员。")
        return None
    towns = dict(zip(found["township_code"], found["乡镇"]))
    if len(found) > 1 and len(towns) > 1:
        town = right.selectbox("乡镇（区分同名人员）", [ALL, *towns], key="trace-township",
                               format_func=lambda t: "全部乡镇" if t == ALL else towns[t])
        if town != ALL:
            found = found[found["township_code"] == town]
    if len(found) == 1:
        return str(found.iloc[0]["人员编号"])
    st.caption(f"找到 {len(found):,} 人，请选择一人（可先选乡镇）：")
    show_table(found.drop(columns="township_code"), hide_index=True, width="stretch")
    labels = {r["人员编号"]: f"{r['姓名']}　{r['乡镇']}　{r['村']}　{r['人员编号']}" for _, r in found.iterrows()}
    return st.selectbox("选择人员", list(labels), format_func=labels.get, key="trace-pick")


def page_trace(data) -> None:
    st.header("追溯")
    wid = find_trace_worker(data)
    if wid is None:
        return
    info = views.worker_info(data, wid)
    if info is None:
        st.error(f"计划中没有务工人员 {wid}。")
        return
    st.write(f"**{info['worker_id']}**　{info['name']}　身份证号 {info['id_masked']}　{info['status']}"
             + (f"（{info['reason']}）" if info["reason"] else "")
             + f"　{info['village']} → {info['factory']}")
    why = views.unassigned_why(data, wid)
    if why is not None:  # nobody shared a vehicle with them: say why instead of empty tables
        st.warning(f"此人未安排乘车，没有同车、同站人员。原因：{why['reason']}。处理建议：{why['action']}")
        return
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
page = st.sidebar.radio("页面", PAGES, index=PAGES.index("上车登记") if PHONE_VIEW else 0, key="page")
plan_dir, scenario = current()
st.sidebar.caption(f"计划：{plan_dir.name}　情景：{scenario.name}"
                   + (f"　角色：{st.session_state.role}" if st.session_state.get("role") else ""))

if page == "计划":
    page_plan()
elif page == "情景变体":  # what-if variants and fleet sizing (planner.app.variants, issue 16)
    from planner.app.variants import page_variants
    page_variants(scenario, plan_dir, run_planning, PLANS_DIR)
elif page == "概览":  # the state of the plan, from its summary alone (planner.app.overview)
    from planner.app.overview import page_overview
    page_overview(summary_or_stop(), plan_dir, scenario, names=lambda: county_names(str(scenario)), go=go)
elif page == "发布与重新规划":  # publish, then replan around it (planner.app.replan_page, issue 14)
    from planner.app.replan_page import page_replan
    page_replan(plan_dir, scenario, PLAN_ROOTS)
else:
    data = data_or_stop()
    {"地图": page_map, "区县人社局": page_county, "乡镇": page_township, "接收省份": page_province,
     "追溯": page_trace, "上车登记": lambda d: page_boarding(d, plan_dir),
     "交接签收": lambda d: page_handover(d, plan_dir)}[page](data)
