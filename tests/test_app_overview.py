"""Issue 15 section 4: Chinese throughout, and the first screen tells the state of the plan.

AppTest drives app.py on the tiny scenario's plan (and, for a township whose
people are all unassigned, on a variant of it): the overview page and the roles,
the checker verdict, the validation report as a table, the Excel templates, the
planning log in Chinese with the new plan named at once, tracing by name, the
lower bound of the only county, the township selector.
"""

from __future__ import annotations

import re
import shutil
import tomllib
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("streamlit")

from streamlit.testing.v1 import AppTest  # noqa: E402

from planner.app import templates, verdict, views  # noqa: E402
from planner.app.overview import ROLES, overview_facts  # noqa: E402
from planner.app.validation_view import balance_table, problems_table  # noqa: E402
from planner.app.zh import plan_report_lines, zh_only  # noqa: E402
from planner.documents.common import load_doc_data  # noqa: E402
from planner.schemas import PROBLEM_CODES, TABLES  # noqa: E402
from planner.vocab import PROBLEM_LABELS  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "data" / "tiny" / "scenario.toml"
TINY_FILES = ("workers.csv", "factories.csv", "fleet.csv", "train_services.csv", "risk_calendar.csv",
              "vehicle_types.csv")
# English that the screen must not show (issue 15 section 4)
ENGLISH = ("not a date", "bad_type", "NOT OK", "wall time", "checker", "no violations", "plan written", "(OK)",
           "(empty)", "checking")


def start(monkeypatch, plan_dir: Path, scenario: Path = TINY, plans: Path | None = None) -> AppTest:
    monkeypatch.setenv("PLANNER_APP_SCENARIO", str(scenario))
    monkeypatch.setenv("PLANNER_APP_PLAN_DIR", str(plan_dir))
    if plans is not None:
        monkeypatch.setenv("PLANNER_APP_PLANS_DIR", str(plans))
        monkeypatch.setenv("PLANNER_APP_UPLOAD_DIR", str(plans / "uploads"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    assert not at.exception, at.exception
    return at


def goto(at: AppTest, page: str) -> AppTest:
    at.sidebar.radio(key="page").set_value(page).run()
    assert not at.exception, at.exception
    return at


def texts(at: AppTest) -> str:
    """Every message, caption, markdown and code block on screen."""
    parts = []
    for kind in ("markdown", "caption", "info", "success", "warning", "error", "code", "subheader", "header"):
        parts += [str(e.value) for e in getattr(at, kind)]
    return "\n".join(parts)


def no_empty_tables(at: AppTest) -> None:
    """No table on screen is drawn without rows (Streamlit would show the English word "empty")."""
    for d in at.dataframe:
        assert len(d.value) > 0, d.value.columns.tolist()


@pytest.fixture(scope="module")
def data(tiny_plan_dir):
    return load_doc_data(tiny_plan_dir, TINY)


@pytest.fixture()
def own_plan(tiny_plan_dir, tmp_path) -> Path:
    """A copy of the tiny plan (checksums intact) that a test may record a verdict beside."""
    out = tmp_path / "plans" / "tiny-plan"
    shutil.copytree(tiny_plan_dir, out)
    return out


@pytest.fixture(scope="module")
def idle_township(tmp_path_factory):
    """The tiny scenario with every worker of township 500101151 unconfirmed: registered, nobody planned."""
    from planner.pipeline import run_plan

    folder = tmp_path_factory.mktemp("idle")
    for f in TINY.parent.iterdir():
        shutil.copy(f, folder / f.name)
    w = pd.read_csv(folder / "workers.csv", dtype=str, keep_default_na=False)
    w.loc[w["village_code"].str.startswith("500101151"), "job_confirmed"] = "否"
    w.to_csv(folder / "workers.csv", index=False)
    out = folder / "plan"
    run_plan(folder / "scenario.toml", out, check=False)
    return folder / "scenario.toml", out


# ------------------------------------------------------------------ the first page
def test_overview_is_the_first_page_and_tells_the_state_of_the_plan(own_plan, monkeypatch):
    at = start(monkeypatch, own_plan)
    assert at.sidebar.radio(key="page").value == "概览"
    s = load_doc_data(own_plan, TINY).plan.summary
    values = {m.label: m.value for m in at.metric}
    assert values["已安排人数"] == f"{s['workers']['planned']:,}"
    assert values["未安排人数"] == f"{s['workers']['unassigned']:,}"
    assert values["省际大巴发车"] == f"{s['departures']['coach']:,}"
    assert values["专列车厢"] == f"{s['departures']['train_carriage']:,}"
    assert values["大巴发车下界"] == f"{s['lower_bound']['coach_departures']:,}"
    assert values["与下界差距"] == f"{s['lower_bound']['gap']:,}（{s['lower_bound']['gap_pct']}%）"
    tb = s["throughput_bound"]["total"]
    assert values["与运力上界差距"] == f"{tb['gap']:,}（{tb['gap_pct']}%）"
    head = texts(at)
    assert own_plan.name in head and s["scenario"]["name"] in head
    when = datetime.fromtimestamp((own_plan / "summary.json").stat().st_mtime).astimezone()
    assert "生成时间" in head and "北京时间" in head and str(when.year) in head
    # the tiny plan was made without the checker: the overview says so and offers to run it
    assert any("尚未" in i.value and "校验" in i.value for i in at.info)
    at.button(key="overview-check").click().run()
    assert not at.exception, at.exception
    assert any("独立校验：通过" in x.value for x in at.success)
    assert verdict.read(own_plan)["ok"] is True
    # a new start reads the recorded verdict: no button, the verdict at once
    again = start(monkeypatch, own_plan)
    assert any("独立校验：通过" in x.value for x in again.success)
    assert not [b for b in again.button if b.key == "overview-check"]
    for word in ENGLISH:
        assert word not in texts(again), word


def test_every_role_opens_its_view(tiny_plan_dir, monkeypatch):
    at = start(monkeypatch, tiny_plan_dir)
    assert "请选择您的角色" in texts(at)
    for i, (role, (page, _)) in enumerate(ROLES.items()):
        goto(at, "概览")
        at.button(key=f"role-{i}").click().run()
        assert not at.exception, (role, at.exception)
        assert at.sidebar.radio(key="page").value == page, role
        assert at.session_state.role == role
        assert f"角色：{role}" in " ".join(c.value for c in at.sidebar.caption)


def test_a_verdict_never_outlives_its_plan(own_plan):
    assert verdict.read(own_plan) is None
    verdict.record(own_plan, False, "发现 1,203 处违规，涉及 2 条规则 (violations; checked x)")
    got = verdict.read(own_plan)
    assert got["ok"] is False and got["violations"] == 1203  # counted from the checker's report
    assert verdict.record_path(own_plan).parent == own_plan.parent  # beside the plan, never inside it
    summary = own_plan / "summary.json"
    summary.write_bytes(summary.read_bytes() + b" ")  # another plan in the same directory
    assert verdict.read(own_plan) is None


def test_planner_check_records_the_verdict_the_overview_shows(own_plan, tmp_path, monkeypatch):
    """`planner check` against the plan's own scenario records its verdict; against another it does not count."""
    from planner.cli import EXIT_OK, main

    other = tmp_path / "other"
    shutil.copytree(TINY.parent, other)
    toml = (other / "scenario.toml").read_text(encoding="utf-8")
    (other / "scenario.toml").write_text(toml.replace('name = "校验测试情景"', 'name = "另一个情景"'), encoding="utf-8")
    main(["check", str(own_plan), "--scenario", str(other / "scenario.toml")])
    assert verdict.read(own_plan) is None  # a check against another scenario says nothing about this plan
    assert main(["check", str(own_plan), "--scenario", str(TINY)]) == EXIT_OK
    assert verdict.read(own_plan)["ok"] is True and verdict.read(own_plan)["violations"] == 0
    at = start(monkeypatch, own_plan)
    assert any("独立校验：通过" in x.value for x in at.success)


def test_overview_facts_follow_the_summary(data):
    s = data.plan.summary
    f = overview_facts(s, plan_name="p", scenario_name="x", when=None, verdict=None)
    assert f["verdict_state"] == "unchecked" and f["when"] == "未知"
    assert f["planned"] + f["unassigned"] == f["read"] == s["workers"]["read"]
    assert f["lower_bound"]["计划"] - f["lower_bound"]["下界"] == f["lower_bound"]["差距"]
    assert sum(n for _, n in f["reasons"]) == f["unassigned"]
    bad = overview_facts(s, plan_name="p", scenario_name="x", when=None, verdict={"ok": False, "violations": 7})
    assert bad["verdict_state"] == "violations" and "7" in bad["verdict"]
    assert f["replan"] == ""
    again = overview_facts({**s, "replan": {"base_dir": "/srv/out/demo", "lock_through": "2020-02-16",
                                           "locked_trips": ["C1", "C2"]}},
                           plan_name="p2", scenario_name="x", when=None, verdict=None)
    assert "demo" in again["replan"] and "2020-02-16" in again["replan"] and "/srv" not in again["replan"]


# ------------------------------------------------------------------ Chinese throughout
def test_chrome_is_hidden_and_the_uploader_speaks_chinese(tiny_plan_dir, monkeypatch):
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["toolbarMode"] in ("minimal", "viewer")  # no Deploy button, no developer menu
    at = start(monkeypatch, tiny_plan_dir)
    goto(at, "计划")
    css = " ".join(h.proto.body for h in at.get("html"))
    assert "stFileUploaderDropzoneInstructions" in css and "将文件拖放到此处" in css and "选择文件" in css
    assert "每个文件不超过 50 MB" in css  # server.maxUploadSize of .streamlit/config.toml
    label = at.get("file_uploader")[0].label
    assert "每个文件不超过 50 MB" in label


def test_zh_only_drops_english_glosses_and_keeps_codes():
    assert zh_only("ready_date 应为日期 YYYY-MM-DD (not a date)") == "ready_date 应为日期 YYYY-MM-DD"
    assert zh_only("结论：有被拒绝的行或无法使用的表 (NOT OK)") == "结论：有被拒绝的行或无法使用的表"
    assert zh_only("校验通过 (checker: no violations)") == "校验通过"
    assert zh_only("人员 (W0000001) 的村（500101）") == "人员 (W0000001) 的村（500101）"
    assert zh_only("生成时间（北京时间）") == "生成时间（北京时间）"
    assert zh_only("TOML 语法错误 (TOML syntax error): bad (at line 2, column 8)") == \
        "TOML 语法错误: bad (at line 2, column 8)"
    assert set(PROBLEM_LABELS) == set(PROBLEM_CODES)  # every validation problem has its Chinese name
    for label in PROBLEM_LABELS.values():
        assert re.search(r"[\u4e00-\u9fff]", label)


def test_plan_report_lines_are_chinese(data):
    lines = plan_report_lines(data.plan.summary, plan_name="demo", check_ok=True, notes=["注意 (stale lock taken over)"])
    text = "\n".join(lines)
    assert "计划 demo 已生成" in text and "独立校验通过" in text and "用时（秒）" in text
    assert not re.search(r"[A-Za-z]{3,}", text.replace("demo", "")), text


def test_planning_log_is_chinese_and_the_new_plan_is_named_at_once(tiny_plan_dir, tmp_path, monkeypatch):
    plans = tmp_path / "plans"
    plans.mkdir()
    at = start(monkeypatch, tiny_plan_dir, plans=plans)
    goto(at, "计划")
    at.text_input(key="plan-out").set_value("新计划-0216").run()
    at.button(key="run-plan").click().run()
    assert not at.exception, at.exception
    out = plans / "新计划-0216"
    assert (out / "summary.json").exists()
    # the run itself reran the page: banner and sidebar name the new plan without another click
    assert any("新计划-0216" in s.value for s in at.success)
    assert any("当前计划：新计划-0216" in i.value for i in at.info)
    assert "计划：新计划-0216" in " ".join(c.value for c in at.sidebar.caption)
    log = "\n".join(c.value for c in at.code)
    assert "独立校验通过" in log and "用时（秒）" in log
    for word in ENGLISH:
        assert word not in log, word
    assert str(plans) not in log  # the plan is named, never a server path
    assert verdict.read(out)["ok"] is True  # the overview shows the verdict of the check that just ran
    goto(at, "概览")
    assert any("独立校验：通过" in x.value for x in at.success)


# ------------------------------------------------------------------ upload: templates and the validation table
def test_templates_match_the_schema_and_read_back(tmp_path):
    from openpyxl import load_workbook

    from planner.io.readers import read_table
    from planner.scenario import FileSpec

    assert {(t, c.name) for t, cols in TABLES.items() for c in cols} == set(templates.COLUMN_ZH)
    assert "workers" in templates.TEMPLATE_TABLES and "counties" not in templates.TEMPLATE_TABLES
    for table in templates.TEMPLATE_TABLES:
        cols = TABLES[table]
        path = tmp_path / templates.template_name(table)
        path.write_bytes(templates.template_workbook(table))
        frame = read_table(FileSpec(path=path), table=table)
        assert [c for c in frame.columns if c != "_row"] == [c.name for c in cols], table
        assert len(frame) == 1, table  # one example row; the text-formatted rows below are blank
        for c in cols:  # the example as typed (a float as the same number)
            got = frame.iloc[0][c.name]
            assert (float(got) == float(c.example)) if c.kind == "float" else (got == c.example), (table, c.name)
        wb = load_workbook(path)
        ws = wb["数据"]
        for j, c in enumerate(cols, start=1):
            cell = ws.cell(row=2, column=j)
            if c.kind in ("int", "float"):
                assert isinstance(cell.value, int | float) and not isinstance(cell.value, bool), (table, c.name)
            elif c.kind == "date":
                assert isinstance(cell.value, datetime), (table, c.name)
            else:
                assert isinstance(cell.value, str) and cell.number_format == "@", (table, c.name)
        guide = pd.DataFrame(list(wb["填写说明"].values)[1:len(cols) + 1], columns=templates.GUIDE_COLUMNS)
        assert guide["列名"].tolist() == [c.name for c in cols]
        assert all(re.search(r"[\u4e00-\u9fff]", t) for t in guide["类型"]), table
        assert set(guide["是否必填"]) <= {"必填", "选填"}


@pytest.mark.parametrize("table", ["workers", "factories", "fleet", "train_services", "risk_calendar"])
def test_a_filled_template_passes_the_column_checks(table, tmp_path):
    """The template's example row, uploaded as the table's .xlsx, has no problem of its own in planner.validate.

    Only references to rows of the other tables (the example's village or factory
    is not in the tiny data) may fail: dangling_reference and what follows from it.
    """
    from planner.app.upload import guess_table
    from planner.loader import load_and_validate

    assert guess_table(templates.template_name(table)) == table  # the filled-in file is recognised on upload
    folder = tmp_path / "s"
    shutil.copytree(TINY.parent, folder)
    (folder / templates.template_name(table)).write_bytes(templates.template_workbook(table))
    toml = (folder / "scenario.toml").read_text(encoding="utf-8")
    (folder / "scenario.toml").write_text(toml.replace(f'{table} = "{table}.csv"', f'{table} = "{table}.xlsx"'),
                                         encoding="utf-8")
    _, result = load_and_validate(folder / "scenario.toml")
    own = [p for p in result.problems if Path(p.file).name == templates.template_name(table)]
    allowed = {"dangling_reference", "date_outside_window", "unknown_province", "outside_county",
               "county_not_found", "near_county_border", "no_workers", "no_coaches"}
    assert {p.code for p in own} <= allowed, [(p.code, p.column, p.message) for p in own]
    assert result.counts[table]["read"] == 1


def test_upload_page_offers_a_template_per_table(tiny_plan_dir, monkeypatch):
    at = start(monkeypatch, tiny_plan_dir)
    goto(at, "计划")
    keys = {b.key for b in at.get("download_button")}
    assert {f"template-{t}" for t in templates.TEMPLATE_TABLES} <= keys


def _tiny_upload(**changed: bytes) -> list[tuple[str, bytes, str]]:
    files = {n: (TINY.parent / n).read_bytes() for n in TINY_FILES}
    files.update(changed)
    return [(n, b, "text/csv") for n, b in files.items()]


def test_validation_report_is_a_table_in_chinese(tiny_plan_dir, tmp_path, monkeypatch):
    plans = tmp_path / "plans"
    plans.mkdir()
    at = start(monkeypatch, tiny_plan_dir, plans=plans)
    goto(at, "计划")
    workers = (TINY.parent / "workers.csv").read_bytes()
    workers = workers.replace(b"2020-02-12,green_code", b"2020-13-45,green_code", 1)  # row 2: not a date
    workers = workers.replace(b"19900000003", b"1990000", 1)  # row 4: a bad phone
    at.file_uploader(key="upload-files").set_value(_tiny_upload(**{"workers.csv": workers})).run()
    at.button(key="upload-validate").click().run()
    assert not at.exception, at.exception
    problems = next(d.value for d in at.dataframe if "问题" in d.value.columns)
    assert list(problems.columns) == ["文件", "行", "列", "问题类型", "问题", "处理", "代码"]
    date = problems[(problems["行"] == 2) & (problems["列"] == "ready_date")].iloc[0]
    assert date["文件"] == "workers.csv" and date["代码"] == "bad_type" and date["问题类型"] == PROBLEM_LABELS["bad_type"]
    assert "日期" in date["问题"] and "not a date" not in date["问题"]
    assert date["处理"] == "该行被拒绝，不参与规划"
    phone = problems[(problems["行"] == 4) & (problems["列"] == "phone")].iloc[0]
    assert phone["代码"] == "bad_phone" and "(" not in phone["问题"]
    for cell in problems["问题"]:
        assert "(" not in cell or not re.search(r"\([^)]*[a-z]{3}", cell), cell
    balance = next(d.value for d in at.dataframe if "读入行数" in d.value.columns)
    row = balance[balance["数据表"].str.contains("workers")].iloc[0]
    assert row["读入行数"] == 20 and row["拒绝"] == 2 and row["接受"] == 18
    assert any("被拒绝的行" in w.value for w in at.warning)
    assert not [c for c in at.code if c.language != "toml"]  # not a log (the toml is the generated scenario)
    # filtering is a rerun: the report stays, filtered
    at.multiselect(key="upload-validation-kinds").set_value([PROBLEM_LABELS["bad_phone"]]).run()
    assert not at.exception
    only = next(d.value for d in at.dataframe if "问题" in d.value.columns)
    assert len(only) >= 1 and set(only["代码"]) == {"bad_phone"}
    assert str(plans) not in texts(at)


def test_problems_table_of_a_fatal_file(tmp_path):
    """A missing column: the whole table is unusable, said in Chinese, with no row."""
    from planner.loader import load_and_validate

    folder = tmp_path / "s"
    shutil.copytree(TINY.parent, folder)
    w = pd.read_csv(folder / "workers.csv", dtype=str, keep_default_na=False).drop(columns="phone")
    w.to_csv(folder / "workers.csv", index=False)
    _, result = load_and_validate(folder / "scenario.toml")
    t = problems_table(result)
    first = t.iloc[0]
    assert first["代码"] == "missing_column" and first["列"] == "phone" and pd.isna(first["行"])
    assert first["处理"] == "整个表无法使用，无法规划"
    b = balance_table(result)
    assert (b["读入行数"] == b["接受"] + b["拒绝"]).all()


# ------------------------------------------------------------------ 追溯 by name
def test_trace_finds_a_worker_by_name_with_township(data, tiny_plan_dir, monkeypatch):
    people = data.people
    w = data.plan.workers.copy()
    w["name"] = w["worker_id"].map(people["name"])
    # a name several people share, in more than one township
    shared = w.groupby("name")["township_code"].nunique()
    name = shared[shared > 1].index[0]
    mine = w[w["name"] == name]
    town = mine["township_code"].value_counts().index[0]
    in_town = mine[mine["township_code"] == town]
    planned_in_town = in_town[in_town["status"] == "planned"]

    at = start(monkeypatch, tiny_plan_dir)
    goto(at, "追溯")
    at.text_input(key="trace-worker").set_value(name).run()
    assert not at.exception
    everyone = at.dataframe[0].value
    assert set(everyone["人员编号"]) == set(w.loc[w["worker_id"].map(people["name"]) == name, "worker_id"])
    assert all("*" in x for x in everyone["身份证号"])
    at.selectbox(key="trace-township").set_value(town).run()
    assert not at.exception
    if len(in_town) > 1:
        options = at.selectbox(key="trace-pick").options
        assert len(options) == len(in_town)
        target = str(planned_in_town["worker_id"].iloc[-1])
        at.selectbox(key="trace-pick").set_value(target).run()
    else:
        target = str(in_town["worker_id"].iloc[0])
        assert target in set(planned_in_town["worker_id"])
    assert not at.exception
    assert any(target in m.value for m in at.markdown)
    assert any("同车人员" in h.value for h in at.subheader)
    # an exact worker id finds that one worker at once
    at.text_input(key="trace-worker").set_value(target).run()
    assert not at.exception and not [s for s in at.selectbox if s.key == "trace-pick"]
    assert any(target in m.value for m in at.markdown)


def test_trace_of_an_unassigned_worker_says_why(data, tiny_plan_dir, monkeypatch):
    w = data.plan.workers
    un = w[w["status"] == "unassigned"].iloc[0]
    at = start(monkeypatch, tiny_plan_dir)
    goto(at, "追溯")
    at.text_input(key="trace-worker").set_value(str(un["worker_id"])).run()
    assert not at.exception
    why = " ".join(x.value for x in at.warning)
    assert "未安排乘车" in why and views.reason_label(str(un["reason"])) in why and "处理建议" in why
    assert not at.dataframe  # no empty tables of co-passengers
    at.text_input(key="trace-worker").set_value("查无此人").run()
    assert not at.exception and any("查无此人" in e.value for e in at.error)


def test_find_workers_by_name_part_and_township(data):
    w = data.plan.workers
    people = data.people
    name = str(people["name"].iloc[0])
    exact = views.find_workers(data, name)
    assert set(exact["人员编号"]) == set(people.index[people["name"] == name])
    part = views.find_workers(data, name[-1])
    assert set(exact["人员编号"]) <= set(part["人员编号"])
    town = str(exact["township_code"].iloc[0])
    one_town = views.find_workers(data, name, township=town)
    assert set(one_town["township_code"]) == {town}
    wid = str(w["worker_id"].iloc[3])
    assert views.find_workers(data, wid)["人员编号"].tolist() == [wid]
    assert views.find_workers(data, "").empty


# ------------------------------------------------------------------ county and township
def test_lower_bound_is_shown_for_the_only_county(data, tiny_plan_dir, monkeypatch):
    assert len(views.county_options(data)) == 1
    code = next(iter(views.county_options(data)))
    k = views.county_kpis(data, code)
    s = data.plan.summary
    assert k["lower_bound"]["下界（大巴发车）"] == s["lower_bound"]["coach_departures"] and k["county_only"]
    at = start(monkeypatch, tiny_plan_dir)
    goto(at, "区县人社局")
    at.selectbox(key="county").set_value(code).run()
    assert not at.exception
    values = {m.label: m.value for m in at.metric}
    assert values["大巴发车下界"] == f"{s['lower_bound']['coach_departures']:,}"
    assert values["与下界差距"] == f"{s['lower_bound']['gap']:,}（{s['lower_bound']['gap_pct']}%）"
    assert any("只有这一个区县" in c.value for c in at.caption)


def test_township_without_planned_workers_is_listed_and_says_why(idle_township, monkeypatch):
    scenario, plan = idle_township
    d = load_doc_data(plan, scenario)
    w = d.plan.workers
    idle = w[w["township_code"] == "500101151"]
    assert len(idle) and (idle["status"] == "unassigned").all()
    assert "500101151" in views.township_options(d)
    assert "500101151" in views.township_options(d, "500101")
    at = start(monkeypatch, plan, scenario)
    goto(at, "乡镇")
    at.selectbox(key="township").set_value("500101151").run()
    assert not at.exception, at.exception
    values = {m.label: m.value for m in at.metric}
    assert values["乘车人数"] == "0"
    assert any("都未安排乘车" in x.value for x in at.warning)
    no_empty_tables(at)
    table = next(t.value for t in at.dataframe if "人员编号" in t.value.columns)
    assert sorted(table["人员编号"]) == sorted(idle["worker_id"])
    assert set(table["未安排原因"]) == {"岗位未确认"}


def test_charts_are_titled_in_chinese(tiny_plan_dir, monkeypatch):
    """st.bar_chart of a wide table says "value" and "color"; the app's charts name their axes and legend."""
    import json

    at = start(monkeypatch, tiny_plan_dir)
    seen = 0
    for page in ("区县人社局", "乡镇", "接收省份"):
        goto(at, page)
        for node in _walk(at._tree):
            if getattr(node, "type", "") != "vega_lite_chart":
                continue
            spec = json.loads(node.proto.spec)
            titles = re.findall(r'"title": "([^"]*)"', json.dumps(spec.get("encoding", {}), ensure_ascii=False))
            assert titles and not {"value", "color", "index"} & set(titles), (page, titles)
            assert all(re.search(r"[\u4e00-\u9fff]", t) for t in titles if t.strip()), (page, titles)
            seen += 1
    assert seen >= 3


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def test_no_page_draws_an_empty_table(data, tiny_plan_dir, monkeypatch):
    """An empty table is said in words ("（无记录）"), never drawn as Streamlit's grid reading "empty"."""
    at = start(monkeypatch, tiny_plan_dir)
    for page in ("概览", "区县人社局", "乡镇", "接收省份", "追溯"):
        goto(at, page)
        if page == "追溯":
            w = data.plan.workers
            at.text_input(key="trace-worker").set_value(str(w.loc[w["status"] == "planned", "worker_id"].iloc[0])).run()
            assert not at.exception
        no_empty_tables(at)


def _tables_script():
    import pandas as pd

    from planner.app.tables import show_table

    show_table(pd.DataFrame(columns=["姓名", "车次"]), hide_index=True)
    show_table(pd.DataFrame({"姓名": ["张某华", None], "车次": ["=1+1", "C1"]}), hide_index=True)


def test_show_table_says_no_records_and_leaves_missing_cells_blank():
    at = AppTest.from_function(_tables_script)
    at.run()
    assert not at.exception
    assert [c.value for c in at.caption] == ["（无记录）"]
    assert len(at.dataframe) == 1  # only the table with rows is drawn
    table = at.dataframe[0]
    assert table.proto.HasField("placeholder") and table.proto.placeholder == ""  # blank, not "None"
    assert table.value["车次"].iloc[0].startswith("'")  # a formula-like cell is text


def test_county_names_come_from_the_scenario():
    from planner.app.overview import county_names

    names = county_names(TINY)
    assert names.get("500101", "").endswith("（500101）") and len(names["500101"]) > len("（500101）")
    assert county_names(ROOT / "no-such.toml") == {}
