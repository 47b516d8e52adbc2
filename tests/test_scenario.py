"""The scenario file: defaults from 2020, unknown keys rejected, the doc in sync."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from planner.errors import ScenarioError
from planner.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def test_demo_scenario_loads_with_2020_defaults():
    """The shipped demo loads; the rules default to the February 2020 values."""
    sc = load_scenario(ROOT / "scenarios" / "demo-wanzhou.toml")
    assert sc.occupancy.low == "half_seats" and sc.occupancy.coach_isolation_rows == 2
    assert sc.drivers.max_continuous_day_h == 4 and sc.drivers.max_continuous_night_h == 2
    assert sc.drivers.min_rest_min == 20 and sc.drivers.max_driving_per_24h_h == 8
    assert sc.drivers.second_driver_km == 400
    assert sc.fleet.empty_return is True
    assert set(sc.health.provinces) == {"广东", "浙江", "福建", "江苏", "上海"}
    assert sc.checksum and len(sc.checksum) == 16


def test_full_scale_scenario_generates_its_workers():
    """The municipality scenario has no worker file: its [synth] section makes them."""
    sc = load_scenario(ROOT / "scenarios" / "chongqing-2020-02.toml")
    assert sc.data.workers is None and sc.synth is not None
    assert sc.synth.total_workers == 730_000
    assert sc.file_specs()["workers"].path.name == "workers.csv"


def test_unknown_key_is_an_error(tmp_path):
    """A misspelt rule is refused, naming the key, instead of silently using the default."""
    text = (ROOT / "scenarios" / "demo-wanzhou.toml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text + "\n[drivers]\nmax_continous_day_h = 5\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="drivers.max_continous_day_h"):
        load_scenario(bad)


def test_missing_file_and_bad_toml_are_clear(tmp_path):
    """A missing scenario and a TOML syntax error give messages, not tracebacks."""
    with pytest.raises(ScenarioError, match="找不到"):
        load_scenario(tmp_path / "nope.toml")
    bad = tmp_path / "broken.toml"
    bad.write_text("name = \n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="TOML"):
        load_scenario(bad)


def test_scenario_doc_is_generated_from_the_models():
    """docs/scenario.md equals what tools/gen_scenario_doc.py renders (no drift)."""
    spec = importlib.util.spec_from_file_location("gen", ROOT / "tools" / "gen_scenario_doc.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert (ROOT / "docs" / "scenario.md").read_text(encoding="utf-8") == mod.render()


def test_data_format_doc_is_generated_from_the_schemas():
    """docs/data-format.md equals what tools/gen_data_format_doc.py renders (no drift)."""
    spec = importlib.util.spec_from_file_location("gen2", ROOT / "tools" / "gen_data_format_doc.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert (ROOT / "docs" / "data-format.md").read_text(encoding="utf-8") == mod.render()
