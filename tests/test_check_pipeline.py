"""``planner plan`` checks with the validation it made; ``planner check`` validates on its own; same verdict."""

from __future__ import annotations

import pandas as pd
import pytest

import planner.validate
from planner.check import check_plan_dir
from planner.loader import load_and_validate
from planner.pipeline import run_plan
from planner.scenario import load_scenario
from tests.conftest import TINY_SCENARIO


@pytest.fixture(scope="module")
def planned(tmp_path_factory):
    """The tiny scenario planned (without the checker) and the validation the planner made."""
    out = tmp_path_factory.mktemp("pipeline") / "plan"
    run_plan(TINY_SCENARIO, out, check=False)
    sc, val = load_and_validate(TINY_SCENARIO)
    return out, sc, val


def test_given_validation_gives_the_same_report(planned):
    """Checking with the planner's validation finds exactly what a fresh validation finds."""
    out, sc, val = planned
    own = check_plan_dir(out, sc)
    given = check_plan_dir(out, sc, validation=val)
    pd.testing.assert_frame_equal(own.violations, given.violations)
    assert own.stats == given.stats and own.ok == given.ok


def test_given_validation_is_not_validated_again(planned, monkeypatch):
    """With a validation passed in, the checker neither reads nor validates the scenario's data."""
    out, sc, val = planned
    calls = []
    monkeypatch.setattr(planner.validate, "validate_scenario", lambda *a, **k: calls.append(a))
    check_plan_dir(out, sc, validation=val)
    assert calls == []


def test_plan_validates_once_and_leaves_the_tables_as_validated(tmp_path, monkeypatch):
    """run_plan validates once; the tables it hands the checker after solving equal a fresh validation."""
    real = planner.validate.validate_scenario
    seen = []

    def counting(*a, **k):
        res = real(*a, **k)
        seen.append(res)
        return res

    monkeypatch.setattr(planner.validate, "validate_scenario", counting)
    report = run_plan(TINY_SCENARIO, tmp_path / "plan", check=True)
    assert len(seen) == 1 and report.check_ok is not None
    fresh = real(load_scenario(TINY_SCENARIO))
    assert set(seen[0].tables) == set(fresh.tables)
    for name, table in fresh.tables.items():
        pd.testing.assert_frame_equal(seen[0].tables[name], table, obj=name)
