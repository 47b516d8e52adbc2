"""The app's 地图 page: filters, the fitted map with its legend, and the people of a clicked route.

The deck is built by :mod:`planner.app.deck`. What does not depend on the filters
(:func:`planner.app.deck.map_base`) is built once per plan; the deck's JSON is cached
per (plan, filters) with ``st.cache_data``, so going back to a filter is instant and a
new one costs only the aggregation (figures in ``bench/RESULTS.md``, ``bench/map_filters.py``).

The chart keeps one key (a new key would remount deck.gl and rebuild its WebGL context,
many seconds in a browser without a GPU); instead the clickable layers' ids carry a digest
of the filters (``coach_arcs.<digest>``), so a selection made on one map is dropped by the
front end on the next and never stands for another map's object at the same index.
Clicking an arc (coach or train) or a feeder route lists the people on those vehicles,
ID numbers masked.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from html import escape
from typing import Callable

import pandas as pd
import streamlit as st

from planner.app import views
from planner.app.deck import (COLORS, MODE_NAMES, MODES, VIEWS, FrozenDeck, MapBase, MapFilters, arc_trip_ids,
                              build_deck_json, feeder_trip_ids, map_base, resolved_view)
from planner.documents.common import DocData, local_time, mask_id

ALL = "全部"
MAP_HEIGHT = 640
PASSENGER_COLUMNS = ["车次", "车辆", "出发时间", "座位", "人员编号", "姓名", "身份证号", "上车地点", "下车地点", "到达时间"]


# ------------------------------------------------------------------ cached parts
@st.cache_resource(show_spinner="正在准备地图数据…", max_entries=4)
def cached_base(plan_key: str, _data: DocData) -> MapBase:
    """:func:`map_base` once per plan (``plan_key``: plan directory and its summary's time stamp)."""
    return map_base(_data)


ROUTE_LAYERS = ("coach_arcs", "train_arcs", "feeder_paths")


@st.cache_data(show_spinner="正在绘制地图…", max_entries=64)
def cached_deck_json(plan_key: str, day: str, county: str, township: str, province: str, modes: tuple[str, ...],
                     view: str, digest: str, _data: DocData) -> str:
    """The deck's JSON for one plan and one set of filters (empty strings: no filter).

    The clickable layers' ids get ``.<digest>`` (see the module docstring).
    """
    filters = MapFilters(day=date.fromisoformat(day) if day else None, county=county or None,
                         township=township or None, province=province or None, modes=modes, view=view)
    spec = json.loads(build_deck_json(_data, filters, cached_base(plan_key, _data)))
    for layer in spec["layers"]:
        if layer.get("id") in ROUTE_LAYERS:
            layer["id"] = f"{layer['id']}.{digest}"
    return json.dumps(spec, ensure_ascii=False, separators=(",", ":"))


# ------------------------------------------------------------------ legend
def _css(rgba: list[int]) -> str:
    r, g, b, a = (list(rgba) + [255])[:4]
    return f"rgba({r},{g},{b},{a / 255:.2f})"


def legend_html(modes: set[str] | tuple[str, ...], county_selected: bool = False, feeders: bool = True) -> str:
    """The legend drawn over the map (HTML and CSS, Chinese), with the entries of the modes shown.

    ``feeders``: whether the map draws feeder routes (the home-side view only).
    """
    dot = ('<span style="display:inline-block;width:{s}px;height:{s}px;border-radius:50%;background:{c};'
           'border:1.5px solid #fff;box-shadow:0 0 0 1px rgba(0,0,0,.25);vertical-align:middle"></span>')
    line = ('<span style="display:inline-block;width:26px;height:0;border-top:{w}px solid {c};'
            'vertical-align:middle"></span>')
    grad = ('<span style="display:inline-block;width:26px;height:4px;border-radius:2px;'
            'background:linear-gradient(90deg,{a},{b});vertical-align:middle"></span>')
    rows = [(dot.format(s=12, c=_css(COLORS["village"])), "村（面积按出行人数）")]
    if "feeder" in modes and feeders:
        rows.append((line.format(w=3, c=_css(COLORS["feeder"])), "接驳车线路"))
    rows += [(dot.format(s=11, c=_css(COLORS["terminal"])), "客运站"),
             (dot.format(s=11, c=_css(COLORS["rail_station"])), "火车站")]
    if "coach" in modes:
        rows.append((grad.format(a=_css(COLORS["coach_src"]), b=_css(COLORS["coach_dst"])), "大巴（出发 → 到达）"))
    if "train" in modes:
        rows.append((grad.format(a=_css(COLORS["train_src"]), b=_css(COLORS["train_dst"])), "专列（出发 → 到达）"))
    rows += [(dot.format(s=11, c=_css(COLORS["factory"])), "工厂"),
             (dot.format(s=11, c=_css(COLORS["station"])), "到达站")]
    if county_selected:
        rows.append(('<span style="display:inline-block;width:16px;height:11px;background:'
                     f'{_css(COLORS["county_selected"])};border:1px solid {_css(COLORS["county_line"])};'
                     'vertical-align:middle"></span>', "所选区县"))
    items = "".join(f'<div style="display:flex;align-items:center;gap:8px;margin:1px 0">'
                    f'<span style="width:26px;flex:none;text-align:center">{sym}</span><span>{escape(text)}</span></div>'
                    for sym, text in rows)
    return (
        "<style>"
        ".st-key-map-frame{position:relative}"
        ".st-key-map-frame .stElementContainer:has(.planner-map-legend){position:absolute;left:12px;bottom:calc(1rem + 12px);"
        "width:auto!important;z-index:5;pointer-events:none}"
        ".planner-map-legend{background:rgba(255,255,255,.92);border:1px solid #cfd8dc;border-radius:6px;"
        "padding:6px 9px;font-size:12px;line-height:1.3;max-width:190px;color:#263238;box-shadow:0 1px 4px rgba(0,0,0,.15)}"
        "</style>"
        f'<div class="planner-map-legend" data-testid="planner-map-legend"><div style="font-weight:600;'
        f'margin-bottom:4px">图例</div>{items}<div style="color:#607d8b;margin-top:4px">'
        "点击弧线或接驳线路：车上人员</div></div>"
    )


# ------------------------------------------------------------------ passengers
def route_passengers(data: DocData, trip_ids: list[str], dest_id: str | None = None) -> pd.DataFrame:
    """The people on ``trip_ids`` (those alighting at ``dest_id`` when given), by trip and seat, IDs masked."""
    legs = data.plan.legs
    legs = legs[legs["trip_id"].astype(str).isin(set(trip_ids))]
    if dest_id is not None:
        legs = legs[legs["alight_place_id"].astype(str) == str(dest_id)]
    if legs.empty:
        return pd.DataFrame(columns=PASSENGER_COLUMNS)
    trips = data.plan.trips.set_index(data.plan.trips["trip_id"].astype(str))
    people = data.people
    place = data.places
    vehicles = data.vehicles
    plates = vehicles["plate"].astype(str) if "plate" in getattr(vehicles, "columns", []) else None
    rows = []
    for r in legs.itertuples(index=False):
        t = trips.loc[str(r.trip_id)]
        wid = str(r.worker_id)
        person = people.loc[wid] if wid in people.index else {}
        vid = str(t.get("vehicle_id", "") or "")
        if plates is not None and vid in plates.index and plates[vid] not in ("", "nan"):
            vid = f"{vid}（{plates[vid]}）"
        rows.append({
            "车次": str(r.trip_id), "车辆": vid, "出发时间": local_time(r.board_time), "座位": str(r.seat),
            "人员编号": wid, "姓名": str(person.get("name", "") or ""),
            "身份证号": mask_id(person.get("id_number", "")),
            "上车地点": place.get(str(r.board_place_id), str(r.board_place_id)),
            "下车地点": place.get(str(r.alight_place_id), str(r.alight_place_id)),
            "到达时间": local_time(r.alight_time),
        })
    out = pd.DataFrame(rows, columns=PASSENGER_COLUMNS)
    return out.sort_values(["出发时间", "车次", "座位"], kind="stable").reset_index(drop=True)


def picked_route(event, digest: str | None = None) -> tuple[str, dict] | None:
    """(layer id, object) of the arc or feeder route picked on the map, if any.

    With ``digest``, only a pick on the current map counts (layer id ``<layer>.<digest>``);
    the layer id returned is the plain one.
    """
    selection = getattr(event, "selection", None) if event is not None else None
    if selection is None and isinstance(event, dict):
        selection = event.get("selection")
    objects = (selection or {}).get("objects", {}) or {}
    for layer_id, picked in objects.items():
        plain, _, tag = str(layer_id).partition(".")
        if digest is not None and tag != digest:
            continue
        if picked and plain in ROUTE_LAYERS:
            return plain, picked[0]
    return None


def show_route(data: DocData, base: MapBase, layer_id: str, obj: dict, filters: MapFilters,
               show_table: Callable) -> None:
    """The heading, the trips and the people of one picked route."""
    sel = {"day": filters.day, "county": filters.county, "township": filters.township,
           "province": filters.province}
    if layer_id == "feeder_paths":
        key = str(obj.get("key", ""))
        trips = feeder_trip_ids(data, key, base=base, **sel)
        table = route_passengers(data, trips)
        stops = key.split("|")
        st.subheader(f"接驳车：{data.places.get(stops[0], stops[0])} → {data.places.get(stops[-1], stops[-1])}，"
                     f"{len(trips)} 趟，{len(table)} 人")
    else:
        mode = str(obj.get("mode") or layer_id.removesuffix("_arcs"))
        origin, dest = str(obj.get("origin_id", "")), str(obj.get("dest_id", ""))
        trips = arc_trip_ids(data, mode, origin, dest, base=base, **sel)
        table = route_passengers(data, trips, dest)
        unit = "节车厢次" if mode == "train" else "车次"
        st.subheader(f"{MODE_NAMES.get(mode, mode)}：{data.places.get(origin, origin)} → "
                     f"{data.places.get(dest, dest)}，{len(trips)} {unit}，{len(table)} 人")
    if len(trips) > 1:
        per = table.groupby(["车次", "车辆", "出发时间"], sort=False).size().rename("人数").reset_index()
        show_table(per, hide_index=True, width="stretch")
    show_table(table, hide_index=True, width="stretch")


# ------------------------------------------------------------------ the page
def page_map(data: DocData, plan_key: str, show_table: Callable) -> None:
    """The 地图 page (``plan_key`` names the plan version: cache key of the map's parts)."""
    st.header("地图")
    opts = views.filter_options(data)
    c1, c2, c3, c4 = st.columns(4)
    day = c1.selectbox("出发日期", [ALL] + [d.isoformat() for d in opts["days"]], key="map-day")
    counties = opts["counties"]
    county = c2.selectbox("区县", [ALL, *counties], format_func=lambda c: counties.get(c, c), key="map-county")
    towns = views.township_options(data, None if county == ALL else county)
    town = c3.selectbox("乡镇", [ALL, *towns], format_func=lambda c: towns.get(c, c), key="map-township")
    prov = c4.selectbox("目的省份", [ALL, *opts["provinces"]], key="map-province")
    c5, c6 = st.columns([3, 2])
    modes = c5.multiselect("交通方式", list(MODES), default=list(MODES), format_func=lambda m: MODE_NAMES[m],
                           key="map-modes")
    view = c6.radio("视野", list(VIEWS), format_func=lambda v: VIEWS[v], horizontal=True, key="map-view",
                    help="自动：选了乡镇时看出发地（村和接驳线路），否则看全程；视野随筛选自动缩放。")
    filters = MapFilters(day=None if day == ALL else date.fromisoformat(day), county=None if county == ALL else county,
                         township=None if town == ALL else town, province=None if prov == ALL else prov,
                         modes=tuple(m for m in MODES if m in modes), view=view)
    base = cached_base(plan_key, data)
    digest = hashlib.sha1(repr((plan_key, filters)).encode()).hexdigest()[:10]
    spec = cached_deck_json(plan_key, "" if day == ALL else day, "" if county == ALL else county,
                            "" if town == ALL else town, "" if prov == ALL else prov, filters.modes, view, digest, data)
    shown = resolved_view(view, filters.township, filters.modes)
    with st.container(key="map-frame"):
        event = st.pydeck_chart(FrozenDeck(spec), height=MAP_HEIGHT, on_select="rerun",
                                selection_mode="single-object", key="map-deck")
        st.markdown(legend_html(filters.modes, county_selected=filters.county is not None, feeders=shown == "origin"),
                    unsafe_allow_html=True)
    note = "" if shown == "origin" or "feeder" not in filters.modes else "接驳车线路在“出发地”视野中显示。"
    st.caption(f"视野：{VIEWS[shown]}。{note}底图为区县和接收省份边界（离线，无需联网）。")
    picked = picked_route(event, digest)
    if picked is not None:
        show_route(data, base, picked[0], picked[1], filters, show_table)
