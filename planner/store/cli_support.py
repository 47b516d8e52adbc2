"""Helpers the store's commands share: opening the store for a plan, the scenario's fever threshold."""

from __future__ import annotations

from pathlib import Path

from planner.errors import PlannerError
from planner.plan_format import read_summary
from planner.store.db import Store, open_store, store_url


def store_for(db: str | None, plan_dir: Path) -> Store:
    """The store of ``--db``, or the default one beside the plan directory."""
    return open_store(store_url(db, Path(plan_dir)))


def fever_threshold(plan_dir: Path, scenario: str | None) -> float:
    """``occupancy.fever_threshold_c`` of ``--scenario``, else of the scenario the plan was made from."""
    from planner.scenario import load_scenario

    path = scenario
    if not path:
        sc = read_summary(Path(plan_dir)).get("scenario") or {}
        path = sc.get("path") if isinstance(sc, dict) else None
    if not path or not Path(path).is_file():
        msg = ("找不到计划所用的情景文件，无法确定发热标准；请用 --scenario 指定 "
               "(scenario file not found: give --scenario for the fever threshold)")
        raise PlannerError(msg)
    return float(load_scenario(path).occupancy.fever_threshold_c)
