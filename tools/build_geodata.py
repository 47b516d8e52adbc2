"""Build the shipped geodata (geodata/) from the public sources in ../shared/geodata.

Run from the repository root:

    .venv/bin/python tools/build_geodata.py --shared ../shared/geodata --out geodata

Deterministic: the same sources give byte-identical CSV files (every random draw is seeded
from a place's own code). What is copied, from where and under which licence is written in
geodata/README.md.

Village positions are SYNTHETIC: no public source gives them. Each village is placed near
its real township seat, strictly inside its real county polygon, from a random generator
seeded with its own 12-digit code.

Station and terminal positions below are hand-entered (about 100 m precision) and were
checked one by one; the unlicensed 2016 station list in ../shared/geodata/reference was only
read for that check and nothing is derived from it. Positions marked OSM come from
rail_stations_osm_supplement.csv (© OpenStreetMap contributors, ODbL).
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point, shape

ROOT = Path(__file__).resolve().parents[1]

PROVINCES = {"44": "广东", "33": "浙江", "35": "福建", "32": "江苏", "31": "上海"}
GEONAMES_PROVINCE = {"Guangdong": "广东", "Zhejiang": "浙江", "Fujian": "福建", "Jiangsu": "江苏", "Shanghai": "上海"}

# Inward buffers (degrees; 0.001 deg is about 100 m) keeping placed points off county edges.
SEAT_EDGE = 0.003
VILLAGE_EDGE = 0.0005

# ----------------------------------------------------------------------------- terminals
# The county passenger terminal stands at the county seat: the seat of the township named
# here (its GeoNames point), or, where GeoNames has no point for it, the hand-entered
# (lon, lat) of the county-town centre.
COUNTY_SEAT: dict[str, str | tuple[float, float]] = {
    "500101": "钟鼓楼街道", "500102": "荔枝街道", "500103": (106.546, 29.550),  # 渝中: 菜园坝
    "500104": "新山村街道", "500105": (106.532, 29.577),  # 江北: 观音桥
    "500106": (106.457, 29.556),  # 沙坪坝: 三峡广场
    "500107": "杨家坪街道", "500108": "南坪街道", "500109": "朝阳街道", "500110": "古南街道",
    "500111": "龙岗街道", "500112": "双龙湖街道", "500113": "龙洲湾街道", "500114": "城西街道",
    "500115": "凤城街道", "500116": "几江街道", "500117": "合阳城街道", "500118": "中山路街道",
    "500119": "东城街道", "500120": "璧城街道", "500151": "巴川街道", "500152": "梓潼街道",
    "500153": "昌元街道", "500154": "汉丰街道", "500155": (107.800, 30.673),  # 梁平: 梁山街道
    "500156": (107.757, 29.325),  # 武隆: 凤山街道
    "500229": "葛城街道", "500230": "三合街道", "500231": "桂溪街道", "500233": "忠州街道",
    "500235": "双江街道", "500236": "永安街道", "500237": "巫峡镇", "500238": "城厢镇",
    "500240": "南宾街道", "500241": "中和街道", "500242": "钟多街道", "500243": "汉葭街道",
}
# Terminal capacity rule (people boarded a day): the main exporting counties of 2020
# (万州, 开州, 云阳, 奉节, 巫山, 石柱, 忠县, 黔江, 南川, 綦江, 合川, 涪陵, 垫江, 荣昌) 1,500;
# every other county 800.
BIG_EXPORTERS = {
    "500101", "500154", "500235", "500236", "500237", "500240", "500233", "500114", "500119",
    "500110", "500117", "500102", "500231", "500153",
}
TERMINAL_CAPACITY = (1500, 800)

# ----------------------------------------------------------------------- origin stations
# (hub_id, name, lon, lat, daily capacity); None = position from the OSM supplement.
ORIGIN_STATIONS: list[tuple[str, str, float | None, float | None, int]] = [
    ("R-CQB", "重庆北站", 106.548, 29.610, 5000),
    ("R-CQX", "重庆西站", 106.432, 29.502, 5000),  # the 2018 passenger station, not the old freight yard
    ("R-SPB", "沙坪坝站", None, None, 3000),  # OSM
    ("R-WZB", "万州北站", None, None, 4000),  # OSM
    ("R-FLB", "涪陵北站", 107.273, 29.771, 3000),
    ("R-QJ", "黔江站", 108.786, 29.446, 3000),
    ("R-YCD", "永川东站", None, None, 3000),  # OSM
    ("R-QJD", "綦江东站", None, None, 3000),  # OSM
    ("R-CSB", "长寿北站", 107.071, 29.882, 3000),
    ("R-HC", "合川站", 106.274, 29.963, 3000),
    ("R-TN", "潼南站", 105.874, 30.222, 3000),
    ("R-RC", "荣昌站", 105.578, 29.398, 3000),
    ("R-JJ", "江津站", 106.237, 29.264, 3000),
    ("R-FD", "丰都站", 107.686, 29.848, 3000),
    ("R-SZX", "石柱县站", 108.093, 29.968, 3000),
    ("R-PS", "彭水站", 108.231, 29.364, 3000),
    ("R-YY", "酉阳站", 108.958, 28.812, 3000),
    ("R-XS", "秀山站", 109.011, 28.450, 3000),
]

# ------------------------------------------------------------------ destination stations
# (station_id, name, province, city, lon, lat); None = position from the OSM supplement.
DEST_STATIONS: list[tuple[str, str, str, str, float | None, float | None]] = [
    ("S-GZN", "广州南站", "广东", "广州", 113.264, 22.991),
    ("S-GZ", "广州站", "广东", "广州", 113.252, 23.151),
    ("S-SZB", "深圳北站", "广东", "深圳", 114.024, 22.612),
    ("S-SZ", "深圳站", "广东", "深圳", 114.112, 22.534),
    ("S-PS", "深圳坪山站", "广东", "深圳", 114.321, 22.711),
    ("S-DG", "东莞站", "广东", "东莞", 113.854, 23.090),
    ("S-DGD", "东莞东站", "广东", "东莞", 114.034, 22.970),
    ("S-HM", "虎门站", "广东", "东莞", 113.668, 22.864),
    ("S-HZ", "惠州站", "广东", "惠州", 114.412, 23.154),
    ("S-HZN", "惠州南站", "广东", "惠州", 114.488, 22.787),
    ("S-FSX", "佛山西站", "广东", "佛山", None, None),  # OSM
    ("S-ZS", "中山站", "广东", "中山", 113.428, 22.546),
    ("S-ZH", "珠海站", "广东", "珠海", 113.544, 22.218),
    ("S-HZD", "杭州东站", "浙江", "杭州", 120.209, 30.293),
    ("S-NB", "宁波站", "浙江", "宁波", 121.532, 29.864),
    ("S-WZN", "温州南站", "浙江", "温州", 120.581, 27.970),
    ("S-SXB", "绍兴北站", "浙江", "绍兴", 120.534, 30.102),
    ("S-TZ", "台州站", "浙江", "台州", 121.286, 28.689),
    ("S-YW", "义乌站", "浙江", "金华", None, None),  # OSM
    ("S-XMB", "厦门北站", "福建", "厦门", 118.069, 24.639),
    ("S-QZ", "泉州站", "福建", "泉州", 118.562, 24.976),
    ("S-JJ", "晋江站", "福建", "泉州", 118.454, 24.797),
    ("S-FZ", "福州站", "福建", "福州", 119.315, 26.117),
    ("S-FQ", "福清站", "福建", "福州", 119.380, 25.678),
    ("S-SHHQ", "上海虹桥站", "上海", "上海", 121.316, 31.196),
    ("S-SHN", "上海南站", "上海", "上海", 121.425, 31.155),
    ("S-SZH", "苏州站", "江苏", "苏州", 120.607, 31.332),
    ("S-KSN", "昆山南站", "江苏", "苏州", 120.947, 31.355),
    ("S-WX", "无锡站", "江苏", "无锡", 120.301, 31.589),
    ("S-NJN", "南京南站", "江苏", "南京", 118.793, 31.971),
    ("S-CZ", "常州站", "江苏", "常州", 119.969, 31.787),
]
OSM_NAMES = {"R-SPB": "沙坪坝", "R-WZB": "万州北", "R-YCD": "永川东", "R-QJD": "綦江东", "S-FSX": "佛山西", "S-YW": "义乌"}

# -------------------------------------------------------------------------- factory towns
# city code -> [(town, weight, GeoNames spellings if they differ)], weight = relative size
# of the town as a job market for migrant workers (5 = the famous ones). The synthesizer
# applies the province shares itself; the number of sites per province roughly follows
# Chongqing's 2020 destinations (广东 most, then 浙江, 福建, 江苏, 上海).
FACTORY_TOWNS: dict[str, list[tuple[str, int, tuple[str, ...]]]] = {
    "4419": [  # 东莞
        ("虎门", 5, ()), ("长安", 5, ()), ("厚街", 4, ()), ("塘厦", 4, ()), ("常平", 4, ()), ("大朗", 3, ()),
        ("清溪", 3, ()), ("凤岗", 3, ("风岗",)), ("寮步", 3, ()), ("黄江", 2, ()), ("樟木头", 2, ()),
        ("石碣", 2, ()), ("横沥", 2, ()), ("石龙", 2, ()), ("南城", 2, ()), ("东城", 2, ()), ("桥头", 1, ()),
        ("石排", 1, ()), ("企石", 1, ()), ("谢岗", 1, ()), ("东坑", 1, ()),
    ],
    "4403": [  # 深圳
        ("龙岗", 5, ("龙城", "竜崗区")), ("沙井", 5, ()), ("松岗", 4, ()), ("观澜", 4, ()), ("龙华", 4, ()),
        ("福永", 4, ()), ("公明", 4, ()), ("坪山", 3, ()), ("西乡", 3, ()), ("石岩", 3, ()), ("布吉", 3, ()),
        ("横岗", 3, ()), ("平湖", 3, ()), ("坂田", 3, ()), ("坪地", 2, ()), ("民治", 2, ()), ("大浪", 2, ()),
        ("光明", 2, ()), ("坑梓", 2, ()),
    ],
    "4401": [  # 广州: 番禺, 花都, 增城, 白云, 黄埔
        ("新塘", 4, ()), ("狮岭", 3, ()), ("石滩", 2, ()), ("永和", 2, ()), ("新华", 2, ()), ("市桥", 2, ()),
        ("大石", 2, ()), ("石碁", 2, ()), ("太和", 2, ()), ("萝岗", 2, ()), ("南村", 1, ()), ("钟村", 1, ()),
        ("石楼", 1, ()), ("化龙", 1, ()), ("花东", 1, ()), ("朱村", 1, ()),
    ],
    "4413": [  # 惠州: 惠阳, 仲恺, 博罗
        ("惠阳", 3, ("惠阳区",)), ("陈江", 3, ()), ("园洲", 3, ()), ("秋长", 2, ()), ("新圩", 2, ()),
        ("沥林", 2, ()), ("石湾", 2, ()), ("龙溪", 2, ()), ("镇隆", 1, ()), ("潼湖", 1, ()), ("水口", 1, ()),
        ("罗阳", 1, ()), ("杨村", 1, ()),
    ],
    "4406": [  # 佛山: 顺德, 南海
        ("容桂", 3, ()), ("北滘", 3, ()), ("狮山", 3, ()), ("大良", 2, ()), ("乐从", 2, ()), ("伦教", 2, ()),
        ("勒流", 2, ()), ("龙江", 2, ()), ("大沥", 2, ()), ("里水", 2, ()), ("陈村", 1, ()),
    ],
    "4420": [  # 中山
        ("小榄", 3, ()), ("古镇", 3, ()), ("横栏", 2, ()), ("东凤", 2, ()), ("坦洲", 2, ()), ("南头", 2, ()),
        ("三乡", 1, ()),
    ],
    "4404": [("井岸", 2, ()), ("三灶", 2, ()), ("平沙", 1, ()), ("红旗", 1, ())],  # 珠海: 斗门, 金湾
    "3301": [  # 杭州: 萧山, 余杭
        ("萧山", 4, ()), ("瓜沥", 2, ()), ("临平", 2, ()), ("下沙", 2, ()), ("宁围", 1, ()), ("衙前", 1, ()),
        ("临浦", 1, ()), ("新街", 1, ()), ("乔司", 1, ()), ("塘栖", 1, ()), ("良渚", 1, ()), ("仓前", 1, ()),
    ],
    "3302": [  # 宁波: 慈溪, 余姚, 北仑
        ("慈溪", 3, ()), ("余姚", 3, ()), ("北仑", 2, ()), ("大碶", 2, ()), ("周巷", 2, ()), ("观海卫", 2, ()),
        ("泗门", 2, ()), ("小港", 1, ()), ("坎墩", 1, ()), ("姜山", 1, ()), ("集士港", 1, ()),
    ],
    "3303": [("瑞安", 3, ()), ("柳市", 3, ()), ("虹桥", 2, ()), ("双屿", 1, ())],  # 温州: 瑞安, 乐清
    "3306": [  # 绍兴: 柯桥, 诸暨, 上虞
        ("诸暨", 2, ()), ("店口", 2, ()), ("钱清", 2, ()), ("杨汛桥", 1, ()), ("华舍", 1, ()), ("安昌", 1, ()),
        ("马鞍", 1, ()), ("大唐", 1, ("大唐庵",)), ("上虞", 1, ()),
    ],
    "3310": [("温岭", 3, ()), ("泽国", 2, ()), ("大溪", 1, ()), ("横峰", 1, ()), ("新前", 1, ()), ("院桥", 1, ())],
    "3307": [("义乌", 4, ()), ("稠江", 2, ()), ("义亭", 1, ()), ("上溪", 1, ()), ("古山", 1, ()), ("横店", 1, ())],
    "3505": [  # 泉州: 石狮, 晋江
        ("石狮", 5, ()), ("晋江", 3, ("晉江",)), ("陈埭", 4, ()), ("安海", 3, ()), ("磁灶", 2, ()), ("池店", 2, ()),
        ("内坑", 1, ()), ("东石", 1, ()), ("西滨", 1, ()), ("洪濑", 1, ()), ("丰州", 1, ()),
    ],
    "3502": [("杏林", 2, ()), ("灌口", 2, ()), ("后溪", 1, ()), ("西柯", 2, ()), ("新民", 1, ()), ("马巷", 1, ())],  # 厦门: 集美, 同安
    "3501": [("福清", 2, ()), ("宏路", 1, ()), ("江阴", 1, ()), ("龙田", 1, ()), ("音西", 1, ()), ("青口", 1, ()), ("金峰", 1, ()), ("潭头", 1, ())],
    "3205": [  # 苏州: 昆山, 吴江, 常熟, 张家港
        ("昆山", 4, ("崑山",)), ("张浦", 2, ()), ("周市", 1, ()), ("陆家", 1, ()), ("千灯", 1, ()), ("巴城", 1, ()),
        ("吴江", 2, ("吴江市",)), ("盛泽", 2, ()), ("平望", 1, ()), ("常熟", 2, ("常熟市",)), ("梅李", 1, ()),
        ("张家港", 2, ()), ("锦丰", 1, ()),
    ],
    "3202": [("江阴", 2, ("江阴市",)), ("华士", 1, ()), ("梅村", 1, ()), ("硕放", 1, ())],  # 无锡
    "3204": [("武进", 2, ("武进区",)), ("横林", 1, ()), ("遥观", 1, ()), ("罗溪", 1, ())],  # 常州
    "3101": [  # 上海: 松江, 嘉定, 青浦, 金山
        ("松江", 3, ()), ("九亭", 2, ()), ("泗泾", 1, ()), ("车墩", 1, ()), ("洞泾", 1, ()), ("嘉定", 2, ()),
        ("安亭", 2, ()), ("南翔", 1, ()), ("江桥", 1, ()), ("华新", 1, ()), ("赵巷", 1, ()), ("徐泾", 1, ()),
        ("枫泾", 1, ()), ("朱泾", 1, ()), ("金山卫", 1, ()),
    ],
}


# -------------------------------------------------------------------------------- helpers
def haversine_km(lon1: float, lat1: float, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Great-circle distance in km from one point to many."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dlmb = np.radians(np.asarray(lon2) - lon1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlmb / 2) ** 2
    return 2 * 6371.0088 * np.arcsin(np.sqrt(a))


def read_geojson(path: Path) -> gpd.GeoDataFrame:
    """A GeoJSON as EPSG:4326 (the sources declare CGCS2000 / EPSG:4490, equal at metre level)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    rows = [{**f["properties"], "geometry": shape(f["geometry"])} for f in doc["features"]]
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    gdf["geometry"] = shapely.make_valid(gdf.geometry.values)
    gdf["geometry"] = [as_multipolygon(g) for g in gdf.geometry]
    return gdf


def as_multipolygon(g):
    """Polygon or polygonal collection -> MultiPolygon."""
    if g.geom_type == "MultiPolygon":
        return g
    if g.geom_type == "Polygon":
        return shapely.MultiPolygon([g])
    parts = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
    polys = [q for p in parts for q in (p.geoms if p.geom_type == "MultiPolygon" else [p])]
    return shapely.MultiPolygon(polys)


def inside(poly, x: float, y: float) -> bool:
    return bool(shapely.contains_xy(poly, x, y))


def shrink(poly, dist: float):
    """The polygon buffered inwards by ``dist`` degrees, or less where that empties it."""
    for d in (dist, dist / 2, dist / 4, 0.001, 0.0):
        inner = poly.buffer(-d) if d else poly
        if not inner.is_empty and inner.area > 0:
            return inner
    return poly


def random_inside(poly, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` uniform random points inside ``poly`` (rejection sampling in its bounding box)."""
    minx, miny, maxx, maxy = poly.bounds
    out: list[tuple[float, float]] = []
    while len(out) < n:
        x = rng.uniform(minx, maxx, 256)
        y = rng.uniform(miny, maxy, 256)
        ok = shapely.contains_xy(poly, x, y)
        out += list(zip(x[ok], y[ok]))
    return np.array(out[:n])


def km_offset(x: float, y: float, dist_km: float, angle: float) -> tuple[float, float]:
    """The point ``dist_km`` from (x, y) in direction ``angle`` (radians from east)."""
    return (x + dist_km * math.cos(angle) / (111.32 * math.cos(math.radians(y))), y + dist_km * math.sin(angle) / 110.57)


def county_of(xs, ys, polys: gpd.GeoDataFrame) -> list[str]:
    """The county_code of the polygon containing each point ('' if none)."""
    geoms = polys.geometry.values
    codes = polys["county_code"].to_numpy()
    out = []
    for x, y in zip(xs, ys):
        hit = np.flatnonzero(shapely.contains_xy(geoms, float(x), float(y)))
        out.append(str(codes[hit[0]]) if len(hit) == 1 else "")
    return out


# ---------------------------------------------------------------------------- Chongqing
def build_counties(shared: Path) -> gpd.GeoDataFrame:
    names = pd.read_csv(shared / "chongqing/counties_2019.csv", dtype=str)
    g = read_geojson(shared / "chongqing/county_boundaries_wgs84.geojson")
    g["county_code"] = g["gb"].str[3:]
    g = g.merge(names, on="county_code", how="inner")
    if len(g) != len(names):
        raise SystemExit(f"county polygons matched {len(g)} of {len(names)} county codes")
    return g[["county_code", "county_name", "geometry"]].sort_values("county_code").reset_index(drop=True)


def county_seats(counties: gpd.GeoDataFrame, shared: Path) -> dict[str, tuple[float, float, str]]:
    """County code -> (lon, lat, how) of the county town, where the terminal stands."""
    gn = pd.read_csv(shared / "chongqing/township_seats_geonames.csv", dtype={"town_code": str, "county_code": str})
    gn = gn.dropna(subset=["lon"])
    polys = dict(zip(counties["county_code"], counties.geometry))
    out = {}
    for code in counties["county_code"]:
        spec = COUNTY_SEAT[code]
        if isinstance(spec, tuple):
            x, y, how = spec[0], spec[1], "hand-entered"
        else:
            hit = gn[(gn["county_code"] == code) & (gn["town_name"] == spec)]
            if len(hit) != 1:
                raise SystemExit(f"county seat {spec} of {code} has no GeoNames point")
            x, y, how = float(hit["lon"].iloc[0]), float(hit["lat"].iloc[0]), f"GeoNames seat of {spec}"
        if not inside(polys[code], x, y):
            raise SystemExit(f"county seat of {code} ({x}, {y}) is outside its county")
        out[code] = (x, y, how)
    return out


def build_townships(shared: Path, counties: gpd.GeoDataFrame, seats: dict) -> pd.DataFrame:
    gn = pd.read_csv(shared / "chongqing/township_seats_geonames.csv", dtype={"town_code": str, "county_code": str})
    gn = gn.dropna(subset=["lon"]).set_index("town_code")
    towns = pd.read_csv(shared / "chongqing/townships_2019.csv", dtype=str).sort_values("township_code")
    polys = dict(zip(counties["county_code"], counties.geometry))
    rows = []
    for t in towns.itertuples(index=False):
        lon = lat = float("nan")
        src = "estimated"
        if t.township_code in gn.index:
            x, y = float(gn.at[t.township_code, "lon"]), float(gn.at[t.township_code, "lat"])
            if inside(polys[t.county_code], x, y):
                lon, lat, src = x, y, "geonames"
        rows.append([t.township_code, t.township_name, t.county_code, lon, lat, src])
    df = pd.DataFrame(rows, columns=["township_code", "township_name", "county_code", "lon", "lat", "seat_source"])

    for county, grp in df.groupby("county_code", sort=True):
        edge = shrink(polys[county], SEAT_EDGE)
        rural_area = shrink(polys[county], 0.02)  # estimated rural seats at least ~2 km from the edge
        known = grp[grp["seat_source"] == "geonames"]
        known_streets = known[known["township_name"].str.endswith("街道")]
        cx, cy, _ = seats[county]
        if len(known_streets) >= 3:  # urban centre: the mean of the known street seats
            mx, my = float(known_streets["lon"].mean()), float(known_streets["lat"].mean())
            if inside(edge, mx, my):
                cx, cy = mx, my
        placed = known[["lon", "lat"]].to_numpy(float).tolist()
        for idx in grp.index[grp["seat_source"] == "estimated"]:
            rng = np.random.default_rng(int(df.at[idx, "township_code"]))
            if df.at[idx, "township_name"].endswith("街道"):
                # an urban street: within a few km of the urban centre
                x, y = cx, cy
                for attempt in range(200):
                    r = 1.0 + 2.0 * rng.random() * 0.97**attempt
                    x2, y2 = km_offset(cx, cy, r, rng.uniform(0, 2 * math.pi))
                    if inside(edge, x2, y2):
                        x, y = x2, y2
                        break
            else:
                # a rural township: the candidate point furthest from every seat placed so far
                cand = random_inside(rural_area, rng, 64)
                if placed:
                    pts = np.array(placed)
                    d = np.min(np.hypot(cand[:, None, 0] - pts[None, :, 0], cand[:, None, 1] - pts[None, :, 1]), axis=1)
                    x, y = cand[int(np.argmax(d))]
                else:
                    x, y = cand[0]
            x, y = round(float(x), 6), round(float(y), 6)
            if not inside(edge, x, y):
                raise SystemExit(f"estimated seat of {df.at[idx, 'township_code']} fell outside its county")
            df.loc[idx, ["lon", "lat"]] = [x, y]
            placed.append([x, y])
    df["lon"] = df["lon"].astype(float).round(6)
    df["lat"] = df["lat"].astype(float).round(6)
    return df.sort_values("township_code").reset_index(drop=True)


def build_villages(shared: Path, counties: gpd.GeoDataFrame, towns: pd.DataFrame) -> pd.DataFrame:
    v = pd.read_csv(shared / "chongqing/villages_2019.csv", dtype=str).sort_values("village_code").reset_index(drop=True)
    seat = towns.set_index("township_code")[["lon", "lat"]]
    polys = {c: shrink(g, VILLAGE_EDGE) for c, g in zip(counties["county_code"], counties.geometry)}
    raw = dict(zip(counties["county_code"], counties.geometry))
    lon = np.empty(len(v))
    lat = np.empty(len(v))
    for i, r in enumerate(v.itertuples(index=False)):
        rng = np.random.default_rng(int(r.village_code))
        sx, sy = float(seat.at[r.township_code, "lon"]), float(seat.at[r.township_code, "lat"])
        lo, hi = (0.3, 1.5) if "社区" in r.village_name else (2.0, 8.0)  # communities near the seat
        dist_km, ang = rng.uniform(lo, hi), rng.uniform(0, 2 * math.pi)
        poly = polys[r.county_code]
        x, y = sx, sy
        for attempt in range(40):  # shrink toward the seat (new direction each time) until inside
            x2, y2 = km_offset(sx, sy, dist_km * 0.85**attempt, ang)
            x2, y2 = round(x2, 6), round(y2, 6)
            if inside(poly, x2, y2):
                x, y = x2, y2
                break
            ang = rng.uniform(0, 2 * math.pi)
        if not inside(raw[r.county_code], x, y):
            raise SystemExit(f"village {r.village_code} could not be placed inside its county")
        lon[i], lat[i] = x, y
    v["lon"] = lon
    v["lat"] = lat
    return v


def osm_positions(shared: Path) -> dict[str, tuple[float, float]]:
    osm = pd.read_csv(shared / "reference/rail_stations_osm_supplement.csv")
    return {n: (round(float(x), 6), round(float(y), 6)) for n, x, y in zip(osm["name"], osm["lon_wgs84"], osm["lat_wgs84"])}


def build_hubs(counties: gpd.GeoDataFrame, seats: dict, shared: Path) -> pd.DataFrame:
    osm = osm_positions(shared)
    rows = []
    for c in counties.itertuples():
        x, y, _ = seats[c.county_code]
        cap = TERMINAL_CAPACITY[0] if c.county_code in BIG_EXPORTERS else TERMINAL_CAPACITY[1]
        rows.append([f"T{c.county_code}", f"{c.county_name}汽车客运站", "terminal", c.county_code, x, y, cap])
    for hub_id, name, x, y, cap in ORIGIN_STATIONS:
        if x is None:
            x, y = osm[OSM_NAMES[hub_id]]
        code = county_of([x], [y], counties)[0]
        if not code:
            raise SystemExit(f"station {name} ({x}, {y}) is not inside exactly one Chongqing county")
        rows.append([hub_id, name, "rail_station", code, x, y, cap])
    return pd.DataFrame(rows, columns=["hub_id", "name", "kind", "county_code", "lon", "lat", "daily_capacity_people"])


# ---------------------------------------------------------------------------- receiving
def build_receiving(shared: Path) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    g = read_geojson(shared / "receiving/county_boundaries_wgs84.geojson")
    pref = read_geojson(shared / "receiving/prefecture_boundaries_wgs84.geojson")
    pref_name = {gb[3:7]: n for gb, n in zip(pref["gb"], pref["name"])}
    g["county_code"] = g["gb"].str[3:]
    g["county_name"] = g["name"]
    g["city_code"] = g["county_code"].str[:4]
    g["province_code"] = g["county_code"].str[:2]
    g = g[g["province_code"].isin(PROVINCES)].copy()
    g.loc[g["province_code"] == "31", "city_code"] = "3101"  # Shanghai: one city, 上海市
    g["city_name"] = [pref_name.get(c, "") for c in g["city_code"]]
    g.loc[g["province_code"] == "31", "city_name"] = "上海市"
    missing = g[g["city_name"] == ""]
    if len(missing):
        raise SystemExit(f"no prefecture name for {', '.join(missing['county_code'])}")
    g["province"] = g["province_code"].map(PROVINCES)
    g = g[["county_code", "county_name", "city_code", "city_name", "province_code", "province", "geometry"]]
    g = g.sort_values("county_code").reset_index(drop=True)
    regions = [[code, name, "province", ""] for code, name in sorted(PROVINCES.items())]
    cities = g.drop_duplicates("city_code").sort_values("city_code")
    regions += [[r.city_code, r.city_name, "city", r.province_code] for r in cities.itertuples()]
    regions += [[r.county_code, r.county_name, "county", r.city_code] for r in g.itertuples()]
    return g, pd.DataFrame(regions, columns=["region_code", "name", "level", "parent_code"])


def build_stations(rc: gpd.GeoDataFrame, shared: Path) -> pd.DataFrame:
    osm = osm_positions(shared)
    rows = []
    for sid, name, prov, city, x, y in DEST_STATIONS:
        if x is None:
            x, y = osm[OSM_NAMES[sid]]
        code = county_of([x], [y], rc)[0]
        if not code:
            raise SystemExit(f"station {name} ({x}, {y}) is not inside exactly one receiving county")
        if PROVINCES[code[:2]] != prov:
            raise SystemExit(f"station {name} lies in {code}, not in {prov}")
        rows.append([sid, name, prov, city, code, x, y])
    return pd.DataFrame(rows, columns=["station_id", "name", "province", "city", "county_code", "lon", "lat"])


def build_factory_sites(shared: Path, rc: gpd.GeoDataFrame, stations: pd.DataFrame) -> pd.DataFrame:
    towns = pd.read_csv(shared / "receiving/towns_geonames.csv", dtype={"geonameid": str})
    towns["province"] = towns["province"].map(GEONAMES_PROVINCE)
    towns = towns.dropna(subset=["province", "name_zh"])
    towns["county_code"] = county_of(towns["lon"], towns["lat"], rc)
    towns = towns[towns["county_code"] != ""].copy()
    towns["city_code"] = towns["county_code"].str[:4].where(towns["county_code"].str[:2] != "31", "3101")
    # a town's GeoNames province must agree with the county polygon it falls in
    towns = towns[towns["province"] == towns["county_code"].str[:2].map(PROVINCES)]
    city_name = rc.drop_duplicates("city_code").set_index("city_code")["city_name"]
    sx, sy = stations["lon"].to_numpy(float), stations["lat"].to_numpy(float)
    rows, missing = [], []
    for city, entries in FACTORY_TOWNS.items():
        for name, weight, spellings in entries:
            wanted = [name, *spellings]
            hits = towns[(towns["city_code"] == city) & towns["name_zh"].isin(wanted)]
            if hits.empty:
                missing.append(name)
                continue
            # prefer the first spelling listed, then the lowest geonameid
            hits = hits.assign(rank=hits["name_zh"].map({n: i for i, n in enumerate(wanted)}), gid=hits["geonameid"].astype(int))
            h = hits.sort_values(["rank", "gid"]).iloc[0]
            x, y = round(float(h["lon"]), 6), round(float(h["lat"]), 6)
            station = stations["station_id"].iloc[int(np.argmin(haversine_km(x, y, sx, sy)))]
            rows.append([f"F-{h['geonameid']}", name, h["province"], city_name[city], h["county_code"], x, y, station, weight])
    if missing:
        print(f"factory towns not in GeoNames (skipped): {', '.join(missing)}")
    cols = ["site_id", "town_name", "province", "city", "county_code", "lon", "lat", "arrival_station_id", "weight"]
    out = pd.DataFrame(rows, columns=cols)
    dup = out[out["site_id"].duplicated()]
    if len(dup):
        raise SystemExit(f"two factory towns resolve to the same GeoNames place: {', '.join(dup['town_name'])}")
    return out.sort_values("site_id").reset_index(drop=True)


# --------------------------------------------------------------------------------- main
def write_csv(df: pd.DataFrame, path: Path) -> None:
    df.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")


def write_gpkg(gdf: gpd.GeoDataFrame, path: Path, layer: str) -> None:
    path.unlink(missing_ok=True)
    os.environ["OGR_CURRENT_DATE"] = "2020-02-01T00:00:00.000Z"  # fixed GeoPackage timestamps
    gdf.to_file(path, layer=layer, driver="GPKG", engine="pyogrio")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(ROOT.parent / "shared" / "geodata"), help="the public sources")
    ap.add_argument("--out", default=str(ROOT / "geodata"), help="where to write the shipped geodata")
    args = ap.parse_args()
    shared, out = Path(args.shared), Path(args.out)
    (out / "chongqing").mkdir(parents=True, exist_ok=True)
    (out / "receiving").mkdir(parents=True, exist_ok=True)

    counties = build_counties(shared)
    seats = county_seats(counties, shared)
    towns = build_townships(shared, counties, seats)
    villages = build_villages(shared, counties, towns)
    hubs = build_hubs(counties, seats, shared)
    rc, regions = build_receiving(shared)
    stations = build_stations(rc, shared)
    sites = build_factory_sites(shared, rc, stations)

    write_gpkg(counties, out / "chongqing/counties.gpkg", "counties")
    write_csv(towns, out / "chongqing/townships.csv")
    vg = gpd.GeoDataFrame(
        villages[["village_code", "village_name", "township_code", "county_code"]],
        geometry=[Point(x, y) for x, y in zip(villages["lon"], villages["lat"])],
        crs="EPSG:4326",
    )
    write_gpkg(vg, out / "chongqing/villages.gpkg", "villages")
    write_csv(villages, out / "chongqing/villages.csv")
    write_csv(hubs, out / "chongqing/hubs.csv")
    write_gpkg(rc, out / "receiving/counties.gpkg", "counties")
    write_csv(regions, out / "receiving/regions.csv")
    write_csv(stations, out / "receiving/stations.csv")
    write_csv(sites, out / "receiving/factory_sites.csv")

    est = towns[towns["seat_source"] == "estimated"]
    n_street = int(est["township_name"].str.endswith("街道").sum())
    print(
        f"counties {len(counties)}, townships {len(towns)} ({len(est)} seats estimated: {n_street} streets, "
        f"{len(est) - n_street} towns/townships), villages {len(villages)}, hubs {len(hubs)}, "
        f"receiving counties {len(rc)}, regions {len(regions)}, stations {len(stations)}, factory sites {len(sites)}"
    )
    print("factory sites per province: " + ", ".join(f"{p} {n}" for p, n in sites["province"].value_counts().items()))


if __name__ == "__main__":
    main()
