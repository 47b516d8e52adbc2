"""The app page 情景变体: edit the fleet, plan the variant, see it side by side with the base (tiny scenario)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("streamlit")

from streamlit.testing.v1 import AppTest  # noqa: E402

from planner.app.variants import comparison_frame  # noqa: E402
from planner.compare import compare_plans  # noqa: E402
from planner.pipeline import run_plan  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "data" / "tiny"


@pytest.fixture()
def app(tmp_path, monkeypatch) -> tuple[AppTest, Path]:
    """The app on a copy of the tiny scenario (variants are written beside it) and its plan."""
    sc = tmp_path / "sc"
    shutil.copytree(TINY, sc)
    plans = tmp_path / "plans"
    run_plan(sc / "scenario.toml", plans / "base", check=False)
    monkeypatch.setenv("PLANNER_APP_SCENARIO", str(sc / "scenario.toml"))
    monkeypatch.setenv("PLANNER_APP_PLAN_DIR", str(plans / "base"))
    monkeypatch.setenv("PLANNER_APP_PLANS_DIR", str(plans))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    assert not at.exception
    at.sidebar.radio(key="page").set_value("情景变体").run()
    assert not at.exception, at.exception
    return at, tmp_path


def test_edit_fleet_plan_variant_and_compare(app) -> None:
    at, tmp = app
    at.text_input(key="variant-name").set_value("无大巴")
    at.number_input(key="variant-fleet-500101-C53").set_value(0)
    at.number_input(key="variant-fleet-500101-C45").set_value(0).run()
    assert not at.exception
    at.button(key="variant-run").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert (tmp / "sc" / "scenario-无大巴.toml").exists()
    assert (tmp / "plans" / "variant-scenario-无大巴" / "summary.json").exists()
    frames = [d.value for d in at.dataframe]
    table = next(f for f in frames if "指标" in f.columns)
    assert list(table.columns) == ["差异", "指标", "基准", "无大巴"]
    row = table[table["指标"] == "大巴发车（班）"].iloc[0]
    assert row["差异"] == "◆" and row["无大巴"] == "0" and row["基准"] != "0"


def test_invalid_edit_names_the_field_and_writes_nothing(app) -> None:
    at, tmp = app
    before = sorted(p.name for p in (tmp / "sc").iterdir())
    at.text_input(key="variant-name").set_value("负数")
    at.number_input(key="variant-fleet-500101-C53").set_value(-3).run()
    at.button(key="variant-run").click().run()
    assert not at.exception
    assert at.error and "fleet.500101.C53" in at.error[0].value
    assert sorted(p.name for p in (tmp / "sc").iterdir()) == before


def test_comparison_frame_marks_differences(tiny_plan_dir) -> None:
    cmp = compare_plans([tiny_plan_dir, tiny_plan_dir], names=["A", "B"])
    f = comparison_frame(cmp)
    assert list(f.columns) == ["差异", "指标", "A", "B"] and (f["差异"] == "").all()
    assert isinstance(f, pd.DataFrame) and len(f) > 10


def test_sizing_curve_shown_when_a_sizing_was_run(tmp_path, monkeypatch) -> None:
    sc = tmp_path / "sc"
    shutil.copytree(TINY, sc)
    plans = tmp_path / "plans"
    run_plan(sc / "scenario.toml", plans / "base", check=False)
    (plans / "sizing").mkdir()
    pd.DataFrame({"county": ["500101"] * 3, "extra_coaches": [0, 1, 2], "extra_feeders": [0, 0, 0],
                  "workers_moved": [30, 40, 47], "target": 47, "reachable": 47, "share": [0.64, 0.85, 1.0],
                  "reached": [False, False, True]}).to_csv(plans / "sizing" / "curve.csv", index=False)
    pd.DataFrame({"county": ["500101"], "extra_coaches": [2], "extra_feeders": [0], "target": [47],
                  "workers_moved": [47], "reached": [True], "note": [""]}).to_csv(plans / "sizing" / "sizing.csv",
                                                                                  index=False)
    monkeypatch.setenv("PLANNER_APP_SCENARIO", str(sc / "scenario.toml"))
    monkeypatch.setenv("PLANNER_APP_PLAN_DIR", str(plans / "base"))
    monkeypatch.setenv("PLANNER_APP_PLANS_DIR", str(plans))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    at.sidebar.radio(key="page").set_value("情景变体").run()
    assert not at.exception, at.exception
    assert any("车队测算" in s.value for s in at.subheader)
    sizing = next(d.value for d in at.dataframe if "需增加大巴" in d.value.columns)
    assert sizing["需增加大巴"].tolist() == [2]
