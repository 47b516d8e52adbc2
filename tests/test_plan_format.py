"""The plan format is declared once: the writer, the readers, the doc and the checker agree with it."""

from __future__ import annotations

import importlib.util
import json
import shutil
import typing
from pathlib import Path

import pandas as pd
import pytest

from planner import plan_format as pf
from planner import vocab
from planner.errors import PlanFormatError
from tests.conftest import TINY_SCENARIO

ROOT = Path(__file__).resolve().parents[1]


def copy_plan(src: Path, dst: Path) -> Path:
    """A private copy of a plan directory to break."""
    shutil.copytree(src, dst)
    return dst


def relist(out: Path) -> None:
    """Record the files as they now are in summary.json (edited on purpose, not mixed)."""
    summ = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    summ["files"] = pf.file_manifest(out, pf.PLAN_FILES)
    (out / "summary.json").write_text(json.dumps(summ, ensure_ascii=False), encoding="utf-8")


# ------------------------------------------------------------------ one declaration
def test_plan_format_doc_has_no_drift():
    """docs/plan-format.md equals what tools/gen_plan_format_doc.py renders from plan_format and vocab."""
    spec = importlib.util.spec_from_file_location("gen_plan", ROOT / "tools" / "gen_plan_format_doc.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert (ROOT / "docs" / "plan-format.md").read_text(encoding="utf-8") == mod.render()


def test_written_headers_are_the_declared_columns(tiny_plan_dir):
    """Every CSV the writer wrote has exactly the declared columns, in order (leader_worker_id included)."""
    for name, table in pf.TABLES.items():
        header = (tiny_plan_dir / table.file).read_text(encoding="utf-8").splitlines()[0].split(",")
        assert header == table.names(), name
    assert "leader_worker_id" in pf.TABLES["trips"].names()
    assert "`leader_worker_id`" in (ROOT / "docs" / "plan-format.md").read_text(encoding="utf-8")


def test_summary_keys_are_declared(tiny_plan_dir):
    """Every top-level key of summary.json is declared (and so documented) in plan_format.SUMMARY_KEYS."""
    summ = json.loads((tiny_plan_dir / "summary.json").read_text(encoding="utf-8"))
    assert set(summ) <= set(pf.SUMMARY_KEYS), set(summ) - set(pf.SUMMARY_KEYS)
    assert set(summ["files"]) == set(pf.PLAN_FILES)
    plan = pf.read_plan(tiny_plan_dir)
    assert len(plan.plan_id) == 16 and plan.plan_id == pf.plan_id(summ) and plan.path == tiny_plan_dir


def test_no_missing_value_literal_is_written(tiny_plan_dir):
    """No cell of any plan CSV is NaT/nan/None: an empty time is an empty cell (it was NaT before)."""
    for table in pf.TABLES.values():
        raw = pd.read_csv(tiny_plan_dir / table.file, dtype=str, keep_default_na=False)
        assert not raw.isin(list(pf.NULL_LITERALS)).any().any(), table.file
    stops = pd.read_csv(tiny_plan_dir / "stops.csv", dtype=str, keep_default_na=False)
    first = stops.groupby("trip_id").head(1)
    assert (first["arrive"] == "").all()


def test_format_table_writes_empty_for_nat():
    """The formatter turns NaT, None and NaN into empty cells (pd.NaT is a datetime, which fooled the old writer)."""
    df = pd.DataFrame({"trip_id": ["A", "A"], "seq": [1, 2], "place_id": ["X", "Y"], "place_kind": ["hub", "hub"],
                       "arrive": [pd.NaT, pd.Timestamp("2020-02-16 08:00", tz="Asia/Shanghai")],
                       "depart": [pd.Timestamp("2020-02-16 07:00", tz="Asia/Shanghai"), None],
                       "boarding": [1, 0], "alighting": [0, 1], "distance_km": [0.0, float("nan")]})
    out = pf.format_table("stops", df)
    assert out["arrive"].tolist() == ["", "2020-02-16T08:00:00+08:00"]
    assert out["depart"].tolist() == ["2020-02-16T07:00:00+08:00", ""]
    assert "NaT" not in out.to_csv(index=False) and "nan" not in out.to_csv(index=False)


def test_vocabulary_is_shared():
    """The scenario's literal types, the seat rules, the checker and the documents use vocab's names."""
    from planner.check.accounting import REASONS
    from planner.documents.waves import REASON_NAMES
    from planner.rules.seats import RULES
    from planner.scenario import OccupancyRule, RiskLevel

    assert typing.get_args(OccupancyRule) == vocab.OCCUPANCY_RULES == RULES
    assert typing.get_args(RiskLevel) == vocab.RISK_LEVELS
    assert REASONS == vocab.REASON_CODES
    assert REASON_NAMES == vocab.reason_labels()
    assert vocab.DEFAULT_UNPLACED_REASON in vocab.REASON_CODES and vocab.REJECTED_INPUT in vocab.INELIGIBLE_REASONS
    assert vocab.unknown_reasons(["", "job_not_confirmed", "made_up"]) == ["made_up"]


def test_writer_refuses_an_undeclared_reason():
    """A reason the solver gives that vocab does not declare stops the writer with a message naming it."""
    from planner.loader import load_and_validate
    from planner.plan_writer import plan_tables
    from planner.solve.problem import build_problem
    from planner.solve.solver import solve

    sc, val = load_and_validate(TINY_SCENARIO)
    p = build_problem(sc, val.tables)
    res = solve(p, processes=1)
    assert set(plan_tables(p, res, None)["workers"]["reason"]) - {""} <= vocab.REASON_CODES
    unplaced = next(i for i in range(len(p.workers)) if i not in res.parts.outcome)
    res.parts.unplaced[unplaced] = "feeder_ride_too_long_for_train_undeclared"
    with pytest.raises(PlanFormatError, match="feeder_ride_too_long_for_train_undeclared"):
        plan_tables(p, res, None)


# ------------------------------------------------------------------ derivations
def test_direct_coach_definition_is_one():
    """A coach boarding people in a village or pick-up point is direct; a feeder doing so is not a coach."""
    trips = pd.DataFrame({"trip_id": ["C1", "C2", "F1", "E1"], "mode": ["coach", "coach", "feeder", "coach"],
                          "purpose": ["passenger", "passenger", "passenger", "empty_return"]})
    stops = pd.DataFrame({"trip_id": ["C1", "C1", "C2", "C2", "F1", "F1", "E1"], "seq": [1, 2, 1, 2, 1, 2, 1],
                          "place_id": ["V1", "F", "H", "F", "V2", "H", "F"],
                          "place_kind": ["pickup", "factory", "hub", "factory", "village", "hub", "factory"],
                          "boarding": [3, 0, 4, 0, 2, 0, 0]})
    assert pf.direct_coach_ids(trips, stops) == {"C1"}
    assert set(pf.trunk_trips(trips)["trip_id"]) == {"C1", "C2"}
    assert pf.first_pickup(stops, ["C1"]) == {"C1": "V1"}


def test_rest_stops_have_positions_in_gpkg(tiny_plan_dir):
    """plan.gpkg has a rest_stops layer: one approximate point per rest stop of stops.csv, on its trip's line."""
    import geopandas as gpd

    stops = pd.read_csv(tiny_plan_dir / "stops.csv", dtype=str, keep_default_na=False)
    rests = stops[stops["place_kind"] == "rest"]
    layer = gpd.read_file(tiny_plan_dir / "plan.gpkg", layer="rest_stops")
    assert len(layer) == len(rests) > 0
    trips = gpd.read_file(tiny_plan_dir / "plan.gpkg", layer="trips").set_index("trip_id")
    for r in layer.itertuples():
        assert trips.loc[r.trip_id, "geometry"].distance(r.geometry) < 1e-6


# ------------------------------------------------------------------ complete or refused
def test_read_plan_refuses_a_mixed_directory(tiny_plan_dir, tmp_path):
    """A file that is not the one summary.json lists (another run's, or edited) is refused, naming the file."""
    out = copy_plan(tiny_plan_dir, tmp_path / "plan")
    pf.read_plan(out)
    legs = (out / "legs.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (out / "legs.csv").write_text("".join(legs[:-1]), encoding="utf-8")  # one row short, like a run killed halfway
    with pytest.raises(PlanFormatError, match=r"legs\.csv.*校验和"):
        pf.read_plan(out)


def test_read_plan_refuses_an_incomplete_directory(tiny_plan_dir, tmp_path):
    """A listed file missing, or a summary without the file list, is refused with the file named."""
    out = copy_plan(tiny_plan_dir, tmp_path / "plan")
    (out / "workers.csv").unlink()
    with pytest.raises(PlanFormatError, match=r"workers\.csv"):
        pf.read_plan(out)
    out = copy_plan(tiny_plan_dir, tmp_path / "plan2")
    summ = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    del summ["files"]
    (out / "summary.json").write_text(json.dumps(summ), encoding="utf-8")
    with pytest.raises(PlanFormatError, match="files"):
        pf.read_plan(out)
    plan = pf.read_plan(out, require_manifest=False)  # the checker's way: read, and report it
    assert any(i.column == "files" for i in plan.issues)


def test_documents_refuse_a_mixed_directory(tiny_plan_dir, tmp_path):
    """load_doc_data (documents and app) refuses a mixed plan; `planner export` says so without a traceback."""
    from planner.cli import main
    from planner.documents.common import load_doc_data

    out = copy_plan(tiny_plan_dir, tmp_path / "plan")
    other = (out / "trips.csv").read_text(encoding="utf-8").replace("half_seats", "all_seats", 1)
    (out / "trips.csv").write_text(other, encoding="utf-8")
    with pytest.raises(PlanFormatError, match=r"trips\.csv"):
        load_doc_data(out, TINY_SCENARIO)
    code = main(["export", str(out), "--scenario", str(TINY_SCENARIO), "--out", str(tmp_path / "docs"),
                 "--wave-plan"])
    assert code == 2 and not (tmp_path / "docs").exists()


# ------------------------------------------------------------------ the checker sees drift
def test_checker_flags_format_drift(tiny_plan_dir, tmp_path):
    """A literal NaT, a non-integer seat count and an unknown column are reported as plan_format."""
    from planner.check import check_plan_dir
    from planner.scenario import load_scenario

    out = copy_plan(tiny_plan_dir, tmp_path / "plan")
    stops = pd.read_csv(out / "stops.csv", dtype=str, keep_default_na=False)
    stops.loc[stops["arrive"] == "", "arrive"] = "NaT"
    stops.to_csv(out / "stops.csv", index=False)
    trips = pd.read_csv(out / "trips.csv", dtype=str, keep_default_na=False)
    trips.loc[0, "seats_rated"] = "45.5"
    trips["colour"] = "red"
    trips.to_csv(out / "trips.csv", index=False)
    relist(out)
    report = check_plan_dir(out, load_scenario(TINY_SCENARIO))
    fmt = report.of("plan_format")["message"]
    assert fmt.str.contains(r"stops\.csv 列 arrive.*NaT").any(), fmt.tolist()
    assert fmt.str.contains(r"trips\.csv 列 seats_rated").any()
    assert fmt.str.contains("colour").any()
    assert report.text().splitlines()[1].strip().startswith("[plan_format]")


def test_clean_plan_has_no_format_violations(tiny_plan_dir):
    """The planner's own plan passes the format rule and the scenario check."""
    from planner.check import check_plan_dir
    from planner.scenario import load_scenario

    report = check_plan_dir(tiny_plan_dir, load_scenario(TINY_SCENARIO))
    assert report.ok, report.text()


def test_checker_says_first_when_the_scenario_is_another(tiny_plan_dir, tmp_path):
    """Checked against another scenario file, the first finding is scenario_mismatch, naming both checksums."""
    from planner.check import check_plan_dir
    from planner.scenario import load_scenario

    data = tmp_path / "other"
    shutil.copytree(TINY_SCENARIO.parent, data)
    toml = data / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace("[occupancy]", "[occupancy]", 1)
                    .replace('name = "校验测试情景"', 'name = "另一个情景"'), encoding="utf-8")
    other = load_scenario(toml)
    mine = json.loads((tiny_plan_dir / "summary.json").read_text(encoding="utf-8"))["scenario"]["checksum"]
    assert other.checksum != mine
    report = check_plan_dir(tiny_plan_dir, other)
    assert report.violations.iloc[0]["rule"] == "scenario_mismatch"
    text = report.text()
    assert text.splitlines()[1].strip().startswith("[scenario_mismatch]")
    assert mine in text and other.checksum in text


def test_checker_counts_direct_coaches_itself():
    """summary.json's direct/hub coach split is checked against the checker's own count of the stops."""
    from planner.check import check_plan
    from tests.check_fixtures import build

    fx = build()
    plan = fx.plan()
    assert check_plan(plan, fx.sc, fx.tables, fx.rejected_rows).ok
    plan.summary["departures"]["direct_coach"] = 2
    plan.summary["departures"]["hub_coach"] = 0
    report = check_plan(plan, fx.sc, fx.tables, fx.rejected_rows)
    msgs = report.of("summary_mismatch")["message"]
    assert msgs.str.contains("direct_coach").any() and msgs.str.contains("hub_coach").any()


def test_read_plan_rereads_when_a_new_plan_is_swapped_in_meanwhile(tiny_plan_dir, tmp_path, monkeypatch):
    """A run finishing while a reader reads: the reader reads the new plan again whole, never a mix."""
    from planner.plan_dir import swap_in

    out = copy_plan(tiny_plan_dir, tmp_path / "plan")
    newer = copy_plan(tiny_plan_dir, tmp_path / ".plan.tmp-1-ab")
    summ = json.loads((newer / "summary.json").read_text(encoding="utf-8"))
    summ["scenario"]["checksum"] = "newer"
    (newer / "summary.json").write_text(json.dumps(summ), encoding="utf-8")
    real = pf._read_once
    calls = []

    def racing(d, require_manifest):
        calls.append(d)
        if len(calls) == 1:
            swap_in(newer, out)  # the other run's swap lands between our reads of two files
            msg = "legs.csv: 校验和不符"
            raise PlanFormatError(msg)
        return real(d, require_manifest)

    monkeypatch.setattr(pf, "_read_once", racing)
    plan = pf.read_plan(out)
    assert len(calls) == 2 and plan.scenario_checksum == "newer"
