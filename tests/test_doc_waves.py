"""Wave plan (波次计划) on the tiny scenario: the Excel numbers against the plan files."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from planner.documents.common import load_doc_data
from planner.documents.waves import write_wave_plan

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "tests/data/tiny/scenario.toml"


@pytest.fixture(scope="module")
def plan(tiny_plan_dir):
    return tiny_plan_dir, load_doc_data(tiny_plan_dir, SCENARIO)


@pytest.fixture(scope="module")
def written(plan, tmp_path_factory):
    out = tmp_path_factory.mktemp("docs")
    return out, write_wave_plan(plan[1], out)


def _sheets(path: Path) -> dict[str, pd.DataFrame]:
    """The sheets as text; date cells (stored as Excel dates) read back as 'YYYY-MM-DD'."""
    sheets = pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False)
    return {k: v.replace(r"^(\d{4}-\d{2}-\d{2}) 00:00:00$", r"\1", regex=True) for k, v in sheets.items()}


def test_excel_days_are_dates_and_counts_numbers(written):
    import openpyxl

    out, _ = written
    ws = openpyxl.load_workbook(out / "波次计划_全部.xlsx")["每日汇总"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        cells = dict(zip(header, row))
        assert cells["日期"].is_date
        assert cells["发车合计"].data_type == "n" and cells["运送人数"].data_type == "n"
        assert all(c.data_type != "f" for c in row)


def _departures_from_csv(plan_dir: Path) -> pd.Series:
    trips = pd.read_csv(plan_dir / "trips.csv", dtype=str)
    inter = trips[trips["mode"].isin(["coach", "train"]) & (trips["purpose"] == "passenger")]
    return inter["depart"].str.slice(0, 10).value_counts()


def test_files(written):
    _, paths = written
    assert [p.name for p in paths] == ["波次计划_全部.xlsx", "波次计划_全部.pdf"]


def test_departures_per_day_match_trips_csv(plan, written):
    plan_dir, _ = plan
    out, _ = written
    daily = _sheets(out / "波次计划_全部.xlsx")["每日汇总"].set_index("日期")
    expected = _departures_from_csv(plan_dir)
    assert expected.sum() > 0
    got = daily["发车合计"].astype(int)
    assert got[got > 0].sort_index().to_dict() == expected.sort_index().to_dict()
    parts = daily[["枢纽大巴", "乡镇直达大巴", "专列车厢"]].astype(int).sum(axis=1)
    assert (parts == got).all()
    by_hub = _sheets(out / "波次计划_全部.xlsx")["按日按枢纽"]
    assert by_hub.assign(n=by_hub["发车数"].astype(int)).groupby("日期")["n"].sum().to_dict() == expected.to_dict()


def test_people_moved_sum_to_planned(plan, written):
    plan_dir, data = plan
    out, _ = written
    sheets = _sheets(out / "波次计划_全部.xlsx")
    planned = (data.plan.workers["status"] == "planned").sum()
    assert sheets["每日汇总"]["运送人数"].astype(int).sum() == planned
    assert sheets["按日按枢纽"]["运送人数"].astype(int).sum() == planned
    # per day, the people moved equal the planned workers whose departure day it is
    w = pd.read_csv(plan_dir / "workers.csv", dtype=str)
    per_day = w.loc[w["status"] == "planned", "depart_day"].value_counts().to_dict()
    daily = sheets["每日汇总"].set_index("日期")["运送人数"].astype(int)
    assert daily[daily > 0].to_dict() == per_day


def test_unassigned_by_reason(plan, written):
    _, data = plan
    out, _ = written
    reasons = _sheets(out / "波次计划_全部.xlsx")["未安排原因"]
    got = dict(zip(reasons["原因代码"], reasons["人数"].astype(int)))
    w = data.plan.workers
    expected = w.loc[w["status"] == "unassigned", "reason"].value_counts().to_dict()
    assert expected and got == expected


def test_coaches_and_fleet(written):
    out, _ = written
    daily = _sheets(out / "波次计划_全部.xlsx")["每日汇总"]
    fleet = daily["大巴总数"].astype(int)
    assert (fleet == 9).all()  # tiny fleet.csv: 5 + 1 + 3 coaches (feeders not counted)
    road = daily["在途大巴"].astype(int)
    assert (road + daily["空闲大巴"].astype(int) == fleet).all()
    assert road.max() >= 1


def test_native_charts(written):
    out, _ = written
    wb = openpyxl.load_workbook(out / "波次计划_全部.xlsx")
    assert len(wb["图表"]._charts) == 2  # openpyxl keeps the charts it reads
    ws = wb["每日汇总"]
    assert ws.freeze_panes == "A2"


def test_county_scope(plan, tmp_path):
    _, data = plan
    paths = write_wave_plan(data, tmp_path, "500154")
    daily = _sheets(paths[0])["每日汇总"]
    assert daily["发车合计"].astype(int).sum() == 0  # nobody from 开州区 in the tiny plan
    assert (daily["大巴总数"].astype(int) == 3).all()


def test_pdf_day_labels(plan, written):
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext missing: install Debian poppler-utils (.ci/run does)")
    plan_dir, _ = plan
    out, _ = written
    text = subprocess.run(["pdftotext", str(out / "波次计划_全部.pdf"), "-"], capture_output=True, text=True,
                          check=True).stdout
    for day in _departures_from_csv(plan_dir).index:
        assert day in text
    assert "每日发车数" in text and "岗位未确认" in text


def test_every_unassigned_reason_has_a_chinese_name():
    """Each reason the plan format allows is shown to users in Chinese, not as a code."""
    from planner.check.accounting import REASONS
    from planner.documents.waves import REASON_NAMES

    assert REASONS <= set(REASON_NAMES)


def test_throughput_bound_sheet(plan, written):
    """Sheet 运力上界 repeats summary.json's throughput bound per county: bound >= planned, gap = bound - planned."""
    import json

    plan_dir, _ = plan
    xlsx = next(p for p in written[1] if p.suffix == ".xlsx")
    sheet = _sheets(xlsx)["运力上界"]
    tb = json.loads((plan_dir / "summary.json").read_text(encoding="utf-8"))["throughput_bound"]
    rows = sheet[sheet["区县"] != "合计"].set_index("区县")
    assert set(rows.index) == set(tb["by_county"])
    for county, b in tb["by_county"].items():
        assert int(rows.at[county, "运力上界"]) == b["bound"] >= int(rows.at[county, "已安排"]) == b["planned"]
        assert int(rows.at[county, "差距"]) == b["bound"] - b["planned"]
    total = sheet[sheet["区县"] == "合计"].iloc[0]
    assert int(total["运力上界"]) == tb["total"]["bound"] and int(total["已安排"]) == tb["total"]["planned"]
