"""The plan on a map: county outlines, villages, hubs, destinations, feeder routes, coach and train arcs.

:func:`build_deck` returns a :class:`pydeck.Deck` that draws without any request
leaving the machine (``map_provider=None``; the base layers are the scenario's own
county polygons and the receiving provinces dissolved from its receiving counties).
Filters select planned workers (departure day, county, township, destination
province, modes); the map then shows the trips that carry them and counts only them.

What makes the map usable for a decision (issue 15, section 3):

- the view is **fitted** to what is shown (:func:`fit_view`): the selected villages,
  hubs and destinations (``view="all"``), only the home side (``"origin"``: villages
  and feeder routes, readable at township zoom) or only the destinations
  (``"destinations"``); ``"auto"`` is the home side when a township is chosen, else all;
- villages are sized by travellers in **metres**, the largest radius a share of the
  typical distance between neighbouring villages, so circles keep apart at any zoom;
  feeder routes, hubs, arcs, destinations and labels are drawn above them, in that order;
- destinations and hubs carry **labels** (a TextLayer, decluttered in screen space at
  the fitted zoom so labels never overlap);
- tooltips are an HTML template filled with plain-text fields (``name``, ``info``):
  Streamlit escapes every field it substitutes, so no markup travels inside them.

Everything that does not depend on the filters (coordinates, simplified outlines,
legs joined with their trip and worker) is computed once per plan by
:func:`map_base`; :func:`build_deck` accepts it, so the app builds it once and each
filter change costs only the aggregation. To keep the deck small at full scale,
trunk trips are aggregated to one arc per (mode, origin, destination) with counts,
and feeder trips to one path per distinct stop sequence, capped at :data:`MAX_PATHS`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import pydeck as pdk

from planner.documents.common import DocData
from planner.plan_format import passenger_trips

MODES = ("feeder", "coach", "train")
MODE_NAMES = {"feeder": "接驳车", "coach": "大巴", "train": "专列"}
VIEWS = {"auto": "自动", "all": "全程（出发地和目的地）", "origin": "出发地（村和接驳线路）",
         "destinations": "目的地"}
SIMPLIFY_DEG = 0.005
PROVINCE_SIMPLIFY_DEG = 0.02
MAX_PATHS = 3000
COORD_DIGITS = 5
#: the canvas the view is fitted to, in pixels: the app's chart is at least this large
VIEW_W, VIEW_H = 900, 600
FIT_PADDING = 0.06
#: pixels kept free at the canvas's left for the legend the app draws over the map
LEGEND_W = 200
MIN_ZOOM, MAX_ZOOM = 3.0, 13.5
#: labels kept at most (the busiest first) before decluttering
MAX_LABELS = 60

LAYER_IDS = ("counties", "provinces", "villages", "feeder_paths", "hubs", "coach_arcs", "train_arcs",
             "destinations", "labels")

# colours (RGBA); the app's legend uses the same ones
COLORS = {
    "village": [67, 160, 71, 170],
    "village_line": [255, 255, 255, 230],
    "feeder": [0, 77, 64, 150],
    "terminal": [21, 101, 192, 240],
    "rail_station": [74, 20, 140, 240],
    "factory": [198, 40, 40, 235],
    "station": [239, 108, 0, 235],
    "coach_src": [21, 101, 192, 210],
    "coach_dst": [198, 40, 40, 210],
    "train_src": [106, 27, 154, 210],
    "train_dst": [239, 108, 0, 210],
    "county_fill": [236, 239, 243, 255],
    "county_selected": [255, 243, 205, 255],
    "county_line": [120, 130, 145, 255],
    "province_fill": [245, 240, 230, 255],
    "province_line": [170, 150, 120, 255],
}
TOOLTIP_HTML = "<b>{name}</b><br/>{info}"
#: flat layers ignore depth: they are drawn in list order, over the (raised) arcs before them
FLAT = {"depthCompare": "always", "depthWriteEnabled": False}
#: the tooltip stays at the canvas's top-right corner (deck.gl places it by the pointer and lets
#: it run past the edge); the pointer's translate is replaced by a fixed corner
TOOLTIP_STYLE = {"backgroundColor": "rgba(38,50,56,0.94)", "color": "white", "fontSize": "13px",
                 "lineHeight": "1.5", "padding": "8px 10px", "borderRadius": "4px", "maxWidth": "320px",
                 "whiteSpace": "normal", "transform": "none", "top": "10px", "right": "10px", "left": "auto",
                 "zIndex": "3"}
LABEL_FONT = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC", sans-serif'


# ------------------------------------------------------------------ filter-independent part
@dataclass
class MapBase:
    """What the map needs from a plan whatever the filters: computed once per plan (:func:`map_base`)."""

    coords: dict[str, tuple[float, float]]
    #: planned workers with the filter columns: worker_id, county_code, township_code, village_code, day, province
    workers: pd.DataFrame
    #: legs of planned workers on passenger trips, with mode, origin_id and the worker's filter columns
    legs: pd.DataFrame
    #: feeder trip -> tuple of its stop place ids (places with coordinates only), in call order
    feeder_stops: pd.Series
    #: county code -> (name, GeoJSON geometry, (minlon, minlat, maxlon, maxlat))
    counties: dict[str, tuple[str, dict, tuple]]
    #: receiving provinces: GeoJSON features (dissolved counties) and (name, lon, lat) label points
    provinces: list[dict]
    province_labels: list[tuple[str, float, float]]
    #: place id -> kind name (村, 客运站, 火车站, 工厂, 到达站)
    kinds: dict[str, str]
    names: dict[str, str] = field(default_factory=dict)


def place_coords(data: DocData) -> dict[str, tuple[float, float]]:
    """Place id -> (lon, lat) for villages, hubs, stations and factories."""
    out: dict[str, tuple[float, float]] = {}
    for table, key in (("villages", "village_code"), ("hubs", "hub_id"), ("stations", "station_id"),
                       ("factories", "factory_id")):
        t = data.tables.get(table)
        if t is None or t.empty or not {"lon", "lat"} <= set(t.columns):
            continue
        lon = pd.to_numeric(t["lon"], errors="coerce").round(COORD_DIGITS).to_numpy(dtype=float)
        lat = pd.to_numeric(t["lat"], errors="coerce").round(COORD_DIGITS).to_numpy(dtype=float)
        for k, x, y in zip(t[key].astype(str).tolist(), lon.tolist(), lat.tolist()):
            if not (math.isnan(x) or math.isnan(y)):
                out.setdefault(k, (x, y))
    return out


def factory_province(data: DocData) -> pd.Series:
    """factory_id -> destination province (short form, e.g. 广东)."""
    f = data.factories
    return f["province"].astype(str) if "province" in f.columns else pd.Series(dtype=str)


def _place_kinds(data: DocData) -> dict[str, str]:
    kinds: dict[str, str] = {}
    h = data.tables.get("hubs")
    if h is not None and len(h):
        kind = h["kind"].astype(str) if "kind" in h.columns else pd.Series([""] * len(h), index=h.index)
        kinds.update({str(i): ("火车站" if k == "rail_station" else "客运站") for i, k in zip(h["hub_id"], kind)})
    s = data.tables.get("stations")
    if s is not None and len(s):
        kinds.update({str(i): "到达站" for i in s["station_id"]})
    kinds.update({str(i): "工厂" for i in data.factories.index})
    return kinds


def _geometry_json(geom, tolerance: float) -> dict | None:
    from shapely.geometry import mapping

    if geom is None or getattr(geom, "is_empty", True):
        return None
    simple = geom.simplify(tolerance, preserve_topology=True)
    gj = json.loads(json.dumps(mapping(simple)))
    gj["coordinates"] = _round_coords(gj["coordinates"])
    return gj


def _round_coords(x):
    if isinstance(x, (list, tuple)) and x and isinstance(x[0], (int, float)):
        return [round(float(v), COORD_DIGITS) for v in x]
    return [_round_coords(v) for v in x]


def _county_shapes(data: DocData) -> dict[str, tuple[str, dict, tuple]]:
    c = data.tables.get("counties")
    out: dict[str, tuple[str, dict, tuple]] = {}
    if c is None or c.empty or "geometry" not in c.columns:
        return out
    names = c["county_name"].astype(str) if "county_name" in c.columns else c["county_code"].astype(str)
    for code, name, geom in zip(c["county_code"].astype(str), names, c["geometry"]):
        gj = _geometry_json(geom, SIMPLIFY_DEG)
        if gj is not None:
            out[code] = (name, gj, tuple(round(float(v), COORD_DIGITS) for v in geom.bounds))
    return out


def _province_shapes(data: DocData) -> tuple[list[dict], list[tuple[str, float, float]]]:
    """The receiving counties dissolved into provinces (outline and label point each)."""
    r = data.tables.get("receiving_counties")
    if r is None or r.empty or "geometry" not in r.columns or "province" not in r.columns:
        return [], []
    from shapely.ops import unary_union

    features, labels = [], []
    for prov, part in r.groupby(r["province"].astype(str), sort=True):
        geoms = [g for g in part["geometry"] if g is not None and not getattr(g, "is_empty", True)]
        if not geoms:
            continue
        # a small buffer closes the slivers between simplified county polygons before the union
        merged = unary_union([g.buffer(0.002) for g in geoms]).buffer(-0.002)
        gj = _geometry_json(merged, PROVINCE_SIMPLIFY_DEG)
        if gj is None:
            continue
        features.append({"type": "Feature", "geometry": gj,
                         "properties": {"name": prov, "info": "接收省份"}})
        p = merged.representative_point()
        labels.append((prov, round(p.x, COORD_DIGITS), round(p.y, COORD_DIGITS)))
    return features, labels


def map_base(data: DocData) -> MapBase:
    """Everything the map needs that does not depend on the filters (see :class:`MapBase`)."""
    coords = place_coords(data)
    w = data.plan.workers
    w = w[w["status"].astype(str) == "planned"]
    prov = factory_province(data)
    workers = pd.DataFrame({
        "worker_id": w["worker_id"].astype(str).to_numpy(),
        "county_code": w["county_code"].astype(str).to_numpy(),
        "township_code": w["township_code"].astype(str).to_numpy(),
        "village_code": w["village_code"].astype(str).to_numpy(),
        "day": pd.to_datetime(w["depart_day"]).dt.date.to_numpy(),
        "province": w["factory_id"].astype(str).map(prov).fillna("").astype(str).to_numpy(),
    })
    trips = passenger_trips(data.plan.trips)
    legs = data.plan.legs[["worker_id", "trip_id", "board_place_id", "alight_place_id"]].astype(str)
    legs = legs.merge(trips[["trip_id", "mode", "origin_id"]].astype(str), on="trip_id", how="inner")
    legs = legs.merge(workers, on="worker_id", how="inner")
    st = data.plan.stops[["trip_id", "seq", "place_id"]]
    feeder_ids = set(trips.loc[trips["mode"].astype(str) == "feeder", "trip_id"].astype(str))
    st = st[st["trip_id"].astype(str).isin(feeder_ids)].copy()
    st["place_id"] = st["place_id"].astype(str)
    st = st[st["place_id"].isin(set(coords))].sort_values(["trip_id", "seq"], kind="stable")
    feeder_stops = st.groupby(st["trip_id"].astype(str))["place_id"].agg(tuple)
    provinces, province_labels = _province_shapes(data)
    names = dict(data.places)
    return MapBase(coords=coords, workers=workers, legs=legs, feeder_stops=feeder_stops,
                   counties=_county_shapes(data), provinces=provinces, province_labels=province_labels,
                   kinds=_place_kinds(data), names=names)


# ------------------------------------------------------------------ selection
def _mask(frame: pd.DataFrame, *, day: date | None = None, county: str | None = None, township: str | None = None,
          province: str | None = None, worker_ids: set[str] | None = None) -> pd.Series:
    m = pd.Series(True, index=frame.index)
    if worker_ids is not None:
        m &= frame["worker_id"].isin({str(x) for x in worker_ids})
    if county:
        m &= frame["county_code"] == str(county)
    if township:
        m &= frame["township_code"] == str(township)
    if day is not None:
        m &= frame["day"] == pd.Timestamp(day).date()
    if province:
        m &= frame["province"] == str(province)
    return m


def select_workers(data: DocData, *, day: date | None = None, county: str | None = None,
                   township: str | None = None, province: str | None = None,
                   worker_ids: set[str] | None = None, base: MapBase | None = None) -> pd.DataFrame:
    """The planned workers passing the filters (worker_id and filter columns); ``worker_ids`` keeps only those."""
    base = base or map_base(data)
    w = base.workers
    return w[_mask(w, day=day, county=county, township=township, province=province, worker_ids=worker_ids)]


def selected_legs(data: DocData, *, base: MapBase | None = None, **filters) -> pd.DataFrame:
    """Legs (on passenger trips) of the selected workers, with their trip's mode and origin."""
    base = base or map_base(data)
    legs = base.legs
    return legs[_mask(legs, **filters)]


def arc_trip_ids(data: DocData, mode: str, origin_id: str, dest_id: str, *, base: MapBase | None = None,
                 **filters) -> list[str]:
    """The trips behind one map arc: ``mode`` trips from ``origin_id`` taking selected people to ``dest_id``."""
    legs = selected_legs(data, base=base, **filters)
    hit = legs[(legs["mode"] == mode) & (legs["origin_id"] == str(origin_id)) & (legs["alight_place_id"] == str(dest_id))]
    return sorted(hit["trip_id"].unique().tolist())


def feeder_trip_ids(data: DocData, stops_key: str, *, base: MapBase | None = None, **filters) -> list[str]:
    """The feeder trips behind one map path (``stops_key``: its place ids joined by ``|``) carrying selected people."""
    base = base or map_base(data)
    legs = selected_legs(data, base=base, **filters)
    trips = legs.loc[legs["mode"] == "feeder", "trip_id"].unique()
    key = tuple(str(stops_key).split("|"))
    seqs = base.feeder_stops.reindex(trips).dropna()
    return sorted(t for t, s in seqs.items() if tuple(s) == key)


# ------------------------------------------------------------------ layer tables
def arc_table(data: DocData, mode: str, legs: pd.DataFrame, coords: dict) -> pd.DataFrame:
    """One row per (origin, destination) of the trunk trips of ``mode``: trips and people."""
    cols = ["mode", "origin_id", "dest_id", "trips", "people", "source", "target", "width", "name", "info"]
    sub = legs[legs["mode"] == mode]
    if sub.empty:
        return pd.DataFrame(columns=cols)
    # people alight at their own drop point; a trip counts once per drop point it serves the selection at
    g = sub.groupby(["origin_id", "alight_place_id"]).agg(trips=("trip_id", "nunique"), people=("worker_id", "size"))
    g = g.reset_index().rename(columns={"alight_place_id": "dest_id"})
    g = g[g["origin_id"].map(coords.__contains__) & g["dest_id"].map(coords.__contains__)].copy()
    g["mode"] = mode
    g["source"] = [list(coords[p]) for p in g["origin_id"]]
    g["target"] = [list(coords[p]) for p in g["dest_id"]]
    g["width"] = (1.0 + np.sqrt(g["people"].to_numpy(dtype=float)) / 5).clip(1.5, 6).round(1)
    unit = "节车厢次" if mode == "train" else "车次"
    places = data.places
    g["name"] = [f"{MODE_NAMES[mode]}：{places.get(o, o)} → {places.get(d, d)}" for o, d in zip(g["origin_id"], g["dest_id"])]
    g["info"] = [f"{t} {unit}，{n} 人（点击查看车上人员）" for t, n in zip(g["trips"], g["people"])]
    g = g.sort_values(["people", "origin_id", "dest_id"], ascending=[False, True, True], kind="stable")
    return g[cols].reset_index(drop=True)


def path_table(data: DocData, legs: pd.DataFrame, coords: dict, max_paths: int = MAX_PATHS,
               feeder_stops: pd.Series | None = None) -> pd.DataFrame:
    """One row per distinct feeder stop sequence: path coordinates, trips and selected people."""
    cols = ["key", "path", "trips", "people", "name", "info"]
    sub = legs[legs["mode"] == "feeder"]
    if sub.empty:
        return pd.DataFrame(columns=cols)
    people = sub.groupby("trip_id").size()
    if feeder_stops is None:
        st = data.plan.stops
        st = st[st["trip_id"].isin(people.index) & st["place_id"].map(coords.__contains__)]
        feeder_stops = st.sort_values(["trip_id", "seq"]).groupby("trip_id")["place_id"].agg(tuple)
    seqs = feeder_stops.reindex(people.index).dropna()
    frame = pd.DataFrame({"key": seqs.to_numpy(), "people": people.reindex(seqs.index).fillna(0).astype(int).to_numpy()})
    g = frame.groupby("key", sort=True).agg(trips=("people", "size"), people=("people", "sum")).reset_index()
    g = g[g["key"].map(len) >= 2]
    g = g.sort_values("people", ascending=False, kind="stable").head(max_paths)
    g["path"] = [[list(coords[p]) for p in key] for key in g["key"]]
    places = data.places
    g["name"] = [f"接驳车：{places.get(k[0], k[0])} → {places.get(k[-1], k[-1])}" for k in g["key"]]
    g["info"] = [f"停靠 {len(k)} 处，{t} 趟，{n} 人（点击查看车上人员）"
                 for k, t, n in zip(g["key"], g["trips"], g["people"])]
    g["key"] = ["|".join(k) for k in g["key"]]
    return g[cols].reset_index(drop=True)


def county_geojson(data: DocData, counts: pd.Series | None = None, tolerance: float = SIMPLIFY_DEG, *,
                   base: MapBase | None = None, selected: str | None = None) -> dict:
    """The scenario's county polygons, simplified, as a GeoJSON FeatureCollection with tooltips.

    ``selected`` (a county code) is filled in a highlight colour.
    """
    shapes = base.counties if base is not None else _county_shapes(data)
    features = []
    for code, (name, gj, _bounds) in shapes.items():
        n = int(counts.get(code, 0)) if counts is not None else 0
        fill = COLORS["county_selected"] if code == selected else COLORS["county_fill"]
        features.append({"type": "Feature", "geometry": gj,
                         "properties": {"county_code": code, "name": f"{name}（{code}）",
                                        "info": f"已安排 {n:,} 人（按筛选条件）", "fill": fill}})
    return {"type": "FeatureCollection", "features": features}


def _village_radius_m(lonlat: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Circle radius in metres, area by travellers; the largest is half the typical neighbour distance.

    The typical distance is the median of each village's distance to its nearest shown neighbour
    (at least 250 m): circles scale with the map, so at any zoom the big ones stay clear of most
    neighbours; the smallest is a quarter of the largest.
    """
    n = len(counts)
    if n == 0:
        return np.zeros(0)
    if n == 1:
        typical = 3000.0
    else:
        lat0 = math.radians(float(np.mean(lonlat[:, 1])))
        xy = np.column_stack([lonlat[:, 0] * 111_320 * math.cos(lat0), lonlat[:, 1] * 110_574])
        from scipy.spatial import cKDTree

        d, _ = cKDTree(xy).query(xy, k=2)
        nn = d[:, 1]
        nn = nn[nn > 1]
        typical = float(np.percentile(nn, 50)) if len(nn) else 3000.0
    r_max = min(max(0.5 * typical, 250.0), 4000.0)
    share = np.sqrt(counts / max(float(counts.max()), 1.0))
    return np.round(r_max * np.maximum(share, 0.25), 1)


def _point_rows(ids: list[str], base: MapBase, counts: pd.Series, kind_color: dict, radius) -> pd.DataFrame:
    cols = ["id", "position", "count", "radius", "name", "info", "color"]
    ids = [i for i in ids if i in base.coords]
    if not ids:
        return pd.DataFrame(columns=cols)
    n = [int(counts.get(i, 0)) for i in ids]
    kinds = [base.kinds.get(i, "") for i in ids]
    out = pd.DataFrame({
        "id": ids,
        "position": [list(base.coords[i]) for i in ids],
        "count": n,
    })
    out["radius"] = radius(out["count"].to_numpy(dtype=float))
    out["name"] = [f"{k}：{base.names.get(i, i)}" for k, i in zip(kinds, ids)]
    out["info"] = [f"{c:,} 人（按筛选条件）" for c in n]
    out["color"] = [kind_color.get(k, COLORS["terminal"]) for k in kinds]
    return out[cols]


# ------------------------------------------------------------------ view and labels
def _mercator(lon: float, lat: float) -> tuple[float, float]:
    """(x, y) in [0, 1] world units (Web Mercator, y down)."""
    lat = max(min(lat, 85.0), -85.0)
    x = (lon + 180.0) / 360.0
    y = (1.0 - math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) / math.pi) / 2.0
    return x, y


def _lat_of(y: float) -> float:
    return math.degrees(2 * math.atan(math.exp((1 - 2 * y) * math.pi)) - math.pi / 2)


def fit_view(points: list[tuple[float, float]], width: int = VIEW_W, height: int = VIEW_H,
             padding: float = FIT_PADDING, left: int = 0) -> pdk.ViewState:
    """A view (centre and zoom) showing every point inside a ``width`` x ``height`` canvas with a margin.

    ``left`` pixels at the canvas's left edge are kept free (the legend covers them).
    """
    pts = [(float(x), float(y)) for x, y in points if x == x and y == y]
    if not pts:
        return pdk.ViewState(longitude=107.8, latitude=30.0, zoom=6.0, pitch=0, bearing=0)
    ms = [_mercator(x, y) for x, y in pts]
    x0, x1 = min(m[0] for m in ms), max(m[0] for m in ms)
    y0, y1 = min(m[1] for m in ms), max(m[1] for m in ms)
    usable_w, usable_h = (width - left) * (1 - 2 * padding), height * (1 - 2 * padding)
    zooms = [MAX_ZOOM]
    if x1 - x0 > 0:
        zooms.append(math.log2(usable_w / (512.0 * (x1 - x0))))
    if y1 - y0 > 0:
        zooms.append(math.log2(usable_h / (512.0 * (y1 - y0))))
    zoom = max(MIN_ZOOM, min(zooms))
    # the content's centre sits in the middle of the free part: the canvas centre is left/2 px to its left
    cx = (x0 + x1) / 2 - left / 2 / (512.0 * 2 ** zoom)
    lon = cx * 360.0 - 180.0
    lat = _lat_of((y0 + y1) / 2)
    return pdk.ViewState(longitude=round(lon, COORD_DIGITS), latitude=round(lat, COORD_DIGITS),
                         zoom=round(zoom, 2), pitch=0, bearing=0)


def view_box(view: pdk.ViewState, width: int = VIEW_W, height: int = VIEW_H) -> tuple[float, float, float, float]:
    """(minlon, minlat, maxlon, maxlat) a ``width`` x ``height`` canvas shows at ``view``."""
    scale = 512.0 * 2 ** float(view.zoom)
    cx, cy = _mercator(float(view.longitude), float(view.latitude))
    x0, x1 = cx - width / 2 / scale, cx + width / 2 / scale
    y0, y1 = cy - height / 2 / scale, cy + height / 2 / scale
    return (x0 * 360 - 180, _lat_of(y1), x1 * 360 - 180, _lat_of(y0))


def _declutter(cands: list[dict], zoom: float, width_px: float = 13.0, height_px: float = 18.0) -> list[dict]:
    """Keep labels (given busiest first) whose screen boxes at ``zoom`` do not overlap a kept one."""
    scale = 512.0 * 2 ** zoom
    kept: list[tuple[float, float, float, float]] = []
    out = []
    for c in cands[:MAX_LABELS]:
        x, y = _mercator(*c["position"])
        w = width_px * c["size"] / 13.0 * len(c["text"]) + 8
        h = height_px * c["size"] / 13.0
        # the label sits above its point, centred
        box = (x * scale - w / 2 - 3, y * scale - h - 10, x * scale + w / 2 + 3, y * scale - 4)
        if any(not (box[2] < k[0] or box[0] > k[2] or box[3] < k[1] or box[1] > k[3]) for k in kept):
            continue
        kept.append(box)
        out.append(c)
    return out


# ------------------------------------------------------------------ the deck
@dataclass(frozen=True)
class MapFilters:
    """The filters of one map (also the cache key of the app's deck)."""

    day: date | None = None
    county: str | None = None
    township: str | None = None
    province: str | None = None
    modes: tuple[str, ...] = MODES
    view: str = "auto"


def resolved_view(view: str, township: str | None, modes=MODES) -> str:
    """``auto`` is the home side for a township (villages readable) or feeders alone, else the whole journey."""
    if view == "auto":
        return "origin" if township or not set(modes) & {"coach", "train"} else "all"
    return view if view in VIEWS else "all"


def build_deck(data: DocData, *, day: date | None = None, county: str | None = None, township: str | None = None,
               province: str | None = None, modes: set[str] | None = None,
               worker_ids: set[str] | None = None, view: str = "auto", base: MapBase | None = None) -> pdk.Deck:
    """The plan map with the filters applied (see the module docstring); ``worker_ids`` for a trace."""
    base = base or map_base(data)
    modes = set(MODES) if modes is None else set(modes)
    filters = {"day": day, "county": county, "township": township, "province": province, "worker_ids": worker_ids}
    workers = select_workers(data, base=base, **filters)
    legs = selected_legs(data, base=base, **filters)
    legs = legs[legs["mode"].isin(modes)]
    coords = base.coords
    layers = []

    per_county = workers["county_code"].value_counts()
    layers.append(pdk.Layer(
        "GeoJsonLayer", id="counties", data=county_geojson(data, per_county, base=base, selected=county),
        stroked=True, filled=True, get_fill_color="properties.fill", get_line_color=COLORS["county_line"],
        line_width_min_pixels=1, pickable=False,
    ))
    if base.provinces:
        layers.append(pdk.Layer(
            "GeoJsonLayer", id="provinces", data={"type": "FeatureCollection", "features": base.provinces},
            stroked=True, filled=True, get_fill_color=COLORS["province_fill"], get_line_color=COLORS["province_line"],
            line_width_min_pixels=1, pickable=False,
        ))

    # villages: only those with selected people; sized in metres (see _village_radius_m)
    per_village = workers["village_code"].value_counts()
    vids = [v for v in per_village.index if v in coords]
    vil = pd.DataFrame({"id": vids, "position": [list(coords[v]) for v in vids],
                        "count": [int(per_village[v]) for v in vids]})
    vil["radius"] = _village_radius_m(np.array([coords[v] for v in vids]).reshape(-1, 2),
                                      vil["count"].to_numpy(dtype=float))
    vil["name"] = [f"村：{base.names.get(v, v)}" for v in vids]
    vil["info"] = [f"{n:,} 人（按筛选条件）" for n in vil["count"]]
    layers.append(pdk.Layer(
        "ScatterplotLayer", id="villages", data=vil, get_position="position", get_radius="radius",
        radius_units='"meters"', radius_min_pixels=3, radius_max_pixels=40, get_fill_color=COLORS["village"],
        stroked=True, get_line_color=COLORS["village_line"], line_width_min_pixels=1, pickable=True, parameters=FLAT,
    ))
    shown = resolved_view(view, township, modes)
    # feeder routes are a few pixels at the scale of a whole journey: drawn on the home-side view only
    # (the scene stays light enough for a click to register in a browser without a GPU)
    if "feeder" in modes and shown == "origin":
        layers.append(pdk.Layer(
            "PathLayer", id="feeder_paths", data=path_table(data, legs, coords, feeder_stops=base.feeder_stops),
            get_path="path", get_color=COLORS["feeder"], get_width=2, width_units='"pixels"',
            width_min_pixels=1.5, cap_rounded=True, joint_rounded=True, pickable=True, parameters=FLAT,
        ))

    # hubs and destinations: only where selected people board or alight
    at_place = pd.concat([legs[["board_place_id", "worker_id"]].set_axis(["place_id", "worker_id"], axis=1),
                          legs[["alight_place_id", "worker_id"]].set_axis(["place_id", "worker_id"], axis=1)])
    through = at_place.drop_duplicates().groupby("place_id")["worker_id"].size()
    hub_ids = [p for p in through.index if base.kinds.get(p) in ("客运站", "火车站")]
    hubs = _point_rows(hub_ids, base, through, {"客运站": COLORS["terminal"], "火车站": COLORS["rail_station"]},
                       lambda n: np.full(len(n), 7.0))
    layers.append(pdk.Layer(
        "ScatterplotLayer", id="hubs", data=hubs, get_position="position", get_radius="radius",
        radius_units='"pixels"', get_fill_color="color", stroked=True, get_line_color=[255, 255, 255, 255],
        line_width_min_pixels=1.5, pickable=True, parameters=FLAT,
    ))
    for mode, src, dst in (("coach", COLORS["coach_src"], COLORS["coach_dst"]),
                           ("train", COLORS["train_src"], COLORS["train_dst"])):
        if mode in modes:
            layers.append(pdk.Layer(
                "ArcLayer", id=f"{mode}_arcs", data=arc_table(data, mode, legs, coords), get_source_position="source",
                get_target_position="target", get_source_color=src, get_target_color=dst, get_width="width",
                get_height=0.3, width_units='"pixels"', pickable=True,
            ))
    alight = legs.groupby("alight_place_id")["worker_id"].nunique()
    dest_ids = [p for p in alight.index if base.kinds.get(p) in ("工厂", "到达站")]
    dests = _point_rows(dest_ids, base, alight, {"工厂": COLORS["factory"], "到达站": COLORS["station"]},
                        lambda n: (4 + np.sqrt(n) / 2).clip(5, 14).round(1))
    layers.append(pdk.Layer(
        "ScatterplotLayer", id="destinations", data=dests, get_position="position", get_radius="radius",
        radius_units='"pixels"', get_fill_color="color", stroked=True, get_line_color=[255, 255, 255, 255],
        line_width_min_pixels=1.5, pickable=True, parameters=FLAT,
    ))

    vstate = fit_view(_fit_points(base, shown, vil, hubs, dests, county), VIEW_W, VIEW_H, left=LEGEND_W)
    labels = pdk.Layer(
        "TextLayer", id="labels", data=_labels(base, shown, vstate, vil, hubs, dests, county, bool(township),
                                             set(per_county.index)),
        get_position="position", get_text="text", get_size="size", size_units='"pixels"', get_color="color",
        get_text_anchor='"middle"', get_alignment_baseline='"bottom"', get_pixel_offset=[0, -8],
        character_set='"auto"', font_weight=600, outline_width=3, outline_color=[255, 255, 255, 230],
        font_settings={"sdf": True, "radius": 6}, pickable=False, parameters=FLAT,
    )
    labels.font_family = LABEL_FONT  # set after: pydeck would read a string argument as an expression
    layers.append(labels)
    # map_provider=None and NO map_style: with map_style=None or "" Streamlit's front end
    # substitutes its theme's basemap and fetches its style from a CDN (seen in a browser)
    return CompactDeck(layers=layers, initial_view_state=vstate, map_provider=None,
                       tooltip={"html": TOOLTIP_HTML, "style": TOOLTIP_STYLE})


def _fit_points(base: MapBase, shown: str, vil: pd.DataFrame, hubs: pd.DataFrame, dests: pd.DataFrame,
                county: str | None) -> list[tuple[float, float]]:
    origin = [tuple(p) for p in vil["position"]] + [tuple(p) for p in hubs["position"]]
    if county and county in base.counties and not len(vil):
        b = base.counties[county][2]
        origin += [(b[0], b[1]), (b[2], b[3])]
    dest = [tuple(p) for p in dests["position"]]
    pts = {"origin": origin, "destinations": dest}.get(shown, origin + dest)
    if not pts:  # nothing selected: the selected county, else every county
        boxes = [base.counties[county][2]] if county in base.counties else [c[2] for c in base.counties.values()]
        pts = [(b[0], b[1]) for b in boxes] + [(b[2], b[3]) for b in boxes]
    return pts


def _labels(base: MapBase, shown: str, view: pdk.ViewState, vil: pd.DataFrame, hubs: pd.DataFrame,
            dests: pd.DataFrame, county: str | None, township: bool, with_people: set[str]) -> list[dict]:
    """Labels, decluttered in that order: destinations and hubs (busiest first), provinces, villages
    (home side only), the counties with selected people."""
    dark = [38, 50, 56, 255]
    cands: list[dict] = []
    for frame, size, color in ((dests, 12, [183, 28, 28, 255]), (hubs, 13, [13, 71, 161, 255])):
        for r in frame.sort_values("count", ascending=False, kind="stable").itertuples(index=False):
            cands.append({"position": list(r.position), "text": base.names.get(r.id, r.id), "size": size,
                          "color": color})
    cands += [{"position": [lon, lat], "text": name, "size": 18, "color": [141, 110, 99, 200]}
              for name, lon, lat in base.province_labels]
    if shown == "origin" and (township or len(vil) <= 40):
        for r in vil.sort_values("count", ascending=False, kind="stable").itertuples(index=False):
            cands.append({"position": list(r.position), "text": base.names.get(r.id, r.id), "size": 11,
                          "color": [27, 94, 32, 255]})
    box = view_box(view)
    if shown != "destinations":
        for code, (name, _gj, b) in base.counties.items():
            if code not in with_people and code != county:
                continue
            cands.append({"position": [round((b[0] + b[2]) / 2, COORD_DIGITS), round((b[1] + b[3]) / 2, COORD_DIGITS)],
                          "text": name, "size": 12, "color": dark})
    inside = [c for c in cands if box[0] <= c["position"][0] <= box[2] and box[1] <= c["position"][1] <= box[3]]
    return _declutter(inside, float(view.zoom))


class CompactDeck(pdk.Deck):
    """A Deck whose JSON has no indentation (pydeck indents by 2, which doubles the size sent)."""

    def to_json(self) -> str:
        return json.dumps(json.loads(super().to_json()), ensure_ascii=False, separators=(",", ":"))


class FrozenDeck(pdk.Deck):
    """A Deck that is its JSON, built before (the app caches the JSON per filter, :func:`build_deck_json`)."""

    def __init__(self, spec: str, tooltip: dict | None = None) -> None:
        super().__init__(layers=[], map_provider=None, tooltip=tooltip or {"html": TOOLTIP_HTML, "style": TOOLTIP_STYLE})
        self._spec = spec

    def to_json(self) -> str:
        return self._spec


def build_deck_json(data: DocData, filters: MapFilters, base: MapBase | None = None) -> str:
    """:func:`build_deck` for ``filters``, as the JSON Streamlit sends to the browser."""
    deck = build_deck(data, day=filters.day, county=filters.county, township=filters.township,
                      province=filters.province, modes=set(filters.modes), view=filters.view, base=base)
    return deck.to_json()
