"""Problem data: the validated tables turned into what the solver needs.

Built once from a :class:`planner.validate.ValidationResult`; the solver never
reads files. Here live the per-worker facts that do not depend on the plan:
eligibility, the first and last day each travelling unit may leave, the
destination risk level per day, and coach travel times per county and factory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from planner.rules.seats import SeatLayout, seats_allowed
from planner.scenario import Scenario
from planner.travel import TravelTimes, build_travel, scenario_places
from planner.vocab import CLOSED_RANK, RISK_LEVELS, RISK_RANK

TZ = ZoneInfo("Asia/Shanghai")
LEVELS = RISK_LEVELS  # planner/vocab.py
LEVEL_RANK = RISK_RANK
CLOSED = CLOSED_RANK
EXTRA_DAYS = 7  # risk levels are looked up a few days past the window for arrivals


def as_date(value: object) -> date | None:
    """Normalise a date cell (date, datetime, Timestamp, ISO string, NaT) to a date."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        return date.fromisoformat(value) if value else None
    if pd.isna(value):
        return None
    msg = f"not a date: {value!r}"
    raise TypeError(msg)


def day_offsets(values: pd.Series, start: date, *, missing: int = -10_000) -> np.ndarray:
    """Whole days from ``start`` for a column of dates (vectorised); ``missing`` for blanks.

    A datetime column is subtracted as it is; any other column (dates, text) is
    converted once per distinct value (a register has a few dozen dates for
    hundreds of thousands of rows), the same conversion as on the whole column.
    """
    origin = pd.Timestamp(start)
    if pd.api.types.is_datetime64_dtype(values.dtype):
        off = (values - origin).dt.days
        return off.fillna(missing).astype(np.int64).to_numpy()
    codes, uniques = pd.factorize(values.astype(object).where(values.notna(), None), use_na_sentinel=True)
    ts = pd.to_datetime(pd.Series(np.asarray(uniques, dtype=object), dtype=object), errors="coerce")
    per_value = (ts - origin).dt.days.fillna(missing).astype(np.int64).to_numpy()
    per_value = np.append(per_value, np.int64(missing))  # code -1 (blank) takes the last entry
    return per_value[codes]


def at(day: date, clock: object) -> datetime:
    """A timezone-aware datetime on ``day`` at the ``time`` ``clock``."""
    return datetime.combine(day, clock, tzinfo=TZ)  # type: ignore[arg-type]


@dataclass
class ProblemData:
    """Everything the solver reads, already checked and typed."""

    sc: Scenario
    workers: pd.DataFrame
    villages: pd.DataFrame
    hubs: pd.DataFrame
    factories: pd.DataFrame
    stations: pd.DataFrame
    layouts: dict[str, SeatLayout]
    vehicle_modes: dict[str, str]
    fleet: pd.DataFrame
    services: pd.DataFrame
    risk: pd.DataFrame
    days: list[date] = field(default_factory=list)
    travel: TravelTimes | None = None  # km and minutes between places (planner.travel)
    locked: object | None = None  # replan: planner.solve.locked.LockedInput (trips kept from the base plan)

    # ------------------------------------------------------------------ risk
    def level_matrix(self, county_codes: pd.Series) -> np.ndarray:
        """Risk rank (0 low .. 3 closed) per place and day (window + EXTRA_DAYS)."""
        n_days = len(self.days) + EXTRA_DAYS
        out = np.zeros((len(county_codes), n_days), dtype=np.int8)
        codes = county_codes.astype(str).to_numpy()
        start = self.days[0]
        for rec in self.risk.itertuples(index=False):
            prefix = str(rec.region_code)
            hit = np.char.startswith(codes.astype("U6"), prefix)
            if not hit.any():
                continue
            a = max(0, (as_date(getattr(rec, "from_")) - start).days)
            b = min(n_days - 1, (as_date(rec.to) - start).days)
            if b < a:
                continue
            rank = LEVEL_RANK[str(rec.level)]
            block = out[hit, a : b + 1]
            out[hit, a : b + 1] = np.maximum(block, rank)
        return out

    def day_index(self, d: date) -> int:
        """Offset of ``d`` from the first day of the window."""
        return (d - self.days[0]).days

    # ------------------------------------------------------------- vehicles
    def seats_for(self, type_id: str, rule: str) -> int:
        """Seats a vehicle type may sell under ``rule`` (isolation rows excluded)."""
        oc = self.sc.occupancy
        mode = self.vehicle_modes[type_id]
        iso = {
            "coach": oc.coach_isolation_rows,
            "feeder": oc.feeder_isolation_rows,
            "train_carriage": oc.carriage_isolation_rows,
        }[mode]
        return seats_allowed(self.layouts[type_id], rule, iso)

    def isolation_rows(self, type_id: str) -> int:
        """Rows kept empty at the back of this vehicle type."""
        oc = self.sc.occupancy
        return {
            "coach": oc.coach_isolation_rows,
            "feeder": oc.feeder_isolation_rows,
            "train_carriage": oc.carriage_isolation_rows,
        }[self.vehicle_modes[type_id]]


def build_problem(sc: Scenario, tables: dict[str, pd.DataFrame]) -> ProblemData:
    """Assemble :class:`ProblemData` from validated tables (see planner.validate)."""
    vt = tables["vehicle_types"]
    layouts = {str(r["type_id"]): SeatLayout.from_row(r) for _, r in vt.iterrows()}
    modes = {str(r["type_id"]): str(r["mode"]) for _, r in vt.iterrows()}
    risk = tables.get("risk_calendar")
    if risk is None:
        risk = pd.DataFrame(columns=["region_code", "from", "to", "level"])
    risk = risk.rename(columns={"from": "from_"})
    services = tables.get("train_services")
    if services is None:
        services = pd.DataFrame(
            columns=[
                "service_id", "date", "depart_time", "origin_station_id",
                "destination_station_id", "carriages", "carriage_type", "travel_hours",
            ]
        )
    stations = tables.get("stations")
    if stations is None:
        stations = pd.DataFrame(columns=["station_id", "name", "province", "city", "lon", "lat"])
    factories = tables["factories"].copy()
    if "county_code" not in factories.columns:
        factories["county_code"] = ""
    factories["county_code"] = factories["county_code"].fillna("").astype(str)
    if "arrival_station_id" not in factories.columns:
        factories["arrival_station_id"] = ""
    factories["arrival_station_id"] = factories["arrival_station_id"].fillna("").astype(str)
    stations = stations.copy()
    if "county_code" not in stations.columns:
        stations["county_code"] = ""
    stations["county_code"] = stations["county_code"].fillna("").astype(str)
    places = scenario_places(tables["villages"], tables["hubs"], stations, factories,
                             tables["workers"]["village_code"].astype(str).unique())
    return ProblemData(
        travel=build_travel(sc, places),
        sc=sc,
        workers=tables["workers"].reset_index(drop=True),
        villages=tables["villages"].set_index("village_code", drop=False).rename_axis(None),
        hubs=tables["hubs"].set_index("hub_id", drop=False).rename_axis(None),
        factories=factories.set_index("factory_id", drop=False).rename_axis(None),
        stations=stations.set_index("station_id", drop=False).rename_axis(None),
        layouts=layouts,
        vehicle_modes=modes,
        fleet=tables["fleet"],
        services=services,
        risk=risk,
        days=sc.window.days,
    )


# ---------------------------------------------------------------- eligibility
@dataclass
class Units:
    """Travelling units: a family group or a single worker, who ride together.

    ``members[i]`` are row positions in ``ProblemData.workers``.
    """

    frame: pd.DataFrame  # one row per unit
    members: list[np.ndarray]


def worker_eligibility(p: ProblemData) -> pd.DataFrame:
    """Per worker: reason it cannot travel (or ""), earliest day, proof expiry day.

    A worker travels when the job is confirmed and the destination province
    recognises the health proof held, valid from ``proof_date`` for the number of
    days the scenario gives (valid on day d when proof_date <= d <= proof_date +
    days - 1). Days are offsets from the window start.
    """
    w = p.workers
    sc = p.sc
    start = p.days[0]
    # per distinct factory and proof kind (a register has ~1,000 factories and two kinds for
    # hundreds of thousands of rows); code -1 (blank) takes the last entry, as an unknown value would
    fac_code, fac_ids = pd.factorize(w["factory_id"], use_na_sentinel=True)
    factories = pd.Series([*fac_ids, None], dtype=object)
    province = factories.map(p.factories["province"]).astype(str).to_numpy()
    kind_code, kinds = pd.factorize(w["health_proof"].astype(str), use_na_sentinel=True)
    valid_of = np.full((len(factories), len(kinds) + 1), -1, dtype=np.int64)
    for k, kind in enumerate(kinds):
        if kind not in ("certificate", "green_code"):
            continue
        for f, prov in enumerate(province):
            days = sc.health.valid_days(prov, kind)
            if days is not None:
                valid_of[f, k] = days
    valid_days = valid_of[fac_code, kind_code]
    ready = day_offsets(w["ready_date"], start)
    proof_day = day_offsets(w["proof_date"], start, missing=-10_000)
    earliest = np.maximum(np.maximum(ready, 0), proof_day)
    if p.locked is not None:  # replan (planner/solve/locked.py): nothing leaves before the day after the lock
        earliest = p.locked.earliest(earliest, start)
    expiry = np.where(valid_days > 0, proof_day + valid_days - 1, -1)
    needed = day_offsets(factories.map(p.factories["needed_by"]), start)[fac_code]
    job = w["job_confirmed"].astype(bool).to_numpy()
    last_window = len(p.days) - 1
    # the first reason that applies, in this order
    tests = [("job_not_confirmed", ~job), ("no_recognised_health_proof", valid_days <= 0),
             ("ready_after_needed_by", earliest > needed), ("ready_after_window", earliest > last_window),
             ("health_proof_expired", earliest > expiry)]
    if p.travel is not None and p.travel.unreachable:
        tests.append(("no_road_to_village", w["village_code"].astype(str).isin(p.travel.unreachable).to_numpy()))
    code = np.zeros(len(w), dtype=np.int8)
    for i, (_name, hit) in enumerate(tests, start=1):
        code[(code == 0) & hit] = i
    reason = np.array(["", *(name for name, _hit in tests)], dtype=object)[code]
    if p.locked is not None:  # replan: people on locked trips stay there; a fever needs a newer proof
        p.locked.hold(w, reason, start)
    return pd.DataFrame(
        {"reason": reason, "earliest": earliest, "expiry": expiry, "needed": needed}
    )


def build_units(p: ProblemData, elig: pd.DataFrame) -> tuple[Units, pd.Series]:
    """Group eligible workers into travelling units; return units and final reasons.

    Family members (same ``group_id``, village and factory) form one unit. With
    ``groups.hold_if_member_ineligible`` a group with an ineligible member stays
    home entirely (reason ``group_member_ineligible`` for the eligible ones).
    """
    w = p.workers
    reason = elig["reason"].copy()
    gid = w["group_id"].fillna("").astype(str) if "group_id" in w.columns else pd.Series("", index=w.index)
    key = np.where(
        gid.to_numpy() != "",
        "G:" + gid + "|" + w["village_code"].astype(str) + "|" + w["factory_id"].astype(str),
        "W:" + pd.Series(np.arange(len(w)), index=w.index).astype(str),
    )
    key = pd.Series(key, index=w.index)
    if p.sc.groups.hold_if_member_ineligible:
        # replan: a member already travelling on a locked trip does not hold the others back
        bad_keys = set(key[(reason != "") & (reason != "locked_in_base") & key.str.startswith("G:")])
        hold = key.isin(bad_keys) & (reason == "")
        reason[hold] = "group_member_ineligible"
    ok = reason == ""
    sub = pd.DataFrame(
        {
            "key": key[ok],
            "pos": np.flatnonzero(ok.to_numpy()),
            "earliest": elig["earliest"][ok],
            "expiry": elig["expiry"][ok],
            "needed": elig["needed"][ok],
        }
    )
    codes, _ = pd.factorize(sub["key"], sort=False)
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    cuts = np.flatnonzero(np.diff(sorted_codes)) + 1
    # np.split of an empty array gives one empty piece: no eligible worker, no unit
    members = np.split(sub["pos"].to_numpy()[order], cuts) if len(sub) else []
    frame = (
        pd.DataFrame({"code": codes, "earliest": sub["earliest"].to_numpy(), "expiry": sub["expiry"].to_numpy(),
                      "needed": sub["needed"].to_numpy(), "first": sub["pos"].to_numpy()})
        .groupby("code", sort=True)
        .agg(earliest=("earliest", "max"), expiry=("expiry", "min"), needed=("needed", "min"), first=("first", "min"))
        .reset_index(drop=True)
    )
    first = frame["first"].to_numpy()
    frame["size"] = [len(m) for m in members]
    frame["village_code"] = w["village_code"].to_numpy()[first].astype(str)
    frame["township_code"] = w["township_code"].to_numpy()[first].astype(str)
    frame["county_code"] = w["county_code"].to_numpy()[first].astype(str)
    frame["factory_id"] = w["factory_id"].to_numpy()[first].astype(str)
    # a group whose members' windows do not meet cannot leave together
    clash = frame["earliest"] > frame["expiry"]
    for i in np.flatnonzero(clash.to_numpy()):
        reason.iloc[members[i]] = "health_proof_expired"
    keep = ~clash.to_numpy()
    frame = frame[keep].reset_index(drop=True)
    members = [m for m, k in zip(members, keep) if k]
    return Units(frame=frame, members=members), reason


def days_between(a: date, b: date) -> int:
    """Whole days from ``a`` to ``b``."""
    return (b - a).days


def add_days(d: date, n: int) -> date:
    """``d`` plus ``n`` days."""
    return d + timedelta(days=n)
