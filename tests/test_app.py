"""The Streamlit app (app.py) and its pure parts (planner.app.deck, planner.app.views).

The app runs headless through ``streamlit.testing.v1.AppTest`` on a plan of the tiny
test scenario, pointed at by ``PLANNER_APP_SCENARIO`` / ``PLANNER_APP_PLAN_DIR``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("streamlit")
pytest.importorskip("pydeck")

from streamlit.testing.v1 import AppTest  # noqa: E402

from planner.app import views  # noqa: E402
from planner.app.deck import build_deck  # noqa: E402
from planner.documents.common import load_doc_data  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "data" / "tiny" / "scenario.toml"


@pytest.fixture(scope="module")
def plan_dir(tmp_path_factory) -> Path:
    from planner.pipeline import run_plan

    out = tmp_path_factory.mktemp("app") / "plan"
    run_plan(TINY, out, check=False)
    return out


@pytest.fixture(scope="module")
def data(plan_dir):
    return load_doc_data(plan_dir, TINY)


@pytest.fixture()
def app(plan_dir, monkeypatch):
    monkeypatch.setenv("PLANNER_APP_SCENARIO", str(TINY))
    monkeypatch.setenv("PLANNER_APP_PLAN_DIR", str(plan_dir))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    return at


def goto(at: AppTest, page: str) -> AppTest:
    at.sidebar.radio(key="page").set_value(page).run()
    assert not at.exception, at.exception
    return at


def deck_json(at: AppTest) -> dict:
    charts = at.get("deck_gl_json_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.json)


def _walk(node):
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def rendered_bytes(at: AppTest) -> bytes:
    """Every element and block of the rendered app, serialised (tables are Arrow bytes inside)."""
    out = []
    for node in _walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "SerializeToString"):
            out.append(proto.SerializeToString())
    return b"".join(out)


def planned(data) -> pd.DataFrame:
    w = data.plan.workers
    return w[w["status"] == "planned"]


# ------------------------------------------------------------------ the app
def test_map_view_offline_layers_and_filter(app, data):
    assert app.sidebar.radio(key="page").value == "地图"
    raw = app.get("deck_gl_json_chart")[0].proto.json
    deck = json.loads(raw)
    types = {layer["@@type"] for layer in deck["layers"]}
    assert {"GeoJsonLayer", "ScatterplotLayer", "PathLayer", "ArcLayer"} <= types
    assert "http" not in raw
    assert "http" not in str(deck.get("mapStyle", "")) and "mapbox" not in raw
    # a missing or empty mapStyle makes Streamlit's front end fetch a basemap style from a CDN
    # (seen in a browser); pydeck's placeholder with map_provider=None keeps it offline
    assert deck.get("mapStyle") not in (None, ""), "mapStyle absent: Streamlit would load a CDN basemap"
    assert deck["layers"][0]["@@type"] == "GeoJsonLayer"  # the county polygons are the base layer
    arcs = {layer["id"]: layer["data"] for layer in deck["layers"] if layer["@@type"] == "ArcLayer"}
    assert sum(len(v) for v in arcs.values()) > 0

    prov = sorted(data.factories["province"].unique())[-1]
    app.selectbox(key="map-province").set_value(prov).run()
    assert not app.exception
    filtered = deck_json(app)
    assert filtered != deck
    fids = set(data.factories.index[data.factories["province"] == prov])
    sids = set(data.tables["stations"].loc[data.tables["stations"]["province"] == prov, "station_id"])
    for layer in filtered["layers"]:
        if layer["@@type"] == "ArcLayer":
            assert all(a["dest_id"] in fids | sids for a in layer["data"])

    app.multiselect(key="map-modes").set_value(["coach"]).run()
    ids = {layer["id"] for layer in deck_json(app)["layers"]}
    assert "feeder_paths" not in ids and "train_arcs" not in ids and "coach_arcs" in ids


def test_county_view_shows_summary_counts(app, data):
    goto(app, "区县人社局")
    s = data.plan.summary
    values = {m.label: m.value for m in app.metric}
    assert values["已安排人数"] == f"{s['workers']['planned']:,}"
    assert values["未安排人数"] == f"{s['workers']['unassigned']:,}"
    assert values["省际大巴发车"] == f"{s['departures']['coach']:,}"
    assert values["大巴发车下界"] == f"{s['lower_bound']['coach_departures']:,}"
    assert len(app.get("vega_lite_chart")) + len(app.get("arrow_vega_lite_chart")) >= 2
    reasons = app.dataframe[0].value
    assert dict(zip(reasons["原因代码"], reasons["人数"])) == s["workers"]["unassigned_by_reason"]


def test_township_view_lists_its_planned_workers(app, data):
    goto(app, "乡镇")
    towns = sorted(planned(data)["township_code"].unique())
    assert len(towns) >= 2
    for code in towns:
        app.selectbox(key="township").set_value(code).run()
        assert not app.exception
        table = app.dataframe[0].value
        expected = planned(data).loc[planned(data)["township_code"] == code, "worker_id"]
        assert len(table) == len(expected)
        assert all("*" in x for x in table["身份证号"])


def test_province_view_counts_arrivals(app, data):
    goto(app, "接收省份")
    prov_of = data.factories["province"]
    for prov in views.province_options(data):
        app.selectbox(key="province").set_value(prov).run()
        assert not app.exception
        expected = int((planned(data)["factory_id"].map(prov_of) == prov).sum())
        values = {m.label: m.value for m in app.metric}
        assert values["到达人数"] == f"{expected:,}"
        table = app.dataframe[0].value
        assert int(table["人数"].sum()) == expected


def co_riders(plan_dir: Path, wid: str) -> set[str]:
    """Co-passengers straight from legs.csv: same trip, overlapping time on board."""
    legs = pd.read_csv(plan_dir / "legs.csv", dtype=str)
    own = legs[legs["worker_id"] == wid]
    m = own.merge(legs[legs["worker_id"] != wid], on="trip_id", suffixes=("", "_c"))
    m = m[(m["board_time"] < m["alight_time_c"]) & (m["board_time_c"] < m["alight_time"])]
    return set(m["worker_id_c"])


def test_trace_view_finds_co_passengers(app, data, plan_dir):
    goto(app, "追溯")
    wid = str(planned(data)["worker_id"].iloc[0])
    app.text_input(key="trace-worker").set_value(wid).run()
    assert not app.exception
    same = app.dataframe[1].value
    expected = co_riders(plan_dir, wid)
    assert expected and set(same["接触人员编号"]) == expected
    assert len(same) and all("*" in x for x in same["身份证号"])
    passengers = app.dataframe[-1].value
    assert wid in set(passengers["人员编号"])

    app.text_input(key="trace-worker").set_value("W9999999").run()
    assert not app.exception and app.error


def test_no_full_id_number_rendered(app, data):
    ids = [x for x in data.people["id_number"].astype(str) if len(x) >= 15]
    assert ids
    for page in ("地图", "区县人社局", "乡镇", "接收省份", "追溯"):
        goto(app, page)
        if page == "追溯":
            app.text_input(key="trace-worker").set_value(str(planned(data)["worker_id"].iloc[0])).run()
        blob = rendered_bytes(app)
        if page == "追溯":  # the check sees table contents: the traced worker's co-passengers are in it
            assert str(planned(data)["worker_id"].iloc[1]).encode() in blob or b"W0" in blob
            masked = [x[:6] + "*" * (len(x) - 10) + x[-4:] for x in ids]
            assert any(m.encode() in blob for m in masked)
        leaked = [x for x in ids if x.encode() in blob]
        assert not leaked, page


def test_plan_page_validates_and_opens(app, plan_dir):
    goto(app, "计划")
    app.button(key="validate").click().run()
    assert not app.exception
    assert app.code and ("区县" in app.code[0].value or "workers" in app.code[0].value or app.code[0].value)
    app.text_input(key="open-dir").set_value(str(plan_dir / "missing")).run()
    app.button(key="open").click().run()
    assert app.error


# ------------------------------------------------------------------ deck and views
def _inter_pairs(data, legs) -> set:
    trips = data.plan.trips
    inter = trips[trips["mode"].isin(["coach", "train"]) & (trips["purpose"] == "passenger")]
    m = legs.merge(inter[["trip_id", "mode", "origin_id"]], on="trip_id")
    return set(zip(m["mode"], m["origin_id"], m["alight_place_id"]))


def _arcs(deck) -> set:
    out = set()
    for layer in json.loads(deck.to_json())["layers"]:
        if layer["@@type"] == "ArcLayer":
            mode = layer["id"].split("_")[0]
            out |= {(mode, a["origin_id"], a["dest_id"]) for a in layer["data"]}
    return out


def test_deck_arcs_are_distinct_pairs(data):
    assert _arcs(build_deck(data)) == _inter_pairs(data, data.plan.legs)
    for prov in views.province_options(data):
        ids = planned(data).loc[planned(data)["factory_id"].map(data.factories["province"]) == prov, "worker_id"]
        legs = data.plan.legs[data.plan.legs["worker_id"].isin(ids)]
        assert _arcs(build_deck(data, province=prov)) == _inter_pairs(data, legs)


def test_deck_filters_by_county_day_and_mode(data):
    w = planned(data)
    county = str(w["county_code"].iloc[0])
    deck = json.loads(build_deck(data, county=county).to_json())
    trips = data.plan.trips.set_index("trip_id")
    own_trips = set(data.plan.legs.loc[data.plan.legs["worker_id"].isin(w.loc[w["county_code"] == county, "worker_id"]),
                                       "trip_id"])
    assert own_trips
    assert all(trips.loc[t, "home_county_code"] in ("", county) for t in own_trips)
    none = json.loads(build_deck(data, county="999999").to_json())
    for layer in none["layers"]:
        if layer["@@type"] in ("ArcLayer", "PathLayer"):
            assert layer["data"] == []
    assert any(layer["data"] for layer in deck["layers"] if layer["@@type"] == "ArcLayer")
    day = w["depart_day"].min().date()
    on_day = set(w.loc[w["depart_day"].dt.date == day, "worker_id"])
    legs = data.plan.legs[data.plan.legs["worker_id"].isin(on_day)]
    assert _arcs(build_deck(data, day=day)) == _inter_pairs(data, legs)
    ids = {layer["id"] for layer in json.loads(build_deck(data, modes={"feeder"}).to_json())["layers"]}
    assert ids == {"counties", "villages", "hubs", "destinations", "feeder_paths"}


def test_deck_feeder_paths_follow_stops(data):
    deck = json.loads(build_deck(data, modes={"feeder"}).to_json())
    paths = next(layer["data"] for layer in deck["layers"] if layer["id"] == "feeder_paths")
    feeders = data.plan.trips[(data.plan.trips["mode"] == "feeder") & (data.plan.trips["purpose"] == "passenger")]
    st = data.plan.stops[data.plan.stops["trip_id"].isin(feeders["trip_id"])]
    distinct = {tuple(g.sort_values("seq")["place_id"]) for _, g in st.groupby("trip_id")}
    assert len(paths) == len(distinct)
    assert sum(p["trips"] for p in paths) == len(feeders)
    assert all(len(p["path"]) >= 2 for p in paths)


def test_deck_is_small_and_offline(data):
    raw = build_deck(data).to_json()
    assert "http" not in raw and len(raw) < 200_000


def test_views_numbers(data):
    s = data.plan.summary
    k = views.county_kpis(data)
    assert k["planned"] == s["workers"]["planned"] and k["unassigned"] == s["workers"]["unassigned"]
    county = views.county_options(data)
    kc = views.county_kpis(data, next(iter(county)))
    assert kc["planned"] == int((planned(data)["county_code"] == next(iter(county))).sum())
    t = views.daily_tables(data)
    assert int(t["departures"].to_numpy().sum()) == s["departures"]["coach"] + s["departures"]["train_carriage"]
    wid = str(planned(data)["worker_id"].iloc[0])
    info = views.worker_info(data, wid)
    assert info["id_masked"].count("*") == 8 and len(info["legs"]) >= 1
    trip = info["legs"]["车次"].iloc[-1]
    p = views.trip_passengers(data, trip)
    assert wid in set(p["人员编号"]) and all("*" in x for x in p["身份证号"])
    assert views.worker_info(data, "nobody") is None
