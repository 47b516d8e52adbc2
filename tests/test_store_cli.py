"""The daily loop from the command line on the tiny plan: publish, print, tick, import, hand over, manifest, trace."""

from __future__ import annotations

import shutil
import subprocess

import pandas as pd
import pytest
from openpyxl import load_workbook

from planner.cli import main
from planner.documents.pickup import INFO_SHEET
from planner.plan_format import read_plan
from planner.store.boarding import current_boarding
from planner.store.db import open_store
from planner.store.handover import latest_handovers
from tests.conftest import TINY_SCENARIO
from tests.store_fixtures import edited_plan, pg_cluster  # noqa: F401 - fixture


@pytest.fixture
def day1(tiny_plan_dir, tmp_path):
    """A copy of the tiny plan in its own operation folder (the default store goes beside it)."""
    dst = tmp_path / "ops" / "day1"
    shutil.copytree(tiny_plan_dir, dst)
    return dst


def _tick(src, dst, marks):
    wb = load_workbook(src)
    i = 0
    for ws in wb.worksheets:
        if ws.title == INFO_SHEET:
            continue
        hdr = [c.value for c in ws[1]]
        for r in range(2, ws.max_row + 1):
            mark, temp = marks[i % len(marks)]
            ws.cell(r, hdr.index("上车确认") + 1, mark)
            ws.cell(r, hdr.index("体温") + 1, temp)
            i += 1
    wb.save(dst)
    return dst


def test_the_daily_loop_from_the_command_line(day1, tmp_path, capsys):
    plan = read_plan(day1)
    town = plan.workers.loc[plan.workers["status"] == "planned", "township_code"].value_counts().index[0]
    docs = tmp_path / "docs"
    assert main(["publish", str(day1), "--through", "2020-02-29"]) == 0
    store = open_store(str(day1.parent / "planner-store.sqlite"))  # the default store, beside the plan
    assert "新发布车次" in capsys.readouterr().out
    assert main(["export", str(day1), "--scenario", str(TINY_SCENARIO), "--out", str(docs), "--township", town]) == 0
    ticked = _tick(docs / f"乘车人员名单_{town}.xlsx", tmp_path / "ticked.xlsx",
                   [("✓", "36.5"), ("缺", None), ("√", "38.2"), ("是", "36.8")])
    # a list checked against another township is refused whole
    assert main(["boarding", "import", str(ticked), "--plan", str(day1), "--by", "村干部", "--township", "999"]) == 2
    assert "不是 --township 999" in capsys.readouterr().err and current_boarding(store).empty
    assert main(["boarding", "import", str(ticked), "--plan", str(day1), "--by", "村干部"]) == 0
    out = capsys.readouterr().out
    assert "有问题 0 行" in out
    cur = current_boarding(store)
    assert {"boarded", "absent", "fever"} <= set(cur["status"])
    # the coach of the first ticked people, signed at arrival
    coach = plan.legs[(plan.legs["worker_id"].isin(cur["worker_id"])) & (plan.legs["leg"] == 2)]["trip_id"].iloc[0]
    assert main(["handover", "--plan", str(day1), "--trip", coach, "--by", "接站员", "--org", "某厂",
                 "--received", "1"]) == 0
    assert latest_handovers(store)[coach].received == 1
    assert main(["handover", "--plan", str(day1), "--trip", coach, "--by", "接站员", "--org", "某厂",
                 "--received", "-3"]) == 2
    capsys.readouterr()
    assert main(["export", str(day1), "--scenario", str(TINY_SCENARIO), "--out", str(docs), "--all-provinces",
                 "--db", str(day1.parent / "planner-store.sqlite")]) == 0
    text = "".join(subprocess.run(["pdftotext", str(p), "-"], capture_output=True, text=True).stdout
                   for p in docs.glob("到达名单_*.pdf"))
    assert "据前段上车登记" in text and "已签收（整车）：某厂 接站员，实收 1 人" in text
    sheets = pd.concat(pd.read_excel(p, sheet_name="到达车辆", dtype=str) for p in docs.glob("到达名单_*.xlsx"))
    assert "实到" in sheets.columns
    capsys.readouterr()
    assert main(["trace", str(day1), "--trip", coach]) == 0
    out = capsys.readouterr().out
    assert "依据 (basis)" in out


def test_publishing_a_changed_plan_is_refused_naming_the_trip(day1, tmp_path, capsys):
    assert main(["publish", str(day1), "--through", "2020-02-18"]) == 0
    plan = read_plan(day1)
    first = plan.trips.sort_values("depart").iloc[0]["trip_id"]

    def move(t):
        tr = t["trips"]
        tr.loc[tr["trip_id"] == first, "vehicle_id"] = "OTHER-BUS"

    other = edited_plan(day1, tmp_path / "ops" / "other", move)
    capsys.readouterr()
    assert main(["publish", str(other), "--through", "2020-02-20"]) == 2
    err = capsys.readouterr().err
    assert "与已发布内容不符" in err and first in err


def test_a_plain_postgresql_url_works(pg_cluster, day1, capsys):  # noqa: F811
    url = pg_cluster.new_database().replace("postgresql+psycopg://", "postgresql://")
    assert main(["publish", str(day1), "--through", "2020-02-18", "--db", url]) == 0
    assert "新发布车次" in capsys.readouterr().out


def test_history_lists_plan_versions_publications_and_records(day1, capsys):
    assert main(["publish", str(day1), "--through", "2020-02-18", "--by", "县人社局甲"]) == 0
    assert main(["publish", str(day1), "--through", "2020-02-20", "--by", "县人社局甲"]) == 0
    plan = read_plan(day1)
    trip = plan.trips.sort_values("depart").iloc[0]["trip_id"]
    wid = plan.legs.loc[plan.legs["trip_id"] == trip, "worker_id"].iloc[0]
    for status in ("absent", "boarded"):
        assert main(["boarding", "record", "--plan", str(day1), "--trip", trip, "--worker", wid, "--status", status,
                     "--temperature", "36.5", "--by", "甲"]) == 0
    capsys.readouterr()
    assert main(["history", "--plan", str(day1)]) == 0
    out = capsys.readouterr().out
    assert "计划版本 1 个" in out and plan.plan_id in out
    assert "发布记录 2 次" in out and "发布至 2020-02-18" in out and "发布至 2020-02-20" in out
    assert "上车登记 2 条（现行：已上车 1）" in out
