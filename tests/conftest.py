"""Fixtures shared by several test modules."""

from __future__ import annotations

import sys
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


@pytest.fixture(autouse=True)
def _keep_main_module():
    """Put back ``sys.modules['__main__']`` after each test.

    Streamlit's AppTest runs app.py as ``__main__`` and leaves it there; a later test that
    spawns processes (a dask LocalCluster's nanny) would then start each child by running
    app.py, and the child dies ("Nanny failed to start worker process").
    """
    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main
