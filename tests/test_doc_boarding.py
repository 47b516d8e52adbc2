"""Boarding sheets per vehicle run (乘车单): riders against legs.csv, register data, onward coach, cell types."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from planner.documents.boarding import RIDER_COLUMNS, BLANK, Runs, boarding_codes, write_boarding_sheets
from planner.documents.common import load_doc_data
from tests.test_validate import scenario_with

ROOT = Path(__file__).parent.parent
WORKERS_CSV = ROOT / "tests" / "data" / "tiny" / "workers.csv"


@pytest.fixture(scope="module")
def made(tmp_path_factory, tiny_plan_dir):
    tmp = tmp_path_factory.mktemp("boarding")
    trips = pd.read_csv(tiny_plan_dir / "trips.csv", dtype=str, keep_default_na=False)
    legs = pd.read_csv(tiny_plan_dir / "legs.csv", dtype=str, keep_default_na=False)
    # register one vehicle that runs a feeder or direct coach: plate and driver must show on its sheet
    runs_trips = trips[(trips["purpose"] == "passenger") & (trips["mode"] != "train")]
    vid = sorted(runs_trips.loc[runs_trips["mode"] == "feeder", "vehicle_id"])[0] if (runs_trips["mode"] == "feeder").any() \
        else sorted(runs_trips["vehicle_id"])[0]
    county, tid, _n = vid.rsplit("-", 2)
    reg = tmp / "vehicles.csv"
    reg.write_text("vehicle_id,county_code,type_id,plate,driver_name,driver_phone\n"
                   f"{vid},{county},{tid},渝F8T123,驾驶某,13811112222\n", encoding="utf-8")
    scenario = scenario_with(tmp, vehicles=f'"{reg}"')
    data = load_doc_data(tiny_plan_dir, scenario)
    codes = boarding_codes(data, all_townships=True)
    out = tmp / "out"
    paths = write_boarding_sheets(data, out, codes)
    people = pd.read_csv(WORKERS_CSV, dtype=str, keep_default_na=False).set_index("worker_id")
    return {"data": data, "out": out, "codes": codes, "paths": paths, "trips": trips.set_index("trip_id"),
            "legs": legs, "vid": vid, "people": people, "scenario": scenario}


def _pdftotext(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext missing: install Debian poppler-utils")
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True,
                          text=True).stdout


def _rider_tables(path: Path) -> dict[str, list[dict]]:
    """trip_id (sheet name) -> rider rows, read with openpyxl (values keep their types)."""
    book = openpyxl.load_workbook(path)
    out = {}
    for ws in book.worksheets:
        rows = list(ws.iter_rows())
        start = next(i for i, r in enumerate(rows) if r[0].value == "序号")
        header = [c.value for c in rows[start]][: len(RIDER_COLUMNS)]
        assert header == RIDER_COLUMNS
        body = []
        for r in rows[start + 1:]:
            if r[0].value is None:
                break
            body.append(dict(zip(header, r)))
        out[ws.title] = body
    return out


def test_every_run_rider_is_on_the_sheet_of_their_vehicle(made):
    legs, trips = made["legs"], made["trips"]
    first = legs[legs["leg"] == "1"]
    runs = Runs(made["data"])
    assert len(runs.riders) > 0
    seen: dict[str, set[str]] = {}
    for code in made["codes"]:
        for trip, rows in _rider_tables(made["out"] / f"乘车单_{code}.xlsx").items():
            ids = [r["人员编号"].value for r in rows]
            assert len(ids) == len(set(ids))
            truth = set(first.loc[first["trip_id"] == trip, "worker_id"])
            assert set(ids) == truth, trip
            assert trips.loc[trip, "mode"] in ("feeder", "coach")
            seen.setdefault(trip, set()).update(ids)
    # every run with a rider of some township got a sheet
    assert set(seen) == set(runs.riders["trip_id"])


def test_onward_coach_and_seat_match_legs(made):
    legs = made["legs"]
    by = {(r.worker_id, r.leg): r for r in legs.itertuples()}
    for code in made["codes"]:
        for trip, rows in _rider_tables(made["out"] / f"乘车单_{code}.xlsx").items():
            for r in rows:
                wid = r["人员编号"].value
                assert r["座位"].value == by[(wid, "1")].seat
                nxt = by.get((wid, "2"))
                if nxt is not None:
                    assert r["换乘车次"].value == nxt.trip_id
                    assert r["枢纽发车"].is_date
                    assert r["枢纽发车"].value.strftime("%Y-%m-%dT%H:%M") == nxt.board_time[:16]
                assert r["上车时间"].is_date and isinstance(r["上车时间"].value, dt.datetime)
                assert r["上车时间"].value.strftime("%Y-%m-%dT%H:%M") == by[(wid, "1")].board_time[:16]
                assert r["序号"].data_type == "n"
                full = made["people"].loc[wid, "id_number"]
                assert r["身份证号"].value == full[:6] + "*" * (len(full) - 10) + full[-4:]


def test_no_formula_and_no_full_id(made):
    people = made["people"]
    for code in made["codes"]:
        book = openpyxl.load_workbook(made["out"] / f"乘车单_{code}.xlsx")
        cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
        assert all(c.data_type != "f" for c in cells)
        text = "\n".join(str(c.value) for c in cells)
        assert not any(i in text for i in people["id_number"])


def test_register_fills_plate_and_driver_else_blank_lines(made, tmp_path):
    vid = made["vid"]
    trips = made["trips"]
    own = set(trips.index[trips["vehicle_id"] == vid])
    found_reg = found_blank = False
    for code in made["codes"]:
        text = _pdftotext(made["out"] / f"乘车单_{code}.pdf")
        for page in text.split("\f"):
            m = re.search(r"车次\s+(\S+)", page)
            if not m or "号牌" not in page:
                continue
            if m.group(1) in own:
                assert "渝F8T123" in page and "驾驶某" in page and "13811112222" in page
                found_reg = True
            else:
                assert "渝F8T123" not in page
                assert re.search(r"号牌：_{8,}", page)
                found_blank = True
    assert found_reg
    if not found_blank:  # every run on the registered vehicle: the same sheets without the register
        import dataclasses

        bare = dataclasses.replace(made["data"], vehicles=pd.DataFrame())
        code = made["codes"][0]
        path = write_boarding_sheets(bare, tmp_path, [code])[1]
        text = _pdftotext(path)
        assert "渝F8T123" not in text and "驾驶某" not in text
        assert re.search(r"号牌：_{8,}", text) and re.search(r"驾驶员：_{8,}", text)


def test_pdf_names_riders_and_numbers_pages(made):
    first = made["legs"][made["legs"]["leg"] == "1"]
    people = made["people"]
    runs = Runs(made["data"])
    for code in made["codes"]:
        text = _pdftotext(made["out"] / f"乘车单_{code}.pdf")
        for trip in runs.for_code(code):
            assert trip in text
            for wid in first.loc[first["trip_id"] == trip, "worker_id"]:
                assert people.loc[wid, "name"] in text and people.loc[wid, "phone"] in text
        pages = [p for p in text.split("\f") if p.strip()]
        for n, page in enumerate(pages, 1):
            assert re.search(rf"第\s*{n}\s*页\s*/\s*共\s*{len(pages)}\s*页", page)
        assert "上车确认" in text and "体温" in text


def test_pickup_list_workbook_unchanged_by_boarding_sheets(made, tmp_path):
    """The township pick-up list keeps its columns and 名单信息 sheet (read back by planner boarding import)."""
    from planner.documents.pickup import COLUMNS, INFO_SHEET, write_pickup_lists

    code = next(c for c in made["codes"] if len(c) == 9)
    xlsx = write_pickup_lists(made["data"], tmp_path, [code])[0]
    sheets = pd.read_excel(xlsx, sheet_name=None, dtype=str)
    assert INFO_SHEET in sheets
    assert all(list(df.columns) == COLUMNS for name, df in sheets.items() if name != INFO_SHEET)


def test_cli_boarding_sheets(made, tiny_plan_dir, tmp_path):
    from planner.cli import EXIT_OK, main

    code = next(c for c in made["codes"] if len(c) == 9)
    rc = main(["export", str(tiny_plan_dir), "--scenario", str(made["scenario"]), "--out", str(tmp_path),
               "--township", code, "--boarding-sheets"])
    assert rc == EXIT_OK
    assert (tmp_path / f"乘车单_{code}.pdf").is_file() and (tmp_path / f"乘车单_{code}.xlsx").is_file()


def test_empty_and_invalid_codes(made, tmp_path):
    paths = write_boarding_sheets(made["data"], tmp_path, ["500101999"])
    assert "没有" in _pdftotext(paths[1])
    with pytest.raises(ValueError):
        write_boarding_sheets(made["data"], tmp_path, ["../x"])
    assert BLANK.startswith("____")
