"""The plan on a map: county polygons, villages, hubs, factories, feeder paths, coach and train arcs.

:func:`build_deck` returns a :class:`pydeck.Deck` that draws without any request
leaving the machine (``map_provider=None``, the shipped county polygons as the
base layer). Filters select planned workers (departure day, county, township,
destination province); the map then shows the trips that carry them and counts
only them. To keep the deck small at full scale (730,000 workers), trunk trips
are aggregated to one arc per (mode, origin, destination) with counts, and
feeder trips to one path per distinct stop sequence, capped at
:data:`MAX_PATHS` paths (the busiest kept).
"""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pydeck as pdk

from planner.documents.common import DocData
from planner.plan_format import passenger_trips

MODES = ("feeder", "coach", "train")
MODE_NAMES = {"feeder": "接驳车", "coach": "大巴", "train": "专列"}
SIMPLIFY_DEG = 0.005
MAX_PATHS = 3000
COORD_DIGITS = 5

LAYER_IDS = ("counties", "villages", "hubs", "destinations", "feeder_paths", "coach_arcs", "train_arcs")


def place_coords(data: DocData) -> dict[str, tuple[float, float]]:
    """Place id -> (lon, lat) for villages, hubs, stations and factories."""
    out: dict[str, tuple[float, float]] = {}
    for table, key in (("villages", "village_code"), ("hubs", "hub_id"), ("stations", "station_id"),
                       ("factories", "factory_id")):
        t = data.tables.get(table)
        if t is None or t.empty or not {"lon", "lat"} <= set(t.columns):
            continue
        lon = pd.to_numeric(t["lon"], errors="coerce")
        lat = pd.to_numeric(t["lat"], errors="coerce")
        for k, x, y in zip(t[key].astype(str), lon, lat):
            if pd.notna(x) and pd.notna(y):
                out.setdefault(k, (round(float(x), COORD_DIGITS), round(float(y), COORD_DIGITS)))
    return out


def factory_province(data: DocData) -> pd.Series:
    """factory_id -> destination province (short form, e.g. 广东)."""
    f = data.factories
    return f["province"].astype(str) if "province" in f.columns else pd.Series(dtype=str)


def select_workers(data: DocData, *, day: date | None = None, county: str | None = None,
                   township: str | None = None, province: str | None = None,
                   worker_ids: set[str] | None = None) -> pd.DataFrame:
    """The planned workers passing the filters (rows of ``workers.csv``); ``worker_ids`` keeps only those."""
    w = data.plan.workers
    w = w[w["status"].astype(str) == "planned"]
    if worker_ids is not None:
        w = w[w["worker_id"].astype(str).isin({str(x) for x in worker_ids})]
    if county:
        w = w[w["county_code"].astype(str) == str(county)]
    if township:
        w = w[w["township_code"].astype(str) == str(township)]
    if day is not None:
        w = w[w["depart_day"].dt.date == pd.Timestamp(day).date()]
    if province:
        prov = factory_province(data)
        w = w[w["factory_id"].astype(str).map(prov).fillna("") == str(province)]
    return w


def selected_legs(data: DocData, **filters) -> pd.DataFrame:
    """Legs of the selected workers joined with their trip's mode, origin and destinations."""
    w = select_workers(data, **filters)
    ids = set(w["worker_id"].astype(str))
    legs = data.plan.legs
    legs = legs[legs["worker_id"].astype(str).isin(ids)]
    trips = passenger_trips(data.plan.trips)
    return legs.merge(trips[["trip_id", "mode", "origin_id", "destination_ids", "home_county_code"]],
                      on="trip_id", how="inner")


def arc_table(data: DocData, mode: str, legs: pd.DataFrame, coords: dict) -> pd.DataFrame:
    """One row per (origin, destination) of the trunk trips of ``mode``: trips and people."""
    cols = ["origin_id", "dest_id", "trips", "people", "source", "target", "tip"]
    sub = legs[legs["mode"] == mode]
    if sub.empty:
        return pd.DataFrame(columns=cols)
    # people alight at their own drop point; a trip counts once per drop point it serves the selection at
    g = sub.groupby(["origin_id", "alight_place_id"]).agg(trips=("trip_id", "nunique"), people=("worker_id", "size"))
    g = g.reset_index().rename(columns={"alight_place_id": "dest_id"})
    g = g[g["origin_id"].isin(coords) & g["dest_id"].isin(coords)].copy()
    g["source"] = [list(coords[p]) for p in g["origin_id"]]
    g["target"] = [list(coords[p]) for p in g["dest_id"]]
    unit = "车厢" if mode == "train" else "车次"
    g["tip"] = [f"{MODE_NAMES[mode]}：{data.places.get(o, o)} → {data.places.get(d, d)}<br/>{t} {unit}，{n} 人"
                for o, d, t, n in zip(g["origin_id"], g["dest_id"], g["trips"], g["people"])]
    return g[cols].reset_index(drop=True)


def path_table(data: DocData, legs: pd.DataFrame, coords: dict, max_paths: int = MAX_PATHS) -> pd.DataFrame:
    """One row per distinct feeder stop sequence: path coordinates, trips and selected people."""
    cols = ["path", "trips", "people", "tip"]
    sub = legs[legs["mode"] == "feeder"]
    if sub.empty:
        return pd.DataFrame(columns=cols)
    people = sub.groupby("trip_id").size()
    st = data.plan.stops
    st = st[st["trip_id"].isin(people.index) & st["place_id"].isin(coords)].sort_values(["trip_id", "seq"])
    seqs = st.groupby("trip_id")["place_id"].agg(tuple)
    frame = pd.DataFrame({"key": seqs, "people": people.reindex(seqs.index).fillna(0).astype(int)})
    g = frame.groupby("key").agg(trips=("people", "size"), people=("people", "sum")).reset_index()
    g = g[g["key"].map(len) >= 2]
    g = g.sort_values("people", ascending=False, kind="stable").head(max_paths)
    g["path"] = [[list(coords[p]) for p in key] for key in g["key"]]
    g["tip"] = [f"接驳车：{data.places.get(k[0], k[0])} → {data.places.get(k[-1], k[-1])}（停靠 {len(k)} 处）"
                f"<br/>{t} 趟，{n} 人" for k, t, n in zip(g["key"], g["trips"], g["people"])]
    return g[cols].reset_index(drop=True)


def county_geojson(data: DocData, counts: pd.Series | None = None, tolerance: float = SIMPLIFY_DEG) -> dict:
    """The scenario's county polygons, simplified, as a GeoJSON FeatureCollection with tooltips."""
    c = data.tables.get("counties")
    features = []
    if c is None or c.empty or "geometry" not in c.columns:
        return {"type": "FeatureCollection", "features": features}
    from shapely.geometry import mapping

    for code, name, geom in zip(c["county_code"].astype(str), c.get("county_name", c["county_code"]).astype(str),
                                c["geometry"]):
        if geom is None or getattr(geom, "is_empty", True):
            continue
        simple = geom.simplify(tolerance, preserve_topology=True)
        gj = json.loads(json.dumps(mapping(simple)))
        gj["coordinates"] = _round_coords(gj["coordinates"])
        n = int(counts.get(code, 0)) if counts is not None else 0
        features.append({"type": "Feature", "geometry": gj,
                         "properties": {"county_code": code, "tip": f"{name}（{code}）<br/>已安排 {n} 人"}})
    return {"type": "FeatureCollection", "features": features}


def _round_coords(x):
    if isinstance(x, (list, tuple)) and x and isinstance(x[0], (int, float)):
        return [round(float(v), COORD_DIGITS) for v in x]
    return [_round_coords(v) for v in x]


def _points(data: DocData, table: str, key: str, counts: pd.Series, kind_name, color, *,
            only_counted: bool = False) -> pd.DataFrame:
    """Points of a place table with a count each; ``only_counted`` drops places with no one."""
    t = data.tables.get(table)
    cols = ["position", "count", "radius", "tip", "color"]
    if t is None or t.empty:
        return pd.DataFrame(columns=cols)
    t = t[pd.to_numeric(t["lon"], errors="coerce").notna() & pd.to_numeric(t["lat"], errors="coerce").notna()]
    if only_counted:
        t = t[t[key].astype(str).isin(counts[counts > 0].index)]
    ids = t[key].astype(str)
    n = ids.map(counts).fillna(0).astype(int)
    out = pd.DataFrame({
        "position": [[round(float(x), COORD_DIGITS), round(float(y), COORD_DIGITS)]
                     for x, y in zip(t["lon"], t["lat"])],
        "count": n.to_numpy(),
    })
    out["radius"] = (3 + (out["count"] ** 0.5) * 0.8).clip(upper=30).round(1)
    names = t["name"].astype(str) if "name" in t.columns else t.get("village_name", ids).astype(str)
    kinds = kind_name(t) if callable(kind_name) else [kind_name] * len(t)
    out["tip"] = [f"{k}：{nm}（{i}）<br/>{c} 人" for k, nm, i, c in zip(kinds, names, ids, out["count"])]
    out["color"] = [color] * len(out)
    return out[cols]


def build_deck(data: DocData, *, day: date | None = None, county: str | None = None, township: str | None = None,
               province: str | None = None, modes: set[str] | None = None,
               worker_ids: set[str] | None = None) -> pdk.Deck:
    """The plan map with the filters applied (see the module docstring); ``worker_ids`` for a trace."""
    modes = set(MODES) if modes is None else set(modes)
    coords = place_coords(data)
    filters = {"day": day, "county": county, "township": township, "province": province, "worker_ids": worker_ids}
    workers = select_workers(data, **filters)
    legs = selected_legs(data, **filters)
    legs = legs[legs["mode"].isin(modes)]
    layers = []

    per_county = workers["county_code"].astype(str).value_counts()
    layers.append(pdk.Layer(
        "GeoJsonLayer", id="counties", data=county_geojson(data, per_county), stroked=True, filled=True,
        get_fill_color=[225, 232, 240, 160], get_line_color=[90, 100, 120, 220], line_width_min_pixels=1,
        pickable=True,
    ))
    per_village = workers["village_code"].astype(str).value_counts()
    layers.append(pdk.Layer(
        "ScatterplotLayer", id="villages",
        data=_points(data, "villages", "village_code", per_village, "村", [46, 125, 50, 200],
                     only_counted=True),
        get_position="position", get_radius="radius", radius_units='"pixels"', get_fill_color="color",
        pickable=True,
    ))
    alight = legs.groupby("alight_place_id")["worker_id"].nunique()
    at_place = pd.concat([legs[["board_place_id", "worker_id"]].set_axis(["place_id", "worker_id"], axis=1),
                          legs[["alight_place_id", "worker_id"]].set_axis(["place_id", "worker_id"], axis=1)])
    through = at_place.drop_duplicates().groupby("place_id")["worker_id"].size()  # distinct people at each hub
    hubs = _points(data, "hubs", "hub_id", through, lambda t: ["火车站" if k == "rail_station" else "客运站"
                                                               for k in t.get("kind", pd.Series([""] * len(t)))],
                   [21, 101, 192, 230])
    layers.append(pdk.Layer(
        "ScatterplotLayer", id="hubs", data=hubs, get_position="position", get_radius="radius",
        radius_units='"pixels"', get_fill_color="color", pickable=True,
    ))
    dests = pd.concat([
        _points(data, "factories", "factory_id", alight, "工厂", [198, 40, 40, 220]),
        _points(data, "stations", "station_id", alight, "到达站", [239, 108, 0, 220]),
    ], ignore_index=True)
    layers.append(pdk.Layer(
        "ScatterplotLayer", id="destinations", data=dests, get_position="position", get_radius="radius",
        radius_units='"pixels"', get_fill_color="color", pickable=True,
    ))
    if "feeder" in modes:
        layers.append(pdk.Layer(
            "PathLayer", id="feeder_paths", data=path_table(data, legs, coords), get_path="path",
            get_color=[56, 142, 60, 200], get_width=2, width_units='"pixels"', pickable=True,
        ))
    for mode, src, dst in (("coach", [21, 101, 192, 200], [198, 40, 40, 200]),
                           ("train", [106, 27, 154, 200], [239, 108, 0, 200])):
        if mode in modes:
            layers.append(pdk.Layer(
                "ArcLayer", id=f"{mode}_arcs", data=arc_table(data, mode, legs, coords), get_source_position="source",
                get_target_position="target", get_source_color=src, get_target_color=dst, get_width=2,
                width_units='"pixels"', pickable=True,
            ))
    view = _view_state(data, coords)
    # map_provider=None and NO map_style: with map_style=None or "" Streamlit's front end
    # substitutes its theme's basemap and fetches its style from a CDN (seen in a browser)
    return CompactDeck(layers=layers, initial_view_state=view, map_provider=None,
                    tooltip={"html": "{tip}", "style": {"backgroundColor": "#263238", "color": "white",
                                                        "fontSize": "12px"}})


class CompactDeck(pdk.Deck):
    """A Deck whose JSON has no indentation (pydeck indents by 2, which doubles the size sent)."""

    def to_json(self) -> str:
        return json.dumps(json.loads(super().to_json()), ensure_ascii=False, separators=(",", ":"))


def _view_state(data: DocData, coords: dict) -> pdk.ViewState:
    """Centred on the home villages (or every place), zoomed to show them."""
    v = data.tables.get("villages")
    pts = [(float(x), float(y)) for x, y in zip(v["lon"], v["lat"])] if v is not None and len(v) else list(coords.values())
    if not pts:
        return pdk.ViewState(longitude=107.8, latitude=30.0, zoom=6)
    xs = sorted(p[0] for p in pts)
    ys = sorted(p[1] for p in pts)
    span = max(xs[-1] - xs[0], ys[-1] - ys[0], 0.05)
    zoom = max(3.0, min(11.0, 8.5 - __import__("math").log2(span)))
    return pdk.ViewState(longitude=(xs[0] + xs[-1]) / 2, latitude=(ys[0] + ys[-1]) / 2, zoom=round(zoom, 2))
