"""The app reads plans through read_plan and plans through the same locked, atomic writer as the CLI."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from planner.plan_dir import PlanLock  # noqa: E402
from tests.conftest import TINY_SCENARIO  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def start(monkeypatch, plan_dir: Path, plans_dir: Path) -> AppTest:
    monkeypatch.setenv("PLANNER_APP_SCENARIO", str(TINY_SCENARIO))
    monkeypatch.setenv("PLANNER_APP_PLAN_DIR", str(plan_dir))
    monkeypatch.setenv("PLANNER_APP_PLANS_DIR", str(plans_dir))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    return at


def test_app_refuses_a_mixed_plan_directory(tiny_plan_dir, tmp_path, monkeypatch):
    """A plan whose legs.csv is not the one its summary lists is refused with a message naming the file."""
    out = tmp_path / "plan"
    shutil.copytree(tiny_plan_dir, out)
    with open(out / "legs.csv", "a", encoding="utf-8") as f:
        f.write("W9999999,1,C0,1A,X,2020-02-16T08:00:00+08:00,Y,2020-02-16T09:00:00+08:00\n")
    at = start(monkeypatch, out, tmp_path)
    assert not at.exception
    text = " ".join(e.value for e in at.error)
    assert "legs.csv" in text and "校验和" in text


def test_app_open_refuses_an_incomplete_directory(tiny_plan_dir, tmp_path, monkeypatch):
    """'打开已有计划' on a directory with a listed file missing says it is not a complete plan."""
    out = tmp_path / "plan"
    shutil.copytree(tiny_plan_dir, out)
    (out / "stops.csv").unlink()
    at = start(monkeypatch, tiny_plan_dir, tmp_path)
    at.sidebar.radio(key="page").set_value("计划").run()
    at.text_input(key="open-dir").set_value(str(out)).run()
    at.button(key="open").click().run()
    assert not at.exception
    text = " ".join(e.value for e in at.error)
    assert "不是完整的计划目录" in text and "stops.csv" in text


def test_app_planning_is_refused_while_another_run_holds_the_directory(tiny_plan_dir, tmp_path, monkeypatch):
    """The app's plan button goes through run_plan: a locked --out gives the lock message, the plan is kept."""
    out = tmp_path / "plan"
    shutil.copytree(tiny_plan_dir, out)
    before = (out / "summary.json").read_bytes()
    at = start(monkeypatch, tiny_plan_dir, tmp_path)
    at.sidebar.radio(key="page").set_value("计划").run()
    at.text_input(key="plan-out").set_value(str(out)).run()
    with PlanLock(out):
        at.button(key="run-plan").click().run()
    assert not at.exception
    assert any("另一个规划进程" in e.value for e in at.error)
    assert (out / "summary.json").read_bytes() == before


def test_app_writes_and_opens_plans_only_inside_its_plan_folder(tiny_plan_dir, tmp_path, monkeypatch):
    """A typed server path (absolute elsewhere, or with ..) is refused for planning and opening; no path is shown."""
    plans = tmp_path / "plans"
    plans.mkdir()
    outside = tmp_path / "elsewhere"
    at = start(monkeypatch, tiny_plan_dir, plans)
    at.sidebar.radio(key="page").set_value("计划").run()
    for typed in (str(outside), "../elsewhere", "a/b"):
        at.text_input(key="plan-out").set_value(typed).run()
        at.button(key="run-plan").click().run()
        assert not at.exception
        assert any("计划" in e.value and "文件夹" in e.value for e in at.error), typed
        assert not outside.exists()
    at.text_input(key="open-dir").set_value(str(tiny_plan_dir.parent.parent)).run()
    at.button(key="open").click().run()
    assert not at.exception and at.error
    assert at.session_state.plan_dir == str(tiny_plan_dir)
    shown = " ".join(e.value for e in at.error)
    assert str(tmp_path) not in shown


def test_plan_dir_in_confines_names():
    """Plain names land in the first root; paths inside a root pass; everything else is refused."""
    import pytest as _pytest

    from planner.app.paths import plan_dir_in
    from planner.app.upload import UploadError

    root = Path("/srv/plans")
    assert plan_dir_in("wanzhou-0216", [root]) == root / "wanzhou-0216"
    assert plan_dir_in("/srv/plans/x", [root]) == Path("/srv/plans/x")
    for bad in ("", "..", "../x", "a/b", "/etc", "/srv/plans", "/srv/plans/../x", "a\x00b", "x" * 200):
        with _pytest.raises(UploadError):
            plan_dir_in(bad, [root])
