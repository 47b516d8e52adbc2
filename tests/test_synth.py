"""Synthetic data generator: determinism, counts, valid personal-data shapes, references, shares."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planner.idcard import id_number_problem, phone_problem
from planner.synth import COUNTY_WEIGHTS, PROVINCE_SHARES, VEHICLE_TYPES, SynthData, synthesize

START, END = date(2020, 2, 14), date(2020, 3, 15)
COUNTIES = ("500101", "500154", "500103")  # 万州, 开州, 渝中


def _villages() -> pd.DataFrame:
    """Stand-in villages: 3 counties x 4 townships x 8 villages (every fourth a 社区)."""
    rows = []
    for ci, c in enumerate(COUNTIES):
        for t in range(4):
            town = f"{c}{101 + t:03d}"
            for k in range(8):
                kind = "社区居民委员会" if k % 4 == 0 else "村民委员会"
                rows.append((f"{town}{201 + k:03d}", f"示例{t}{k}{kind}", town, c,
                             108.0 + ci * 0.3 + t * 0.05, 30.5 + k * 0.01))
    return pd.DataFrame(rows, columns=["village_code", "village_name", "township_code", "county_code", "lon", "lat"])


def _sites() -> pd.DataFrame:
    rows = [
        ("F-1", "虎门", "广东", "东莞市", "441900", 113.67, 22.82, "S-DG", 3.0),
        ("F-2", "龙华", "广东", "深圳市", "440309", 114.02, 22.66, "S-SZB", 2.0),
        ("F-3", "柯桥", "浙江", "绍兴市", "330603", 120.49, 30.08, "S-SXB", 2.0),
        ("F-4", "瓯海", "浙江", "温州市", "330304", 120.64, 27.96, "S-WZN", 1.0),
        ("F-5", "石狮", "福建", "泉州市", "350581", 118.65, 24.73, "S-JJ", 1.0),
        ("F-6", "昆山", "江苏", "苏州市", "320583", 120.98, 31.38, "S-KSN", 1.0),
        ("F-7", "松江", "上海", "上海市", "310117", 121.23, 31.03, "S-SHHQ", 1.0),
    ]
    return pd.DataFrame(rows, columns=["site_id", "town_name", "province", "city", "county_code", "lon", "lat",
                                       "arrival_station_id", "weight"])


def _hubs() -> pd.DataFrame:
    rows = [
        ("T500101", "万州区汽车客运站", "terminal", "500101", 108.358, 30.825, 1500),
        ("T500154", "开州区汽车客运站", "terminal", "500154", 108.403, 31.169, 800),
        ("R-WZB", "万州北站", "rail_station", "500101", 108.362, 30.866, 4000),
        ("R-CQB", "重庆北站", "rail_station", "500112", 106.548, 29.611, 5000),
    ]
    return pd.DataFrame(rows, columns=["hub_id", "name", "kind", "county_code", "lon", "lat", "daily_capacity_people"])


def _stations() -> pd.DataFrame:
    rows = [
        ("S-DG", "东莞站", "广东", "东莞", "441900", 113.854, 23.090),
        ("S-SZB", "深圳北站", "广东", "深圳", "440309", 114.024, 22.612),
        ("S-GZN", "广州南站", "广东", "广州", "440113", 113.264, 22.992),
        ("S-SXB", "绍兴北站", "浙江", "绍兴", "330602", 120.534, 30.102),
        ("S-WZN", "温州南站", "浙江", "温州", "330304", 120.581, 27.970),
        ("S-JJ", "晋江站", "福建", "泉州", "350582", 118.454, 24.797),
        ("S-KSN", "昆山南站", "江苏", "苏州", "320583", 120.947, 31.355),
        ("S-SHHQ", "上海虹桥站", "上海", "上海", "310112", 121.316, 31.196),
    ]
    return pd.DataFrame(rows, columns=["station_id", "name", "province", "city", "county_code", "lon", "lat"])


def _make(seed: int = 7, n: int = 3000, counties: list[str] | None = None, **kw) -> SynthData:
    return synthesize(_villages(), _sites(), _hubs(), _stations(), seed=seed, total_workers=n,
                      counties=counties, window_start=START, window_end=END, **kw)


@pytest.fixture(scope="module")
def data() -> SynthData:
    return _make()


def _frames(d: SynthData) -> dict[str, pd.DataFrame]:
    return {k: getattr(d, k) for k in ("workers", "factories", "fleet", "train_services", "risk_calendar")}


def test_same_seed_same_files(data, tmp_path):
    """The same seed and arguments give identical frames and byte-identical CSV files."""
    again = _make()
    for name, frame in _frames(data).items():
        pd.testing.assert_frame_equal(frame, getattr(again, name), obj=name)
    data.write(tmp_path / "a")
    again.write(tmp_path / "b")
    for f in sorted((tmp_path / "a").iterdir()):
        assert f.read_bytes() == (tmp_path / "b" / f.name).read_bytes(), f.name


def test_different_seed_differs(data):
    """Another seed gives other workers and factories."""
    other = _make(seed=8)
    assert not other.workers.equals(data.workers)
    assert not other.factories.equals(data.factories)


def test_exact_count_and_unique_ids(data):
    """Exactly total_workers rows; worker, ID and phone numbers unique; columns in the documented order."""
    w = data.workers
    assert len(w) == 3000
    assert list(w.columns) == ["worker_id", "name", "id_number", "phone", "village_code", "factory_id",
                               "ready_date", "health_proof", "proof_date", "job_confirmed", "group_id"]
    assert w["worker_id"].is_unique and w["worker_id"].str.fullmatch(r"W\d{7}").all()
    assert w["id_number"].is_unique and w["phone"].is_unique
    assert w["name"].str.fullmatch(r"\w某\w").all()


def test_id_numbers_valid(data):
    """Every ID passes idcard.id_number_problem, carries the home county and an age of 18-60."""
    w = data.workers
    assert [p for p in map(id_number_problem, w["id_number"]) if p] == []
    county = w["village_code"].str[:6]
    assert (w["id_number"].str[:6] == county).all()
    born = pd.to_datetime(w["id_number"].str[6:14], format="%Y%m%d")
    age = (pd.Timestamp(START) - born).dt.days / 365.25
    assert age.min() >= 18 and age.max() <= 61


def test_phones_valid(data):
    """Every phone passes idcard.phone_problem and starts with 199."""
    assert [p for p in map(phone_problem, data.workers["phone"]) if p] == []
    assert data.workers["phone"].str.startswith("199").all()


def test_groups_share_village_factory_ready(data):
    """Group members share village, factory and ready date; groups of 2-4 hold about 15 % of workers."""
    g = data.workers[data.workers["group_id"] != ""]
    assert g["group_id"].str.fullmatch(r"G\d+").all()
    assert (g.groupby("group_id")[["village_code", "factory_id", "ready_date"]].nunique() == 1).all().all()
    sizes = g.groupby("group_id").size()
    assert sizes.between(2, 4).all()
    assert 0.10 <= len(g) / len(data.workers) <= 0.20


def test_workers_only_in_selected_counties():
    """With counties given, every worker's village lies in one of them, and the fleet covers only them."""
    d = _make(counties=["500101"], n=1500)
    assert len(d.workers) == 1500
    assert (d.workers["village_code"].str[:6] == "500101").all()
    assert set(d.fleet["county_code"]) == {"500101"}
    assert set(d.train_services["origin_station_id"]) == {"R-WZB"}  # 万州 uses its own station
    assert 3 <= len(d.train_services) <= 6


def test_references_exist(data):
    """Factory ids, stations, hubs and vehicle types referenced by the tables all exist."""
    f, w, ts = data.factories, data.workers, data.train_services
    assert f["factory_id"].is_unique and f["factory_id"].str.fullmatch(r"F\d{4}").all()
    assert set(w["factory_id"]) <= set(f["factory_id"])
    assert set(w["village_code"]) <= set(_villages()["village_code"])
    assert set(f["arrival_station_id"]) <= set(_stations()["station_id"])
    assert f["name"].str.contains("示例").all()
    rail = _hubs().query("kind == 'rail_station'")["hub_id"]
    assert len(ts) > 0 and set(ts["origin_station_id"]) <= set(rail)
    assert set(ts["destination_station_id"]) <= set(f["arrival_station_id"])
    assert ts["service_id"].is_unique and (ts["carriage_type"] == "YZ25").all()
    assert ts["carriages"].between(6, 12).all()
    assert set(data.fleet["type_id"]) <= set(VEHICLE_TYPES["type_id"])


def test_province_shares_roughly_right():
    """Worker shares per province come within a few points of 45/25/12/10/8 %."""
    d = _make(seed=11, n=6000, n_factories=60)
    prov = d.workers["factory_id"].map(d.factories.set_index("factory_id")["province"])
    share = prov.value_counts(normalize=True)
    for p, target in PROVINCE_SHARES.items():
        assert abs(share.get(p, 0.0) - target) < 0.06, (p, share.get(p, 0.0))


def test_chain_migration_concentrates(data):
    """A village sends most of its people to its three busiest factories."""
    w = data.workers
    top3 = w.groupby("village_code")["factory_id"].agg(lambda s: s.value_counts().iloc[:3].sum() / len(s))
    sizes = w["village_code"].value_counts()
    assert top3[sizes[sizes >= 30].index].median() > 0.6


def test_county_weights_favour_exporters(data):
    """开州 and 万州 outweigh 渝中; villages outweigh urban communities; 38 counties in the table."""
    assert len(COUNTY_WEIGHTS) == 38 and "500154" in COUNTY_WEIGHTS and "500234" not in COUNTY_WEIGHTS
    per = data.workers["village_code"].str[:6].value_counts()
    assert per["500101"] > 10 * per["500103"] and per["500154"] > 10 * per["500103"]
    v = _villages().set_index("village_code")
    comm = data.workers["village_code"].map(v["village_name"]).str.contains("社区")
    per_village = data.workers.groupby(comm)["village_code"].agg(lambda s: len(s) / s.nunique())
    assert per_village[False] > 1.5 * per_village[True]


def test_dates_health_and_jobs(data):
    """Dates fall in the window, needed_by follows ready_date by 3 days, proof shares and dates fit."""
    w, f = data.workers, data.factories
    ready = pd.to_datetime(w["ready_date"])
    assert ready.min() >= pd.Timestamp(START) and ready.max() <= pd.Timestamp(END)
    need = pd.to_datetime(f["needed_by"])
    assert need.min() >= pd.Timestamp(START) and need.max() <= pd.Timestamp(END)
    assert (need >= pd.Timestamp(START) + (pd.Timestamp(END) - pd.Timestamp(START)) / 2).mean() > 0.6
    lead = (w["factory_id"].map(f.set_index("factory_id")["needed_by"]).pipe(pd.to_datetime) - ready).dt.days
    assert (lead >= 3).mean() > 0.97
    assert (ready < pd.Timestamp(START) + pd.Timedelta(days=15)).mean() > 0.5  # front-loaded
    share = w["health_proof"].value_counts(normalize=True)
    assert abs(share["certificate"] - 0.80) < 0.05 and abs(share["green_code"] - 0.13) < 0.04
    assert abs(share["none"] - 0.04) < 0.02
    none = w["health_proof"] == "none"
    assert (w.loc[none, "proof_date"] == "").all() and (w.loc[~none, "proof_date"] != "").all()
    gap = (ready[~none] - pd.to_datetime(w.loc[~none, "proof_date"])).dt.days
    assert gap.between(0, 3).all()
    assert set(w["job_confirmed"]) == {"true", "false"}
    assert 0.01 < (w["job_confirmed"] == "false").mean() < 0.06


def test_fleet_per_county(data):
    """Every county with workers has at least 3 coaches and 2 feeders; coaches scale with workers."""
    fl = data.fleet.pivot_table(index="county_code", columns="type_id", values="count", aggfunc="sum", fill_value=0)
    assert set(fl.index) == set(data.workers["village_code"].str[:6])
    coaches = fl.get("C53", 0) + fl.get("C45", 0)
    assert (coaches >= 3).all() and (fl["F35"] >= 2).all()
    big = _make(n=73_000, counties=["500101"]).fleet.set_index("type_id")["count"]
    assert 90 <= big["C53"] + big["C45"] <= 110 and big["C45"] > 0
    assert 30 <= big["F35"] <= 45


def test_train_travel_hours_realistic(data):
    """万州北 to a Pearl River Delta station takes 14-18 h; every service lies in the window."""
    ts = data.train_services
    prd = ts[(ts["origin_station_id"] == "R-WZB") & ts["destination_station_id"].isin(["S-DG", "S-SZB", "S-GZN"])]
    assert len(prd) > 0 and prd["travel_hours"].between(14, 18).all()
    assert ts["date"].between(START.isoformat(), END.isoformat()).all()
    assert ts["depart_time"].str.fullmatch(r"\d\d:\d\d").all()


def test_risk_calendar_regions(data):
    """Risk exceptions use factory regions (2, 4 or 6 digits), valid levels and ordered dates."""
    rc = data.risk_calendar
    assert 2 <= len(rc) <= 8
    codes = set(data.factories["county_code"])
    regions = codes | {c[:4] for c in codes} | {c[:2] for c in codes}
    assert set(rc["region_code"]) <= regions
    assert set(rc["level"]) <= {"low", "medium", "high", "closed"} and "closed" in set(rc["level"])
    assert (rc["from"] <= rc["to"]).all()
    assert rc["from"].ge(START.isoformat()).all() and rc["to"].le(END.isoformat()).all()


def test_vehicle_types_consistent():
    """rated_seats = (rows-1) x seats_per_row + last_row_seats, and the sizes match the brief."""
    vt = VEHICLE_TYPES.set_index("type_id")
    assert ((vt["rows"] - 1) * vt["seats_per_row"] + vt["last_row_seats"] == vt["rated_seats"]).all()
    assert (vt["aisle_after"] < vt["seats_per_row"]).all()
    assert vt["rated_seats"].to_dict() == {"C53": 53, "C45": 45, "F35": 35, "YZ25": 118}
    assert vt.loc["YZ25", "mode"] == "train_carriage" and vt.loc["F35", "mode"] == "feeder"


def test_write_all_files(data, tmp_path):
    """write() makes the six UTF-8 CSV files, readable back with the same row counts."""
    data.write(tmp_path)
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {"workers.csv", "factories.csv", "fleet.csv", "train_services.csv",
                     "risk_calendar.csv", "vehicle_types.csv"}
    back = pd.read_csv(tmp_path / "workers.csv", dtype=str, keep_default_na=False, encoding="utf-8")
    assert len(back) == len(data.workers) and (back["id_number"] == data.workers["id_number"]).all()
    assert len(pd.read_csv(tmp_path / "vehicle_types.csv")) == len(VEHICLE_TYPES)


def test_bad_arguments_rejected():
    """Unknown counties, an empty county list and a non-positive worker count raise ValueError."""
    with pytest.raises(ValueError, match="unknown"):
        _make(counties=["500999"])
    with pytest.raises(ValueError):
        _make(counties=[])
    with pytest.raises(ValueError):
        _make(n=0)


def test_progress_messages():
    """The progress callback receives a few short status strings."""
    seen: list[str] = []
    _make(n=200, progress=seen.append)
    assert 2 <= len(seen) <= 10 and all(isinstance(m, str) and m for m in seen)


@pytest.mark.skipif(not (Path(__file__).resolve().parents[1] / "geodata/chongqing/villages.csv").exists(),
                    reason="shipped geodata not built yet")
def test_real_geodata_demo():
    """On the shipped geodata the 万州 demo (15,000 workers) is valid and uses 万州北."""
    from planner.synth import load_inputs

    inputs = load_inputs(Path(__file__).resolve().parents[1] / "geodata")
    d = synthesize(*inputs, seed=2020, total_workers=15_000, counties=["500101"],
                   window_start=START, window_end=END)
    assert len(d.workers) == 15_000 and d.workers["village_code"].str.startswith("500101").all()
    assert np.all(d.train_services["origin_station_id"] == "R-WZB") and 3 <= len(d.train_services) <= 6
    assert set(d.factories["arrival_station_id"]) <= set(inputs[3]["station_id"])


def test_factories_kept_inside_their_county_polygon():
    """A factory drawn across its county's border is turned back inside, a margin from the edge."""
    import shapely

    from planner.synth import BORDER_KM

    sites = _sites()
    # a square county around each site, the site 0.3 km from its east edge: most draws land outside
    half = 0.05
    polys = pd.DataFrame({
        "county_code": sites["county_code"],
        "geometry": [shapely.box(x - 2 * half + 0.003, y - half, x + 0.003, y + half) for x, y in zip(sites["lon"], sites["lat"])],
    })
    d = synthesize(_villages(), sites, _hubs(), _stations(), polys, seed=7, total_workers=300, counties=None,
                   window_start=START, window_end=END, n_factories=60)
    geoms = np.array([dict(zip(polys["county_code"], polys["geometry"]))[c] for c in d.factories["county_code"]])
    pts = shapely.points(d.factories["lon"], d.factories["lat"])
    assert shapely.contains(geoms, pts).all()
    km = shapely.distance(shapely.boundary(geoms), pts) * 111.32 * np.cos(np.radians(d.factories["lat"].to_numpy()))
    assert (km >= BORDER_KM * 0.99).all()  # 6-decimal rounding of the written positions
    # the workers do not change when factories are moved: the generator draws nothing more
    plain = synthesize(_villages(), sites, _hubs(), _stations(), seed=7, total_workers=300, counties=None,
                       window_start=START, window_end=END, n_factories=60)
    pd.testing.assert_frame_equal(d.workers, plain.workers)
    assert (d.factories["lon"] != plain.factories["lon"]).any()


@pytest.mark.skipif(not (Path(__file__).resolve().parents[1] / "geodata/receiving/counties.gpkg").exists(),
                    reason="shipped geodata not built yet")
def test_full_municipality_factories_inside_their_province():
    """The full scenario's 1,000 factories (seed 2020) lie in their own county and so their own province.

    Before the fix F0986 (site in 上海 310116) was placed in 浙江 330421 and validate rejected it and
    its 1,443 workers (county_province_mismatch).
    """
    import shapely

    from planner.synth import load_inputs

    inputs = load_inputs(Path(__file__).resolve().parents[1] / "geodata")
    rc = inputs[4]
    assert rc is not None
    d = synthesize(*inputs, seed=2020, total_workers=2_000, counties=None, window_start=date(2020, 2, 14),
                   window_end=date(2020, 3, 31), n_factories=1000)
    f = d.factories
    tree = shapely.STRtree(rc["geometry"].to_numpy())
    pi, gi = tree.query(shapely.points(f["lon"], f["lat"]), predicate="intersects")
    where = pd.Series(rc["county_code"].to_numpy()[gi], index=pi)
    assert len(set(pi)) == len(f) and where.groupby(level=0).nunique().max() == 1  # in exactly one county
    where = where[~where.index.duplicated()].sort_index()
    assert (where.to_numpy() == f["county_code"].to_numpy()).all()
    assert (where.str[:2].to_numpy() == f["county_code"].str[:2].to_numpy()).all()
    assert f.loc[f["factory_id"] == "F0986", "province"].item() == "上海"
