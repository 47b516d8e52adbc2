"""``planner compare``: two plans of the tiny scenario whose differences are known (one has no coaches)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from planner.cli import main
from planner.compare import ALL, DIFF_MARK, compare_plans
from planner.pipeline import run_plan
from planner.variant import write_variant

TINY = Path(__file__).resolve().parent / "data" / "tiny"


@pytest.fixture(scope="module")
def two_plans(tmp_path_factory) -> tuple[Path, Path]:
    """The tiny scenario planned as is, and its variant with no coach in county 500101 (trains only)."""
    d = tmp_path_factory.mktemp("cmp")
    shutil.copytree(TINY, d / "sc")
    v = write_variant(d / "sc" / "scenario.toml", "nocoach", {"fleet": {"500101": {"C53": 0, "C45": 0}}})
    run_plan(d / "sc" / "scenario.toml", d / "base", check=False)
    run_plan(v.path, d / "nocoach", check=False)
    return d / "base", d / "nocoach"


def _value(cmp, county: str, metric: str, name: str):
    t = cmp.table
    row = t[(t["county"] == county) & (t["metric"] == metric)]
    assert len(row) == 1, metric
    return row.iloc[0][name], bool(row.iloc[0]["differs"])


def test_known_differences(two_plans) -> None:
    a, b = two_plans
    cmp = compare_plans([a, b])
    assert cmp.names == ["base", "nocoach"]
    coach_a, differs = _value(cmp, ALL, "dep_coach", "base")
    assert coach_a > 0 and differs
    assert _value(cmp, ALL, "dep_coach", "nocoach")[0] == 0
    assert _value(cmp, "500101", "coach_days", "nocoach")[0] == 0
    assert _value(cmp, ALL, "km_coach", "nocoach")[0] == 0
    pa, pb = _value(cmp, ALL, "planned", "base")[0], _value(cmp, ALL, "planned", "nocoach")[0]
    ua, ub = _value(cmp, ALL, "unassigned", "base")[0], _value(cmp, ALL, "unassigned", "nocoach")[0]
    assert pb < pa and ua - ub == pb - pa  # nobody appears or disappears: read = planned + unassigned
    # what the coaches carried is gone; the trains still run
    assert _value(cmp, ALL, "dep_train_carriage", "nocoach")[0] > 0
    reasons = cmp.table[cmp.table["metric"].str.startswith("unassigned:") & (cmp.table["county"] == ALL)]
    assert reasons["nocoach"].sum() == ub and reasons["base"].sum() == ua
    # the per-day table adds up to the people planned, in each plan
    assert cmp.per_day["base"].sum() == pa and cmp.per_day["nocoach"].sum() == pb
    text = cmp.text()
    assert "大巴发车" in text and DIFF_MARK in text and "每日出发人数" in text


def test_same_plan_twice_differs_nowhere(two_plans) -> None:
    a, _b = two_plans
    cmp = compare_plans([a, a])
    assert cmp.names[0] != cmp.names[1]
    assert not cmp.table["differs"].any()
    assert DIFF_MARK not in cmp.text()


def test_cli_writes_csv(two_plans, tmp_path: Path, capsys) -> None:
    a, b = two_plans
    out = tmp_path / "cmp.csv"
    assert main(["compare", str(a), str(b), "--csv", str(out)]) == 0
    assert "差值" in capsys.readouterr().out
    df = pd.read_csv(out, encoding="utf-8-sig", dtype={"county": str})
    assert list(df.columns) == ["county", "metric", "label", "base", "nocoach", "differs"]
    row = df[(df["county"] == ALL) & (df["metric"] == "dep_coach")].iloc[0]
    assert row["nocoach"] == 0 and bool(row["differs"])
    assert df["metric"].str.startswith("moved_on_").any()
    assert not list(tmp_path.glob(".*tmp"))


def test_cli_refuses_one_plan_and_a_non_plan(two_plans, tmp_path: Path, capsys) -> None:
    a, _b = two_plans
    assert main(["compare", str(a)]) == 2
    (tmp_path / "empty").mkdir()
    assert main(["compare", str(a), str(tmp_path / "empty")]) == 2
    assert "Traceback" not in capsys.readouterr().err
