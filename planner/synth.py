"""Synthetic scenario data: fictitious workers, factories, fleet, trains and risk calendar.

Deterministic from a seed (same seed and arguments give byte-identical CSV files)
and built on the real geodata, so a county planner can try the tool at any scale
without anybody's personal data. Every choice is a named constant below; the
numbers come from the 2020 reports summarised in ``/work/shared/DOMAIN.md``.

Choices
-------
- **County totals** follow :data:`COUNTY_WEIGHTS`, a fixed table favouring the
  big exporters (万州, 开州, 云阳, 奉节, 忠县, 合川, 涪陵, 綦江, 巫山, 垫江 ...); the
  urban core districts (渝中, 大渡口, 江北, 沙坪坝, 九龙坡, 南岸) send few. Totals are
  split by largest remainder, so the row count is exactly ``total_workers``.
- **Within a county** a village (村) weighs three times an urban community
  (社区/居委会), times a log-normal spread (sigma 0.5) for village size.
- **Destinations**: factories are spread over the five receiving provinces by
  :data:`PROVINCE_SHARES` (广东 45 %, 浙江 25 %, 福建 12 %, 江苏 10 %, 上海 8 %) and
  placed 0.5-3 km around manufacturing towns of ``factory_sites.csv`` drawn by
  the sites' weights, and at least :data:`BORDER_KM` inside the polygon of the
  site's county when the receiving counties are given (a factory drawn across a
  county or province border is turned around the site until it lands inside);
  names contain 示例 ("example") so nobody mistakes them for real firms. Worker shares per province match the table in expectation.
- **Chain migration**: each village has three favourite factories; 75 % of its
  workers go to one of them (split 50/30/20), the rest anywhere. Favourites are
  drawn by systematic sampling over worker mass with villages in code order, so
  neighbouring villages of a township tend to share factories (a township coach
  often fills for one factory, as in 2020) while the province shares hold
  exactly even for a single county.
- **Dates**: ready dates start on 14 Feb 2020 (Chongqing's first
  inter-provincial charter; 5 % are ready earlier when the window starts
  earlier) and are front-loaded: a gamma(2) spread with a mean of about a third
  of the remaining window. 85 % of factories need their people in the second
  half of the window. A worker is ready at least three days before the
  factory's ``needed_by`` where the window allows.
- **Health and jobs**: 82 % hold a township health certificate, 14 % a green
  health code, 4 % nothing; the proof is dated 0-3 days before the ready date;
  3 % have no confirmed job.
- **Families**: about 15 % of workers travel in groups of 2-4 (couples,
  siblings) from one village to one factory on one ready date.
- **People are visibly fictitious**: names are surname + 某 + one character
  (张某华; the character matches the sex digit of the ID). ID numbers carry the
  real county code, a birth date giving an age of 18-60 in Feb 2020, a
  sequence unique within county and birth date, and a valid check character
  (:func:`planner.idcard.id_check_char`). Phones are 199 + the worker's number
  in eight digits, so they are unique and obviously made up.
- **Fleet**: one inter-provincial coach per 730 workers (Chongqing arranged
  about 1,000 coaches for some 730,000 workers), at least 3 per county with
  workers, one in five a 45-seater; one 35-seat feeder bus per 2,000 workers
  (356 buses in 2020), at least 2. With a round trip of about three days a
  coach moves roughly 25 people every three days, so the fleet, not the
  demand, limits a long window: that is the planner's problem to show.
- **Trains**: about one special-train service per 12,000 workers plus three
  (3-6 for one county, about 65 for the municipality; 246 special trains ran
  nationwide by 6 Mar 2020). Each county is served by its own railway station
  or else the nearest one among the hubs (万州, 开州, 云阳 ... by 万州北); a
  station's services go to the destination stations most of its workers'
  factories use, on days spread like those workers' ready dates, with 6-12
  YZ25 carriages. Travel time is great-circle km x 1.4 (rail detour) at 85 km/h
  (a conventional special train waiting for paths), rounded to half hours:
  万州北 -> 广州南 about 16.5 h.
- **Risk calendar**: everything is low unless listed. A handful of 2020-like
  exceptions, using only regions that hold factories: 浙江 (33) medium for the
  first four days, 温州 (3303) high for a week then medium for another, 深圳
  (4403) medium for ten days, one factory county high for five days and one
  closed for four days in the first half of the window.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from planner.errors import DataError
from planner.idcard import id_check_char
from planner.rules.geo import haversine_km

__all__ = ["SynthData", "load_inputs", "synthesize", "VEHICLE_TYPES"]

# ----------------------------------------------------------------- parameters
PROVINCE_SHARES: dict[str, float] = {"广东": 0.45, "浙江": 0.25, "福建": 0.12, "江苏": 0.10, "上海": 0.08}

#: Relative size of each county's out-migrant workforce (2020 pattern: the north-east
#: Three Gorges counties and the south-east counties export most, the urban core little).
COUNTY_WEIGHTS: dict[str, float] = {
    "500101": 9.0,  # 万州区
    "500154": 9.0,  # 开州区
    "500235": 8.0,  # 云阳县
    "500236": 6.5,  # 奉节县
    "500233": 5.5,  # 忠县
    "500117": 5.5,  # 合川区
    "500102": 5.0,  # 涪陵区
    "500237": 4.5,  # 巫山县
    "500110": 4.5,  # 綦江区
    "500231": 4.5,  # 垫江县
    "500242": 4.5,  # 酉阳县
    "500240": 4.0,  # 石柱县
    "500114": 4.0,  # 黔江区
    "500119": 4.0,  # 南川区
    "500153": 4.0,  # 荣昌区
    "500243": 4.0,  # 彭水县
    "500230": 4.0,  # 丰都县
    "500155": 4.0,  # 梁平区
    "500238": 3.5,  # 巫溪县
    "500241": 3.5,  # 秀山县
    "500118": 3.5,  # 永川区
    "500111": 3.5,  # 大足区
    "500152": 3.5,  # 潼南区
    "500116": 3.5,  # 江津区
    "500229": 3.0,  # 城口县
    "500120": 3.0,  # 璧山区
    "500151": 2.5,  # 铜梁区
    "500115": 2.5,  # 长寿区
    "500156": 2.0,  # 武隆区
    "500112": 1.5,  # 渝北区
    "500113": 1.5,  # 巴南区
    "500109": 1.0,  # 北碚区
    "500108": 0.6,  # 南岸区
    "500107": 0.6,  # 九龙坡区
    "500106": 0.6,  # 沙坪坝区
    "500105": 0.5,  # 江北区
    "500104": 0.4,  # 大渡口区
    "500103": 0.2,  # 渝中区
}
DEFAULT_COUNTY_WEIGHT = 2.0  # a county code missing from the table
VILLAGE_WEIGHT = 3.0  # a 村 against 1.0 for a 社区
VILLAGE_SIGMA = 0.5  # log-normal spread of village sizes

FAVOURITE_SPLIT = (0.5, 0.3, 0.2)
CHAIN_SHARE = 0.75  # workers following their village's favourites
FACTORY_SIGMA = 0.6  # log-normal spread of factory sizes
DEFAULT_WORKERS_PER_FACTORY = 730

RAMP_START = date(2020, 2, 14)  # first inter-provincial charter from Chongqing
EARLY_SHARE = 0.05  # ready before RAMP_START when the window starts earlier
READY_SHAPE = 2.0
READY_MEAN_FRACTION = 0.35  # mean ready offset as a fraction of the remaining window
NEED_SECOND_HALF = 0.85
NEED_SECOND_HALF_FROM = 0.55  # "second half" starts at this fraction of the window
MIN_LEAD_DAYS = 3  # needed_by >= ready_date + 3 where possible

HEALTH_SHARES = {"certificate": 0.82, "green_code": 0.14, "none": 0.04}
PROOF_MAX_DAYS_BEFORE = 3
JOB_UNCONFIRMED = 0.03

FAMILY_BLOCK = 4  # families are carved from blocks of 4 consecutive workers of a village
FAMILY_SIZES = (2, 3, 4)
FAMILY_SIZE_P = (0.6, 0.3, 0.1)
FAMILY_SHARE = 0.15  # share of workers travelling in a group
MALE_SHARE = 0.58
AGE_MIN, AGE_MAX = 18, 60

#: a factory lies at least this far inside its county's polygon (the polygons are simplified,
#: and a factory across a province border is rejected by ``validate``: county_province_mismatch)
BORDER_KM = 1.0
PLACEMENT_TRIES = 24  # turns of a factory around its site before it falls back to a point inside

SYNTH_VERSION = 3  # bump when the generator's output changes; cached data is then regenerated

WORKERS_PER_COACH = 730
MIN_COACHES = 3
C45_SHARE = 0.2
WORKERS_PER_FEEDER = 2000
MIN_FEEDERS = 2

WORKERS_PER_SERVICE = 12_000
MIN_SERVICES = 3
MAX_SERVICES = 80
RAIL_DETOUR = 1.4
RAIL_SPEED_KMH = 85.0
CARRIAGES = (6, 12)
DEPART_TIMES = ("09:30", "11:20", "14:05", "16:40", "19:10", "21:30")

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
    "姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤冉"
)
GIVEN_MALE = list("华明国建军平伟强磊洋勇杰涛超刚飞鹏辉波斌宇浩凯林川江峰亮")
GIVEN_FEMALE = list("芳丽敏艳娟秀霞桂英兰红玲梅琴燕翠云莲珍凤琼萍")
FACTORY_KINDS = ("电子", "服装", "鞋业", "制衣", "五金", "塑胶", "玩具", "家具", "电器", "纺织", "机械", "印刷")

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
FACTORY_COLUMNS = [
    "factory_id", "name", "province", "city", "county_code", "lon", "lat", "needed_by", "arrival_station_id",
]
FLEET_COLUMNS = ["county_code", "type_id", "count"]
SERVICE_COLUMNS = [
    "service_id", "date", "depart_time", "origin_station_id", "destination_station_id",
    "carriages", "carriage_type", "travel_hours",
]
RISK_COLUMNS = ["region_code", "from", "to", "level"]


@dataclass(frozen=True)
class SynthData:
    """Generated tables, in the input formats of ``docs/data-format.md``.

    Attributes
    ----------
    workers, factories, fleet, train_services, risk_calendar : pandas.DataFrame
        The generated tables, columns as in ``WORKER_COLUMNS`` etc.
    vehicle_types : pandas.DataFrame
        The fixed table :data:`VEHICLE_TYPES` the other tables refer to.
    """

    workers: pd.DataFrame
    factories: pd.DataFrame
    fleet: pd.DataFrame
    train_services: pd.DataFrame
    risk_calendar: pd.DataFrame
    vehicle_types: pd.DataFrame = field(default_factory=lambda: VEHICLE_TYPES.copy())

    def write(self, directory: Path) -> None:
        """Write every table as UTF-8 CSV into ``directory``.

        Parameters
        ----------
        directory : pathlib.Path
            Created if missing. Files: ``workers.csv``, ``factories.csv``,
            ``fleet.csv``, ``train_services.csv``, ``risk_calendar.csv`` and
            ``vehicle_types.csv``; existing files are replaced.
        """
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for name in ("workers", "factories", "fleet", "train_services", "risk_calendar", "vehicle_types"):
            getattr(self, name).to_csv(
                directory / f"{name}.csv", index=False, encoding="utf-8", lineterminator="\n"
            )


def load_inputs(
    geodata_dir: Path,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Read the shipped geodata that :func:`synthesize` needs.

    Parameters
    ----------
    geodata_dir : pathlib.Path
        The ``geodata`` folder (with ``chongqing/`` and ``receiving/``).

    Returns
    -------
    tuple of pandas.DataFrame
        ``(villages, factory_sites, hubs, stations, receiving_counties)``, code
        columns as strings, in the order :func:`synthesize` takes them;
        ``receiving_counties`` (``county_code``, ``geometry`` from
        ``receiving/counties.gpkg``) is None when that file is absent.
    """
    g = Path(geodata_dir)
    needed = ["chongqing/villages.csv", "receiving/factory_sites.csv", "chongqing/hubs.csv", "receiving/stations.csv"]
    missing = [n for n in needed if not (g / n).is_file()]
    if missing:
        msg = (f"地理数据目录 {g} 缺少 (geodata folder lacks) {', '.join(missing)}；"
               "请用 --geodata 指向项目的 geodata 目录 (point --geodata at the project's geodata folder)")
        raise DataError(msg)
    villages = pd.read_csv(
        g / "chongqing/villages.csv",
        dtype={"village_code": str, "village_name": str, "township_code": str, "county_code": str},
    )
    sites = pd.read_csv(
        g / "receiving/factory_sites.csv",
        dtype={"site_id": str, "county_code": str, "arrival_station_id": str},
    )
    hubs = pd.read_csv(g / "chongqing/hubs.csv", dtype={"hub_id": str, "kind": str, "county_code": str})
    stations = pd.read_csv(g / "receiving/stations.csv", dtype={"station_id": str, "county_code": str})
    return villages, sites, hubs, stations, _receiving_counties(g / "receiving/counties.gpkg")


def _receiving_counties(path: Path) -> pd.DataFrame | None:
    """County polygons of the receiving provinces (``county_code``, ``geometry``), or None without the file."""
    if not path.is_file():
        return None
    import pyogrio

    frame = pyogrio.read_dataframe(path, columns=["county_code"])
    return pd.DataFrame({"county_code": frame["county_code"].astype(str).to_numpy(),
                         "geometry": frame.geometry.to_numpy()})


# -------------------------------------------------------------------- helpers
def _allocate(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers summing to ``total`` in proportion to ``weights`` (largest remainder)."""
    w = np.asarray(weights, float)
    if total <= 0 or len(w) == 0 or w.sum() <= 0:
        return np.zeros(len(w), dtype=np.int64)
    share = w / w.sum() * total
    base = np.floor(share).astype(np.int64)
    rest = total - int(base.sum())
    order = np.argsort(-(share - base), kind="stable")
    base[order[:rest]] += 1
    return base


def _spread_choice(rng: np.random.Generator, p: np.ndarray, size: int | tuple[int, ...]) -> np.ndarray:
    """Like ``rng.choice(len(p), size, p=p)`` but stratified: each index is drawn close to
    ``p[i] * size`` times, in random order (keeps province shares steady at small scale)."""
    n = int(np.prod(size))
    u = (rng.permutation(n) + rng.random(n)) / max(n, 1)
    cdf = np.cumsum(p)
    cdf /= cdf[-1]
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(p) - 1).reshape(size)


def _check_table() -> tuple[np.ndarray, np.ndarray]:
    """GB 11643 weights and the check character for each residue, taken from idcard."""
    weights = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
    table = np.empty(11, dtype="<U1")
    for r in range(11):
        # one '1' at the position whose weight is r (weights cover 1..10), else zeros
        s = ["0"] * 17
        if r:
            s[int(np.flatnonzero(weights == r)[0])] = "1"
        first17 = "".join(s)
        assert int((np.array(list(first17), dtype=np.int64) * weights).sum()) % 11 == r
        table[r] = id_check_char(first17)
    return weights, table


def _id_numbers(county: np.ndarray, born: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """18-digit resident IDs with valid check characters, vectorised.

    ``county`` holds 6-digit codes, ``born`` YYYYMMDD strings, ``seq`` 0-999.
    """
    weights, table = _check_table()
    first = np.char.add(np.char.add(county.astype("U6"), born.astype("U8")), np.char.zfill(seq.astype("U3"), 3))
    digits = np.frombuffer(first.astype("S17").tobytes(), dtype=np.uint8).reshape(-1, 17).astype(np.int64) - ord("0")
    return np.char.add(first, table[(digits @ weights) % 11])


def _rank_in_group(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rank of each element among equal keys (0, 1, ...) and a dense group number."""
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    new = np.empty(len(sk), dtype=bool)
    new[:1] = True
    new[1:] = sk[1:] != sk[:-1]
    gid_sorted = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    rank = np.empty(len(keys), dtype=np.int64)
    rank[order] = np.arange(len(sk)) - starts[gid_sorted]
    gid = np.empty(len(keys), dtype=np.int64)
    gid[order] = gid_sorted
    return rank, gid


def _iso_days(start: date, first: int, last: int) -> np.ndarray:
    """ISO date strings for offsets ``first..last`` from ``start`` (index = offset - first)."""
    s = start.toordinal()
    return np.array([date.fromordinal(s + k).isoformat() for k in range(first, last + 1)])


# ------------------------------------------------------------------ synthesize
def synthesize(
    villages: pd.DataFrame,
    factory_sites: pd.DataFrame,
    hubs: pd.DataFrame,
    stations: pd.DataFrame,
    receiving_counties: pd.DataFrame | None = None,
    *,
    seed: int,
    total_workers: int,
    counties: list[str] | None,
    window_start: date,
    window_end: date,
    n_factories: int | None = None,
    workers_per_coach: int = WORKERS_PER_COACH,
    workers_per_feeder: int = WORKERS_PER_FEEDER,
    progress: Callable[[str], None] | None = None,
) -> SynthData:
    """Generate a complete, fictitious scenario data set.

    Parameters
    ----------
    villages : pandas.DataFrame
        ``village_code``, ``village_name``, ``township_code``, ``county_code``, ``lon``, ``lat``.
    factory_sites : pandas.DataFrame
        ``site_id``, ``town_name``, ``province``, ``city``, ``county_code``, ``lon``, ``lat``,
        ``arrival_station_id``, ``weight``.
    hubs : pandas.DataFrame
        ``hub_id``, ``kind`` (``terminal`` | ``rail_station``), ``county_code``, ``lon``, ``lat``.
    stations : pandas.DataFrame
        Receiving stations: ``station_id``, ``lon``, ``lat``.
    receiving_counties : pandas.DataFrame, optional
        ``county_code`` and a shapely ``geometry`` per receiving county: every
        factory is placed at least :data:`BORDER_KM` inside the polygon of its
        site's county (sites whose county has no polygon are placed as without).
    seed : int
        Same seed and arguments, byte-identical output.
    total_workers : int
        Exact number of workers (1 to 9,999,999).
    counties : list of str or None
        6-digit county codes whose villages send workers; None for all counties in ``villages``.
    window_start, window_end : datetime.date
        The planning window (inclusive); all generated dates fall inside it,
        except proof dates, which may be a few days before it.
    n_factories : int, optional
        Factories to create; default ``max(20, total_workers // 730)``.
    workers_per_coach : int, optional
        One inter-provincial coach per this many workers of a county (at least
        3). The default 730 is Chongqing's 2020 ratio (1,000 coaches for about
        730,000 workers), under which many workers cannot go by coach; the demo
        uses a richer county fleet so that most of its workers move.
    workers_per_feeder : int, optional
        One feeder bus per this many workers of a county (at least 2). The
        default 2,000 is Chongqing's 2020 ratio (356 buses at 35 terminals).
    progress : callable, optional
        Receives short status strings.

    Returns
    -------
    SynthData
        The tables; see the module docstring for the choices behind them.

    Raises
    ------
    ValueError
        For an unknown or empty county list, a non-positive worker count,
        an empty window or no usable factory sites.
    """
    say = progress or (lambda _m: None)
    if workers_per_coach < 1 or workers_per_feeder < 1:
        msg = f"workers per coach and per feeder must be at least 1, got {workers_per_coach}, {workers_per_feeder}"
        raise ValueError(msg)
    if not 0 < total_workers <= 9_999_999:
        msg = f"total_workers must be between 1 and 9,999,999, got {total_workers}"
        raise ValueError(msg)
    days = (window_end - window_start).days + 1
    if days < 1:
        msg = "window_end is before window_start"
        raise ValueError(msg)
    all_counties = sorted(set(villages["county_code"].astype(str)))
    if counties is None:
        chosen = all_counties
    else:
        chosen = sorted({str(c) for c in counties})
        if not chosen:
            msg = "counties is empty (use None for all counties)"
            raise ValueError(msg)
        unknown = [c for c in chosen if c not in all_counties]
        if unknown:
            msg = f"unknown county codes (no villages): {', '.join(unknown)}"
            raise ValueError(msg)
    rng = np.random.default_rng(seed)

    say("生成企业 (factories)")
    nf = int(n_factories or max(20, total_workers // DEFAULT_WORKERS_PER_FACTORY))
    factories, f_weight, need_off = _factories(rng, factory_sites, nf, window_start, days, receiving_counties)
    nf = len(factories)

    say(f"生成工人 {total_workers:,} 名 (workers)")
    v = villages[villages["county_code"].astype(str).isin(chosen)].sort_values("village_code").reset_index(drop=True)
    v_county = v["county_code"].astype(str).to_numpy()
    per_county = _allocate(total_workers, [COUNTY_WEIGHTS.get(c, DEFAULT_COUNTY_WEIGHT) for c in chosen])
    is_comm = v["village_name"].astype(str).str.contains("社区|居委会", regex=True).to_numpy()
    vw = np.where(is_comm, 1.0, VILLAGE_WEIGHT) * rng.lognormal(0.0, VILLAGE_SIGMA, len(v))
    per_village = np.zeros(len(v), dtype=np.int64)
    for c, k in zip(chosen, per_county):
        sel = np.flatnonzero(v_county == c)
        per_village[sel] = _allocate(int(k), vw[sel])
    n = int(per_village.sum())
    w_village = np.repeat(np.arange(len(v)), per_village)
    v_first = np.concatenate([[0], np.cumsum(per_village)[:-1]])
    pos_in_village = np.arange(n) - v_first[w_village]

    # chain migration: each village has three favourite factories taking 50/30/20 % of its
    # chain share. Favourites are drawn by systematic sampling over worker mass, villages in
    # code order and factories in a random order per slot: province shares come out exact
    # at any scale, and neighbouring villages of a township share their factories.
    village_fav = np.empty((len(v), len(FAVOURITE_SPLIT)), dtype=np.int64)
    for k, split in enumerate(FAVOURITE_SPLIT):
        mass = per_village * (CHAIN_SHARE * split)
        cum = np.cumsum(mass) / max(mass.sum(), 1e-12)
        u = (cum - mass / max(mass.sum(), 1e-12) / 2 + rng.random()) % 1.0
        perm = rng.permutation(nf)
        cdf = np.cumsum(f_weight[perm])
        cdf /= cdf[-1]
        village_fav[:, k] = perm[np.minimum(np.searchsorted(cdf, u, side="right"), nf - 1)]
    slot = rng.choice(len(FAVOURITE_SPLIT), size=n, p=FAVOURITE_SPLIT)
    factory = np.where(
        rng.random(n) < CHAIN_SHARE, village_fav[w_village, slot], _spread_choice(rng, f_weight, n)
    )

    # families: within each village, blocks of FAMILY_BLOCK consecutive workers;
    # some blocks start with a group of 2-4 (never crossing a village boundary)
    block_head = pos_in_village % FAMILY_BLOCK == 0
    heads = np.flatnonzero(block_head)
    block_len = np.minimum(FAMILY_BLOCK, per_village[w_village[heads]] - pos_in_village[heads])
    mean_size = float(np.dot(FAMILY_SIZES, FAMILY_SIZE_P))
    p_group = min(1.0, FAMILY_SHARE * FAMILY_BLOCK / mean_size)
    size = np.where(rng.random(len(heads)) < p_group, rng.choice(FAMILY_SIZES, size=len(heads), p=FAMILY_SIZE_P), 0)
    size = np.where(size > block_len, np.where(block_len >= 2, block_len, 0), size)
    head_of = np.repeat(heads, np.diff(np.append(heads, n)))  # block head of every worker
    in_group = (pos_in_village % FAMILY_BLOCK) < size[np.searchsorted(heads, head_of)]
    group_heads = heads[size > 0]
    group_no = np.full(n, -1, dtype=np.int64)
    group_no[in_group] = np.searchsorted(group_heads, head_of[in_group])
    factory[in_group] = factory[head_of[in_group]]

    # ready dates: from 14 Feb 2020, front-loaded; before each factory's needed_by - 3
    ramp = min(max(0, (RAMP_START - window_start).days), days - 1)
    remaining = days - ramp
    scale = max(1.0, READY_MEAN_FRACTION * remaining / READY_SHAPE)
    ready_off = ramp + np.minimum(np.floor(rng.gamma(READY_SHAPE, scale, n)).astype(np.int64), remaining - 1)
    if ramp > 0:
        early = rng.random(n) < EARLY_SHARE
        ready_off[early] = rng.integers(0, ramp, int(early.sum()))
    need = need_off[factory]
    late = ready_off > need - MIN_LEAD_DAYS
    ready_off[late] = np.maximum(0, need[late] - MIN_LEAD_DAYS - rng.integers(0, 3, int(late.sum())))
    ready_off[in_group] = ready_off[head_of[in_group]]

    say("生成健康证明与身份信息 (health proof, IDs, phones)")
    proof = rng.choice(np.array(list(HEALTH_SHARES)), size=n, p=list(HEALTH_SHARES.values()))
    proof_off = ready_off - rng.integers(0, PROOF_MAX_DAYS_BEFORE + 1, n)
    job = rng.random(n) >= JOB_UNCONFIRMED
    lo = -PROOF_MAX_DAYS_BEFORE
    day_str = _iso_days(window_start, lo, days - 1)
    ready_str = day_str[ready_off - lo]
    proof_str = np.where(proof == "none", "", day_str[proof_off - lo])

    # people: sex, birth date (age 18-60 on the window start), names, IDs, phones
    male = rng.random(n) < MALE_SHARE
    youngest = date(window_start.year - AGE_MIN, window_start.month, min(window_start.day, 28))
    oldest = date(window_start.year - AGE_MAX - 1, window_start.month, min(window_start.day, 28)) + timedelta(days=1)
    span = youngest.toordinal() - oldest.toordinal() + 1
    # ages skew young (most migrant workers are 20-45): triangular-ish via the min of two draws
    age_days = np.minimum(rng.integers(0, span, n), rng.integers(0, span, n))
    born_idx = span - 1 - age_days  # index from the oldest birth date
    born_tab = np.array([date.fromordinal(oldest.toordinal() + k).strftime("%Y%m%d") for k in range(span)])
    county_of = v_county[w_village]
    _, county_idx = np.unique(county_of, return_inverse=True)
    key = (county_idx.astype(np.int64) * span + born_idx) * 2 + male
    rank, gid = _rank_in_group(key)
    if rank.max(initial=0) >= 500:
        msg = "too many workers share a county, birth date and sex for unique ID numbers"
        raise ValueError(msg)
    g_start = rng.integers(0, 500, int(gid.max(initial=-1)) + 1)
    seq = ((g_start[gid] + rank) % 500) * 2 + male  # odd = male, as in GB 11643
    ids = _id_numbers(county_of, born_tab[born_idx], seq)
    sur = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    given = np.where(
        male,
        np.array(GIVEN_MALE)[rng.integers(0, len(GIVEN_MALE), n)],
        np.array(GIVEN_FEMALE)[rng.integers(0, len(GIVEN_FEMALE), n)],
    )
    idx = np.arange(1, n + 1)
    workers = pd.DataFrame(
        {
            "worker_id": np.char.add("W", np.char.zfill(idx.astype("U7"), 7)),
            "name": np.char.add(np.char.add(sur, "某"), given),
            "id_number": ids,
            "phone": np.char.add("199", np.char.zfill(idx.astype("U8"), 8)),
            "village_code": v["village_code"].astype(str).to_numpy()[w_village],
            "factory_id": factories["factory_id"].to_numpy()[factory],
            "ready_date": ready_str,
            "health_proof": proof,
            "proof_date": proof_str,
            "job_confirmed": np.where(job, "true", "false"),
            "group_id": np.where(
                group_no >= 0, np.char.add("G", np.char.zfill((group_no + 1).astype("U6"), 6)), ""
            ),
        }
    )[WORKER_COLUMNS]

    say("生成车队、专列与风险日历 (fleet, trains, risk calendar)")
    fleet = _fleet(county_of, workers_per_coach, workers_per_feeder)
    services = _train_services(
        rng, county_of, ready_off, factories["arrival_station_id"].to_numpy()[factory],
        v, w_village, hubs, stations, window_start, days,
    )
    risk = _risk_calendar(rng, factories, window_start, days)
    say(f"完成：{n:,} 名工人，{nf:,} 家企业，{len(services)} 趟专列 (done)")
    return SynthData(workers, factories, fleet, services, risk, VEHICLE_TYPES.copy())


def _factories(
    rng: np.random.Generator, factory_sites: pd.DataFrame, nf: int, start: date, days: int,
    receiving_counties: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Factories around the sites, their worker-attraction weights and needed_by offsets."""
    sites = factory_sites.sort_values("site_id").reset_index(drop=True)
    provs = [p for p in PROVINCE_SHARES if (sites["province"] == p).any()]
    if not provs:
        msg = "factory_sites has no site in 广东/浙江/福建/江苏/上海"
        raise ValueError(msg)
    shares = np.array([PROVINCE_SHARES[p] for p in provs])
    shares /= shares.sum()
    nf = max(nf, len(provs))
    per_prov = _allocate(nf - len(provs), shares) + 1  # every province at least one factory
    site_idx = np.empty(nf, dtype=np.int64)
    f_weight = np.empty(nf)
    site_prov = sites["province"].to_numpy()
    site_w = sites["weight"].to_numpy(float)
    k = 0
    for p, share, m in zip(provs, shares, per_prov):
        cand = np.flatnonzero(site_prov == p)
        w = site_w[cand]
        site_idx[k : k + m] = rng.choice(cand, size=m, p=w / w.sum())
        size = rng.lognormal(0.0, FACTORY_SIGMA, m)
        f_weight[k : k + m] = share * size / size.sum()
        k += m
    f_weight /= f_weight.sum()
    s = sites.iloc[site_idx].reset_index(drop=True)
    lat0 = s["lat"].to_numpy(float)
    r_km = rng.uniform(0.5, 3.0, nf)
    ang = rng.uniform(0.0, 2 * np.pi, nf)
    lon0 = s["lon"].to_numpy(float)
    f_lon, f_lat = _around(lon0, lat0, r_km, ang)
    if receiving_counties is not None and len(receiving_counties):
        f_lon, f_lat = _keep_inside(f_lon, f_lat, lon0, lat0, r_km, ang, s["county_code"].astype(str).to_numpy(),
                                    receiving_counties)
    kind = np.array(FACTORY_KINDS)[rng.integers(0, len(FACTORY_KINDS), nf)]
    half = min(days - 1, int(days * NEED_SECOND_HALF_FROM))
    first_from = min(12, half)
    need_off = np.where(
        rng.random(nf) < NEED_SECOND_HALF,
        rng.integers(half, days, nf),
        rng.integers(first_from, max(first_from + 1, half), nf),
    ).astype(np.int64)
    need_off = np.minimum(need_off, days - 1)
    day_str = _iso_days(start, 0, days - 1)
    ids = [f"F{i + 1:04d}" for i in range(nf)]
    factories = pd.DataFrame(
        {
            "factory_id": ids,
            "name": [f"{t}示例{kd}厂{i[1:]}" for t, kd, i in zip(s["town_name"], kind, ids)],
            "province": s["province"].to_numpy(),
            "city": s["city"].to_numpy(),
            "county_code": s["county_code"].astype(str).to_numpy(),
            "lon": np.round(f_lon, 6),
            "lat": np.round(f_lat, 6),
            "needed_by": day_str[need_off],
            "arrival_station_id": s["arrival_station_id"].fillna("").astype(str).to_numpy(),
        }
    )[FACTORY_COLUMNS]
    return factories, f_weight, need_off


def _around(lon0: np.ndarray, lat0: np.ndarray, r_km: np.ndarray, ang: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points ``r_km`` from (lon0, lat0) in direction ``ang`` (local flat-earth degrees)."""
    return (lon0 + r_km * np.cos(ang) / (111.32 * np.cos(np.radians(lat0))),
            lat0 + r_km * np.sin(ang) / 110.57)


def _inside_by(geoms: np.ndarray, lon: np.ndarray, lat: np.ndarray, border_km: float) -> np.ndarray:
    """True where the point lies inside its polygon and at least ``border_km`` from its edge."""
    import shapely

    pts = shapely.points(lon, lat)
    # a degree of longitude is the shorter one: measured in it the margin in km is never overstated
    need_deg = border_km / (111.32 * np.cos(np.radians(lat)))
    return shapely.contains(geoms, pts) & (shapely.distance(shapely.boundary(geoms), pts) >= need_deg)


def _keep_inside(lon: np.ndarray, lat: np.ndarray, lon0: np.ndarray, lat0: np.ndarray, r_km: np.ndarray,
                 ang: np.ndarray, county: np.ndarray, polys: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Move factories that are not :data:`BORDER_KM` inside their site's county polygon.

    Deterministic and without drawing from the generator (the other tables stay as they were):
    a factory is turned around its site by golden-angle steps at its own, then half its,
    distance; one that still lands outside goes to the polygon's inner point nearest the site.
    """
    import shapely
    from shapely.ops import nearest_points

    by_code = dict(zip(polys["county_code"].astype(str), polys["geometry"]))
    has = np.array([c in by_code for c in county], dtype=bool)
    geoms = np.array([by_code.get(c) for c in county], dtype=object)
    lon, lat = lon.copy(), lat.copy()
    bad = has.copy()
    bad[has] = ~_inside_by(geoms[has], lon[has], lat[has], BORDER_KM)
    golden = np.pi * (3.0 - np.sqrt(5.0))
    for k in range(1, PLACEMENT_TRIES + 1):
        if not bad.any():
            break
        i = np.flatnonzero(bad)
        r = r_km[i] * (1.0 if k <= PLACEMENT_TRIES // 2 else 0.5)
        x, y = _around(lon0[i], lat0[i], r, ang[i] + k * golden)
        ok = _inside_by(geoms[i], x, y, BORDER_KM)
        lon[i[ok]], lat[i[ok]] = x[ok], y[ok]
        bad[i[ok]] = False
    for j in np.flatnonzero(bad):  # a site at the edge of a narrow county: the nearest point well inside
        g = geoms[j]
        inner = g.buffer(-BORDER_KM * 1.5 / (111.32 * np.cos(np.radians(lat0[j]))))
        if inner.is_empty:
            inner = g
        p = nearest_points(inner, shapely.Point(lon0[j], lat0[j]))[0]
        if not g.contains(p):
            p = g.point_on_surface()
        lon[j], lat[j] = p.x, p.y
    return lon, lat


def _fleet(county_of: np.ndarray, workers_per_coach: int, workers_per_feeder: int) -> pd.DataFrame:
    """Coaches and feeder buses per county, proportional to its workers."""
    codes, counts = np.unique(county_of, return_counts=True)
    rows = []
    for c, k in zip(codes, counts):
        coaches = max(MIN_COACHES, int(round(k / workers_per_coach)))
        small = int(round(coaches * C45_SHARE))
        rows += [
            (str(c), "C53", coaches - small),
            (str(c), "C45", small),
            (str(c), "F35", max(MIN_FEEDERS, int(round(k / workers_per_feeder)))),
        ]
    fleet = pd.DataFrame(rows, columns=FLEET_COLUMNS)
    return fleet[fleet["count"] > 0].reset_index(drop=True)


def _train_services(
    rng: np.random.Generator,
    county_of: np.ndarray,
    ready_off: np.ndarray,
    arrival: np.ndarray,
    v: pd.DataFrame,
    w_village: np.ndarray,
    hubs: pd.DataFrame,
    stations: pd.DataFrame,
    start: date,
    days: int,
) -> pd.DataFrame:
    """Special-train services from the counties' railway stations to the busiest arrival stations."""
    rail = hubs[hubs["kind"] == "rail_station"].sort_values("hub_id").reset_index(drop=True)
    st = stations.drop_duplicates("station_id").set_index("station_id")
    has_station = (arrival != "") & np.isin(arrival, st.index.to_numpy())
    if rail.empty or not has_station.any():
        return pd.DataFrame(columns=SERVICE_COLUMNS)

    # catchment: a county's own station (the busiest when it has several) or the nearest one
    codes, w_county = np.unique(county_of, return_inverse=True)
    lon = np.bincount(w_county, v["lon"].to_numpy(float)[w_village]) / np.bincount(w_county)
    lat = np.bincount(w_county, v["lat"].to_numpy(float)[w_village]) / np.bincount(w_county)
    r_county = rail["county_code"].astype(str).to_numpy()
    r_cap = rail["daily_capacity_people"].to_numpy(float) if "daily_capacity_people" in rail else np.ones(len(rail))
    r_lon, r_lat = rail["lon"].to_numpy(float), rail["lat"].to_numpy(float)
    d = haversine_km(lon[:, None], lat[:, None], r_lon[None, :], r_lat[None, :])
    own = r_county[None, :] == codes[:, None]
    biggest_own = np.argmin(np.where(own, -r_cap[None, :], np.inf), axis=1)
    hub_of_county = np.where(own.any(axis=1), biggest_own, np.argmin(d, axis=1))
    w_hub = hub_of_county[w_county]

    dest_ids, w_dest = np.unique(np.where(has_station, arrival, ""), return_inverse=True)
    keep = dest_ids != ""
    n_h, n_d = len(rail), len(dest_ids)
    pair = np.bincount((w_hub * n_d + w_dest)[has_station], minlength=n_h * n_d).reshape(n_h, n_d)
    pair[:, ~keep] = 0
    n_total = min(MAX_SERVICES, MIN_SERVICES + int(round(len(county_of) / WORKERS_PER_SERVICE)))
    per_hub = _allocate(n_total, pair.sum(axis=1))
    # ready-day histogram per (hub, destination): services go when the people are ready
    hist = np.bincount(
        ((w_hub * n_d + w_dest) * days + ready_off)[has_station], minlength=n_h * n_d * days
    ).reshape(n_h, n_d, days)

    rows = []
    for h in np.flatnonzero(per_hub):
        m_h = int(per_hub[h])
        per_dest = _allocate(m_h, pair[h])
        # interleave destinations (k-th of m_j at (k + 0.5) / m_j), then place the i-th service
        # at quantile (i + phase) / m_h of the station's ready days, a day or two later
        order = sorted(
            ((k + 0.5) / int(per_dest[j]), int(j)) for j in np.flatnonzero(per_dest) for k in range(int(per_dest[j]))
        )
        hist_h = hist[h].sum(axis=0)
        cdf = np.cumsum(hist_h) / max(1, hist_h.sum())
        q = (np.arange(m_h) + rng.uniform(0.2, 0.8)) / m_h
        when = np.minimum(np.searchsorted(cdf, q) + 1 + rng.integers(0, 2, m_h), days - 1)
        for (_, j), t in zip(order, when):
            sid = dest_ids[j]
            km = float(haversine_km(rail.at[h, "lon"], rail.at[h, "lat"], st.at[sid, "lon"], st.at[sid, "lat"]))
            hours = max(0.5, round(km * RAIL_DETOUR / RAIL_SPEED_KMH * 2) / 2)
            rows.append(
                [start + timedelta(days=int(t)), DEPART_TIMES[int(rng.integers(0, len(DEPART_TIMES)))],
                 rail.at[h, "hub_id"], sid, int(rng.integers(CARRIAGES[0], CARRIAGES[1] + 1)), "YZ25", hours]
            )
    rows.sort(key=lambda r: (r[0], r[1], r[2], r[3]))
    out = pd.DataFrame(
        [[f"K{7001 + i}", r[0].isoformat(), *r[1:]] for i, r in enumerate(rows)], columns=SERVICE_COLUMNS
    )
    return out


def _risk_calendar(rng: np.random.Generator, factories: pd.DataFrame, start: date, days: int) -> pd.DataFrame:
    """A handful of 2020-like exceptions for regions that hold factories; the rest is low."""
    counties = factories["county_code"].astype(str)
    cities = set(counties.str[:4])
    provs = set(counties.str[:2])
    last = days - 1

    def span(a: int, b: int) -> tuple[str, str] | None:
        a, b = max(0, a), min(last, b)
        if a > b:
            return None
        return (start + timedelta(days=a)).isoformat(), (start + timedelta(days=b)).isoformat()

    wanted: list[tuple[str, int, int, str]] = []
    if "33" in provs:
        wanted.append(("33", 0, 3, "medium"))  # 浙江 still at first-level response
    if "3303" in cities:
        wanted += [("3303", 0, 6, "high"), ("3303", 7, 13, "medium")]  # 温州, the worst-hit city outside Hubei
    if "4403" in cities:
        wanted.append(("4403", 0, 9, "medium"))  # 深圳
    busy = counties.value_counts()
    candidates = sorted(c for c in busy.index if not c.startswith("3303"))
    if len(candidates) >= 2:
        high, closed = rng.choice(len(candidates), size=2, replace=False)
        wanted.append((candidates[int(high)], 3, 7, "high"))
        a = int(rng.integers(5, max(6, days // 2 - 3)))
        wanted.append((candidates[int(closed)], a, a + 3, "closed"))  # a cluster closes it for 4 days
    rows = []
    for code, a, b, level in wanted:
        s = span(a, b)
        if s is not None:
            rows.append((code, s[0], s[1], level))
    return pd.DataFrame(rows, columns=RISK_COLUMNS)
