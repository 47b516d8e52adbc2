"""The map (issue 15 section 3): fitted view, labels, village sizes, tooltips, route passengers, the page.

The deck is built on the tiny scenario's plan; the page runs through Streamlit's AppTest.
The browser side (legend on the canvas, tooltip inside it, a real click listing passengers,
no request leaving the machine) is in ``tests/test_app_browser.py``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("streamlit")
pytest.importorskip("pydeck")

from streamlit.testing.v1 import AppTest  # noqa: E402

from planner.app import deck as deckmod  # noqa: E402
from planner.app.deck import (MapFilters, arc_trip_ids, build_deck, build_deck_json, feeder_trip_ids,  # noqa: E402
                              fit_view, map_base, view_box)
from planner.app.map_page import legend_html, picked_route, route_passengers  # noqa: E402
from planner.documents.common import load_doc_data  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "data" / "tiny" / "scenario.toml"


@pytest.fixture(scope="module")
def data(tiny_plan_dir):
    return load_doc_data(tiny_plan_dir, TINY)


@pytest.fixture(scope="module")
def base(data):
    return map_base(data)


def layers(deck) -> dict[str, dict]:
    return {layer["id"]: layer for layer in json.loads(deck.to_json())["layers"]}


def spec(deck) -> dict:
    return json.loads(deck.to_json())


def shown_points(lay: dict, ids=("villages", "hubs", "destinations")) -> list[tuple[float, float]]:
    return [tuple(r["position"]) for i in ids if i in lay for r in lay[i]["data"]]


def inside(box, pts) -> bool:
    return all(box[0] <= x <= box[2] and box[1] <= y <= box[3] for x, y in pts)


# ------------------------------------------------------------------ the view
@pytest.mark.parametrize("pts", [
    [(108.4, 30.8), (113.3, 23.1), (121.5, 31.2)],  # Wanzhou to Guangzhou and Shanghai
    [(108.40, 30.80), (108.43, 30.82)],              # two villages of one township
    [(108.4, 30.8)],                                  # one point
])
def test_fit_view_shows_every_point_left_of_the_legend(pts):
    v = fit_view(pts, left=deckmod.LEGEND_W)
    box = view_box(v)
    assert inside(box, pts)
    # nothing falls under the legend: the free part starts LEGEND_W pixels from the left
    free_left = box[0] + (box[2] - box[0]) * deckmod.LEGEND_W / deckmod.VIEW_W
    assert all(x >= free_left for x, _ in pts)
    if len(pts) > 1:  # and the view is not needlessly wide: one zoom step more loses a point
        tighter = view_box(type(v)(longitude=v.longitude, latitude=v.latitude, zoom=v.zoom + 1))
        assert not inside(tighter, pts)


def test_whole_plan_view_includes_the_destinations(data, base):
    lay = layers(build_deck(data, base=base))
    d = spec(build_deck(data, base=base))
    box = view_box(_vs(d))
    dests = [tuple(r["position"]) for r in lay["destinations"]["data"]]
    assert dests and inside(box, dests)
    assert inside(box, shown_points(lay))
    # every arc ends at a named place shown on the map, inside the view
    named = {r["id"]: r["name"] for r in lay["destinations"]["data"]}
    for mode in ("coach_arcs", "train_arcs"):
        for arc in lay[mode]["data"]:
            assert arc["dest_id"] in named and "：" in named[arc["dest_id"]]
            assert inside(box, [tuple(arc["target"]), tuple(arc["source"])])


def _vs(d: dict):
    import pydeck as pdk

    v = d["initialViewState"]
    return pdk.ViewState(longitude=v["longitude"], latitude=v["latitude"], zoom=v["zoom"])


def test_township_filter_zooms_to_its_villages(data, base):
    w = data.plan.workers
    town = str(w.loc[w["status"] == "planned", "township_code"].value_counts().index[0])
    whole = spec(build_deck(data, base=base))
    d = spec(build_deck(data, township=town, base=base))
    assert d["initialViewState"]["zoom"] > whole["initialViewState"]["zoom"] + 3
    lay = {layer["id"]: layer for layer in d["layers"]}
    own = set(w.loc[(w["status"] == "planned") & (w["township_code"] == town), "village_code"])
    assert {r["id"] for r in lay["villages"]["data"]} == own
    assert inside(view_box(_vs(d)), [tuple(r["position"]) for r in lay["villages"]["data"]])
    assert "feeder_paths" in lay  # the home side shows the feeder routes


def test_province_filter_fits_that_province(data, base):
    prov = sorted(data.factories["province"].unique())[0]
    d = spec(build_deck(data, province=prov, base=base))
    lay = {layer["id"]: layer for layer in d["layers"]}
    fids = set(data.factories.index[data.factories["province"] == prov])
    sids = set(data.tables["stations"].loc[data.tables["stations"]["province"] == prov, "station_id"])
    assert {r["id"] for r in lay["destinations"]["data"]} <= fids | sids
    assert inside(view_box(_vs(d)), shown_points(lay))


def test_destinations_view_shows_only_the_destination_side(data, base):
    d = spec(build_deck(data, view="destinations", base=base))
    lay = {layer["id"]: layer for layer in d["layers"]}
    box = view_box(_vs(d))
    assert inside(box, [tuple(r["position"]) for r in lay["destinations"]["data"]])
    assert not inside(box, [tuple(r["position"]) for r in lay["villages"]["data"]])


# ------------------------------------------------------------------ layers
def test_layer_order_keeps_routes_and_labels_above_villages(data, base):
    ids = [layer["id"] for layer in spec(build_deck(data, view="origin", base=base))["layers"]]
    order = ["counties", "villages", "feeder_paths", "hubs", "coach_arcs", "destinations", "labels"]
    assert [i for i in ids if i in order] == order
    flat = {layer["id"]: layer.get("parameters") for layer in spec(build_deck(data, view="origin", base=base))["layers"]}
    for i in ("villages", "feeder_paths", "hubs", "destinations", "labels"):
        assert flat[i] == deckmod.FLAT  # drawn in list order over the raised arcs


def test_village_circles_sized_by_travellers_and_apart(data, base):
    w = data.plan.workers
    per = w[w["status"] == "planned"]["village_code"].value_counts()
    vil = layers(build_deck(data, base=base))["villages"]
    assert vil["radiusUnits"] == "meters"
    rows = vil["data"]
    assert {r["id"]: r["count"] for r in rows} == per.to_dict()
    by_count = sorted(rows, key=lambda r: r["count"])
    radii = [r["radius"] for r in by_count]
    assert radii == sorted(radii) and radii[-1] > radii[0]  # more travellers, larger circle


def test_village_radius_keeps_neighbours_apart():
    rng = np.random.default_rng(7)
    pts = np.column_stack([108.3 + rng.random(400) * 0.3, 30.7 + rng.random(400) * 0.3])
    counts = rng.integers(1, 200, 400).astype(float)
    r = deckmod._village_radius_m(pts, counts)
    lat0 = math.radians(30.85)
    xy = np.column_stack([pts[:, 0] * 111_320 * math.cos(lat0), pts[:, 1] * 110_574])
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    overlap = (r[:, None] + r[None, :] > d).any(axis=1).mean()
    assert overlap < 0.5, f"{overlap:.0%} of villages overlap a neighbour"


def test_tooltips_are_a_template_with_plain_text_fields(data, base):
    d = build_deck(data, view="origin", base=base)
    assert d._tooltip["html"] == deckmod.TOOLTIP_HTML and "<br/>" in d._tooltip["html"]
    style = d._tooltip["style"]
    assert style["transform"] == "none" and style["right"] and style["top"]  # pinned inside the canvas
    for layer in spec(d)["layers"]:
        if not layer.get("pickable"):
            continue
        rows = layer["data"]["features"] if isinstance(layer["data"], dict) else layer["data"]
        assert rows, layer["id"]
        for r in rows:
            fields = r.get("properties", r)
            # Streamlit escapes each field it puts in the template: markup in a field would show as text
            assert fields["name"] and fields["info"] and "<" not in fields["name"] + fields["info"], layer["id"]


def test_labels_are_chinese_and_do_not_overlap(data, base):
    d = spec(build_deck(data, view="origin", base=base))
    lab = next(layer for layer in d["layers"] if layer["id"] == "labels")
    assert lab["characterSet"] == "auto" and "CJK" in lab["fontFamily"]
    texts = [r["text"] for r in lab["data"]]
    assert texts and any("\u4e00" <= ch <= "\u9fff" for t in texts for ch in t)
    z = d["initialViewState"]["zoom"]
    again = deckmod._declutter(lab["data"], z)
    assert again == lab["data"]  # already a set of non-overlapping labels


def test_legend_names_what_the_map_draws():
    html = legend_html(("feeder", "coach"), county_selected=True, feeders=True)
    for word in ("图例", "村", "接驳车线路", "客运站", "火车站", "大巴", "工厂", "到达站", "所选区县"):
        assert word in html
    assert "专列" not in html
    assert "接驳车线路" not in legend_html(("feeder", "coach"), feeders=False)


# ------------------------------------------------------------------ passengers of a picked route
def test_arc_passengers_are_the_people_of_that_arc(data, base):
    lay = layers(build_deck(data, base=base))
    arc = lay["coach_arcs"]["data"][0]
    trips = arc_trip_ids(data, "coach", arc["origin_id"], arc["dest_id"], base=base)
    assert len(trips) == arc["trips"]
    table = route_passengers(data, trips, arc["dest_id"])
    assert len(table) == arc["people"]
    legs = data.plan.legs
    expected = legs[legs["trip_id"].isin(trips) & (legs["alight_place_id"] == arc["dest_id"])]
    assert sorted(table["人员编号"]) == sorted(expected["worker_id"])
    ids = set(data.people.loc[expected["worker_id"], "id_number"].astype(str))
    assert not ids & set(table["身份证号"]) and table["身份证号"].str.contains(r"\*").all()


def test_feeder_path_passengers(data, base):
    lay = layers(build_deck(data, view="origin", base=base))
    path = lay["feeder_paths"]["data"][0]
    trips = feeder_trip_ids(data, path["key"], base=base)
    assert len(trips) == path["trips"]
    assert len(route_passengers(data, trips)) == path["people"]


def test_picked_route_reads_the_selection():
    obj = {"mode": "coach", "origin_id": "T1", "dest_id": "F1"}
    assert picked_route({"selection": {"objects": {"coach_arcs": [obj]}}}) == ("coach_arcs", obj)
    assert picked_route({"selection": {"objects": {"villages": [{"id": "x"}]}}}) is None
    assert picked_route(None) is None


def test_deck_json_for_filters_is_reproducible(data, base):
    f = MapFilters(province=sorted(data.factories["province"].unique())[0])
    assert build_deck_json(data, f, base) == build_deck_json(data, f, map_base(data))


# ------------------------------------------------------------------ the page
@pytest.fixture()
def app(tiny_plan_dir, monkeypatch):
    monkeypatch.setenv("PLANNER_APP_SCENARIO", str(TINY))
    monkeypatch.setenv("PLANNER_APP_PLAN_DIR", str(tiny_plan_dir))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    if at.sidebar.radio(key="page").value != "地图":
        at.sidebar.radio(key="page").set_value("地图").run()
    assert not at.exception
    return at


def _chart(at) -> dict:
    charts = at.get("deck_gl_json_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.json)


def test_page_zooms_on_filter_and_shows_the_legend(app, data):
    first = _chart(app)
    assert any("planner-map-legend" in m.value for m in app.markdown)
    w = data.plan.workers
    town = str(w.loc[w["status"] == "planned", "township_code"].value_counts().index[0])
    county = str(w.loc[w["township_code"] == town, "county_code"].iloc[0])
    app.selectbox(key="map-county").set_value(county).run()
    app.selectbox(key="map-township").set_value(town).run()
    assert not app.exception
    zoomed = _chart(app)
    assert zoomed["initialViewState"]["zoom"] > first["initialViewState"]["zoom"] + 3
    assert "出发地" in " ".join(c.value for c in app.caption)
    app.radio(key="map-view").set_value("all").run()
    assert _chart(app)["initialViewState"]["zoom"] < zoomed["initialViewState"]["zoom"]


def test_page_route_layer_ids_change_with_the_filters(app, data):
    def route_ids():
        chart = app.get("deck_gl_json_chart")[0]
        return chart.proto.id, {layer["id"] for layer in json.loads(chart.proto.json)["layers"] if "." in layer["id"]}

    key0, ids0 = route_ids()
    assert {i.split(".")[0] for i in ids0} == {"coach_arcs", "train_arcs"}
    prov = sorted(data.factories["province"].unique())[0]
    app.selectbox(key="map-province").set_value(prov).run()
    key1, ids1 = route_ids()
    # one chart (no remount), but a pick on the old map names layers the new one does not have
    assert key0 == key1 and not ids0 & ids1
    tag = next(iter(ids1)).split(".")[1]
    obj = {"mode": "coach", "origin_id": "x", "dest_id": "y"}
    assert picked_route({"selection": {"objects": {f"coach_arcs.{tag}": [obj]}}}, tag) == ("coach_arcs", obj)
    old = next(iter(ids0)).split(".")[1]
    assert picked_route({"selection": {"objects": {f"coach_arcs.{old}": [obj]}}}, tag) is None
    app.selectbox(key="map-province").set_value("全部").run()
    assert route_ids()[1] == ids0
