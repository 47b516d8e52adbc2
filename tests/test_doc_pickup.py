"""Township pick-up lists (乘车人员名单): content against the plan files, scope, PDF text and rendering."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from planner.documents.common import load_doc_data
from planner.documents.pickup import COLUMNS, destination_name, write_pickup_lists

ROOT = Path(__file__).parent.parent
SCENARIO = ROOT / "tests" / "data" / "tiny" / "scenario.toml"
WORKERS_CSV = ROOT / "tests" / "data" / "tiny" / "workers.csv"


@pytest.fixture(scope="module")
def made(tmp_path_factory, tiny_plan_dir):
    """Every township's pick-up list of the tiny scenario's plan."""
    plan_dir = tiny_plan_dir
    data = load_doc_data(plan_dir, SCENARIO)
    out = tmp_path_factory.mktemp("pickup")
    paths = write_pickup_lists(data, out)
    return {"plan_dir": plan_dir, "data": data, "out": out, "paths": paths}


@pytest.fixture(scope="module")
def truth(made):
    """What the lists must say, read straight from the plan CSVs and the input worker list."""
    plan_dir = made["plan_dir"]
    workers = pd.read_csv(plan_dir / "workers.csv", dtype=str, keep_default_na=False)
    planned = workers[workers["status"] == "planned"]
    legs = pd.read_csv(plan_dir / "legs.csv", dtype=str, keep_default_na=False)
    first = legs[legs["leg"] == "1"].set_index("worker_id")
    people = pd.read_csv(WORKERS_CSV, dtype=str, keep_default_na=False).set_index("worker_id")
    # phones identify workers in the lists (the tiny data repeats names on purpose)
    assert people["phone"].is_unique
    return {"planned": planned, "first": first, "people": people}


def _xlsx(out: Path, code: str) -> Path:
    return out / f"乘车人员名单_{code}.xlsx"


def _pdf(out: Path, code: str) -> Path:
    return out / f"乘车人员名单_{code}.pdf"


def _day_sheets(path: Path) -> dict[str, pd.DataFrame]:
    """The day sheets of a list (the 名单信息 sheet, for `planner boarding import`, left out)."""
    from planner.documents.pickup import INFO_SHEET

    sheets = pd.read_excel(path, sheet_name=None, dtype=str)
    # 日期 and 上车时间 are Excel dates and times: read back as 'YYYY-MM-DD' and 'HH:MM'
    out = {}
    for k, v in sheets.items():
        if k == INFO_SHEET:
            continue
        v = v.copy()
        v["日期"] = v["日期"].str[:10]
        v["上车时间"] = v["上车时间"].str[:5]
        out[k] = v
    return out


def _read_book(path: Path) -> pd.DataFrame:
    return pd.concat(_day_sheets(path).values(), ignore_index=True)


def _all_cells(path: Path) -> list[str]:
    book = openpyxl.load_workbook(path)
    return [str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def _pdftotext(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext missing: install Debian poppler-utils (.ci/run does)")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_one_file_pair_per_township_with_planned_workers(made, truth):
    codes = sorted(truth["planned"]["township_code"].unique())
    assert len(codes) >= 2
    expected = [p for c in codes for p in (_xlsx(made["out"], c), _pdf(made["out"], c))]
    assert made["paths"] == expected
    assert all(p.is_file() and p.stat().st_size > 0 for p in expected)


def test_excel_rows_match_plan(made, truth):
    planned, first, people = truth["planned"], truth["first"], truth["people"]
    trips = pd.read_csv(made["plan_dir"] / "trips.csv", dtype=str).set_index("trip_id")
    for code, group in planned.groupby("township_code"):
        path = _xlsx(made["out"], code)
        df = _read_book(path)
        assert list(df.columns) == COLUMNS
        assert len(df) == len(group)
        by_phone = {people.loc[w, "phone"]: w for w in group["worker_id"]}
        assert sorted(df["电话"]) == sorted(by_phone)
        for r in df.to_dict("records"):
            wid = by_phone[r["电话"]]
            leg = first.loc[wid]
            assert r["车次"] == leg["trip_id"]
            assert r["座位"] == leg["seat"]
            assert r["车辆"] == trips.loc[leg["trip_id"], "vehicle_id"]
            assert r["上车点"].endswith(f"（{leg['board_place_id']}）")
            assert r["日期"] == leg["board_time"][:10]
            assert r["上车时间"] == leg["board_time"][11:16]
            full_id = people.loc[wid, "id_number"]
            assert r["身份证号"] == full_id[:6] + "*" * (len(full_id) - 10) + full_id[-4:]
            assert r["姓名"] == people.loc[wid, "name"]
            assert pd.isna(r["上车确认"]) and pd.isna(r["体温"])
        cells = "\n".join(_all_cells(path))
        for wid in planned["worker_id"]:
            assert people.loc[wid, "id_number"] not in cells


def test_excel_cells_typed_and_never_formulas(made, truth):
    """序号 a number, 日期 a date, 上车时间 a time; every other cell text; no formula anywhere."""
    import datetime as dt

    from planner.documents.pickup import INFO_SHEET

    for code in truth["planned"]["township_code"].unique():
        book = openpyxl.load_workbook(_xlsx(made["out"], code))
        for ws in book.worksheets:
            if ws.title == INFO_SHEET:
                continue
            header = [c.value for c in ws[1]]
            for row in ws.iter_rows(min_row=2):
                cells = dict(zip(header, row))
                assert cells["序号"].data_type == "n"
                assert cells["日期"].is_date and cells["日期"].value.strftime("%Y-%m-%d") == ws.title
                assert isinstance(cells["上车时间"].value, dt.time)
                assert cells["车次"].data_type == "s" and cells["座位"].data_type == "s"
                assert cells["电话"].data_type == "s"
                assert all(c.data_type != "f" for c in row)


def test_excel_rows_sorted_and_one_sheet_per_day(made, truth):
    for code in truth["planned"]["township_code"].unique():
        sheets = _day_sheets(_xlsx(made["out"], code))
        days = list(sheets)
        assert days == sorted(days)
        for day, df in sheets.items():
            assert set(df["日期"]) == {day}
            assert list(df["序号"]) == [str(i) for i in range(1, len(df) + 1)]
            seat_key = df["座位"].str.extract(r"^(\d+)([A-Z]*)$")
            keys = list(zip(df["上车时间"], df["上车点"], df["车次"], seat_key[0].astype(int), seat_key[1]))
            assert keys == sorted(keys)


def test_scope_only_own_township(made, truth):
    planned, people = truth["planned"], truth["people"]
    for code, group in planned.groupby("township_code"):
        own = set(group["worker_id"])
        others = [w for w in planned["worker_id"] if w not in own]
        assert others
        xlsx_cells = "\n".join(_all_cells(_xlsx(made["out"], code)))
        pdf_text = _pdftotext(_pdf(made["out"], code))
        for wid in others:
            for field in ("phone", "id_number"):
                value = people.loc[wid, field]
                assert value not in xlsx_cells
                assert value not in pdf_text
            masked = people.loc[wid, "id_number"]
            masked = masked[:6] + "*" * (len(masked) - 10) + masked[-4:]
            assert masked not in xlsx_cells
            assert masked not in pdf_text
        for wid in own:
            assert people.loc[wid, "phone"] in xlsx_cells


def test_pdf_text_names_and_trips(made, truth):
    planned, first, people = truth["planned"], truth["first"], truth["people"]
    for code, group in planned.groupby("township_code"):
        text = _pdftotext(_pdf(made["out"], code))
        assert code in text
        assert "乘车人员名单" in text
        for wid in group["worker_id"]:
            assert people.loc[wid, "name"] in text
            assert people.loc[wid, "phone"] in text
            assert first.loc[wid, "trip_id"] in text
        for label in ("乡镇负责人", "带队人", "驾驶员"):
            assert label in text
        assert "身份证号" in text


def test_pdf_page_one_renders(made, truth, tmp_path):
    if shutil.which("pdftoppm") is None:
        pytest.fail("pdftoppm missing: install Debian poppler-utils (.ci/run does)")
    code = sorted(truth["planned"]["township_code"].unique())[0]
    prefix = tmp_path / "page"
    subprocess.run(["pdftoppm", "-r", "40", "-gray", "-f", "1", "-l", "1", str(_pdf(made["out"], code)),
                    str(prefix)], check=True, capture_output=True)
    (image,) = list(tmp_path.glob("page*.pgm"))
    raw = image.read_bytes()
    # binary PGM: "P5" width height maxval, each followed by one whitespace, then the pixels
    parts = raw.split(maxsplit=4)
    assert parts[0] == b"P5"
    width, height = int(parts[1]), int(parts[2])
    pixels = raw[len(raw) - width * height:]
    dark = sum(1 for b in pixels if b < 128)
    assert dark > 0.002 * width * height


def test_named_township_without_workers_gets_empty_list(made, tmp_path):
    paths = write_pickup_lists(made["data"], tmp_path, ["500101999"])
    assert [p.name for p in paths] == ["乘车人员名单_500101999.xlsx", "乘车人员名单_500101999.pdf"]
    assert len(_read_book(paths[0])) == 0
    assert "无安排乘车人员" in _pdftotext(paths[1])


def test_invalid_township_code_rejected(made, tmp_path):
    with pytest.raises(ValueError):
        write_pickup_lists(made["data"], tmp_path, ["../x"])


def test_destination_joins_province_and_city():
    assert destination_name("广东", "东莞市") == "广东东莞市"
    assert destination_name("上海", "上海市") == "上海市"
    assert destination_name("浙江省", "金华市") == "浙江省金华市"


def test_every_pdf_page_footer_names_the_day_of_its_heading(made, truth):
    """Loose pages can be put back: each page's footer carries the day its list is for."""
    import re

    for code in sorted(truth["planned"]["township_code"].unique()):
        pages = _pdftotext(_pdf(made["out"], code)).split("\f")
        day = None
        for page in pages:
            if not page.strip():
                continue
            head = re.search(r"日期：(\d{4}-\d{2}-\d{2})", page)
            day = head.group(1) if head else day  # continuation pages have no heading
            foot = re.search(r"(\d{4}-\d{2}-\d{2})\s+第\s*\d+\s*页", page)
            assert foot and day and foot.group(1) == day, (code, page[-200:])


def test_each_list_names_its_township_and_plan_version(made, truth):
    """The 名单信息 sheet lets `planner boarding import` refuse a list of another township or plan version."""
    from planner.documents.pickup import INFO_PLAN, INFO_SHEET, INFO_TOWNSHIP

    for code in truth["planned"]["township_code"].unique():
        info = pd.read_excel(_xlsx(made["out"], code), sheet_name=INFO_SHEET, header=None, dtype=str)
        got = dict(zip(info[0], info[1]))
        assert got[INFO_TOWNSHIP] == code and got[INFO_PLAN] == made["data"].plan.plan_id
