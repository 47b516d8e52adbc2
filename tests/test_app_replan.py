"""The app page 发布与重新规划 under AppTest on the tiny scenario: publish, replan, verdict and changes; refusals.

Invariants: 发布 publishes exactly the trips departing through the chosen day (the store says so);
重新规划 writes a checked plan beside the base whose changes table matches its changes.csv; a lock date
after the window's end and a plan with nothing published are refused with a Chinese message and nothing
is written.
"""

from __future__ import annotations

import csv
import shutil
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from planner.app.paths import plans_in  # noqa: E402
from planner.plan_format import read_plan  # noqa: E402
from planner.store.db import open_store  # noqa: E402
from planner.store.publish import local_day, published_trip_ids  # noqa: E402
from tests.conftest import TINY_SCENARIO  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PAGE = "发布与重新规划"
THROUGH = date(2020, 2, 18)


def _app(monkeypatch, plan: Path, scenario: Path, plans: Path, db: str | None = None) -> AppTest:
    monkeypatch.setenv("PLANNER_APP_SCENARIO", str(scenario))
    monkeypatch.setenv("PLANNER_APP_PLAN_DIR", str(plan))
    monkeypatch.setenv("PLANNER_APP_PLANS_DIR", str(plans))
    if db is None:
        monkeypatch.delenv("PLANNER_APP_DB", raising=False)
    else:
        monkeypatch.setenv("PLANNER_APP_DB", db)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=150)
    at.run()
    assert not at.exception, at.exception
    at.sidebar.radio(key="page").set_value(PAGE).run()
    assert not at.exception, at.exception
    return at


def _table(at: AppTest, column: str) -> pd.DataFrame:
    """The first table on the page with ``column``."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _copy(tiny_plan_dir: Path, tmp_path: Path) -> tuple[Path, Path, Path]:
    """The tiny plan copied into a plans folder, and the tiny scenario copied beside it."""
    plans = tmp_path / "plans"
    plan = plans / "day1"
    shutil.copytree(tiny_plan_dir, plan)
    sc_dir = tmp_path / "scenario"
    shutil.copytree(TINY_SCENARIO.parent, sc_dir)
    return plans, plan, sc_dir / TINY_SCENARIO.name


def test_publish_then_replan_shows_the_verdict_and_the_changes(tiny_plan_dir, tmp_path, monkeypatch):
    plans, plan, scenario = _copy(tiny_plan_dir, tmp_path)
    at = _app(monkeypatch, plan, scenario, plans)
    at.date_input(key="publish-through").set_value(THROUGH).run()
    at.button(key="publish").click().run()
    assert not at.exception, at.exception
    assert any("已发布至 2020-02-18" in s.value for s in at.success), [s.value for s in at.success]
    base = read_plan(plan)
    store = open_store(f"sqlite:///{plans / 'planner-store.sqlite'}")
    days = local_day(base.trips["depart"])
    due = set(base.trips.loc[days.notna() & (days <= THROUGH), "trip_id"].astype(str))
    assert published_trip_ids(store, base.plan_id) == due and due
    table = _table(at, "车次数")
    assert set(table["日期"]) <= {d.isoformat() for d in days.dropna() if d <= THROUGH}
    assert int(table["车次数"].sum()) == len(due)
    assert any("计划版本：第 1 版" in c.value for c in at.caption)

    # today's data: one worker with a later seat cancels
    legs = base.legs.assign(trip_id=base.legs["trip_id"].astype(str))
    later = sorted(set(legs["worker_id"].astype(str)) - set(legs.loc[legs["trip_id"].isin(due), "worker_id"].astype(str)))[0]
    path = scenario.parent / "workers.csv"
    rows = [r for r in csv.reader(open(path, encoding="utf-8")) if r[0] != later]
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(rows)

    assert at.date_input(key="replan-lock").value == THROUGH  # default: the last published day
    # a lock date after the plan's end: refused, nothing written
    at.date_input(key="replan-lock").set_value(date(2021, 1, 1)).run()
    at.button(key="replan-run").click().run()
    assert not at.exception, at.exception
    assert any("晚于计划结束日" in e.value for e in at.error), [e.value for e in at.error]
    assert sorted(p.name for p in plans.iterdir() if p.is_dir()) == ["day1"]

    at.date_input(key="replan-lock").set_value(THROUGH).run()
    at.button(key="replan-run").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert any("校验通过" in s.value for s in at.success), [s.value for s in at.success]
    new = plans / "day1-replan-0218"
    assert (new / "summary.json").exists()
    changes = pd.read_csv(new / "changes.csv", dtype=str, keep_default_na=False)
    assert later in set(changes["worker_id"])
    shown = _table(at, "合计")
    assert int(shown["合计"].sum()) == len(changes)
    assert dict(zip(shown["乡镇代码"], shown["合计"])) == changes["township_code"].value_counts().to_dict()
    # the new plan can be opened: it is among the app's plans, and one click switches to it
    assert new in plans_in([plans])
    at.button(key="replan-open").click().run()
    assert not at.exception, at.exception
    assert at.session_state["plan_dir"] == str(new)


def test_nothing_published_is_refused_and_nothing_is_written(tiny_plan_dir, tmp_path, monkeypatch):
    plans, plan, scenario = _copy(tiny_plan_dir, tmp_path)
    at = _app(monkeypatch, plan, scenario, plans, db=f"sqlite:///{tmp_path / 'store.sqlite'}")
    assert any("尚无已发布的车次" in i.value for i in at.info)
    at.button(key="replan-run").click().run()
    assert not at.exception, at.exception
    assert any("尚无已发布的车次" in e.value and "未写出" in e.value for e in at.error), [e.value for e in at.error]
    assert sorted(p.name for p in plans.iterdir()) == ["day1"]
