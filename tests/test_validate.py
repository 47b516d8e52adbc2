"""Validation: each bad file of the corpus gives its named problem with file, row and column."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planner.scenario import load_scenario
from planner.validate import ValidationResult, validate_scenario

DATA = Path(__file__).resolve().parent / "data"
TINY = DATA / "tiny"
BAD = DATA / "bad"
BAD_ROW = 5  # the broken row as a user sees it (header = row 1)


def scenario_with(tmp_path: Path, *, extra: str = "", **files: str) -> Path:
    """The tiny scenario written to tmp_path with absolute paths, some data files replaced (TOML values)."""
    text = (TINY / "scenario.toml").read_text(encoding="utf-8")
    text = re.sub(r'^(\w+) = "([^"/]+)"$', lambda m: f'{m[1]} = "{TINY / m[2]}"', text, flags=re.M)
    for key, value in files.items():
        if value is None:
            text = re.sub(rf"^{key} = .*\n", "", text, flags=re.M)
        elif re.search(rf"^{key} = ", text, flags=re.M):
            text = re.sub(rf"^{key} = .*$", lambda _m: f"{key} = {value}", text, flags=re.M)
        else:
            text = text.replace("[data]\n", f"[data]\n{key} = {value}\n")
    path = tmp_path / "scenario.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def run(tmp_path: Path, *, extra: str = "", **files) -> ValidationResult:
    return validate_scenario(load_scenario(scenario_with(tmp_path, extra=extra, **files)))


def bad(fname: str, crs: str = "wgs84") -> str:
    """A TOML value for one corpus file."""
    return f'{{ path = "{BAD / fname}", crs = "{crs}" }}'


def balanced(res: ValidationResult) -> None:
    """Every table: read = accepted + rejected, and the frames agree with the counts."""
    for name, c in res.counts.items():
        assert c["read"] == c["accepted"] + c["rejected"], name
        if name in res.tables:
            assert len(res.tables[name]) == c["accepted"], name
        if name in res.rejected:
            assert len(res.rejected[name]) == c["rejected"], name


def test_tiny_scenario_is_clean(tmp_path):
    """The valid tiny scenario has no problem, accepts all 20 workers and types every column."""
    res = run(tmp_path)
    assert res.ok, res.report_text()
    assert res.problems == []
    assert res.counts["workers"] == {"read": 20, "accepted": 20, "rejected": 0}
    w = res.tables["workers"]
    assert w["job_confirmed"].dtype == bool and w["job_confirmed"].sum() == 16  # every fifth is 否
    assert str(w["ready_date"].dtype) == "datetime64[ns]"
    assert w["proof_date"].isna().sum() == 1  # health_proof none
    assert (w["county_code"] == "500101").all() and (w["township_code"] == w["village_code"].str[:9]).all()
    assert w["_row"].tolist() == list(range(2, 22))
    v = res.tables["villages"]
    assert v["lon"].dtype == float and v["village_code"].str.len().eq(12).all()
    assert res.tables["vehicle_types"]["rated_seats"].dtype == np.int64
    assert res.tables["train_services"]["depart_time"].tolist() == ["10:30", "10:30", "09:05", "09:05"]


def test_provinces_are_short_and_factory_counties_derived(tmp_path):
    """浙江省/广东省 become 浙江/广东; factories without county_code get it from the receiving counties."""
    res = run(tmp_path)
    f = res.tables["factories"].set_index("factory_id")
    assert f["province"].to_dict() == {"F0001": "广东", "F0002": "浙江", "F0003": "广东"}
    assert f["county_code"].to_dict() == {"F0001": "441900", "F0002": "330782", "F0003": "441900"}
    assert res.tables["stations"].set_index("station_id").loc["S-YW", "county_code"] == "330782"


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
        ("vehicle_types", "vehicle_types_bad_seats.csv", "inconsistent_seats", "rated_seats"),
        ("train_services", "train_services_unknown_station.csv", "dangling_reference", "destination_station_id"),
    ],
)
def test_bad_file_names_file_row_and_column(tmp_path, table, fname, code, column):
    """Each broken file gives its named problem at row 5 and the right column; that row is rejected."""
    res = run(tmp_path, **{table: bad(fname)})
    hits = [p for p in res.problems if p.code == code and p.file.endswith(fname)]
    assert hits, res.report_text()
    p = hits[0]
    assert (p.row, p.column, p.severity) == (BAD_ROW, column, "error")
    assert res.counts[table]["rejected"] == 1
    rej = res.rejected[table]
    assert rej["_row"].tolist() == [BAD_ROW] and rej["reason"].iloc[0].startswith(f"{code} [{column}]")
    assert f"{p.file}:{BAD_ROW}:{column}: " in res.report_text()
    balanced(res)
    assert not res.ok


def test_missing_column_is_fatal(tmp_path):
    """A workers file without the phone column is fatal, names the column, and rejects every row."""
    res = run(tmp_path, workers=bad("workers_missing_column.csv"))
    p = res.by_code("missing_column")[0]
    assert (p.column, p.row, p.severity) == ("phone", None, "fatal")
    assert p.file.endswith("workers_missing_column.csv")
    assert res.fatal and not res.ok
    assert res.counts["workers"] == {"read": 20, "accepted": 0, "rejected": 20}
    balanced(res)


@pytest.mark.parametrize("fname", ["villages_outside_county.csv", "villages_swapped.csv", "villages_outside_china.csv"])
def test_rejected_village_cascades_to_its_workers(tmp_path, fname):
    """Workers of a rejected village are rejected too, the reason naming the village and why."""
    res = run(tmp_path, villages=bad(fname))
    bad_village = pd.read_csv(BAD / fname, dtype=str).loc[BAD_ROW - 2, "village_code"]
    why = res.rejected["villages"]["reason"].iloc[0].split(" ")[0]
    rej = res.rejected["workers"]
    assert len(rej) == 3 and (rej["village_code"] == bad_village).all()
    assert rej["reason"].str.contains(bad_village).all() and rej["reason"].str.contains(why).all()
    assert res.counts["workers"] == {"read": 20, "accepted": 17, "rejected": 3}
    balanced(res)


def test_balance_line_in_report(tmp_path):
    """The report states for workers: 工人 读入 N = 接受 A + 拒绝 R."""
    res = run(tmp_path, villages=bad("villages_swapped.csv"))
    assert "工人 读入 20 = 接受 17 + 拒绝 3" in res.report_text()
    assert "村 读入 6 = 接受 5 + 拒绝 1" in res.report_text()


@pytest.mark.parametrize("fname", ["workers_gb18030.csv", "workers_bom.csv", "workers.xlsx"])
def test_encodings_and_excel_validate_the_same(tmp_path, fname):
    """GB18030, UTF-8 with BOM and Excel files give the same accepted workers as the UTF-8 file."""
    ref = run(tmp_path).tables["workers"]
    res = run(tmp_path, workers=bad(fname))
    assert res.ok, res.report_text()
    pd.testing.assert_frame_equal(res.tables["workers"], ref)


@pytest.mark.parametrize("crs", ["gcj02", "bd09"])
def test_web_map_villages_are_converted_on_load(tmp_path, crs):
    """A villages file in GCJ-02/BD-09, declared so, validates and lands on the WGS-84 positions."""
    ref = run(tmp_path).tables["villages"]
    res = run(tmp_path, villages=bad(f"villages_{crs}.csv", crs))
    assert res.ok, res.report_text()
    got = res.tables["villages"]
    assert np.allclose(got["lon"], ref["lon"], atol=1e-7) and np.allclose(got["lat"], ref["lat"], atol=1e-7)


def test_personal_data_never_in_messages(tmp_path):
    """Problems about workers name the row and worker_id, never the name, ID number or phone."""
    res = run(tmp_path, workers=bad("workers_bad_check_digit.csv"))
    w = pd.read_csv(BAD / "workers_bad_check_digit.csv", dtype=str)
    text = res.report_text() + "".join(p.message for p in res.problems)
    assert "W0000004" in text
    for col in ("name", "id_number", "phone"):
        assert not any(v in text for v in w[col])


def test_missing_synth_file_says_run_planner_synth(tmp_path):
    """A [synth] table not generated yet is a fatal problem telling the user to run planner synth."""
    extra = f'\n[synth]\ncache_dir = "{tmp_path / "cache"}"\n'
    res = run(tmp_path, extra=extra, workers=None)
    p = res.by_code("missing_file")[0]
    assert p.severity == "fatal" and "planner synth" in p.message and p.file.endswith("workers.csv")
    assert res.fatal and not res.ok


def test_unreadable_file_is_fatal_not_a_traceback(tmp_path):
    """A workers file that is not text is a fatal unreadable_file problem naming the file."""
    junk = tmp_path / "junk.csv"
    junk.write_bytes(b"worker_id\n\xff\xfe\x00\x81\x30\xff\n")
    res = run(tmp_path, workers=f'"{junk}"')
    p = res.by_code("unreadable_file")[0]
    assert p.severity == "fatal" and "junk.csv" in p.message
    assert res.counts["workers"] == {"read": 0, "accepted": 0, "rejected": 0}


def test_unusable_villages_reject_all_workers_with_one_problem(tmp_path):
    """When the villages table is unusable, every worker is rejected under a single dangling_reference."""
    v = pd.read_csv(TINY / "villages.csv", dtype=str).drop(columns=["county_code"])
    path = tmp_path / "v.csv"
    v.to_csv(path, index=False)
    res = run(tmp_path, villages=f'"{path}"')
    assert res.by_code("missing_column")[0].column == "county_code"
    dang = [p for p in res.by_code("dangling_reference") if p.column == "village_code"]
    assert len(dang) == 1 and dang[0].row is None
    assert res.counts["workers"] == {"read": 20, "accepted": 0, "rejected": 20}
    balanced(res)


def test_warnings_do_not_reject(tmp_path):
    """A mixed family group, a proof dated after the window and a factory needed early are warnings only."""
    w = pd.read_csv(TINY / "workers.csv", dtype=str, keep_default_na=False)
    w.loc[12, "factory_id"] = "F0003"  # group G000001: workers 7 and 13 now go to different factories
    w.loc[2, "proof_date"] = "2020-03-20"
    wp = tmp_path / "w.csv"
    w.to_csv(wp, index=False)
    f = pd.read_csv(TINY / "factories.csv", dtype=str, keep_default_na=False)
    f.loc[0, "needed_by"] = "2020-02-01"
    fp = tmp_path / "f.csv"
    f.to_csv(fp, index=False)
    res = run(tmp_path, workers=f'"{wp}"', factories=f'"{fp}"')
    assert res.ok, res.report_text()
    assert {"group_mixed", "proof_date_future", "date_outside_window"} <= res.codes()
    assert all(p.severity == "warning" for p in res.problems)
    assert sorted(p.row for p in res.by_code("group_mixed")) == [8, 14]
    assert res.by_code("proof_date_future")[0].row == 4


def test_ready_before_window_is_fine(tmp_path):
    """Workers ready before the window start are accepted without any problem (they go from day one)."""
    res = run(tmp_path)
    assert (res.tables["workers"]["ready_date"] < pd.Timestamp("2020-02-14")).sum() == 4
    assert res.ok


def test_many_problems_in_one_workers_file(tmp_path):
    """Several bad rows each get their own problem and the balance holds; a capped report counts the rest."""
    w = pd.read_csv(TINY / "workers.csv", dtype=str, keep_default_na=False)
    w.loc[0, "phone"] = "12"
    w.loc[1, "phone"] = "1380013800"
    w.loc[2, "id_number"] = "5001011990"
    w.loc[3, "id_number"] = w.loc[3, "id_number"][:6] + "19991399" + w.loc[3, "id_number"][14:]
    w.loc[4, "job_confirmed"] = "maybe"
    w.loc[5, "health_proof"] = "rumour"
    w.loc[6, "proof_date"] = ""
    w.loc[7, "worker_id"] = ""
    wp = tmp_path / "w.csv"
    w.to_csv(wp, index=False)
    res = run(tmp_path, workers=f'"{wp}"')
    got = {(p.code, p.row, p.column) for p in res.problems}
    assert {
        ("bad_phone", 2, "phone"), ("bad_phone", 3, "phone"), ("bad_id_number", 4, "id_number"),
        ("bad_id_birth_date", 5, "id_number"), ("bad_type", 6, "job_confirmed"),
        ("bad_value", 7, "health_proof"), ("missing_value", 8, "proof_date"), ("missing_value", 9, "worker_id"),
    } <= got
    assert res.counts["workers"] == {"read": 20, "accepted": 12, "rejected": 8}
    balanced(res)
    assert "另有 1 处 bad_phone" in res.report_text(max_per_code=1)


def test_other_table_rules(tmp_path):
    """Fleet duplicates, a risk region that is no receiving county, a reversed range and a road-only origin are rejected."""
    fl = pd.read_csv(TINY / "fleet.csv", dtype=str)
    fl = pd.concat([fl, fl.iloc[[0]]], ignore_index=True)
    flp = tmp_path / "fleet.csv"
    fl.to_csv(flp, index=False)
    rc = pd.DataFrame([("4419", "2020-02-14", "2020-02-20", "medium"), ("9999", "2020-02-14", "2020-02-20", "high"),
                       ("44", "2020-02-25", "2020-02-20", "low")], columns=["region_code", "from", "to", "level"])
    rcp = tmp_path / "risk.csv"
    rc.to_csv(rcp, index=False)
    ts = pd.read_csv(TINY / "train_services.csv", dtype=str)
    ts.loc[1, "origin_station_id"] = "T500101"  # a coach terminal, not a railway station
    tsp = tmp_path / "ts.csv"
    ts.to_csv(tsp, index=False)
    res = run(tmp_path, fleet=f'"{flp}"', risk_calendar=f'"{rcp}"', train_services=f'"{tsp}"')
    got = {(Path(p.file).name, p.code, p.row, p.column) for p in res.problems}
    assert ("fleet.csv", "duplicate_id", 6, "type_id") in got
    assert ("risk.csv", "dangling_reference", 3, "region_code") in got
    assert ("risk.csv", "bad_date_range", 4, "to") in got
    assert ("ts.csv", "dangling_reference", 3, "origin_station_id") in got
    balanced(res)
