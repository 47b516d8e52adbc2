"""Build the shipped geodata (geodata/) from the public sources in ../shared/geodata.

Run from the repository root:

    .venv/bin/python tools/build_geodata.py --shared ../shared/geodata --out geodata

Deterministic: the same sources give byte-identical CSV files. What is copied,
from where and under which licence is written in geodata/README.md.

Village positions are SYNTHETIC: no public source gives them. Each village is
placed near its real township seat, strictly inside its real county polygon,
from a random generator seeded with its own 12-digit code.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point, shape

ROOT = Path(__file__).resolve().parents[1]

PROVINCES = {"44": "广东", "33": "浙江", "35": "福建", "32": "江苏", "31": "上海"}
GEONAMES_PROVINCE = {"Guangdong": "广东", "Zhejiang": "浙江", "Fujian": "福建", "Jiangsu": "江苏", "Shanghai": "上海"}

# Counties exporting most workers get larger terminals (people boarded per day).
BIG_EXPORTERS = {
    "500101", "500234", "500235", "500236", "500237", "500233", "500240", "500114", "500119",
    "500110", "500117", "500102", "500231", "500153", "500238", "500229", "500243", "500242",
}

# Railway stations of the origin, hand-entered (approximate station positions, WGS-84);
# checked against the reference list, not copied from it. OSM = from the OSM supplement.
ORIGIN_STATIONS = [
    ("R-CQB", "重庆北站", 106.5475, 29.6105, 5000),
    ("R-CQX", "重庆西站", 106.4330, 29.5010, 5000),
    ("R-SPB", "沙坪坝站", 106.4562, 29.5581, 3000),  # OSM
    ("R-WZB", "万州北站", 108.3621, 30.8656, 4000),  # OSM
    ("R-FLB", "涪陵北站", 107.2725, 29.7705, 3000),
    ("R-QJ", "黔江站", 108.7860, 29.4465, 3000),
    ("R-YCD", "永川东站", 105.9460, 29.3743, 3000),  # OSM
    ("R-QJD", "綦江东站", 106.6596, 29.0264, 3000),  # OSM
    ("R-CSB", "长寿北站", 107.0705, 29.8825, 2000),
    ("R-HC", "合川站", 106.2745, 29.9635, 2000),
    ("R-TN", "潼南站", 105.8740, 30.2220, 2000),
    ("R-RC", "荣昌站", 105.5780, 29.3980, 2000),
    ("R-JJ", "江津站", 106.2370, 29.2645, 2000),
    ("R-FD", "丰都站", 107.6860, 29.8485, 2000),
    ("R-SZX", "石柱县站", 108.0930, 29.9680, 2000),
    ("R-PS", "彭水站", 108.2310, 29.3645, 2000),
    ("R-YY", "酉阳站", 108.9580, 28.8115, 2000),
    ("R-XS", "秀山站", 109.0110, 28.4495, 2000),
]

# Destination stations where employers meet chartered carriages (approximate, WGS-84).
DEST_STATIONS = [
    ("S-GZN", "广州南站", "广东", "广州", 113.2641, 22.9915),
    ("S-GZ", "广州站", "广东", "广州", 113.2522, 23.1516),
    ("S-SZB", "深圳北站", "广东", "深圳", 114.0239, 22.6120),
    ("S-SZ", "深圳站", "广东", "深圳", 114.1121, 22.5343),
    ("S-DG", "东莞站", "广东", "东莞", 113.8540, 23.0903),
    ("S-DGD", "东莞东站", "广东", "东莞", 114.0340, 22.9699),
    ("S-HZ", "惠州站", "广东", "惠州", 114.4116, 23.1543),
    ("S-FSX", "佛山西站", "广东", "佛山", 113.0281, 23.0824),  # OSM
    ("S-ZS", "中山站", "广东", "中山", 113.4278, 22.5465),
    ("S-ZH", "珠海站", "广东", "珠海", 113.5443, 22.2182),
    ("S-HZD", "杭州东站", "浙江", "杭州", 120.2084, 30.2935),
    ("S-NB", "宁波站", "浙江", "宁波", 121.5322, 29.8641),
    ("S-WZN", "温州南站", "浙江", "温州", 120.5811, 27.9695),
    ("S-SXB", "绍兴北站", "浙江", "绍兴", 120.5344, 30.1023),
    ("S-TZ", "台州站", "浙江", "台州", 121.2858, 28.6889),
    ("S-YW", "义乌站", "浙江", "金华", 120.0404, 29.3797),  # OSM
    ("S-XMB", "厦门北站", "福建", "厦门", 118.0691, 24.6390),
    ("S-QZ", "泉州站", "福建", "泉州", 118.5625, 24.9759),
    ("S-JJ", "晋江站", "福建", "泉州", 118.4540, 24.7973),
    ("S-FZ", "福州站", "福建", "福州", 119.3152, 26.1171),
    ("S-SHHQ", "上海虹桥站", "上海", "上海", 121.3160, 31.1961),
    ("S-SHN", "上海南站", "上海", "上海", 121.4248, 31.1550),
    ("S-SZH", "苏州站", "江苏", "苏州", 120.6066, 31.3319),
    ("S-KSN", "昆山南站", "江苏", "苏州", 120.9465, 31.3550),
    ("S-WX", "无锡站", "江苏", "无锡", 120.3009, 31.5890),
    ("S-NJN", "南京南站", "江苏", "南京", 118.7928, 31.9707),
    ("S-CZ", "常州站", "江苏", "常州", 119.9685, 31.7872),
]

# Manufacturing towns standing in for factory locations: (town, city code, weight).
FACTORY_TOWNS = [
    *[(n, "4419", w) for n, w in [("虎门", 3), ("厚街", 3), ("长安", 3), ("塘厦", 2), ("常平", 2), ("大朗", 2),
                                  ("清溪", 2), ("凤岗", 2), ("寮步", 2), ("石碣", 1), ("横沥", 1), ("黄江", 1),
                                  ("樟木头", 1)]],
    *[(n, "4403", w) for n, w in [("龙岗", 3), ("沙井", 3), ("松岗", 2), ("观澜", 2), ("龙华", 3), ("坪山", 2),
                                  ("福永", 2), ("西乡", 2), ("公明", 2), ("石岩", 2), ("布吉", 2), ("横岗", 2),
                                  ("平湖", 2), ("坪地", 1)]],
    *[(n, "4401", w) for n, w in [("新塘", 2), ("狮岭", 1)]],
    *[(n, "4413", w) for n, w in [("惠阳", 2), ("陈江", 2)]],
    *[(n, "4406", w) for n, w in [("容桂", 2), ("北滘", 2), ("大良", 1), ("狮山", 2)]],
    *[(n, "4420", w) for n, w in [("小榄", 2), ("古镇", 1), ("坦洲", 1)]],
    *[(n, "4404", w) for n, w in [("井岸", 1), ("三灶", 1)]],
    *[(n, "3301", w) for n, w in [("萧山", 3), ("余杭", 2), ("临平", 2), ("瓜沥", 1)]],
    *[(n, "3302", w) for n, w in [("慈溪", 2), ("余姚", 2), ("北仑", 2), ("宁海", 1)]],
    *[(n, "3303", w) for n, w in [("瑞安", 2), ("柳市", 2)]],
    *[(n, "3306", w) for n, w in [("诸暨", 2)]],
    *[(n, "3310", w) for n, w in [("温岭", 2)]],
    *[(n, "3307", w) for n, w in [("义乌", 3)]],
    *[(n, "3304", w) for n, w in [("桐乡", 1)]],
    *[(n, "3505", w) for n, w in [("石狮", 3), ("陈埭", 3), ("安海", 2), ("磁灶", 2)]],
    *[(n, "3502", w) for n, w in [("同安", 2)]],
    *[(n, "3501", w) for n, w in [("福清", 2), ("长乐", 1)]],
    *[(n, "3205", w) for n, w in [("吴江", 2), ("盛泽", 2), ("常熟", 2), ("张家港", 1)]],
    *[(n, "3202", w) for n, w in [("江阴", 2)]],
    *[(n, "3204", w) for n, w in [("武进", 2)]],
    *[(n, "3101", w) for n, w in [("松江", 2), ("嘉定", 2), ("南翔", 1), ("安亭", 2), ("九亭", 1), ("泗泾", 1)]],
]
# More towns of the big manufacturing cities, at a lower weight, up to this many sites in all.
EXTRA_CITIES = ("4419", "4403", "4406", "4420", "4413", "3302", "3307", "3505", "3205", "3101")
MAX_SITES = 160


def read_geojson(path: Path) -> gpd.GeoDataFrame:
    """A GeoJSON as EPSG:4326 (the sources declare CGCS2000, equal at metre level)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    rows = [{**f["properties"], "geometry": shape(f["geometry"])} for f in doc["features"]]
    gdf = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326")
    gdf["geometry"] = shapely.make_valid(gdf.geometry.values)
    return gdf


def build_counties(shared: Path) -> gpd.GeoDataFrame:
    names = pd.read_csv(shared / "chongqing/counties_2019.csv", dtype=str)
    g = read_geojson(shared / "chongqing/county_boundaries_wgs84.geojson")
    g["county_code"] = g["gb"].str[3:]
    g = g.merge(names, on="county_code", how="inner")
    g = g[["county_code", "county_name", "geometry"]].sort_values("county_code").reset_index(drop=True)
    g["geometry"] = [shapely.MultiPolygon([p]) if p.geom_type == "Polygon" else p for p in g.geometry]
    return g


def _inside(poly, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    return shapely.contains_xy(poly, lon, lat)


def _random_inside(poly, rng: np.random.Generator, n: int = 1) -> np.ndarray:
    minx, miny, maxx, maxy = poly.bounds
    out = []
    while len(out) < n:
        x = rng.uniform(minx, maxx, 64)
        y = rng.uniform(miny, maxy, 64)
        ok = _inside(poly, x, y)
        out += list(zip(x[ok], y[ok]))
    return np.array(out[:n])


def build_townships(shared: Path, counties: gpd.GeoDataFrame) -> pd.DataFrame:
    seats = pd.read_csv(shared / "chongqing/township_seats_geonames.csv", dtype={"town_code": str, "county_code": str})
    towns = pd.read_csv(shared / "chongqing/townships_2019.csv", dtype=str)
    seats = seats.set_index("town_code")
    polys = {r.county_code: r.geometry for r in counties.itertuples()}
    inner = {c: p.buffer(-0.003) for c, p in polys.items()}
    rows = []
    for t in towns.itertuples(index=False):
        code, name, county = t.township_code, t.township_name, t.county_code
        lon = lat = np.nan
        src = "estimated"
        if code in seats.index and pd.notna(seats.at[code, "lon"]):
            x, y = float(seats.at[code, "lon"]), float(seats.at[code, "lat"])
            if _inside(inner[county], np.array([x]), np.array([y]))[0]:
                lon, lat, src = x, y, "geonames"
        rows.append([code, name, county, lon, lat, src])
    df = pd.DataFrame(rows, columns=["township_code", "township_name", "county_code", "lon", "lat", "seat_source"])
    for county, grp in df.groupby("county_code"):
        poly = inner[county]
        known = grp[grp["seat_source"] == "geonames"]
        streets_known = known[known["township_name"].str.endswith("街道")]
        if len(streets_known):
            centre = (streets_known["lon"].mean(), streets_known["lat"].mean())
        else:
            rp = poly.representative_point()
            centre = (rp.x, rp.y)
        placed = known[["lon", "lat"]].to_numpy().tolist()
        for idx in grp.index[grp["seat_source"] == "estimated"]:
            rng = np.random.default_rng(int(df.at[idx, "township_code"]))
            if df.at[idx, "township_name"].endswith("街道"):
                # urban streets: near the urban centre
                for _ in range(200):
                    x = centre[0] + rng.normal(0, 0.015)
                    y = centre[1] + rng.normal(0, 0.012)
                    if _inside(poly, np.array([x]), np.array([y]))[0]:
                        break
                else:
                    x, y = _random_inside(poly, rng)[0]
            else:
                # rural towns: a point inside the county far from the known seats
                cand = _random_inside(poly, rng, 40)
                if placed:
                    pts = np.array(placed)
                    d = np.min(np.hypot(cand[:, None, 0] - pts[None, :, 0], cand[:, None, 1] - pts[None, :, 1]), axis=1)
                    x, y = cand[int(np.argmax(d))]
                else:
                    x, y = cand[0]
            df.loc[idx, ["lon", "lat"]] = [round(float(x), 6), round(float(y), 6)]
            placed.append([x, y])
    df["lon"] = df["lon"].astype(float).round(6)
    df["lat"] = df["lat"].astype(float).round(6)
    return df.sort_values("township_code").reset_index(drop=True)


def build_villages(shared: Path, counties: gpd.GeoDataFrame, towns: pd.DataFrame) -> pd.DataFrame:
    v = pd.read_csv(shared / "chongqing/villages_2019.csv", dtype=str)
    seat = towns.set_index("township_code")[["lon", "lat"]]
    polys = {r.county_code: r.geometry.buffer(-0.001) for r in counties.itertuples()}
    lon = np.empty(len(v))
    lat = np.empty(len(v))
    for i, r in enumerate(v.itertuples(index=False)):
        rng = np.random.default_rng(int(r.village_code))
        sx, sy = seat.at[r.township_code, "lon"], seat.at[r.township_code, "lat"]
        community = "社区" in r.village_name
        lo, hi = (0.3, 1.5) if community else (2.0, 8.0)
        poly = polys[r.county_code]
        for attempt in range(30):
            shrink = 0.85**attempt
            dist_km = rng.uniform(lo, hi) * shrink
            ang = rng.uniform(0, 2 * np.pi)
            x = sx + dist_km * np.cos(ang) / (111.32 * np.cos(np.radians(sy)))
            y = sy + dist_km * np.sin(ang) / 110.57
            if _inside(poly, np.array([x]), np.array([y]))[0]:
                break
        else:
            x, y = sx, sy
        lon[i], lat[i] = round(float(x), 6), round(float(y), 6)
    v["lon"] = lon
    v["lat"] = lat
    return v.sort_values("village_code").reset_index(drop=True)


def build_hubs(counties: gpd.GeoDataFrame, towns: pd.DataFrame, shared: Path) -> pd.DataFrame:
    seats = pd.read_csv(shared / "chongqing/township_seats_geonames.csv", dtype={"town_code": str})
    pop = seats.set_index("town_code")["gn_population"].fillna(0)
    rows = []
    for c in counties.itertuples():
        t = towns[(towns["county_code"] == c.county_code) & (towns["seat_source"] == "geonames")].copy()
        t["pop"] = t["township_code"].map(pop).fillna(0)
        streets = t[t["township_name"].str.endswith("街道")]
        pick = streets if len(streets) else t
        if len(pick):
            best = pick.sort_values(["pop", "township_code"], ascending=[False, True]).iloc[0]
            x, y = float(best["lon"]), float(best["lat"])
        else:
            rp = c.geometry.representative_point()
            x, y = rp.x, rp.y
        cap = 1500 if c.county_code in BIG_EXPORTERS else 800
        rows.append([f"T{c.county_code}", f"{c.county_name}汽车客运站", "terminal", c.county_code, round(x, 6), round(y, 6), cap])
    for hub_id, name, x, y, cap in ORIGIN_STATIONS:
        hit = counties[shapely.contains_xy(counties.geometry.values, x, y)]
        if len(hit) != 1:
            msg = f"station {name} ({x}, {y}) is not inside exactly one Chongqing county"
            raise SystemExit(msg)
        rows.append([hub_id, name, "rail_station", hit.iloc[0]["county_code"], x, y, cap])
    return pd.DataFrame(rows, columns=["hub_id", "name", "kind", "county_code", "lon", "lat", "daily_capacity_people"])


def build_receiving(shared: Path) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    g = read_geojson(shared / "receiving/county_boundaries_wgs84.geojson")
    pref = read_geojson(shared / "receiving/prefecture_boundaries_wgs84.geojson")
    pref_name = {gb[3:7]: n for gb, n in zip(pref["gb"], pref["name"])}
    g["county_code"] = g["gb"].str[3:]
    g["county_name"] = g["name"]
    g["city_code"] = g["county_code"].str[:4]
    g["province_code"] = g["county_code"].str[:2]
    g = g[g["province_code"].isin(PROVINCES)].copy()
    g["city_name"] = [pref_name.get(c, pref_name.get(c[:2] + "00", "")) for c in g["city_code"]]
    g.loc[g["province_code"] == "31", "city_name"] = "上海市"
    g["province"] = g["province_code"].map(PROVINCES)
    g = g[["county_code", "county_name", "city_code", "city_name", "province_code", "province", "geometry"]]
    g = g.sort_values("county_code").reset_index(drop=True)
    regions = []
    for code, name in PROVINCES.items():
        regions.append([code, name, "province", ""])
    for (code, name, prov), _ in g.groupby(["city_code", "city_name", "province_code"]):
        regions.append([code, name, "city", prov])
    for r in g.itertuples():
        regions.append([r.county_code, r.county_name, "county", r.city_code])
    reg = pd.DataFrame(regions, columns=["region_code", "name", "level", "parent_code"])
    return g, reg


def _county_of(points_x, points_y, rc: gpd.GeoDataFrame) -> list[str]:
    out = []
    for x, y in zip(points_x, points_y):
        hit = rc[shapely.contains_xy(rc.geometry.values, x, y)]
        out.append(hit.iloc[0]["county_code"] if len(hit) else "")
    return out


def build_stations(rc: gpd.GeoDataFrame) -> pd.DataFrame:
    st = pd.DataFrame(DEST_STATIONS, columns=["station_id", "name", "province", "city", "lon", "lat"])
    st["county_code"] = _county_of(st["lon"], st["lat"], rc)
    bad = st[st["county_code"] == ""]
    if len(bad):
        msg = f"stations outside every receiving county: {', '.join(bad['name'])}"
        raise SystemExit(msg)
    return st[["station_id", "name", "province", "city", "county_code", "lon", "lat"]]


def build_factory_sites(shared: Path, rc: gpd.GeoDataFrame, stations: pd.DataFrame) -> pd.DataFrame:
    towns = pd.read_csv(shared / "receiving/towns_geonames.csv", dtype={"geonameid": str})
    towns["province"] = towns["province"].map(GEONAMES_PROVINCE)
    towns = towns.dropna(subset=["province"])
    towns["county_code"] = _county_of(towns["lon"], towns["lat"], rc)
    towns = towns[towns["county_code"] != ""].copy()
    towns["city_code"] = towns["county_code"].str[:4]
    city_name = rc.drop_duplicates("city_code").set_index("city_code")["city_name"]
    picked: list[tuple] = []
    used: set[str] = set()
    for name, city, weight in FACTORY_TOWNS:
        hits = towns[(towns["city_code"] == city) & towns["name_zh"].isin([name, name + "镇", name + "街道", name + "区", name + "市"])]
        if hits.empty:
            continue
        h = hits.sort_values("geonameid").iloc[0]
        used.add(h["geonameid"])
        picked.append((h, name, float(weight)))
    extra = towns[towns["city_code"].isin(EXTRA_CITIES) & ~towns["geonameid"].isin(used)]
    extra = extra[extra["name_zh"].fillna("").str.len() > 0].sort_values("geonameid")
    for _, h in extra.iterrows():
        if len(picked) >= MAX_SITES:
            break
        picked.append((h, str(h["name_zh"]), 0.5))
    rows = []
    sx = stations["lon"].to_numpy()
    sy = stations["lat"].to_numpy()
    from planner.rules.geo import haversine_km

    for h, name, weight in picked:
        d = haversine_km(float(h["lon"]), float(h["lat"]), sx, sy)
        rows.append(
            [f"F-{h['geonameid']}", name, h["province"], city_name.get(h["city_code"], ""), h["county_code"],
             round(float(h["lon"]), 6), round(float(h["lat"]), 6), stations["station_id"].iloc[int(np.argmin(d))], weight]
        )
    cols = ["site_id", "town_name", "province", "city", "county_code", "lon", "lat", "arrival_station_id", "weight"]
    return pd.DataFrame(rows, columns=cols).sort_values("site_id").reset_index(drop=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", default=str(ROOT.parent / "shared" / "geodata"))
    ap.add_argument("--out", default=str(ROOT / "geodata"))
    args = ap.parse_args()
    shared = Path(args.shared)
    out = Path(args.out)
    (out / "chongqing").mkdir(parents=True, exist_ok=True)
    (out / "receiving").mkdir(parents=True, exist_ok=True)

    counties = build_counties(shared)
    towns = build_townships(shared, counties)
    villages = build_villages(shared, counties, towns)
    hubs = build_hubs(counties, towns, shared)
    rc, regions = build_receiving(shared)
    stations = build_stations(rc)
    sites = build_factory_sites(shared, rc, stations)

    for f in ("counties.gpkg", "villages.gpkg"):
        (out / "chongqing" / f).unlink(missing_ok=True)
    (out / "receiving" / "counties.gpkg").unlink(missing_ok=True)
    counties.to_file(out / "chongqing/counties.gpkg", layer="counties", driver="GPKG", engine="pyogrio")
    towns.to_csv(out / "chongqing/townships.csv", index=False)
    vg = gpd.GeoDataFrame(
        villages[["village_code", "village_name", "township_code", "county_code"]],
        geometry=[Point(x, y) for x, y in zip(villages["lon"], villages["lat"])],
        crs="EPSG:4326",
    )
    vg.to_file(out / "chongqing/villages.gpkg", layer="villages", driver="GPKG", engine="pyogrio")
    villages.to_csv(out / "chongqing/villages.csv", index=False)
    hubs.to_csv(out / "chongqing/hubs.csv", index=False)
    rc.to_file(out / "receiving/counties.gpkg", layer="counties", driver="GPKG", engine="pyogrio")
    regions.to_csv(out / "receiving/regions.csv", index=False)
    stations.to_csv(out / "receiving/stations.csv", index=False)
    sites.to_csv(out / "receiving/factory_sites.csv", index=False)
    est = int((towns["seat_source"] == "estimated").sum())
    print(
        f"counties {len(counties)}, townships {len(towns)} ({est} seats estimated), villages {len(villages)}, "
        f"hubs {len(hubs)}, receiving counties {len(rc)}, stations {len(stations)}, factory sites {len(sites)}"
    )


if __name__ == "__main__":
    main()
