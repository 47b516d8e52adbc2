"""Synthetic scenario data: fictitious workers, factories, fleet, trains and risk calendar.

Deterministic from a seed (same seed and arguments, byte-identical files) and
built on the real geodata, so a county planner can try the tool at any scale
without personal data. Choices, each a plain table below:

- **County totals** follow a weight table favouring the big exporters (万州, 开州,
  云阳, 奉节, 巫山, 忠县 ...); the urban core districts send few. Within a
  county, villages (村) weigh three times more than urban communities (社区),
  times a log-normal spread.
- **Destinations**: 广东 45 %, 浙江 25 %, 福建 12 %, 江苏 10 %, 上海 8 %.
  Factories sit a few km around the real manufacturing towns of
  ``geodata/receiving/factory_sites.csv``; their names contain 示例 so nobody
  mistakes them for real firms. Chain migration: 70 % of a village's workers go
  to one of that village's three favourite factories.
- **Dates**: ready dates front-loaded after the window start (gamma-shaped);
  factories need their people in the second half of the window; a worker is
  ready at least three days before the factory's date where possible.
- **Health and jobs**: 82 % hold a certificate, 14 % a green code, 4 % nothing;
  the proof is issued 0-3 days before the ready date; 3 % have no confirmed job.
- **Families**: about 15 % of workers travel in groups of 2-4 from one village
  to one factory.
- **People are visibly fictitious**: names are surname + 某 + one character
  (张某华); ID numbers carry the real county code, a plausible birth date and a
  valid check digit; phones are 199 followed by the worker's number.
- **Fleet**: one inter-provincial coach per 250 workers (at least 3; one in
  five a 45-seater), one feeder bus per 500 (at least 2). Chongqing had 1,000
  coaches plus 1,000 in reserve in 2020; under the half-seat rule that fleet
  moves about 730,000 people in some 47 days.
- **Trains**: special-train services from the railway stations of the chosen
  counties to the destination stations that most of their workers' factories
  use, 8-12 YZ25 carriages each, spread over the window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from planner.idcard import _CHECK_CHARS, _WEIGHTS
from planner.rules.geo import haversine_km

PROVINCE_SHARES = {"广东": 0.45, "浙江": 0.25, "福建": 0.12, "江苏": 0.10, "上海": 0.08}

# Relative size of each county's out-migrant workforce (2020 pattern: the north-east
# Three Gorges counties and the south-east counties export most).
COUNTY_WEIGHTS = {
    "500101": 9.0, "500234": 9.0, "500235": 8.0, "500236": 6.5, "500237": 4.5, "500233": 5.5,
    "500240": 3.5, "500114": 3.5, "500119": 3.5, "500110": 4.5, "500117": 5.5, "500102": 5.0,
    "500231": 4.5, "500153": 3.5, "500238": 3.5, "500229": 3.0, "500243": 4.0, "500242": 4.5,
    "500241": 3.5, "500230": 4.0, "500155": 4.0, "500118": 3.5, "500111": 3.5, "500152": 3.5,
    "500116": 3.5, "500120": 3.0, "500151": 2.5, "500115": 2.5, "500156": 2.0, "500112": 1.5,
    "500113": 1.5, "500109": 1.0, "500108": 0.8, "500107": 0.8, "500106": 0.8, "500105": 0.6,
    "500104": 0.5, "500103": 0.3,
}

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = list("华明国建军平伟芳丽敏强磊洋勇艳杰娟涛超秀霞刚桂英兰红玲梅琴燕飞鹏辉波斌宇浩凯林翠云莲珍凤")

VEHICLE_TYPES = pd.DataFrame(
    [
        ("C53", "coach", "53座省际包车大巴", 13, 4, 2, 5, 53),
        ("C45", "coach", "45座省际包车大巴", 11, 4, 2, 5, 45),
        ("F35", "feeder", "35座县域接驳客车", 9, 4, 2, 3, 35),
        ("YZ25", "train_carriage", "YZ25型硬座车厢", 24, 5, 3, 3, 118),
    ],
    columns=["type_id", "mode", "name", "rows", "seats_per_row", "aisle_after", "last_row_seats", "rated_seats"],
)

WORKER_COLUMNS = [
    "worker_id", "name", "id_number", "phone", "village_code", "factory_id", "ready_date",
    "health_proof", "proof_date", "job_confirmed", "group_id",
]


@dataclass(frozen=True)
class SynthData:
    """Generated tables, in the input formats of docs/data-format.md."""

    workers: pd.DataFrame
    factories: pd.DataFrame
    fleet: pd.DataFrame
    train_services: pd.DataFrame
    risk_calendar: pd.DataFrame
    vehicle_types: pd.DataFrame

    def write(self, directory: Path) -> None:
        """Write every table as UTF-8 CSV into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name in ("workers", "factories", "fleet", "train_services", "risk_calendar"):
            getattr(self, name).to_csv(directory / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n")


def load_inputs(geodata_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Villages, factory sites, hubs and destination stations from the shipped geodata."""
    g = Path(geodata_dir)
    codes = {"village_code": str, "township_code": str, "county_code": str}
    villages = pd.read_csv(g / "chongqing/villages.csv", dtype=codes)
    sites = pd.read_csv(g / "receiving/factory_sites.csv", dtype={"county_code": str, "site_id": str})
    hubs = pd.read_csv(g / "chongqing/hubs.csv", dtype={"county_code": str})
    stations = pd.read_csv(g / "receiving/stations.csv", dtype={"county_code": str})
    return villages, sites, hubs, stations


def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers summing to ``total`` in proportion to ``weights`` (largest remainder)."""
    w = np.asarray(weights, float)
    share = w / w.sum() * total
    base = np.floor(share).astype(np.int64)
    rest = total - int(base.sum())
    order = np.argsort(-(share - base), kind="stable")
    base[order[:rest]] += 1
    return base


def _id_numbers(county: np.ndarray, born: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """18-digit resident IDs with valid check characters, vectorised."""
    first = np.char.add(np.char.add(county.astype("U6"), born.astype("U8")), np.char.zfill(seq.astype("U3"), 3))
    digits = np.frombuffer(first.astype("S17").tobytes(), dtype=np.uint8).reshape(-1, 17) - ord("0")
    total = (digits.astype(np.int64) * np.array(_WEIGHTS)).sum(axis=1) % 11
    check = np.array(list(_CHECK_CHARS))[total]
    return np.char.add(first, check)


def synthesize(
    villages: pd.DataFrame,
    factory_sites: pd.DataFrame,
    hubs: pd.DataFrame,
    stations: pd.DataFrame,
    *,
    seed: int,
    total_workers: int,
    counties: list[str] | None,
    window_start: date,
    window_end: date,
    n_factories: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> SynthData:
    """Generate a complete synthetic data set; see the module docstring for the choices."""
    say = progress or (lambda _m: None)
    rng = np.random.default_rng(seed)
    days = (window_end - window_start).days + 1
    all_counties = sorted(set(villages["county_code"]))
    chosen = sorted(counties) if counties else all_counties
    unknown = [c for c in chosen if c not in all_counties]
    if unknown:
        msg = f"unknown county codes: {', '.join(unknown)}"
        raise ValueError(msg)

    # ---------------------------------------------------------------- factories
    nf = n_factories or max(20, total_workers // 730)
    sites = factory_sites.sort_values("site_id").reset_index(drop=True)
    prov_of_factory = rng.choice(list(PROVINCE_SHARES), size=nf, p=list(PROVINCE_SHARES.values()))
    site_idx = np.empty(nf, dtype=np.int64)
    for prov in PROVINCE_SHARES:
        sel = np.flatnonzero(prov_of_factory == prov)
        cand = np.flatnonzero(sites["province"].to_numpy() == prov)
        if len(sel) == 0:
            continue
        w = sites["weight"].to_numpy(float)[cand]
        site_idx[sel] = rng.choice(cand, size=len(sel), p=w / w.sum())
    s = sites.iloc[site_idx].reset_index(drop=True)
    lat0 = s["lat"].to_numpy(float)
    r_km = rng.uniform(0.5, 3.0, nf)
    ang = rng.uniform(0, 2 * np.pi, nf)
    f_lon = s["lon"].to_numpy(float) + r_km * np.cos(ang) / (111.32 * np.cos(np.radians(lat0)))
    f_lat = lat0 + r_km * np.sin(ang) / 110.57
    kinds = np.array(["电子", "服装", "鞋业", "制衣", "五金", "塑胶", "玩具", "家具", "电器", "纺织", "机械", "印刷"])
    kind = kinds[rng.integers(0, len(kinds), nf)]
    second_half = rng.random(nf) < 0.85
    need_off = np.where(second_half, rng.integers(days * 11 // 20, days, nf), rng.integers(12, max(13, days * 11 // 20), nf))
    factories = pd.DataFrame(
        {
            "factory_id": [f"F{i + 1:04d}" for i in range(nf)],
            "name": [f"{t}示例{k}厂{i + 1:04d}" for i, (t, k) in enumerate(zip(s["town_name"], kind))],
            "province": s["province"].to_numpy(),
            "city": s["city"].to_numpy(),
            "county_code": s["county_code"].to_numpy(),
            "lon": np.round(f_lon, 6),
            "lat": np.round(f_lat, 6),
            "needed_by": [(window_start + timedelta(days=int(x))).isoformat() for x in need_off],
            "arrival_station_id": s["arrival_station_id"].to_numpy(),
        }
    )
    f_weight = np.array([PROVINCE_SHARES[p] for p in prov_of_factory])
    counts_by_prov = pd.Series(prov_of_factory).value_counts()
    f_weight = f_weight / np.array([counts_by_prov[p] for p in prov_of_factory]) * rng.lognormal(0, 0.6, nf)
    f_weight /= f_weight.sum()
    say(f"企业 {nf:,} 家 (factories)")

    # ---------------------------------------------------------- workers per village
    cw = np.array([COUNTY_WEIGHTS.get(c, 2.0) for c in chosen])
    per_county = _allocate(total_workers, cw)
    v = villages[villages["county_code"].isin(chosen)].sort_values("village_code").reset_index(drop=True)
    is_comm = v["village_name"].str.contains("社区").to_numpy()
    vw = np.where(is_comm, 1.0, 3.0) * rng.lognormal(0, 0.5, len(v))
    per_village = np.zeros(len(v), dtype=np.int64)
    vc = v["county_code"].to_numpy()
    for c, n in zip(chosen, per_county):
        sel = np.flatnonzero(vc == c)
        per_village[sel] = _allocate(int(n), vw[sel])
    n = int(per_village.sum())
    w_village = np.repeat(np.arange(len(v)), per_village)
    say(f"务工人员 {n:,} 名 (workers)")

    # ------------------------------------------------------------- destinations
    fav = rng.choice(nf, size=(len(v), 3), p=f_weight)
    use_fav = rng.random(n) < 0.7
    factory = np.where(
        use_fav, fav[w_village, rng.integers(0, 3, n)], rng.choice(nf, size=n, p=f_weight)
    )

    # ------------------------------------------------------------------- dates
    ready_off = np.minimum(np.floor(rng.gamma(2.0, 5.5, n)).astype(np.int64), days - 1)
    need = need_off[factory]
    late = ready_off > need - 3
    ready_off[late] = np.maximum(0, need[late] - 3 - rng.integers(0, 3, late.sum()))

    # --------------------------------------------------------------- families
    group = np.full(n, -1, dtype=np.int64)
    heads = np.flatnonzero(rng.random(n) < 0.065)
    sizes = rng.choice([2, 3, 4], size=len(heads), p=[0.6, 0.3, 0.1])
    ng = 0
    last_end = -1
    for h, sz in zip(heads, sizes):
        end = h + sz
        if h <= last_end or end > n or w_village[end - 1] != w_village[h]:
            continue
        group[h:end] = ng
        factory[h:end] = factory[h]
        ready_off[h:end] = ready_off[h]
        ng += 1
        last_end = end - 1

    # --------------------------------------------------------------- health, job
    proof = rng.choice(np.array(["certificate", "green_code", "none"]), size=n, p=[0.82, 0.14, 0.04])
    proof_off = ready_off - rng.integers(0, 4, n)
    job = rng.random(n) >= 0.03
    start_ord = window_start.toordinal()
    ready_dates = np.array([date.fromordinal(start_ord + int(x)).isoformat() for x in range(-5, days)])
    ready_str = ready_dates[ready_off + 5]
    proof_str = np.where(proof == "none", "", ready_dates[np.clip(proof_off, -5, days - 1) + 5])

    # ----------------------------------------------------------------- people
    sur = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    giv = np.array(GIVEN)[rng.integers(0, len(GIVEN), n)]
    names = np.char.add(np.char.add(sur, "某"), giv)
    county_of = v["county_code"].to_numpy()[w_village]
    born_ord = date(2002, 2, 1).toordinal() - rng.integers(0, 42 * 365, n)
    born_tab_start = date(1959, 1, 1).toordinal()
    born_tab = np.array([date.fromordinal(o).strftime("%Y%m%d") for o in range(born_tab_start, date(2002, 2, 2).toordinal())])
    born = born_tab[born_ord - born_tab_start]
    ids = _id_numbers(county_of, born, rng.integers(0, 1000, n))
    idx = np.arange(1, n + 1)
    workers = pd.DataFrame(
        {
            "worker_id": np.char.add("W", np.char.zfill(idx.astype("U7"), 7)),
            "name": names,
            "id_number": ids,
            "phone": np.char.add("199", np.char.zfill(idx.astype("U8"), 8)),
            "village_code": v["village_code"].to_numpy()[w_village],
            "factory_id": factories["factory_id"].to_numpy()[factory],
            "ready_date": ready_str,
            "health_proof": proof,
            "proof_date": proof_str,
            "job_confirmed": np.where(job, "true", "false"),
            "group_id": np.where(group >= 0, np.char.add("G", np.char.zfill(np.maximum(group + 1, 0).astype("U6"), 6)), ""),
        }
    )[WORKER_COLUMNS]
    say("人员信息已生成 (names, IDs and phones made)")

    # ------------------------------------------------------------------- fleet
    counts = pd.Series(county_of).value_counts().sort_index()
    fleet_rows = []
    for c, k in counts.items():
        coaches = max(3, int(round(k / 120)))
        small = coaches // 5
        fleet_rows += [(c, "C53", coaches - small), (c, "C45", small), (c, "F35", max(2, int(round(k / 500))))]
    fleet = pd.DataFrame(fleet_rows, columns=["county_code", "type_id", "count"])
    fleet = fleet[fleet["count"] > 0].reset_index(drop=True)

    # ------------------------------------------------------------------ trains
    services = _train_services(rng, workers, factories, hubs, stations, chosen, window_start, days)
    risk = _risk_calendar(factories, window_start)
    return SynthData(workers, factories, fleet, services, risk, VEHICLE_TYPES.copy())


def _train_services(rng, workers, factories, hubs, stations, counties, start: date, days: int) -> pd.DataFrame:
    rail = hubs[(hubs["kind"] == "rail_station") & hubs["county_code"].isin(counties)].sort_values("hub_id")
    cols = ["service_id", "date", "depart_time", "origin_station_id", "destination_station_id",
            "carriages", "carriage_type", "travel_hours"]
    if rail.empty:
        return pd.DataFrame(columns=cols)
    dest = workers["factory_id"].map(factories.set_index("factory_id")["arrival_station_id"])
    top = dest.value_counts()
    st = stations.set_index("station_id")
    per_station = 3
    rows = []
    k = 0
    for h in rail.itertuples(index=False):
        for j, sid in enumerate(top.index[:per_station]):
            km = float(haversine_km(h.lon, h.lat, st.at[sid, "lon"], st.at[sid, "lat"])) * 1.3
            day = start + timedelta(days=int(2 + (k * 5 + j * 3) % max(1, days - 6)))
            k += 1
            rows.append(
                (f"K{7000 + k}", day.isoformat(), ["09:30", "10:30", "13:00", "15:30"][k % 4], h.hub_id, sid,
                 int(rng.integers(8, 13)), "YZ25", round(km / 110 * 2) / 2)
            )
    return pd.DataFrame(rows, columns=cols)


def _risk_calendar(factories: pd.DataFrame, start: date) -> pd.DataFrame:
    """A few realistic exceptions; everything else is low risk."""
    cities = sorted(set(factories["county_code"].str[:4]))
    rows = []
    if "4403" in cities:
        rows.append(("4403", start.isoformat(), (start + timedelta(days=6)).isoformat(), "medium"))
    counties = sorted(set(factories["county_code"]))
    if counties:
        c = counties[len(counties) // 2]
        rows.append((c, (start + timedelta(days=4)).isoformat(), (start + timedelta(days=7)).isoformat(), "closed"))
    return pd.DataFrame(rows, columns=["region_code", "from", "to", "level"])
