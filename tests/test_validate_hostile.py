"""Hostile and odd input (issue 13 §4-§6): identities that cannot exist, invisible characters,
Excel's numbers, doubtful encodings, factories filed under another province, scenario keys the
data makes impossible, nobody to plan, and where the rejected rows (personal data) may go.

Every case starts from the valid tiny scenario and breaks one thing; each test names the row
(header = row 1) and the column the problem must carry.
"""

from __future__ import annotations

import csv
import json
import os
import stat
from pathlib import Path

import pandas as pd
import pytest

from planner.cli import EXIT_FATAL, main
from planner.errors import DataError, ScenarioError
from planner.idcard import id_check_char
from planner.scenario import load_scenario
from planner.validate import ValidationResult, validate_scenario, write_rejected
from tests.test_validate import TINY, balanced, scenario_with

FULL_WIDTH = {ord(c): ord(c) + 0xFEE0 for c in "0123456789-:"}
EXCEL_EN = "the column was stored as a number in Excel; format it as text"


def workers() -> pd.DataFrame:
    """The tiny register as text."""
    return pd.read_csv(TINY / "workers.csv", dtype=str, keep_default_na=False)


def resident_id(born: str, seq: str = "123") -> str:
    """A well-formed resident ID of 万州区 born on ``born`` (YYYYMMDD) with the right check character."""
    first = "500101" + born + seq
    return first + id_check_char(first)


def run_workers(tmp_path: Path, frame: pd.DataFrame, *, encoding: str = "utf-8", declared: str | None = None,
                extra: str = "") -> ValidationResult:
    """Validate the tiny scenario with ``frame`` as its workers file."""
    path = tmp_path / "w.csv"
    path.write_bytes(frame.to_csv(index=False, quoting=csv.QUOTE_ALL).encode(encoding))  # quotes a bare CR too
    spec = f'"{path}"' if declared is None else f'{{ path = "{path}", encoding = "{declared}" }}'
    return validate_scenario(load_scenario(scenario_with(tmp_path, workers=spec, extra=extra)))


def hits(res: ValidationResult, code: str) -> set[tuple[int | None, str | None, str]]:
    """(row, column, severity) of every problem with ``code``."""
    return {(p.row, p.column, p.severity) for p in res.by_code(code)}


# ---------------------------------------------------------------- §4 identities
def test_same_resident_id_twice_rejects_the_later_row_naming_the_first(tmp_path):
    """Row 6 repeats row 3's resident ID: row 6 is rejected (duplicate_resident_id), the message names row 3."""
    w = workers()
    w.loc[4, "id_number"] = w.loc[1, "id_number"]
    res = run_workers(tmp_path, w)
    assert hits(res, "duplicate_resident_id") == {(6, "id_number", "error")}
    msg = res.by_code("duplicate_resident_id")[0].message
    assert "第 3 行" in msg and "W0000002" in msg and w.loc[1, "id_number"] not in msg
    assert res.rejected["workers"]["_row"].tolist() == [6]
    assert res.counts["workers"] == {"read": 20, "accepted": 19, "rejected": 1}
    balanced(res)


def test_duplicate_resident_id_ignores_case_and_width(tmp_path):
    """The same ID written with a lower-case x and full-width digits is still the same person."""
    w = workers()
    assert w.loc[0, "id_number"].endswith("X")
    w.loc[7, "id_number"] = w.loc[0, "id_number"].lower().translate(FULL_WIDTH)
    res = run_workers(tmp_path, w)
    assert hits(res, "duplicate_resident_id") == {(9, "id_number", "error")}


@pytest.mark.parametrize("born", ["20250101", "20200301"])
def test_birth_date_after_the_window_start_is_rejected(tmp_path, born):
    """Born in 2025, or after the window start (2020-02-14), is impossible for a worker: rejected."""
    w = workers()
    w.loc[3, "id_number"] = resident_id(born)
    res = run_workers(tmp_path, w)
    assert hits(res, "bad_id_birth_date") == {(5, "id_number", "error")}
    assert res.counts["workers"]["rejected"] == 1


def test_worker_under_16_at_the_window_start_is_a_warning(tmp_path):
    """Born 2004-02-15 (15 on 2020-02-14): warning on row 5; born 2004-02-14 (16 that day): nothing."""
    w = workers()
    w.loc[3, "id_number"] = resident_id("20040215")
    w.loc[4, "id_number"] = resident_id("20040214")
    res = run_workers(tmp_path, w)
    assert hits(res, "underage_worker") == {(5, "id_number", "warning")}
    assert res.ok


def test_full_width_digits_are_read_as_digits_and_names_kept(tmp_path):
    """Full-width ID, phone, village code and date validate like the ASCII row (NFKC); a name keeps its width."""
    w = workers()
    for col in ("id_number", "phone", "village_code", "ready_date"):
        w.loc[3, col] = w.loc[3, col].translate(FULL_WIDTH)
    w.loc[3, "name"] = "张Ａ"
    res = run_workers(tmp_path, w)
    assert res.ok, res.report_text()
    got = res.tables["workers"].iloc[3]
    ref = workers().iloc[3]
    assert got["id_number"] == ref["id_number"] and got["phone"] == ref["phone"]
    assert got["village_code"] == ref["village_code"] and str(got["ready_date"].date()) == ref["ready_date"]
    assert got["name"] == "张Ａ"
    said = {p.column for p in res.by_code("normalised_text")}
    assert said == {"id_number", "phone", "village_code", "ready_date"}
    assert all(p.severity == "warning" and "第 5 行" in p.message for p in res.by_code("normalised_text"))


def test_resident_id_from_a_real_excel_number_cell(tmp_path):
    """An xlsx whose ID cell is a number (as Excel keeps a typed ID) is rejected with the 'format as text' hint."""
    import openpyxl

    w = workers()
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(w.columns))
    for k, row in enumerate(w.itertuples(index=False)):
        cells = list(row)
        if k == 3:
            cells[2] = float(cells[2])  # 500101198304049038 -> 5.00101198304049e+17
        ws.append(cells)
    path = tmp_path / "w.xlsx"
    wb.save(path)
    res = validate_scenario(load_scenario(scenario_with(tmp_path, workers=f'"{path}"')))
    assert hits(res, "bad_id_number") == {(5, "id_number", "error")}
    assert EXCEL_EN in res.by_code("bad_id_number")[0].message


def test_other_scripts_digits_are_rejected_not_a_crash(tmp_path):
    """Arabic-Indic digits (which regex \\d matches but NFKC keeps) give bad_id_number, not UnicodeEncodeError."""
    w = workers()
    w.loc[3, "id_number"] = "٥" * 17 + "1"
    res = run_workers(tmp_path, w)
    assert hits(res, "bad_id_number") == {(5, "id_number", "error")}


@pytest.mark.parametrize(("column", "value", "code"), [
    ("id_number", "5.00101E+17", "bad_id_number"),
    ("id_number", "5.00101198001019e+17", "bad_id_number"),
    ("phone", "1.99E+10", "bad_phone"),
    ("village_code", "5.00101E+11", "bad_type"),
    ("village_code", "500101001001.0", "bad_type"),
])
def test_numbers_made_by_excel_say_format_the_column_as_text(tmp_path, column, value, code):
    """An ID, phone or code Excel stored as a number is rejected with the 'format it as text' hint."""
    w = workers()
    w.loc[3, column] = value
    res = run_workers(tmp_path, w)
    assert (5, column, "error") in hits(res, code)
    msg = next(p.message for p in res.by_code(code) if p.row == 5)
    assert EXCEL_EN in msg and "文本格式" in msg


@pytest.mark.parametrize(("column", "value"), [
    ("name", "张\x00华"), ("name", "张\u202e华"), ("name", "张\u200b华"), ("worker_id", "W00\t01"),
    ("factory_id", "F0001\x1b"), ("group_id", "G\r1"),
])
def test_control_characters_reject_the_row(tmp_path, column, value):
    """NUL, bidi and zero-width controls, tab, escape, CR inside a cell reject the row, naming the column."""
    w = workers()
    w.loc[3, column] = value
    res = run_workers(tmp_path, w)
    assert (5, column, "error") in hits(res, "control_character")
    assert 5 in res.rejected["workers"]["_row"].tolist()
    report = res.report_text()
    assert "\x00" not in report and "\u202e" not in report and "\x1b" not in report
    balanced(res)


def test_declared_latin1_on_a_utf8_file_warns(tmp_path):
    """encoding = "latin-1" on a UTF-8 register decodes, but says the declaration looks wrong."""
    res = run_workers(tmp_path, workers(), declared="latin-1")
    p = res.by_code("suspicious_encoding")
    assert len(p) == 1 and p[0].severity == "warning" and p[0].file.endswith("w.csv") and "UTF-8" in p[0].message


def test_declared_gbk_on_a_utf8_file_warns(tmp_path):
    """encoding = "gbk" on a UTF-8 register decodes to other Chinese characters: the warning names UTF-8."""
    w = workers()
    w["name"] = "张李"  # its UTF-8 bytes happen to be valid GBK: 寮犳潕
    w["job_confirmed"] = "true"  # 是/否 are not
    assert w.to_csv(index=False).encode().decode("gbk") != w.to_csv(index=False)
    res = run_workers(tmp_path, w, declared="gbk")
    assert "UTF-8" in res.by_code("suspicious_encoding")[0].message


def test_declared_latin1_on_a_gb18030_file_warns(tmp_path):
    """encoding = "latin-1" on a GB18030 register: the warning names GB18030."""
    res = run_workers(tmp_path, workers(), encoding="gb18030", declared="latin-1")
    assert "GB18030" in res.by_code("suspicious_encoding")[0].message


@pytest.mark.parametrize(("encoding", "declared"), [("gb18030", "gb18030"), ("utf-8", "utf-8"), ("utf-8", None)])
def test_right_or_detected_encoding_gives_no_doubt(tmp_path, encoding, declared):
    """A correct declaration, or detection, raises no encoding warning."""
    res = run_workers(tmp_path, workers(), encoding=encoding, declared=declared)
    assert res.by_code("suspicious_encoding") == [] and res.ok


# ---------------------------------------------------------------- §6 factories
def _factories_with(tmp_path: Path, row: int, **values: str) -> ValidationResult:
    f = pd.read_csv(TINY / "factories.csv", dtype=str, keep_default_na=False)
    for k, v in values.items():
        f.loc[row, k] = v
    path = tmp_path / "f.csv"
    f.to_csv(path, index=False)
    return validate_scenario(load_scenario(scenario_with(tmp_path, factories=f'"{path}"')))


def test_factory_county_code_in_another_province_than_its_position_is_an_error(tmp_path):
    """F0001 lies in 东莞 (广东) but is filed under 义乌 330782 (浙江), province column 浙江: rejected, row 2."""
    res = _factories_with(tmp_path, 0, county_code="330782", province="浙江")
    assert hits(res, "county_province_mismatch") == {(2, "county_code", "error")}
    assert "广东" in res.by_code("county_province_mismatch")[0].message
    assert res.counts["factories"]["rejected"] == 1
    assert (res.rejected["workers"]["factory_id"] == "F0001").all() and len(res.rejected["workers"])


def test_factory_county_code_in_another_province_than_its_province_column_is_an_error(tmp_path):
    """F0001 filed under 东莞 441900 with province 浙江: rejected (the code's province is 广东)."""
    res = _factories_with(tmp_path, 0, province="浙江")
    assert hits(res, "county_province_mismatch") == {(2, "county_code", "error")}


def test_factory_county_code_of_no_province_is_an_error(tmp_path):
    """A county_code starting 99 belongs to no province: rejected, not only a warning."""
    res = _factories_with(tmp_path, 0, county_code="991900")
    assert (2, "county_code", "error") in hits(res, "county_province_mismatch")


# ---------------------------------------------------------------- §5 scenario vs data
def test_isolation_rows_leaving_no_row_conflict_and_planning_refuses(tmp_path):
    """coach_isolation_rows = 11 empties every row of the C45 coach: fatal, names the key; plan refuses."""
    path = scenario_with(tmp_path, extra="\n[occupancy]\ncoach_isolation_rows = 11\n")
    res = validate_scenario(load_scenario(path))
    conflicts = res.scenario_conflicts()
    assert [(p.column, p.severity) for p in conflicts] == [("occupancy.coach_isolation_rows", "fatal")]
    assert "C45" in conflicts[0].message and res.fatal
    with pytest.raises(ScenarioError, match="occupancy.coach_isolation_rows"):
        res.raise_for_scenario()
    from planner.pipeline import run_plan

    with pytest.raises(ScenarioError, match="coach_isolation_rows"):
        run_plan(path, tmp_path / "plan", check=False)
    assert not (tmp_path / "plan").exists()


def test_isolation_rows_below_every_type_in_use_are_fine(tmp_path):
    """10 isolation rows leave a row on every coach type (11 and 13 rows): no conflict."""
    res = validate_scenario(load_scenario(scenario_with(tmp_path, extra="\n[occupancy]\ncoach_isolation_rows = 10\n")))
    assert res.scenario_conflicts() == []


def test_vehicle_type_with_no_sellable_seat_conflicts(tmp_path):
    """A 1-seat feeder in the fleet sells no seat under half_seats (capped at half of 1): names occupancy.low."""
    vt = pd.read_csv(TINY / "vehicle_types.csv", dtype=str)
    vt.loc[len(vt)] = ["F1", "feeder", "单座车", "1", "1", "0", "1", "1"]
    vtp = tmp_path / "vt.csv"
    vt.to_csv(vtp, index=False)
    fl = pd.read_csv(TINY / "fleet.csv", dtype=str)
    fl.loc[len(fl)] = ["500101", "F1", "1"]
    flp = tmp_path / "fleet.csv"
    fl.to_csv(flp, index=False)
    res = validate_scenario(load_scenario(scenario_with(tmp_path, vehicle_types=f'"{vtp}"', fleet=f'"{flp}"')))
    cols = {p.column for p in res.scenario_conflicts()}
    assert cols == {"occupancy.low", "occupancy.medium", "occupancy.high"}
    assert all("F1" in p.message for p in res.scenario_conflicts())


def test_unused_vehicle_type_is_not_checked(tmp_path):
    """A type nobody owns (count 0) may have fewer rows than the isolation rows."""
    fl = pd.read_csv(TINY / "fleet.csv", dtype=str)
    fl = fl[fl["type_id"] != "C45"]
    flp = tmp_path / "fleet.csv"
    fl.to_csv(flp, index=False)
    path = scenario_with(tmp_path, fleet=f'"{flp}"', extra="\n[occupancy]\ncoach_isolation_rows = 12\n")
    assert validate_scenario(load_scenario(path)).scenario_conflicts() == []


def test_header_only_register_warns_loudly_and_the_plan_says_why(tmp_path):
    """A register with a header only: a no_workers warning in the report; the plan summary says nobody moves."""
    res = run_workers(tmp_path, workers().iloc[:0])
    assert hits(res, "no_workers") == {(None, None, "warning")}
    assert "只有表头" in res.report_text() and "！！" in res.report_text()
    assert "见上方警告" in res.report_text().splitlines()[-1]
    from planner.pipeline import run_plan

    path = tmp_path / "scenario.toml"  # written by run_workers
    report = run_plan(path, tmp_path / "plan", check=False)
    summary = json.loads((tmp_path / "plan" / "summary.json").read_text(encoding="utf-8"))
    assert any("没有人可以规划" in w for w in summary["warnings"])
    assert "没有人可以规划" in report.text()


def test_fleet_without_coaches_warns(tmp_path):
    """Every coach count 0 (feeders only): a no_coaches warning; the trains still run, and it says so."""
    fl = pd.read_csv(TINY / "fleet.csv", dtype=str)
    fl.loc[fl["type_id"].str.startswith("C"), "count"] = "0"
    flp = tmp_path / "fleet.csv"
    fl.to_csv(flp, index=False)
    res = validate_scenario(load_scenario(scenario_with(tmp_path, fleet=f'"{flp}"')))
    assert hits(res, "no_coaches") == {(None, "count", "warning")}
    assert "专列" in res.by_code("no_coaches")[0].message
    assert any("大巴为 0 辆" in w for w in res.plan_warnings())


def test_clean_tiny_scenario_has_no_plan_warning(tmp_path):
    """The valid tiny scenario raises none of the new warnings."""
    res = validate_scenario(load_scenario(scenario_with(tmp_path)))
    assert res.plan_warnings() == [] and res.scenario_conflicts() == [] and res.ok


# ---------------------------------------------------------------- §6 the rejected rows
def _broken(tmp_path: Path) -> Path:
    w = workers()
    w.loc[3, "name"] = '=HYPERLINK("http://x","点我")'
    w.loc[3, "phone"] = "12"
    w.loc[4, "name"] = "张\x00华"
    path = tmp_path / "w.csv"
    w.to_csv(path, index=False)
    return scenario_with(tmp_path, workers=f'"{path}"')


def test_rejected_rows_are_written_private_and_inert(tmp_path):
    """The rejected file keeps the rows (personal data), mode 600, a formula cell made inert, NUL replaced."""
    res = validate_scenario(load_scenario(_broken(tmp_path)))
    [path] = write_rejected(res, tmp_path / "rejected")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    got = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert got["_row"].tolist() == ["5", "6"]
    assert got.loc[0, "name"].startswith("'=HYPERLINK") and got.loc[0, "id_number"] == workers().loc[3, "id_number"]
    assert "\x00" not in path.read_text(encoding="utf-8-sig") and got.loc[1, "name"] == "张\ufffd华"


def test_cli_says_the_rejected_file_holds_personal_data(tmp_path, capsys):
    """planner validate --rejected-dir prints that the files hold full names, IDs and phones."""
    code = main(["validate", str(_broken(tmp_path)), "--rejected-dir", str(tmp_path / "rej")])
    out = capsys.readouterr().out
    assert code == 1 and (tmp_path / "rej" / "rejected_workers.csv").is_file()
    assert "身份证号" in out and "full ID numbers" in out


def test_rejected_rows_never_go_into_a_plan_directory(tmp_path, capsys):
    """--rejected-dir inside a plan directory (one holding summary.json) is refused; nothing is written."""
    plan = tmp_path / "plan"
    plan.mkdir()
    (plan / "summary.json").write_text("{}", encoding="utf-8")
    for target in (plan, plan / "rejected"):
        code = main(["validate", str(_broken(tmp_path)), "--rejected-dir", str(target)])
        assert code == EXIT_FATAL and "计划目录" in capsys.readouterr().err
    assert sorted(p.name for p in plan.iterdir()) == ["summary.json"]


def test_rejected_rows_never_go_into_the_app_upload_folder(tmp_path, monkeypatch):
    """The app's upload folder (PLANNER_APP_UPLOAD_DIR) and anything under it are refused."""
    uploads = tmp_path / "uploads"
    monkeypatch.setenv("PLANNER_APP_UPLOAD_DIR", str(uploads))
    res = validate_scenario(load_scenario(_broken(tmp_path)))
    with pytest.raises(DataError, match="serves"):
        write_rejected(res, uploads / "abc123")
    assert not uploads.exists()
    assert write_rejected(res, tmp_path / "elsewhere")


@pytest.mark.parametrize("value", ["=1+1", "+W1", "-2+3", "@SUM(A1)", "W 0001"])
def test_ids_that_a_spreadsheet_would_run_are_rejected(tmp_path, value):
    """A worker_id like =1+1 would be copied into every plan CSV: the row is rejected (unsafe_id), named by row."""
    w = workers()
    w.loc[2, "worker_id"] = value
    res = run_workers(tmp_path, w)
    assert hits(res, "unsafe_id") == {(4, "worker_id", "error")}
    assert res.counts["workers"]["rejected"] == 1
    balanced(res)
