"""Validation: each bad file of the corpus gives its named problem with file, row and column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planner.cli import main
from planner.coords import bd09_to_wgs84, gcj02_to_wgs84, wgs84_to_bd09, wgs84_to_gcj02
from planner.rules.geo import haversine_km
from planner.scenario import load_scenario
from planner.validate import validate_scenario

DATA = Path(__file__).resolve().parent / "data"
TINY = DATA / "tiny"
BAD = DATA / "bad"
ROOT = DATA.parents[1]
BAD_ROW = 5  # the broken row as a user sees it (header = row 1)


def scenario_with(tmp_path: Path, **files: str) -> Path:
    """The tiny scenario with some data files replaced (absolute paths or TOML tables)."""
    text = (TINY / "scenario.toml").read_text(encoding="utf-8")
    text = text.replace('"../../../', f'"{ROOT}/')
    for key in ("villages", "workers", "factories", "fleet"):
        text = text.replace(f'{key} = "{key}.csv"', f'{key} = "{TINY / (key + ".csv")}"')
    for key, value in files.items():
        lines = [ln for ln in text.splitlines() if not ln.startswith(f"{key} = ")]
        idx = lines.index("[data]") + 1
        lines.insert(idx, f"{key} = {value}")
        text = "\n".join(lines) + "\n"
    path = tmp_path / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return path


def run(tmp_path: Path, **files: str):
    sc = load_scenario(scenario_with(tmp_path, **files))
    return validate_scenario(sc)


def _balanced(res) -> None:
    c = res.counts["workers"]
    assert c["read"] == c["accepted"] + c["rejected"]


def test_tiny_scenario_is_clean(tmp_path):
    """The valid tiny scenario has no problem and accepts all 20 workers."""
    res = run(tmp_path)
    assert res.ok, res.report_text()
    assert res.counts["workers"] == {"read": 20, "accepted": 20, "rejected": 0}
    w = res.tables["workers"]
    assert w["job_confirmed"].dtype == bool and w["job_confirmed"].all()
    assert set(res.tables["factories"]["province"]) == {"广东", "浙江"}  # 浙江省 normalised
    assert (w["county_code"] == "500101").all()


@pytest.mark.parametrize(
    ("table", "fname", "code", "column"),
    [
        ("workers", "workers_bad_type.csv", "bad_type", "ready_date"),
        ("workers", "workers_duplicate_id.csv", "duplicate_id", "worker_id"),
        ("workers", "workers_unknown_village.csv", "dangling_reference", "village_code"),
        ("workers", "workers_unknown_factory.csv", "dangling_reference", "factory_id"),
        ("workers", "workers_bad_check_digit.csv", "bad_id_check_digit", "id_number"),
        ("workers", "workers_bad_phone.csv", "bad_phone", "phone"),
        ("workers", "workers_date_outside_window.csv", "date_outside_window", "ready_date"),
        ("villages", "villages_outside_china.csv", "outside_china", "lon"),
        ("villages", "villages_swapped.csv", "lonlat_swapped", "lon"),
        ("villages", "villages_outside_county.csv", "outside_county", "lon"),
        ("hubs", "hubs_unknown_county.csv", "dangling_reference", "county_code"),
    ],
)
def test_bad_file_names_file_row_and_column(tmp_path, table, fname, code, column):
    """Each broken file gives its named problem at row 5 and the right column; the row is rejected."""
    res = run(tmp_path, **{table: f'"{BAD / fname}"'})
    hits = [p for p in res.problems if p.code == code]
    assert hits, res.report_text()
    p = hits[0]
    assert p.file.endswith(fname) and p.row == BAD_ROW and p.column == column
    assert res.counts[table]["rejected"] >= 1
    rej = res.rejected[table]
    assert BAD_ROW in set(rej["_row"]) and rej["reason"].str.startswith(code).any()
    _balanced(res)
    assert not res.ok


def test_missing_column_is_fatal(tmp_path):
    """A workers file without the phone column is a fatal problem naming the column."""
    res = run(tmp_path, workers=f'"{BAD / "workers_missing_column.csv"}"')
    p = [p for p in res.problems if p.code == "missing_column"][0]
    assert p.column == "phone" and p.severity == "fatal"
    assert res.fatal and not res.ok
    _balanced(res)


def test_rejected_village_cascades_to_its_workers(tmp_path):
    """Workers of a village rejected for its position are rejected too, naming the village."""
    res = run(tmp_path, villages=f'"{BAD / "villages_outside_county.csv"}"')
    bad_village = pd.read_csv(BAD / "villages_outside_county.csv", dtype=str).loc[3, "village_code"]
    rej = res.rejected["workers"]
    assert (rej["village_code"] == bad_village).all() and len(rej) > 0
    msgs = [p.message for p in res.problems if p.code == "dangling_reference" and p.column == "village_code"]
    assert any(bad_village in m for m in msgs)
    _balanced(res)


@pytest.mark.parametrize("fname", ["workers_gb18030.csv", "workers_bom.csv", "workers.xlsx"])
def test_encodings_and_excel_read_the_same(tmp_path, fname):
    """GB18030, UTF-8 with BOM and Excel files give the same accepted workers as the UTF-8 file."""
    ref = run(tmp_path).tables["workers"]
    res = run(tmp_path, workers=f'"{BAD / fname}"')
    assert res.ok, res.report_text()
    got = res.tables["workers"]
    assert list(got["name"]) == list(ref["name"])
    assert list(got["id_number"]) == list(ref["id_number"])
    assert (got["ready_date"] == ref["ready_date"]).all()


def test_gcj02_file_is_converted_on_load(tmp_path):
    """A villages file in GCJ-02, declared so, lands within a metre of the WGS-84 positions."""
    ref = run(tmp_path).tables["villages"]
    spec = f'{{ path = "{BAD / "villages_gcj02.csv"}", crs = "gcj02" }}'
    res = run(tmp_path, villages=spec)
    assert res.ok, res.report_text()
    got = res.tables["villages"]
    d = haversine_km(ref["lon"], ref["lat"], got["lon"], got["lat"]) * 1000
    assert np.max(d) < 1.0
    # undeclared, the same file is 300-700 m off
    raw = pd.read_csv(BAD / "villages_gcj02.csv")
    off = haversine_km(ref["lon"], ref["lat"], raw["lon"], raw["lat"]) * 1000
    assert 200 < np.min(off) and np.max(off) < 800


def test_known_coordinate_pairs():
    """Published pair: WGS-84 (116.397428, 39.90923) is GCJ-02 (116.403664, 39.910627) within 2 m; BD-09 round trips."""
    x, y = wgs84_to_gcj02(116.397428, 39.90923)
    assert haversine_km(x, y, 116.403664, 39.910627) * 1000 < 2
    bx, by = gcj02_to_wgs84(116.403664, 39.910627)
    assert haversine_km(bx, by, 116.397428, 39.90923) * 1000 < 2
    lon, lat = wgs84_to_bd09(108.38, 30.80)
    rx, ry = bd09_to_wgs84(lon, lat)
    assert haversine_km(rx, ry, 108.38, 30.80) * 1000 < 1


def test_cli_validate_exit_codes_and_no_personal_data(tmp_path, capsys):
    """planner validate exits 0 on clean data, 1 on rejected rows, and never prints names, IDs or phones."""
    assert main(["validate", str(scenario_with(tmp_path))]) == 0
    bad = scenario_with(tmp_path, workers=f'"{BAD / "workers_bad_check_digit.csv"}"')
    assert main(["validate", str(bad)]) == 1
    out = capsys.readouterr().out
    w = pd.read_csv(BAD / "workers_bad_check_digit.csv", dtype=str)
    assert "bad_id_check_digit" in out and f":{BAD_ROW}:id_number" in out
    for col in ("name", "id_number", "phone"):
        assert not any(v in out for v in w[col])


def test_cli_missing_scenario_is_a_message_not_a_traceback(capsys):
    """A missing scenario file exits 2 with a message."""
    assert main(["validate", "/nonexistent/scenario.toml"]) == 2
    assert "找不到情景文件" in capsys.readouterr().err
