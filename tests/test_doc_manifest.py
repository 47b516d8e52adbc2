"""Arrival manifests (到达名单) on the tiny scenario: every passenger row against legs.csv."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from planner.documents.common import load_doc_data, mask_id
from planner.documents.manifest import write_manifests

REPO = Path(__file__).resolve().parents[1]
SCENARIO = REPO / "tests/data/tiny/scenario.toml"


@pytest.fixture(scope="module")
def data(tiny_plan_dir):
    return load_doc_data(tiny_plan_dir, SCENARIO)


@pytest.fixture(scope="module")
def written(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("docs")
    return out, write_manifests(data, out)


def _expected(data) -> pd.DataFrame:
    """The inter-provincial leg of every planned worker, from legs.csv and trips.csv."""
    trips = data.plan.trips.set_index("trip_id")
    legs = data.plan.legs
    inter = legs[legs["trip_id"].map(trips["mode"]).isin(["coach", "train"])]
    w = data.plan.workers.set_index("worker_id")
    out = inter.assign(province=inter["worker_id"].map(w["factory_id"]).map(data.factories["province"]))
    return out


def _read(path: Path) -> dict[str, pd.DataFrame]:
    return pd.read_excel(path, sheet_name=None, dtype=str, keep_default_na=False)


def test_excel_dates_times_and_counts_typed(written, data):
    import openpyxl

    out, _ = written
    book = openpyxl.load_workbook(out / "到达名单_广东.xlsx")
    ws = book["到达车辆"]
    header = [c.value for c in ws[1]]
    trips = data.plan.trips.set_index("trip_id")
    rows = list(ws.iter_rows(min_row=2))
    assert rows
    for row in rows:
        cells = dict(zip(header, row))
        assert cells["到达日期"].is_date and cells["出发时间"].is_date and cells["预计到达时间"].is_date
        assert cells["到达人数"].data_type == "n" and cells["驾驶员人数"].data_type == "n"
        depart = trips.loc[cells["行程号"].value, "depart"].tz_convert("Asia/Shanghai")
        assert cells["出发时间"].value.strftime("%Y-%m-%d %H:%M") == depart.strftime("%Y-%m-%d %H:%M")
    for row in book["到达人员"].iter_rows(min_row=2):
        assert all(c.data_type != "f" for c in row)
    pax_header = [c.value for c in book["到达人员"][1]]
    assert all(dict(zip(pax_header, r))["到达日期"].is_date for r in book["到达人员"].iter_rows(min_row=2))


def test_files_per_province(written, data):
    out, paths = written
    names = sorted(p.name for p in paths)
    assert names == sorted(["到达名单_广东.xlsx", "到达名单_广东.pdf", "到达名单_浙江.xlsx", "到达名单_浙江.pdf"])
    assert all(p.stat().st_size > 0 for p in paths)


def test_every_planned_worker_once_in_their_province(written, data):
    out, _ = written
    exp = _expected(data)
    planned = set(data.plan.workers.loc[data.plan.workers["status"] == "planned", "worker_id"])
    assert set(exp["worker_id"]) == planned
    seen: list[str] = []
    for prov in ("广东", "浙江"):
        sheets = _read(out / f"到达名单_{prov}.xlsx")
        pax = sheets["到达人员"]
        veh = sheets["到达车辆"]
        e = exp[exp["province"] == prov].set_index("worker_id")
        assert sorted(pax["人员编号"]) == sorted(e.index)  # scope: no one from another province
        for row in pax.itertuples(index=False):
            wid = row[pax.columns.get_loc("人员编号")]
            leg = e.loc[wid]
            assert row[pax.columns.get_loc("行程号")] == leg["trip_id"]
            assert row[pax.columns.get_loc("座位")] == leg["seat"]
            person = data.people.loc[wid]
            assert row[pax.columns.get_loc("姓名")] == person["name"]
            assert row[pax.columns.get_loc("身份证号")] == mask_id(person["id_number"])
            assert person["id_number"] not in set(pax["身份证号"])
            assert row[pax.columns.get_loc("用工单位")] == data.factories.loc[data.plan.workers.set_index("worker_id").loc[wid, "factory_id"], "name"]
        # head-counts of the vehicle sheet add up to the passenger rows, per trip and destination
        counts = pax.groupby(["行程号", "目的地"]).size()
        for v in veh.itertuples(index=False):
            key = (v[veh.columns.get_loc("行程号")], v[veh.columns.get_loc("目的地")])
            assert int(v[veh.columns.get_loc("到达人数")]) == counts[key]
        assert veh["到达人数"].astype(int).sum() == len(pax)
        seen += list(pax["人员编号"])
    assert len(seen) == len(set(seen)) == len(planned)


def test_masked_ids_only(written, data):
    out, _ = written
    full = set(data.people["id_number"])
    for p in out.glob("*.xlsx"):
        for frame in _read(p).values():
            cells = set(frame.astype(str).to_numpy().ravel())
            assert not (cells & full)
    text = _pdftext(out / "到达名单_广东.pdf")
    assert not any(i in text for i in full)


def test_full_ids_when_asked(data, tmp_path):
    paths = write_manifests(data, tmp_path, "广东省", full_id=True)
    assert sorted(p.name for p in paths) == ["到达名单_广东.pdf", "到达名单_广东.xlsx"]
    pax = _read(tmp_path / "到达名单_广东.xlsx")["到达人员"]
    for wid, shown in zip(pax["人员编号"], pax["身份证号"]):
        assert shown == data.people.loc[wid, "id_number"]


def _pdftext(path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.fail("pdftotext missing: install Debian poppler-utils (.ci/run does)")
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_pdf_text_and_not_blank(written, data):
    out, _ = written
    pdf = out / "到达名单_广东.pdf"
    text = _pdftext(pdf)
    exp = _expected(data)
    gd = exp[exp["province"] == "广东"]
    for trip in gd["trip_id"].unique():
        assert trip in text
    for wid in gd["worker_id"]:
        assert data.people.loc[wid, "name"] in text
    assert "接收单位" in text and "带队人" in text and "驾驶员" in text
    assert "义乌" not in text  # the Zhejiang factory and station belong to the other file
    subprocess.run(["pdftoppm", "-r", "40", "-gray", "-f", "1", "-l", "1", str(pdf), str(out / "page")], check=True)
    pgm = next(out.glob("page*.pgm")).read_bytes()
    # header: P5 width height maxval, then pixels
    parts = pgm.split(maxsplit=4)
    pixels = parts[4]
    assert min(pixels) < 128
