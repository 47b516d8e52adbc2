"""Named exception lists (未安排人员名单): every unassigned row named once, in its township and county, nobody else."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from planner.documents.common import load_doc_data
from planner.documents.exceptions import (
    ACTIONS_ZH,
    COUNTY_COLUMNS,
    TOWNSHIP_COLUMNS,
    exception_codes,
    write_exception_lists,
)
from planner.vocab import REASON_CODES, reason_label

ROOT = Path(__file__).parent.parent
SCENARIO = ROOT / "tests" / "data" / "tiny" / "scenario.toml"
WORKERS_CSV = ROOT / "tests" / "data" / "tiny" / "workers.csv"


@pytest.fixture(scope="module")
def made(tmp_path_factory, tiny_plan_dir):
    data = load_doc_data(tiny_plan_dir, SCENARIO)
    out = tmp_path_factory.mktemp("exceptions")
    codes = exception_codes(data, all_townships=True)
    paths = write_exception_lists(data, out, codes)
    plan_workers = pd.read_csv(tiny_plan_dir / "workers.csv", dtype=str, keep_default_na=False)
    people = pd.read_csv(WORKERS_CSV, dtype=str, keep_default_na=False)
    people.index = range(2, len(people) + 2)  # input row numbers (header = row 1)
    return {"data": data, "out": out, "codes": codes, "paths": paths, "plan": plan_workers, "people": people}


def _pdftotext(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext missing: install Debian poppler-utils")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def test_every_reason_has_a_chinese_action():
    assert REASON_CODES <= set(ACTIONS_ZH)
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in a) for a in ACTIONS_ZH.values())


def test_tiny_plan_has_unassigned_people_in_several_townships(made):
    un = made["plan"][made["plan"]["status"] == "unassigned"]
    assert len(un) >= 2
    assert any(len(c) == 9 for c in made["codes"]) and any(len(c) == 6 for c in made["codes"])


def test_each_unassigned_row_once_in_its_township_and_county(made):
    un = made["plan"][made["plan"]["status"] == "unassigned"]
    people = made["people"]
    for code in made["codes"]:
        book = pd.read_excel(made["out"] / f"未安排人员名单_{code}.xlsx", sheet_name="未安排人员", dtype=str,
                             keep_default_na=False)
        assert list(book.columns) == (COUNTY_COLUMNS if len(code) == 6 else TOWNSHIP_COLUMNS)
        col = "county_code" if len(code) == 6 else "township_code"
        own = un[un[col] == code]
        assert sorted(book["输入行号"].astype(int)) == sorted(own["source_row"].astype(int))
        for r in book.to_dict("records"):
            row = int(r["输入行号"])
            truth = own[own["source_row"].astype(int) == row].iloc[0]
            assert r["未安排原因"] == reason_label(truth["reason"])
            assert r["处理建议"] == ACTIONS_ZH[truth["reason"]]
            assert r["姓名"] == people.loc[row, "name"]
            assert r["电话"] == people.loc[row, "phone"]
            full = people.loc[row, "id_number"]
            assert r["身份证号"] == full[:6] + "*" * (len(full) - 10) + full[-4:]


def test_scope_and_no_full_id_numbers(made):
    un = made["plan"][made["plan"]["status"] == "unassigned"]
    people = made["people"]
    for code in made["codes"]:
        if len(code) != 9:
            continue
        cells = "\n".join(str(c.value) for ws in openpyxl.load_workbook(made["out"] / f"未安排人员名单_{code}.xlsx")
                          for row in ws.iter_rows() for c in row if c.value is not None)
        text = _pdftotext(made["out"] / f"未安排人员名单_{code}.pdf")
        for row in people.index:
            assert people.loc[row, "id_number"] not in cells
        for row in un.loc[un["township_code"] != code, "source_row"].astype(int):
            assert people.loc[row, "phone"] not in cells
            assert people.loc[row, "phone"] not in text
        for row in un.loc[un["township_code"] == code, "source_row"].astype(int):
            assert people.loc[row, "phone"] in text


def test_numbers_are_numbers_and_no_formula(made):
    code = next(c for c in made["codes"] if len(c) == 9)
    ws = openpyxl.load_workbook(made["out"] / f"未安排人员名单_{code}.xlsx")["未安排人员"]
    header = [c.value for c in ws[1]]
    for row in ws.iter_rows(min_row=2):
        cells = dict(zip(header, row))
        assert cells["序号"].data_type == "n" and isinstance(cells["序号"].value, int)
        assert cells["输入行号"].data_type == "n"
        assert all(c.data_type != "f" for c in row)


def test_pdf_says_no_possible_date_and_has_page_footer(made):
    code = next(c for c in made["codes"] if len(c) == 6)
    text = _pdftotext(made["out"] / f"未安排人员名单_{code}.pdf")
    assert "未安排" in text and "可出行日期" in text
    pages = [pg for pg in text.split("\f") if pg.strip()]
    for n, page in enumerate(pages, 1):
        assert re.search(rf"第\s*{n}\s*页\s*/\s*共\s*{len(pages)}\s*页", page)


def test_empty_list_says_so(made, tmp_path):
    paths = write_exception_lists(made["data"], tmp_path, ["500101999"])
    assert "没有未安排的人员" in _pdftotext(paths[1])


def test_invalid_code_refused(made, tmp_path):
    with pytest.raises(ValueError):
        write_exception_lists(made["data"], tmp_path, ["../x"])


def test_cli_export_exceptions_for_a_township_and_county(made, tiny_plan_dir, tmp_path, capsys):
    from planner.cli import EXIT_OK, main

    code = next(c for c in made["codes"] if len(c) == 9)
    rc = main(["export", str(tiny_plan_dir), "--scenario", str(SCENARIO), "--out", str(tmp_path),
               "--township", code, "--county", code[:6], "--exceptions"])
    assert rc == EXIT_OK
    names = {p.name for p in tmp_path.iterdir()}
    assert {f"未安排人员名单_{c}.{e}" for c in (code, code[:6]) for e in ("xlsx", "pdf")} <= names
    assert made["people"]["phone"].iloc[0] not in capsys.readouterr().out
