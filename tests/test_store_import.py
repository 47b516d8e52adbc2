"""Importing a ticked pick-up list back: marks, temperatures, and every kind of bad row named by sheet and row."""

from __future__ import annotations

from datetime import date

import pytest
from openpyxl import load_workbook

from planner.cli import main
from planner.documents.common import load_doc_data
from planner.documents.pickup import INFO_SHEET, write_pickup_lists
from planner.store.boarding import current_boarding
from planner.store.db import StoreError, open_store
from planner.store.pickup_import import import_pickup_list, mark_status
from planner.store.publish import publish
from tests.conftest import TINY_SCENARIO

FEVER = 37.3


@pytest.fixture(scope="module")
def lists(tiny_plan_dir, tmp_path_factory):
    data = load_doc_data(tiny_plan_dir, TINY_SCENARIO)
    out = tmp_path_factory.mktemp("lists")
    write_pickup_lists(data, out)
    towns = data.plan.workers.loc[data.plan.workers["status"] == "planned", "township_code"].astype(str)
    biggest = towns.value_counts().index[0]
    return {"out": out, "plan": data.plan, "town": biggest, "other": sorted(set(towns) - {biggest})[0]}


def _rows(path):
    """(sheet, row, 车次, 座位) of every data row of a list."""
    wb = load_workbook(path)
    out = []
    for ws in wb.worksheets:
        if ws.title == INFO_SHEET:
            continue
        hdr = [c.value for c in ws[1]]
        for r in range(2, ws.max_row + 1):
            out.append((ws.title, r, ws.cell(r, hdr.index("车次") + 1).value, ws.cell(r, hdr.index("座位") + 1).value))
    return out


def _fill(src, dst, marks: dict[tuple[str, int], tuple[object, object]], edit=None):
    wb = load_workbook(src)
    for ws in wb.worksheets:
        if ws.title == INFO_SHEET:
            continue
        hdr = [c.value for c in ws[1]]
        for (sheet, row), (mark, temp) in marks.items():
            if sheet == ws.title:
                ws.cell(row, hdr.index("上车确认") + 1, mark)
                ws.cell(row, hdr.index("体温") + 1, temp)
    if edit:
        edit(wb)
    wb.save(dst)
    return dst


@pytest.fixture
def store(tmp_path, lists):
    s = open_store(str(tmp_path / "s.sqlite"))
    publish(s, lists["plan"], date(2020, 2, 29), by="t")
    return s


def test_marks():
    assert {mark_status(m) for m in ("✓", "√", "是", "1", 1, "1.0", " Y ")} == {"boarded"}
    assert {mark_status(m) for m in ("缺", "否", "0", "×", "N")} == {"absent"}
    assert mark_status("发热") == "fever" and mark_status("拒") == "refused"
    assert mark_status("") == "" and mark_status(None) == "" and mark_status("maybe") is None


def test_a_ticked_list_is_recorded_with_fever_from_the_temperature(lists, store, tmp_path):
    src = lists["out"] / f"乘车人员名单_{lists['town']}.xlsx"
    rows = _rows(src)
    assert len(rows) >= 3
    marks = {(rows[0][0], rows[0][1]): ("✓", 36.5), (rows[1][0], rows[1][1]): ("缺", None),
             (rows[2][0], rows[2][1]): ("√", "37.8")}
    res = import_pickup_list(store, lists["plan"], _fill(src, tmp_path / "t.xlsx", marks), by="村干部",
                             fever_threshold_c=FEVER)
    assert not res.result.problems and len(res.result.applied) == 3 and res.not_filled == len(rows) - 3
    got = current_boarding(store)
    assert sorted(got["status"]) == ["absent", "boarded", "fever"]
    assert set(got["recorded_by"]) == {"村干部"} and all(s.startswith("import:t.xlsx#") for s in got["source"])


def test_bad_rows_are_named_and_the_others_recorded(lists, tmp_path):
    plan = lists["plan"]
    s = open_store(str(tmp_path / "s.sqlite"))
    src = lists["out"] / f"乘车人员名单_{lists['town']}.xlsx"
    rows = _rows(src)
    first_day = min(r[0] for r in rows)
    publish(s, plan, date.fromisoformat(first_day), by="t")  # only the first day published
    later = [r for r in rows if r[0] != first_day]
    day1 = [r for r in rows if r[0] == first_day]
    assert later and len(day1) >= 3
    other_town = plan.legs.merge(plan.workers[["worker_id", "township_code"]], on="worker_id")
    day1_trips = {r[2] for r in day1}
    other = other_town[(other_town["township_code"] != lists["town"]) & (other_town["leg"] == 1)
                       & other_town["trip_id"].isin(day1_trips)].iloc[0]  # shares a published vehicle
    marks = {(day1[0][0], day1[0][1]): ("✓", "36.6"), (day1[1][0], day1[1][1]): ("也许", None),
             (day1[2][0], day1[2][1]): ("✓", "abc"), (later[0][0], later[0][1]): ("✓", "36.6")}
    if len(day1) > 3:
        marks[(day1[3][0], day1[3][1])] = ("✓", "45")

    def edit(wb):
        ws = wb[day1[0][0]]
        hdr = [c.value for c in ws[1]]
        n = ws.max_row + 1  # a row added by hand: another township's worker; one with a seat not in the plan
        ws.cell(n, hdr.index("车次") + 1, other["trip_id"])
        ws.cell(n, hdr.index("座位") + 1, other["seat"])
        ws.cell(n, hdr.index("上车确认") + 1, "✓")
        ws.cell(n + 1, hdr.index("车次") + 1, day1[0][2])
        ws.cell(n + 1, hdr.index("座位") + 1, "99Z")
        ws.cell(n + 1, hdr.index("上车确认") + 1, "✓")

    path = _fill(src, tmp_path / "bad.xlsx", marks, edit)
    res = import_pickup_list(s, plan, path, by="甲", fever_threshold_c=FEVER)
    msgs = [str(p) for p in res.result.problems]
    assert len(res.result.applied) == 1
    text = "\n".join(msgs)
    assert f"工作表“{day1[1][0]}”第 {day1[1][1]} 行" in text and "无法识别" in text
    assert "不是数字" in text and "尚未发布" in text and "不属于本名单的乡镇" in text and "99Z" in text
    if len(day1) > 3:
        assert "34–43" in text
    assert all("bad.xlsx" in m for m in msgs)


def test_a_list_of_another_plan_version_or_without_its_info_is_refused(lists, store, tmp_path):
    src = lists["out"] / f"乘车人员名单_{lists['town']}.xlsx"
    rows = _rows(src)
    marks = {(rows[0][0], rows[0][1]): ("✓", 36.5)}

    def other_version(wb):
        wb[INFO_SHEET]["B2"] = "0123456789abcdef"

    with pytest.raises(StoreError, match="另一计划版本|计划版本 0123456789abcdef"):
        import_pickup_list(store, lists["plan"], _fill(src, tmp_path / "v.xlsx", marks, other_version), by="甲",
                           fever_threshold_c=FEVER)

    def no_info(wb):
        del wb[INFO_SHEET]

    with pytest.raises(StoreError, match="名单信息"):
        import_pickup_list(store, lists["plan"], _fill(src, tmp_path / "n.xlsx", marks, no_info), by="甲",
                           fever_threshold_c=FEVER)
    (tmp_path / "junk.xlsx").write_bytes(b"not a workbook")
    with pytest.raises(StoreError, match="无法读取"):
        import_pickup_list(store, lists["plan"], tmp_path / "junk.xlsx", by="甲", fever_threshold_c=FEVER)
    assert current_boarding(store).empty


def test_cli_import_reports_and_exits_1_on_bad_rows(lists, tiny_plan_dir, tmp_path, capsys):
    db = tmp_path / "cli.sqlite"
    assert main(["publish", str(tiny_plan_dir), "--through", "2020-02-29", "--db", str(db)]) == 0
    src = lists["out"] / f"乘车人员名单_{lists['town']}.xlsx"
    rows = _rows(src)
    path = _fill(src, tmp_path / "c.xlsx", {(rows[0][0], rows[0][1]): ("✓", 36.5),
                                             (rows[1][0], rows[1][1]): ("✓", "39")})
    assert main(["boarding", "import", str(path), "--plan", str(tiny_plan_dir), "--by", "甲", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "记录 2 条" in out and "发热" in out
    bad = _fill(src, tmp_path / "d.xlsx", {(rows[0][0], rows[0][1]): ("?", 36.5)})
    assert main(["boarding", "import", str(bad), "--plan", str(tiny_plan_dir), "--by", "甲", "--db", str(db)]) == 1
    assert "无法识别" in capsys.readouterr().err
    got = current_boarding(open_store(str(db)))
    assert len(got) == 2 and sorted(got["status"]) == ["boarded", "fever"]
