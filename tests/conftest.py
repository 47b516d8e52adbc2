"""Fixtures shared by several test modules."""

from __future__ import annotations

from pathlib import Path

import pytest

TINY_SCENARIO = Path(__file__).resolve().parent / "data" / "tiny" / "scenario.toml"


@pytest.fixture(scope="session")
def tiny_plan_dir(tmp_path_factory) -> Path:
    """The tiny scenario planned once for the whole run (no checker). Read it, never write into it."""
    from planner.pipeline import run_plan

    out = tmp_path_factory.mktemp("tiny") / "plan"
    run_plan(TINY_SCENARIO, out, check=False)
    return out
