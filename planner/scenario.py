"""The scenario file: which data files, which planning window, which rules.

A scenario is a TOML file validated with pydantic. Unknown keys are errors (a
misspelt rule must never silently fall back to its default). Every number has
bounds and must be finite (TOML's ``nan`` and ``inf`` are refused): a value that
cannot be meant (99 isolation rows, a proof valid -7 days) is an error naming
the key, not a misleading plan. Bounds that depend on the data (isolation rows
below the rows of every vehicle type in use) are checked by
:mod:`planner.validate` (``scenario_conflict``). Every rule of the
February 2020 notices is a named parameter whose default is the 2020 value, so
a county planner changes only what differs locally. ``docs/scenario.md``
documents every key.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from collections.abc import Sequence
from datetime import date, time
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from planner.errors import ScenarioError
from planner.vocab import OCCUPANCY_RULES, RISK_LEVELS

OccupancyRule = Literal[OCCUPANCY_RULES]  # the names live in planner/vocab.py
RiskLevel = Literal[RISK_LEVELS]
Crs = Literal["wgs84", "gcj02", "bd09"]
HealthProof = Literal["certificate", "green_code"]

RECEIVING_PROVINCES = ("广东", "浙江", "福建", "江苏", "上海")
SYNTH_TABLES = ("workers", "factories", "fleet", "train_services", "risk_calendar")

# Bounds shared by several keys (finite everywhere through allow_inf_nan=False).
MAX_SEED = 2**31 - 1  # CP-SAT and numpy take 32-bit seeds
MAX_MINUTES = 24 * 60
MAX_HOURS = 72.0
MAX_SPEED_KMH = 150.0
DetourFactor = Annotated[float, Field(ge=1.0, le=5.0, allow_inf_nan=False)]
SpeedKmh = Annotated[float, Field(ge=0, le=MAX_SPEED_KMH, allow_inf_nan=False)]
ProofDays = Annotated[int, Field(ge=0, le=366)]


class _Strict(BaseModel):
    """Base model: unknown keys are errors, values are immutable once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class FileSpec(_Strict):
    """One input file: its path and how to read it."""

    path: Path = Field(description="File path, relative to the scenario file.")
    crs: Crs = Field("wgs84", description="Coordinate system of positions in the file.")
    sheet: str | None = Field(None, description="Sheet name for an Excel workbook (default: first).")
    layer: str | None = Field(None, description="Layer name for a GeoPackage (default: first).")
    encoding: str | None = Field(
        None, description="Text encoding of a CSV; default: detect UTF-8, UTF-8 with BOM or GB18030."
    )


def _file_spec(value: object) -> object:
    """Accept a bare string as shorthand for ``{path = "..."}``."""
    if isinstance(value, str):
        return {"path": value}
    return value


class DataFiles(_Strict):
    """The data files of a scenario. Paths are relative to the scenario file."""

    villages: FileSpec = Field(description="Villages: codes, names, township, county, position.")
    hubs: FileSpec = Field(description="County terminals and railway stations of the origin.")
    factories: FileSpec | None = Field(None, description="Omit when [synth] generates them.")
    workers: FileSpec | None = Field(None, description="Omit when [synth] generates them.")
    fleet: FileSpec | None = Field(None, description="Omit when [synth] generates it.")
    vehicles: FileSpec | None = Field(None, description="Vehicle register: plate and drivers per vehicle id (optional).")
    vehicle_types: FileSpec = Field(description="Seat layouts of coaches, feeder buses and carriages.")
    train_services: FileSpec | None = Field(None, description="Special trains with chartered carriages.")
    risk_calendar: FileSpec | None = Field(None, description="Destination risk levels by day; omit for all low.")
    counties: FileSpec = Field(description="County polygons of the origin (GeoPackage or GeoJSON).")
    stations: FileSpec | None = Field(None, description="Destination railway stations.")
    receiving_counties: FileSpec | None = Field(
        None,
        description="County polygons of the receiving provinces: checks risk-calendar codes and "
        "gives factories without county_code their county.",
    )

    _coerce = field_validator(
        "villages",
        "hubs",
        "factories",
        "workers",
        "fleet",
        "vehicles",
        "vehicle_types",
        "train_services",
        "risk_calendar",
        "counties",
        "stations",
        "receiving_counties",
        mode="before",
    )(_file_spec)


class Window(_Strict):
    """The planning window: the first and last day a charter may depart."""

    start: date = Field(description="First day a charter may depart.")
    end: date = Field(description="Last day a charter may depart.")

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end < self.start:
            msg = f"window.end ({self.end}) is before window.start ({self.start})"
            raise ValueError(msg)
        return self

    @property
    def days(self) -> list[date]:
        """Every day of the window, in order."""
        from datetime import timedelta

        n = (self.end - self.start).days + 1
        return [self.start + timedelta(days=i) for i in range(n)]


class Synth(_Strict):
    """Generate workers, factories, fleet, train services and risk calendar from a seed.

    Used by scenarios whose personal data cannot be shipped (the full municipality):
    the files are generated on first use and cached outside git.
    """

    seed: int = Field(2020, ge=0, le=MAX_SEED, description="Same seed, same data, byte for byte.")
    total_workers: int = Field(15_000, gt=0, le=5_000_000, description="Workers to generate across the counties.")
    counties: list[str] | None = Field(None, description="County codes; omit for all 38.")
    n_factories: int | None = Field(None, gt=0, le=1_000_000, description="Factories; default scales with workers.")
    workers_per_coach: int = Field(
        730, gt=0, le=1_000_000, description="One inter-provincial coach per this many workers of a county (2020: 1,000 for 730,000)."
    )
    workers_per_feeder: int = Field(
        2000, gt=0, le=1_000_000, description="One feeder bus per this many workers of a county (2020: 356 buses, 35 terminals)."
    )
    cache_dir: Path = Field(Path(".cache/synth"), description="Relative to the scenario file.")
    geodata_dir: Path = Field(Path("../geodata"), description="Relative to the scenario file.")


class Occupancy(_Strict):
    """Which seats may be sold, by the risk level of the destination (交运明电〔2020〕56号)."""

    low: OccupancyRule = Field("half_seats", description="Rule for trips to low-risk destinations.")
    medium: OccupancyRule = Field("half_seats", description="Rule for trips to medium-risk destinations.")
    high: OccupancyRule = Field("half_seats", description="Rule for trips to high-risk destinations.")
    low_relaxed_from: date | None = Field(
        None,
        description="From this day, trips to low-risk areas use low_relaxed_rule (28 Feb 2020 in practice).",
    )
    low_relaxed_rule: OccupancyRule = Field("all_seats", description="See low_relaxed_from.")
    coach_isolation_rows: int = Field(
        2, ge=0, le=30, description="Last rows of a coach kept empty (留观区); fewer than the rows of every coach type."
    )
    carriage_isolation_rows: int = Field(
        2, ge=0, le=30, description="Last rows of a carriage kept empty; fewer than the rows of every carriage type."
    )
    feeder_isolation_rows: int = Field(
        0, ge=0, le=30, description="Last rows of a feeder bus kept empty; fewer than the rows of every feeder type."
    )
    fever_threshold_c: float = Field(
        37.3, ge=35.0, le=42.0, description="Temperature at or above which a worker is taken off."
    )

    def rule_for(self, level: RiskLevel, day: date) -> OccupancyRule:
        """The occupancy rule for a destination at ``level`` on ``day``."""
        if level == "low":
            if self.low_relaxed_from is not None and day >= self.low_relaxed_from:
                return self.low_relaxed_rule
            return self.low
        if level == "medium":
            return self.medium
        return self.high


class Drivers(_Strict):
    """Driver working-time rules for coaches (long-distance passenger transport rules)."""

    max_continuous_day_h: float = Field(4.0, gt=0, le=24, description="Longest driving stretch by day.")
    max_continuous_night_h: float = Field(2.0, gt=0, le=24, description="Longest stretch touching the night.")
    night_start: time = Field(time(22, 0), description="Start of night driving (continuous limit 2 h).")
    night_end: time = Field(time(6, 0), description="End of night driving.")
    min_rest_min: int = Field(20, ge=0, le=MAX_MINUTES, description="Rest after a continuous driving stretch.")
    max_driving_per_24h_h: float = Field(8.0, gt=0, le=24, description="Per driver, any 24 h.")
    no_driving_start: time = Field(time(2, 0), description="Coaches stop (02:00-05:00).")
    no_driving_end: time = Field(time(5, 0), description="End of the night stop.")
    second_driver_km: float = Field(400.0, gt=0, le=5000, description="One-way trips beyond this need two drivers.")
    second_driver_km_expressway: float = Field(
        600.0, gt=0, le=5000, description="The limit on expressways (reported; trips use second_driver_km)."
    )
    expressway_share_for_higher_limit: float = Field(
        1.0, ge=0, le=1, description="Share of expressway at or above which the 600 km limit applies."
    )


class Fleet(_Strict):
    """How vehicles are used."""

    empty_return: bool = Field(True, description="A coach returns empty to its home county (车籍地).")
    turnaround_h: float = Field(
        8.0, ge=0, le=MAX_HOURS, description="Unloading, disinfection and the drivers' rest at the destination."
    )
    rest_after_return_h: float = Field(8.0, ge=0, le=MAX_HOURS, description="Drivers' rest before the coach leaves again.")
    coach_depart_time: time = Field(time(8, 0), description="Earliest departure of a hub charter.")
    latest_coach_depart_time: time = Field(time(18, 0), description="Latest departure of a charter.")
    direct_first_pickup_time: time = Field(time(7, 0), description="First pick-up of a township-direct coach.")
    pickup_dwell_min: int = Field(10, ge=0, le=240, description="Stop at each pick-up point.")
    max_pickup_stops: int = Field(6, ge=1, le=50, description="Pick-up points of one township-direct coach.")
    max_drop_factories: int = Field(3, ge=1, le=50, description="K: factories a coach may drop at.")
    drop_radius_km: float = Field(30.0, gt=0, le=1000, description="R: those factories lie within R km of each other.")
    drop_dwell_min: int = Field(20, ge=0, le=240, description="Time at each factory gate.")
    direct_min_fill: float = Field(
        1.0, gt=0, le=1, description="A township goes direct when it fills this share of a coach."
    )

    def boarding_window_minutes(self) -> tuple[int, int]:
        """The daily window [first, last] (minutes after local midnight) in which coach passengers board.

        From the earlier of ``coach_depart_time`` and ``direct_first_pickup_time`` to
        ``latest_coach_depart_time``: the checker's ``coach_boarding_outside_window`` and the
        throughput bound's day cycle read it here.
        """
        first = min(self.coach_depart_time, self.direct_first_pickup_time)
        last = self.latest_coach_depart_time
        return first.hour * 60 + first.minute, last.hour * 60 + last.minute


class Feeders(_Strict):
    """Feeder buses from villages to hubs."""

    max_ride_h: float = Field(2.0, gt=0, le=24, description="Longest feeder ride a worker may sit.")
    first_depart_time: time = Field(time(5, 30), description="Earliest feeder departure of a day.")
    dwell_min: int = Field(5, ge=0, le=240, description="Boarding time at a village.")


class Groups(_Strict):
    """Family groups (people who travel together)."""

    hold_if_member_ineligible: bool = Field(
        False,
        description="True: the whole group waits when one member cannot travel; "
        "False: the eligible members travel together.",
    )


class Hub(_Strict):
    """Hub operations."""

    transfer_min: int = Field(60, ge=0, le=MAX_MINUTES, description="Checks and temperature between two legs.")
    max_wait_min: int = Field(120, ge=0, le=1440, description="Longest wait at the hub between a feeder's arrival and its trunk vehicle's departure (minutes); the closed loop avoids crowds in waiting halls.")


class Travel(_Strict):
    """Travel times when no road network is given: great-circle x detour factor / speed."""

    detour_factor: float = Field(1.3, ge=1.0, le=5.0, description="Road km per great-circle km.")
    detour_factor_by_county: dict[str, DetourFactor] = Field(
        default_factory=dict, description="County code -> factor (mountain counties wind more)."
    )
    coach_speed_kmh: float = Field(75.0, gt=0, le=MAX_SPEED_KMH, description="Average coach speed while driving.")
    feeder_speed_kmh: float = Field(35.0, gt=0, le=MAX_SPEED_KMH, description="Feeder bus and in-county pick-up speed.")
    station_to_factory_speed_kmh: float = Field(40.0, gt=0, le=MAX_SPEED_KMH, description="Employer bus from the station.")

    def factor(self, county_code: str) -> float:
        """Detour factor for trips starting in ``county_code``."""
        return self.detour_factor_by_county.get(county_code, self.detour_factor)


class Roads(_Strict):
    """A road network for travel times (optional); without one, see [travel]."""

    network: Path | None = Field(
        None, description="OSM file (.osm, .osm.bz2, .osm.gz) or OSMnx .graphml, relative to the scenario file; "
        "feeder and coach times between places it covers come from its roads."
    )
    speeds_kmh: dict[str, SpeedKmh] = Field(
        default_factory=dict,
        description="Speed by OSM highway class over the defaults (motorway 90, trunk 70, primary 60, secondary 50, "
        "tertiary 40, unclassified/residential 30, track 15, other 25); 0 leaves a class out.",
    )
    max_snap_m: float = Field(
        1000.0, gt=0, le=100_000, description="A place inside the network's area farther than this from every road is unreachable."
    )
    cache_dir: Path = Field(Path(".cache/roads"), description="Travel tables cached by the network's checksum; relative to the scenario file.")


class ProofRule(_Strict):
    """One kind of health proof accepted by a receiving province, valid for some days."""

    certificate: ProofDays | None = Field(7, description="Days a 健康申报证明 is valid (0-366); omit to refuse it.")
    green_code: ProofDays | None = Field(7, description="Days a green health code is valid (0-366); omit to refuse it.")

    def valid_days(self, proof: str) -> int | None:
        """Days ``proof`` stays valid in this province, or None when it is not recognised."""
        if proof == "certificate":
            return self.certificate
        if proof == "green_code":
            return self.green_code
        return None


def _default_health() -> dict[str, ProofRule]:
    return {p: ProofRule() for p in RECEIVING_PROVINCES}


class Health(_Strict):
    """Which health proofs each receiving province recognises, and for how many days."""

    provinces: dict[str, ProofRule] = Field(
        default_factory=_default_health, description="Province (short name) -> proofs and days valid."
    )
    unknown_province: Literal["refuse", "accept"] = Field(
        "refuse", description="A destination province not listed above."
    )

    def valid_days(self, province: str, proof: str) -> int | None:
        """Days ``proof`` stays valid for a trip into ``province``; None when it is refused there.

        An unlisted province accepts any real proof for ten years when
        ``unknown_province`` is ``accept`` (in effect: no expiry).
        """
        rule = self.provinces.get(province)
        if rule is not None:
            return rule.valid_days(proof)
        if self.unknown_province == "accept" and proof in ("certificate", "green_code"):
            return 3650
        return None


class Costs(_Strict):
    """Money, for reporting; the objective is lexicographic (see docs/planner.md)."""

    coach_yuan_per_km: float = Field(6.0, ge=0, le=1000, description="Cost per coach-km (unknown in 2020).")
    subsidy_yuan_per_coach: float = Field(4000.0, ge=0, le=1_000_000, description="Subsidy per coach (Sichuan 3,000-6,000).")


class Solver(_Strict):
    """Solver settings."""

    time_limit_s: float = Field(10.0, gt=0, le=3600, description="Deterministic time limit for each CP-SAT packing model (at most 1 is used; about seconds).")
    cpsat_budget_per_county_s: float = Field(
        3.0, ge=0, le=86_400, description="Total CP-SAT deterministic time (about seconds) for one county; after it, the greedy packing alone (0 = no CP-SAT)."
    )
    seed: int = Field(1, ge=0, le=MAX_SEED, description="Seed of the CP-SAT search and of the feeder routing.")
    routing_engine: Literal["pyvrp", "ortools"] = Field(
        "pyvrp", description="Engine for the feeder runs (PyVRP measured better; see bench/RESULTS.md)."
    )
    feeder_iterations: int = Field(
        200, ge=1, le=1_000_000, description="Search iterations for each hub's feeder runs (fixed, so plans do not depend on machine speed)."
    )
    workers: int = Field(1, ge=1, le=256, description="Worker processes.")
    wait_for_fuller_coach: bool = Field(
        True, description="Hold a part-filled coach for later days when nobody on it is urgent."
    )
    favour_full_coaches: bool = Field(
        True, description="On a day with more coach loads than free coaches, full coaches go first (most urgent first), part-filled ones get the coaches left; off: most urgent first whatever the load."
    )


class Scenario(_Strict):
    """A whole scenario. Load with :func:`load_scenario`."""

    name: str = Field(description="Shown on every document.")
    description: str = Field("", description="Free text.")
    timezone: Literal["Asia/Shanghai"] = Field("Asia/Shanghai", description="All times are local.")
    window: Window
    data: DataFiles
    synth: Synth | None = None
    occupancy: Occupancy = Occupancy()
    drivers: Drivers = Drivers()
    fleet: Fleet = Fleet()
    feeders: Feeders = Feeders()
    groups: Groups = Groups()
    hub: Hub = Hub()
    travel: Travel = Travel()
    roads: Roads = Roads()
    health: Health = Health()
    costs: Costs = Costs()
    solver: Solver = Solver()

    # Filled by load_scenario, not by the file.
    source_path: Path | None = Field(None, exclude=True)
    checksum: str | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _workers_known(self) -> Scenario:
        missing = [
            k for k in ("workers", "factories", "fleet") if getattr(self.data, k) is None
        ]
        if missing and self.synth is None:
            msg = f"data.{missing[0]} is missing and there is no [synth] section to generate it"
            raise ValueError(msg)
        return self

    @property
    def base_dir(self) -> Path:
        """Folder the scenario's relative paths are resolved against."""
        return self.source_path.parent if self.source_path else Path.cwd()

    def resolve(self, path: Path) -> Path:
        """Resolve a path from the scenario file against its folder."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    def file_specs(self) -> dict[str, FileSpec]:
        """Every data file of the scenario with an absolute path.

        Tables left out of ``[data]`` come from the ``[synth]`` cache folder
        (``workers.csv``, ``factories.csv``, ``fleet.csv``, ``train_services.csv``,
        ``risk_calendar.csv``); those files may not exist until generated.
        """
        specs: dict[str, FileSpec] = {}
        for name in DataFiles.model_fields:
            spec = getattr(self.data, name)
            if spec is not None:
                specs[name] = spec.model_copy(update={"path": self.resolve(spec.path)})
            elif self.synth is not None and name in SYNTH_TABLES:
                specs[name] = FileSpec(path=self.synth_dir() / f"{name}.csv")
        return specs

    def synth_dir(self) -> Path:
        """Folder of the generated data files for this scenario's [synth] section.

        The folder name carries a digest of every generation input (the [synth]
        keys, the window, the generator's version), so changing any of them
        generates afresh instead of reusing stale files.
        """
        assert self.synth is not None
        from planner.synth import SYNTH_VERSION

        s = self.synth
        key = json.dumps(
            {"synth": s.model_dump(mode="json", exclude={"cache_dir", "geodata_dir"}),
             "window": [self.window.start.isoformat(), self.window.end.isoformat()], "version": SYNTH_VERSION},
            sort_keys=True,
        )
        digest = hashlib.sha256(key.encode()).hexdigest()[:10]
        return self.resolve(s.cache_dir) / f"seed{s.seed}-n{s.total_workers}-{digest}"


def data_paths(sc: Scenario) -> list[tuple[str, Path]]:
    """Every path key of the scenario that is read or written, as ``(key, path as written)``.

    The [data] files, the [roads] network and its cache folder (when a network
    is set), the [synth] geodata and cache folders (when there is a [synth]
    section). Keys are spelt as in the file (``data.workers``).
    """
    out: list[tuple[str, Path]] = []
    for name in DataFiles.model_fields:
        spec = getattr(sc.data, name)
        if spec is not None:
            out.append((f"data.{name}", spec.path))
    if sc.roads.network is not None:
        out += [("roads.network", sc.roads.network), ("roads.cache_dir", sc.roads.cache_dir)]
    if sc.synth is not None:
        out += [("synth.geodata_dir", sc.synth.geodata_dir), ("synth.cache_dir", sc.synth.cache_dir)]
    return out


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def confine_paths(sc: Scenario, data_root: str | Path | Sequence[str | Path]) -> None:
    """Refuse a scenario whose data paths leave the allowed folders (``data_root``: one or several).

    Each path of :func:`data_paths` is resolved against the scenario's folder
    and through every symbolic link (``os.path.realpath``), then must lie in
    one of the roots (a folder, or a single allowed file), themselves resolved
    the same way. So an absolute path elsewhere, ``../..`` climbing out, or a
    link inside the folder pointing outside are all refused.

    Raises
    ------
    ScenarioError
        Naming the scenario file (its name only, no server path), the key and
        the value as written, in Chinese; every offending key is listed.
    """
    roots = [data_root] if isinstance(data_root, (str, Path)) else list(data_root)
    real_roots = [os.path.realpath(Path(r).expanduser()) for r in roots]
    bad = []
    for key, raw in data_paths(sc):
        real = os.path.realpath(sc.base_dir / Path(raw).expanduser())
        if not any(_inside(real, r) for r in real_roots):
            bad.append(f"  {key} = {json.dumps(str(raw), ensure_ascii=False)}")
    if bad:
        name = sc.source_path.name if sc.source_path else "情景文件"
        msg = (f"{name}: 数据路径超出允许的文件夹（只能使用情景文件所在文件夹中的文件，或随程序提供的地理数据；"
               "不得使用绝对路径、“..” 或指向外部的符号链接）(data path outside the allowed folders):\n"
               + "\n".join(bad))
        raise ScenarioError(msg)


def _format_validation_error(path: Path, err: ValidationError) -> str:
    lines = [f"{path}: 情景文件有 {err.error_count()} 处错误 (scenario file has errors):"]
    for e in err.errors():
        loc = ".".join(str(x) for x in e["loc"]) or "(top level)"
        if e["type"] == "extra_forbidden":
            lines.append(f"  {loc}: 未知的键 (unknown key)")
        elif e["type"] == "missing":
            lines.append(f"  {loc}: 缺少必填项 (required key missing)")
        else:
            lines.append(f"  {loc}: {e['msg']} (got {e.get('input')!r})")
    return "\n".join(lines)


def load_scenario(path: str | Path, *, data_root: str | Path | Sequence[str | Path] | None = None) -> Scenario:
    """Read and validate a scenario TOML file.

    With ``data_root`` (a folder, or several folders and files) every data path
    of the scenario must resolve inside it (:func:`confine_paths`): for
    scenarios that come from someone else (an upload, ``--data-root``).

    Raises
    ------
    ScenarioError
        When the file is missing, is not TOML, or breaks the schema; the message
        lists every problem with its key path. With ``data_root``, also when a
        data path leaves it.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        msg = f"{p}: 找不到情景文件 (scenario file not found)"
        raise ScenarioError(msg) from None
    except OSError as exc:
        msg = f"{p}: 无法读取情景文件 (cannot read scenario file): {exc.strerror}"
        raise ScenarioError(msg) from None
    try:
        doc = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        msg = f"{p}: 情景文件须为 UTF-8 编码 (scenario file must be UTF-8)"
        raise ScenarioError(msg) from None
    except tomllib.TOMLDecodeError as exc:
        msg = f"{p}: TOML 语法错误 (TOML syntax error): {exc}"
        raise ScenarioError(msg) from None
    try:
        sc = Scenario.model_validate(doc)
    except ValidationError as exc:
        raise ScenarioError(_format_validation_error(p, exc)) from None
    sc = sc.model_copy(
        update={"source_path": p.resolve(), "checksum": hashlib.sha256(raw).hexdigest()[:16]}
    )
    if data_root is not None:
        confine_paths(sc, data_root)
    return sc
