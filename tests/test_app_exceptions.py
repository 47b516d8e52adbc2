"""The app's table of unassigned people (county and township views): exactly the plan's rows, masked, filterable."""

from __future__ import annotations

import io
import re
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from planner.app.exceptions_page import exception_excel  # noqa: E402
from planner.documents.common import load_doc_data, mask_id  # noqa: E402
from planner.vocab import reason_label  # noqa: E402
from tests.conftest import TINY_SCENARIO  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TOWN = "500101024"  # W0000002, 08, 14, 20: one stays planned, three are unassigned for three reasons


@pytest.fixture(scope="module")
def plan(tmp_path_factory) -> dict:
    """The tiny scenario with one worker ready after the job date and one invalid ID number, planned."""
    from planner.pipeline import run_plan

    base = tmp_path_factory.mktemp("exc-app")
    src = base / "data"
    shutil.copytree(TINY_SCENARIO.parent, src)
    people = pd.read_csv(src / "workers.csv", dtype=str, keep_default_na=False)
    people.loc[people["worker_id"] == "W0000014", "ready_date"] = "2020-03-14"  # ready_after_needed_by
    people.loc[people["worker_id"] == "W0000008", "id_number"] = "5001011981"  # rejected_input
    people.to_csv(src / "workers.csv", index=False)
    out = base / "plan"
    run_plan(src / "scenario.toml", out, check=False)
    workers = pd.read_csv(out / "workers.csv", dtype=str, keep_default_na=False)
    return {"dir": out, "scenario": src / "scenario.toml", "workers": workers, "people": people}


@pytest.fixture()
def app(plan, monkeypatch):
    monkeypatch.setenv("PLANNER_APP_SCENARIO", str(plan["scenario"]))
    monkeypatch.setenv("PLANNER_APP_PLAN_DIR", str(plan["dir"]))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    return at


def _goto(at: AppTest, page: str) -> AppTest:
    at.sidebar.radio(key="page").set_value(page).run()
    assert not at.exception, at.exception
    return at


def _table(at: AppTest) -> pd.DataFrame:
    frames = [d.value for d in at.dataframe if "未安排原因" in d.value.columns]
    assert len(frames) == 1
    return frames[0]


def _expected(plan: dict, column: str, code: str) -> pd.DataFrame:
    w = plan["workers"]
    return w[(w["status"] == "unassigned") & (w[column] == code)]


def test_township_table_is_exactly_its_unassigned_rows_masked_in_chinese(app, plan):
    want = _expected(plan, "township_code", TOWN)
    assert want["reason"].nunique() == 3  # the fixture gives the filter something to narrow
    _goto(app, "乡镇")
    app.selectbox(key="township").set_value(TOWN).run()
    assert not app.exception, app.exception
    t = _table(app)
    assert sorted(t["人员编号"]) == sorted(want["worker_id"])
    ids = dict(zip(plan["people"]["worker_id"], plan["people"]["id_number"]))
    reasons = dict(zip(want["worker_id"], want["reason"]))
    for r in t.itertuples(index=False):
        assert r.身份证号 == mask_id(ids[r.人员编号])
        assert r.未安排原因 == reason_label(reasons[r.人员编号])
        assert re.search(r"[\u4e00-\u9fff]", r.未安排原因) and re.search(r"[\u4e00-\u9fff]", r.处理建议)
    full_ids = {v for v in plan["people"]["id_number"] if len(v) == 18}
    assert not full_ids & set(t.astype(str).to_numpy().ravel())

    one = reason_label(want["reason"].iloc[0])
    app.multiselect(key=f"unassigned-{TOWN}-reasons").set_value([one]).run()
    assert not app.exception, app.exception
    narrowed = _table(app)
    assert 0 < len(narrowed) < len(t)
    assert set(narrowed["未安排原因"]) == {one}
    assert sorted(narrowed["人员编号"]) == sorted(want.loc[want["reason"].map(reason_label) == one, "worker_id"])


def test_county_table_filters_by_township(app, plan):
    want = _expected(plan, "county_code", "500101")
    _goto(app, "区县人社局")
    app.selectbox(key="county").set_value("500101").run()
    assert not app.exception, app.exception
    t = _table(app)
    assert sorted(t["人员编号"]) == sorted(want["worker_id"])
    place = next(p for p in t["乡镇"] if TOWN in p)
    app.selectbox(key="unassigned-500101-place").set_value(place).run()
    assert not app.exception, app.exception
    assert sorted(_table(app)["人员编号"]) == sorted(_expected(plan, "township_code", TOWN)["worker_id"])


def test_downloaded_workbook_is_the_exception_list(plan):
    data = load_doc_data(plan["dir"], plan["scenario"])
    book = openpyxl.load_workbook(io.BytesIO(exception_excel(data, TOWN)), read_only=True)
    rows = list(book["未安排人员"].iter_rows(values_only=True))
    head = list(rows[0])
    got = sorted(str(r[head.index("人员编号")]) for r in rows[1:])
    assert got == sorted(_expected(plan, "township_code", TOWN)["worker_id"])
