"""The app's 上车登记 and 交接签收 pages under AppTest: records reach the store, bad fields are named."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from planner.plan_format import read_plan  # noqa: E402
from planner.store.boarding import current_boarding  # noqa: E402
from planner.store.db import open_store  # noqa: E402
from planner.store.handover import latest_handovers  # noqa: E402
from planner.store.publish import publish  # noqa: E402
from tests.conftest import TINY_SCENARIO  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture()
def db(tmp_path, tiny_plan_dir):
    url = f"sqlite:///{tmp_path / 'app.sqlite'}"
    publish(open_store(url), read_plan(tiny_plan_dir), date(2020, 2, 18), by="t")
    return url


@pytest.fixture()
def app(tiny_plan_dir, db, monkeypatch):
    monkeypatch.setenv("PLANNER_APP_SCENARIO", str(TINY_SCENARIO))
    monkeypatch.setenv("PLANNER_APP_PLAN_DIR", str(tiny_plan_dir))
    monkeypatch.setenv("PLANNER_APP_DB", db)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    return at


def _feeder(tiny_plan_dir):
    """The earliest feeder run with at least four riders (the page test needs four people)."""
    plan = read_plan(tiny_plan_dir)
    riders = plan.legs.groupby("trip_id")["worker_id"].count()
    feeders = plan.trips[(plan.trips["mode"] == "feeder") & plan.trips["trip_id"].map(riders).ge(4)]
    t = feeders.sort_values(["depart", "trip_id"]).iloc[0]["trip_id"]
    return plan, t, sorted(plan.legs.loc[plan.legs["trip_id"] == t, "worker_id"].astype(str))


def test_boarding_page_records_ticks_fever_and_names_a_bad_temperature(app, db, tiny_plan_dir):
    plan, trip, people = _feeder(tiny_plan_dir)
    app.sidebar.radio(key="page").set_value("上车登记").run()
    assert not app.exception, app.exception
    app.selectbox(key="board-trip").set_value(trip).run()
    app.text_input(key="board-by").set_value("村干部甲").run()
    app.checkbox(key=f"tick-{trip}-{people[0]}").check()
    app.text_input(key=f"temp-{trip}-{people[0]}").set_value("36.6")
    app.checkbox(key=f"tick-{trip}-{people[1]}").check()
    app.text_input(key=f"temp-{trip}-{people[1]}").set_value("38.0")
    app.selectbox(key=f"status-{trip}-{people[2]}").set_value("absent")
    app.checkbox(key=f"tick-{trip}-{people[3]}").check()
    app.text_input(key=f"temp-{trip}-{people[3]}").set_value("热")
    app.run()
    app.button(key="board-save").click().run()
    assert not app.exception, app.exception
    got = current_boarding(open_store(db)).set_index("worker_id")
    assert got.loc[people[0], "status"] == "boarded" and got.loc[people[1], "status"] == "fever"
    assert got.loc[people[2], "status"] == "absent" and people[3] not in got.index
    assert set(got["recorded_by"]) == {"村干部甲"}
    assert all(s.startswith("app#seat ") for s in got["source"])  # the seat, never the name, is stored
    errors = [e.value for e in app.error]
    assert any("体温“热”不是数字" in e for e in errors)
    assert any("已保存" in s.value for s in app.success)


def test_boarding_page_without_a_name_saves_nothing(app, db, tiny_plan_dir):
    _plan, trip, people = _feeder(tiny_plan_dir)
    app.sidebar.radio(key="page").set_value("上车登记").run()
    app.selectbox(key="board-trip").set_value(trip).run()
    app.checkbox(key=f"tick-{trip}-{people[0]}").check().run()
    app.button(key="board-save").click().run()
    assert any("登记人姓名" in e.value for e in app.error)
    assert current_boarding(open_store(db)).empty


def test_phone_view_opens_the_boarding_page_for_one_trip(tiny_plan_dir, db, monkeypatch):
    _plan, trip, people = _feeder(tiny_plan_dir)
    monkeypatch.setenv("PLANNER_APP_SCENARIO", str(TINY_SCENARIO))
    monkeypatch.setenv("PLANNER_APP_PLAN_DIR", str(tiny_plan_dir))
    monkeypatch.setenv("PLANNER_APP_DB", db)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["view"] = "boarding"
    at.query_params["trip"] = trip
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="board-trip").value == trip
    assert len([c for c in at.checkbox if c.key.startswith(f"tick-{trip}-")]) == len(people)


def test_handover_page_records_the_signature(app, db, tiny_plan_dir):
    plan = read_plan(tiny_plan_dir)
    coach = plan.trips[(plan.trips["mode"] == "coach") & (plan.trips["purpose"] == "passenger")]
    coach = coach.sort_values("depart").iloc[0]["trip_id"]
    app.sidebar.radio(key="page").set_value("交接签收").run()
    assert not app.exception, app.exception
    app.selectbox(key="handover-trip").set_value(coach).run()
    assert any("应到" in h.value for h in app.subheader)
    app.text_input(key="handover-by").set_value("接站员乙")
    app.text_input(key="handover-org").set_value("东莞某厂")
    app.number_input(key="handover-received").set_value(3)
    app.run()
    app.button(key="handover-save").click().run()
    assert not app.exception, app.exception
    h = latest_handovers(open_store(db))[coach]
    assert (h.received, h.signed_by, h.organisation) == (3, "接站员乙", "东莞某厂")
