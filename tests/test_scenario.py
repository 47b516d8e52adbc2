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


def _demo_with(tmp_path: Path, extra: str) -> Path:
    """The demo scenario plus ``extra`` TOML (relative data paths made absolute)."""
    text = (ROOT / "scenarios" / "demo-wanzhou.toml").read_text(encoding="utf-8")
    text = text.replace('"data/', f'"{ROOT}/scenarios/data/').replace('"../geodata', f'"{ROOT}/geodata')
    path = tmp_path / "s.toml"
    path.write_text(text + "\n" + extra + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(("extra", "key"), [
    ("[occupancy]\ncoach_isolation_rows = 99", "occupancy.coach_isolation_rows"),
    ("[occupancy]\nfeeder_isolation_rows = -1", "occupancy.feeder_isolation_rows"),
    ('[health.provinces."广东"]\ncertificate = -7', "health.provinces.广东.certificate"),
    ("[occupancy]\nfever_threshold_c = nan", "occupancy.fever_threshold_c"),
    ("[occupancy]\nfever_threshold_c = 3.73", "occupancy.fever_threshold_c"),
    ("[solver]\ntime_limit_s = inf", "solver.time_limit_s"),
    ("[solver]\nseed = -1", "solver.seed"),
    ("[drivers]\nmax_continuous_day_h = 25", "drivers.max_continuous_day_h"),
    ("[fleet]\ndirect_min_fill = 1.5", "fleet.direct_min_fill"),
    ("[travel]\ncoach_speed_kmh = 750", "travel.coach_speed_kmh"),
    ("[travel.detour_factor_by_county]\n500101 = inf", "travel.detour_factor_by_county.500101"),
    ("[roads]\nspeeds_kmh = { motorway = -90 }", "roads.speeds_kmh.motorway"),
    ("[costs]\ncoach_yuan_per_km = -inf", "costs.coach_yuan_per_km"),
    ("[hub]\ntransfer_min = 100000", "hub.transfer_min"),
])
def test_values_that_cannot_be_meant_are_errors_naming_the_key(tmp_path, extra, key):
    """Out-of-range, NaN and infinite numbers are refused, and the message names the key."""
    with pytest.raises(ScenarioError, match=key.replace(".", r"\.")):
        load_scenario(_demo_with(tmp_path, extra))


def _numeric_fields(model, prefix=""):
    """(key path, constraints, type) of every numeric field of a scenario model.

    Recurses into sections; a ``dict[str, X]`` yields X (its values) under the dict's key.
    """
    import typing

    from pydantic import BaseModel

    for name, info in model.model_fields.items():
        ann = info.annotation
        args = [a for a in typing.get_args(ann) if a is not type(None)] or [ann]
        for a in args:
            if isinstance(a, type) and issubclass(a, BaseModel):
                yield from _numeric_fields(a, f"{prefix}{name}.")
            elif a in (int, float):
                yield f"{prefix}{name}", info.metadata, a
            elif typing.get_origin(a) is typing.Annotated:
                yield f"{prefix}{name}", typing.get_args(a)[1].metadata, typing.get_args(a)[0]


def test_every_numeric_key_has_a_lower_and_an_upper_bound():
    """Each int/float key of the scenario (dict values too) declares ge/gt and le/lt; floats are finite."""
    from annotated_types import Ge, Gt, Le, Lt

    from planner.scenario import Scenario

    fields = list(_numeric_fields(Scenario))
    assert len(fields) > 40
    for key, meta, _kind in fields:
        assert any(isinstance(m, Ge | Gt) for m in meta), f"{key} has no lower bound"
        assert any(isinstance(m, Le | Lt) for m in meta), f"{key} has no upper bound"
    assert Scenario.model_config.get("allow_inf_nan") is False


def test_demo_and_municipality_scenarios_are_inside_the_bounds():
    """The shipped scenarios still load with the bounds."""
    for name in ("demo-wanzhou.toml", "chongqing-2020-02.toml"):
        sc = load_scenario(ROOT / "scenarios" / name)
        assert sc.window.start <= sc.window.end and sc.hub.max_wait_min == 120, name
