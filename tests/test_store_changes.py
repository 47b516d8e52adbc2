"""changes.csv and the change lists: exactly the people whose plan changed, on two hand-edited tiny plans."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from planner.plan_format import REPORT_TABLES, plan_entries, read_plan, read_report_table
from planner.store.changes import plan_changes, write_changes
from tests.conftest import TINY_SCENARIO
from tests.store_fixtures import edited_plan, take_off


def _coach_pair(plan) -> tuple[str, str, str]:
    """A coach trip and two of its passengers (to swap their seats)."""
    coach = plan.trips[(plan.trips["mode"] == "coach") & (plan.trips["purpose"] == "passenger")]
    for tid in coach["trip_id"]:
        on = sorted(plan.legs.loc[plan.legs["trip_id"] == tid, "worker_id"].astype(str))
        if len(on) >= 3:
            return str(tid), on[1], on[2]
    raise AssertionError("no coach with 3 passengers in the tiny plan")


@pytest.fixture(scope="module")
def two_plans(tiny_plan_dir, tmp_path_factory):
    old = read_plan(tiny_plan_dir)
    trip, b, c = _coach_pair(old)
    a = sorted(old.legs["worker_id"].astype(str))[0]

    def edit(t):
        take_off(t, a)
        legs = t["legs"]
        ib = (legs["trip_id"] == trip) & (legs["worker_id"] == b)
        ic = (legs["trip_id"] == trip) & (legs["worker_id"] == c)
        sb, sc = legs.loc[ib, "seat"].iloc[0], legs.loc[ic, "seat"].iloc[0]
        legs.loc[ib, "seat"], legs.loc[ic, "seat"] = sc, sb

    new_dir = edited_plan(tiny_plan_dir, tmp_path_factory.mktemp("changes") / "new", edit)
    return old, read_plan(new_dir), new_dir, (a, b, c, trip)


def test_changes_list_exactly_the_people_whose_plan_changed(two_plans):
    old, new, _, (a, b, c, trip) = two_plans
    ch = plan_changes(old, new).set_index("worker_id")
    assert set(ch.index) == {a, b, c}
    assert ch.at[a, "change"] == "removed" and ch.at[a, "reason"] == "fever_at_boarding" and ch.at[a, "new_trip_id"] == ""
    old_a = old.legs[old.legs["worker_id"] == a].sort_values("leg")
    assert ch.at[a, "old_trip_id"] == ";".join(old_a["trip_id"]) and ch.at[a, "old_seat"] == ";".join(old_a["seat"])
    for w in (b, c):
        assert ch.at[w, "change"] == "moved" and ch.at[w, "reason"] == "replanned"
        assert ch.at[w, "old_trip_id"] == ch.at[w, "new_trip_id"] and ch.at[w, "old_seat"] != ch.at[w, "new_seat"]
    town = dict(zip(old.workers["worker_id"].astype(str), old.workers["township_code"].astype(str)))
    assert all(ch.at[w, "township_code"] == town[w] for w in ch.index)


def test_the_reverse_diff_says_added(two_plans):
    old, new, _, (a, _b, _c, _t) = two_plans
    back = plan_changes(new, old).set_index("worker_id")
    assert back.at[a, "change"] == "added" and back.at[a, "reason"] == "newly_planned"
    assert plan_changes(old, old).empty


def test_changes_csv_is_written_declared_and_keeps_the_plan_readable(two_plans):
    old, new, new_dir, _ = two_plans
    path = write_changes(new_dir, plan_changes(old, new))
    assert path.name in plan_entries() and path.name == REPORT_TABLES["changes"].file
    back = read_report_table(new_dir, "changes")
    assert list(back.columns) == REPORT_TABLES["changes"].names() and len(back) == 3
    assert read_plan(new_dir).plan_id == new.plan_id  # an unlisted report file does not change the plan's identity


def test_planner_changes_writes_the_change_lists(two_plans, tmp_path):
    old, _, new_dir, (a, b, c, _t) = two_plans
    out = tmp_path / "docs"
    res = subprocess.run([sys.executable, "-m", "planner.cli", "changes", str(old.path), str(new_dir),
                          "--scenario", str(TINY_SCENARIO), "--out", str(out)], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    assert "3 人变更" in res.stdout
    files = sorted(p.name for p in out.iterdir())
    assert any(f.startswith("变更名单_5") and f.endswith(".xlsx") for f in files)  # per township
    assert any(f in ("变更名单_广东.xlsx", "变更名单_浙江.xlsx") for f in files)  # per province
    frames = [pd.read_excel(out / f, dtype=str) for f in files if f.startswith("变更名单_5") and f.endswith(".xlsx")]
    listed = set(pd.concat(frames)["人员编号"])
    assert listed == {a, b, c}
    pdf = next(out / f for f in files if f.endswith(".pdf"))
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "变更名单" in text
