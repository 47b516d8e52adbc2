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
def plan_dir(tiny_plan_dir) -> Path:
    return tiny_plan_dir


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
    assert app.sidebar.radio(key="page").value == "概览"  # the first page is the overview (tests/test_app_overview.py)
    goto(app, "地图")
    raw = app.get("deck_gl_json_chart")[0].proto.json
    deck = json.loads(raw)
    types = {layer["@@type"] for layer in deck["layers"]}
    assert {"GeoJsonLayer", "ScatterplotLayer", "ArcLayer", "TextLayer"} <= types  # feeder paths: home-side view
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
    ids = {layer["id"].split(".")[0] for layer in deck_json(app)["layers"]}  # the page tags route layers
    assert "feeder_paths" not in ids and "train_arcs" not in ids and "coach_arcs" in ids
    app.multiselect(key="map-modes").set_value(["feeder", "coach", "train"]).run()
    app.radio(key="map-view").set_value("origin").run()
    assert "PathLayer" in {layer["@@type"] for layer in deck_json(app)["layers"]}


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
    assert any("数据无误" in s.value for s in app.success)  # the validation report is a table now
    balance = app.dataframe[-1].value
    assert list(balance.columns) == ["数据表", "读入行数", "接受", "拒绝"]
    assert (balance["读入行数"] == balance["接受"] + balance["拒绝"]).all()
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
    assert ids == {"counties", "provinces", "villages", "hubs", "destinations", "feeder_paths", "labels"}


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


# ------------------------------------------------------------------ uploads
from datetime import date  # noqa: E402

from planner.app import upload  # noqa: E402

TINY_DIR = ROOT / "tests" / "data" / "tiny"
GEODATA = ROOT / "geodata"
VEHICLE_TYPES = ROOT / "scenarios" / "data" / "common" / "vehicle_types.csv"
UPLOADED = ("workers.csv", "factories.csv", "fleet.csv", "train_services.csv", "risk_calendar.csv")


def _tiny_files(*names: str) -> dict[str, bytes]:
    return {n: (TINY_DIR / n).read_bytes() for n in names}


def test_upload_scenario_for_data_files_validates_clean(tmp_path):
    from planner.loader import load_and_validate

    files = _tiny_files(*UPLOADED)
    files["务工人员.csv"] = files.pop("workers.csv")
    saved = upload.save_uploads(files, tmp_path / "up")
    assert sorted(p.name for p in saved) == sorted(files) and all(p.parent == tmp_path / "up" for p in saved)
    names = {n: upload.guess_table(n) for n in files}
    assert names["务工人员.csv"] is None and names["fleet.csv"] == "fleet"
    with pytest.raises(upload.UploadError, match="务工人员"):  # workers not mapped yet: Chinese message
        upload.scenario_for_uploads(tmp_path / "up", {k: v for k, v in names.items() if v}, date(2020, 2, 14),
                                    date(2020, 3, 15), "测试", GEODATA, VEHICLE_TYPES)
    names["务工人员.csv"] = "workers"
    path = upload.scenario_for_uploads(tmp_path / "up", names, date(2020, 2, 14), date(2020, 3, 15), "上传测试",
                                       GEODATA, VEHICLE_TYPES)
    assert path == tmp_path / "up" / "scenario.toml"
    sc, result = load_and_validate(path)
    assert result.ok, result.report_text()
    assert sc.name == "上传测试" and sc.window.start == date(2020, 2, 14) and sc.window.end == date(2020, 3, 15)
    specs = sc.file_specs()
    assert specs["workers"].path == (tmp_path / "up" / "务工人员.csv").resolve()
    assert specs["villages"].path == (GEODATA / "chongqing" / "villages.gpkg").resolve()
    assert specs["vehicle_types"].path == VEHICLE_TYPES.resolve()
    # written again on a rerun (the generated file is never taken for an uploaded one)
    again = upload.scenario_for_uploads(tmp_path / "up", names, date(2020, 2, 20), date(2020, 3, 1), "再次",
                                        GEODATA, VEHICLE_TYPES)
    assert again == path and "再次" in path.read_text(encoding="utf-8")
    with pytest.raises(upload.UploadError, match="早于"):
        upload.scenario_for_uploads(tmp_path / "up", names, date(2020, 3, 1), date(2020, 2, 1), "x",
                                    GEODATA, VEHICLE_TYPES)
    with pytest.raises(upload.UploadError, match="两个文件"):
        upload.scenario_for_uploads(tmp_path / "up", {**names, "fleet.csv": "workers"}, date(2020, 2, 14),
                                    date(2020, 3, 15), "x", GEODATA, VEHICLE_TYPES)


def test_uploaded_toml_is_used_as_is(tmp_path):
    from planner.loader import load_and_validate

    files = _tiny_files("scenario.toml", "villages.csv", "counties.geojson", "hubs.csv", "stations.csv",
                        "receiving_counties.geojson", "vehicle_types.csv", *UPLOADED)
    upload.save_uploads(files, tmp_path)
    path = upload.scenario_for_uploads(tmp_path, {}, date(2020, 2, 14), date(2020, 3, 15), "", GEODATA,
                                       VEHICLE_TYPES)
    assert path == tmp_path / "scenario.toml"
    assert path.read_bytes() == files["scenario.toml"]
    assert upload.missing_data_files(path) == []
    assert load_and_validate(path)[1].ok
    (tmp_path / "fleet.csv").unlink()
    missing = upload.missing_data_files(path)
    assert len(missing) == 1 and "fleet" in missing[0] and "找不到" in missing[0]


@pytest.mark.parametrize("name", ["../workers.csv", "a/workers.csv", "a\\workers.csv", "/etc/workers.csv",
                                  "..", "x..csv", "", ".hidden.csv", "workers.exe"])
def test_upload_rejects_unsafe_names(tmp_path, name):
    folder = tmp_path / "up"
    with pytest.raises(upload.UploadError):
        upload.save_uploads({"fleet.csv": b"county_code,type_id,count\n", name: b"x"}, folder)
    assert not any(tmp_path.rglob("*.csv")) and not any(tmp_path.rglob("*.exe"))


def test_upload_rejects_two_tomls(tmp_path):
    with pytest.raises(upload.UploadError, match="一个情景文件"):
        upload.save_uploads({"a.toml": b"", "b.toml": b""}, tmp_path)


def test_app_upload_plans_data_files(app, tmp_path, monkeypatch):
    monkeypatch.setenv("PLANNER_APP_UPLOAD_DIR", str(tmp_path / "uploads"))
    monkeypatch.setenv("PLANNER_APP_PLANS_DIR", str(tmp_path))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    goto(at, "计划")
    files = _tiny_files(*UPLOADED)
    files["务工人员.csv"] = files.pop("workers.csv")
    at.file_uploader(key="upload-files").set_value([(n, b, "text/csv") for n, b in files.items()]).run()
    assert not at.exception
    assert any("务工人员" in e.value for e in at.error)  # workers not mapped yet: a Chinese message
    at.selectbox(key="upload-table-务工人员.csv").set_value("workers").run()
    assert not at.exception and not at.error
    at.button(key="upload-validate").click().run()
    assert not at.exception and not at.error
    assert any("数据无误" in s.value for s in at.success)
    out = tmp_path / "plan"
    at.text_input(key="upload-plan-out").set_value(str(out)).run()
    at.button(key="upload-run-plan").click().run()
    assert not at.exception, at.exception
    assert (out / "summary.json").exists()
    assert at.session_state.plan_dir == str(out)
    scenario = Path(at.session_state.scenario)
    assert scenario.name == "scenario.toml" and scenario.parent.parent == tmp_path / "uploads"
    goto(at, "区县人社局")
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    values = {m.label: m.value for m in at.metric}
    assert values["已安排人数"] == f"{summary['workers']['planned']:,}"


def test_app_upload_bad_files_give_chinese_messages(app, tmp_path, monkeypatch):
    monkeypatch.setenv("PLANNER_APP_UPLOAD_DIR", str(tmp_path / "uploads"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    at.run()
    goto(at, "计划")
    at.file_uploader(key="upload-files").set_value([("../workers.csv", b"x", "text/csv")]).run()
    assert not at.exception and any("路径分隔符" in e.value for e in at.error)
    bad = _tiny_files(*UPLOADED)
    bad["workers.csv"] = bad["workers.csv"].replace(b"2020-02-12,green_code", b"2020-13-45,green_code", 1)
    at.file_uploader(key="upload-files").set_value([(n, b, "text/csv") for n, b in bad.items()]).run()
    assert not at.exception and not at.error
    at.button(key="upload-validate").click().run()
    assert not at.exception
    # the validation report as a table: file, row, column, problem
    problems = next(d.value for d in at.dataframe if "问题" in d.value.columns)
    hit = problems[(problems["文件"] == "workers.csv") & (problems["行"] == 2) & (problems["列"] == "ready_date")]
    assert len(hit) == 1, problems
    at.file_uploader(key="upload-files").set_value([("scenario.toml", b"name = 1\n[window\n", "text/plain")]).run()
    assert not at.exception and any("TOML" in e.value for e in at.error)


def test_clicked_arc_lists_exactly_its_passengers_with_masked_ids(data, plan_dir):
    """The passengers shown for a map arc are the legs of its trips alighting at its drop point."""
    legs = pd.read_csv(plan_dir / "legs.csv", dtype=str)
    trips = pd.read_csv(plan_dir / "trips.csv", dtype=str)
    coach = trips[(trips["mode"] == "coach") & (trips["purpose"] == "passenger")]
    origin, first_trip = coach["origin_id"].iloc[0], coach["trip_id"].iloc[0]
    dest = legs.loc[legs["trip_id"] == first_trip, "alight_place_id"].iloc[0]
    expected = legs[legs["trip_id"].isin(coach.loc[coach["origin_id"] == origin, "trip_id"])
                    & (legs["alight_place_id"] == dest)]
    shown = views.arc_passengers(data, "coach", origin, dest)
    assert sorted(shown["人员编号"]) == sorted(expected["worker_id"])
    assert set(shown["车次"]) == set(expected["trip_id"])
    ids = data.people.loc[expected["worker_id"], "id_number"].astype(str)
    assert not set(ids) & set(shown["身份证号"]) and shown["身份证号"].str.contains(r"\*").all()


def test_trace_map_shows_only_the_traced_people_trips(data, plan_dir):
    """build_deck(worker_ids=...) draws the arcs of those workers' coach trips and nobody else's."""
    legs = pd.read_csv(plan_dir / "legs.csv", dtype=str)
    trips = pd.read_csv(plan_dir / "trips.csv", dtype=str).set_index("trip_id")
    worker = legs.loc[legs["trip_id"].str.startswith("C"), "worker_id"].iloc[0]
    own = legs[legs["worker_id"] == worker]
    deck = json.loads(build_deck(data, worker_ids={worker}).to_json())
    arcs = [row for layer in deck["layers"] if layer["@@type"] == "ArcLayer" for row in layer["data"]]
    expected = {(trips.at[t, "origin_id"], a) for t, a in zip(own["trip_id"], own["alight_place_id"])
                if trips.at[t, "mode"] in ("coach", "train")}
    assert {(r["origin_id"], r["dest_id"]) for r in arcs} == expected
    assert all(r["people"] == 1 for r in arcs)


def test_township_documents_button_writes_both_files_with_progress(app, data):
    """The 乡镇 view's document button (a progress bar per file) ends with a download per file."""
    goto(app, "乡镇")
    code = sorted(planned(data)["township_code"].unique())[0]
    app.selectbox(key="township").set_value(code).run()
    app.button(key=f"make-pickup-{code}").click().run()
    assert not app.exception and not app.error
    labels = [b.label for b in app.get("download_button")]
    assert f"下载 乘车人员名单_{code}.xlsx" in labels and f"下载 乘车人员名单_{code}.pdf" in labels
