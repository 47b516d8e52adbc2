"""What the checker knows about the scenario: places, vehicle layouts, risk levels.

Built from the validated scenario tables only; shares nothing with the solver.
Dates in the tables may be ``datetime.date`` objects, strings or datetime64;
they are normalised to datetime64 (midnight) here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from planner.rules.seats import SeatLayout
from planner.scenario import Scenario
from planner.travel import TravelTimes, build_travel, scenario_places
from planner.vocab import CLOSED_RANK, RISK_LEVELS

LEVELS = RISK_LEVELS
CLOSED = CLOSED_RANK
TRUE = {"true", "1", "yes", "y", "t", "是", "确认", "已确认"}


def to_day(s: pd.Series) -> pd.Series:
    """Any date-like column as datetime64 at midnight (NaT for missing)."""
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        s = s.dt.tz_localize(None)
    out = pd.to_datetime(s.where(s.notna() & (s.astype(str) != ""), None), errors="coerce")
    return out.dt.normalize()


def to_bool(s: pd.Series) -> pd.Series:
    """true/false, 1/0, 是/否 and real booleans as bool."""
    if s.dtype == bool:
        return s
    return s.map(lambda v: bool(v) if isinstance(v, bool | np.bool_) else str(v).strip().lower() in TRUE)


def _str(df: pd.DataFrame, col: str) -> pd.Series:
    if col not in df.columns:
        return pd.Series("", index=df.index, dtype=object)
    return df[col].astype(object).where(df[col].notna(), "").astype(str)


@dataclass
class CheckContext:
    """Scenario facts the rules look up, as indexed frames."""

    sc: Scenario
    tables: dict[str, pd.DataFrame]
    rejected_rows: set[int]
    workers: pd.DataFrame = field(default_factory=pd.DataFrame)
    factories: pd.DataFrame = field(default_factory=pd.DataFrame)
    hubs: pd.DataFrame = field(default_factory=pd.DataFrame)
    places: pd.DataFrame = field(default_factory=pd.DataFrame)
    vehicle_types: pd.DataFrame = field(default_factory=pd.DataFrame)
    layouts: dict[str, SeatLayout] = field(default_factory=dict)
    fleet: pd.DataFrame = field(default_factory=pd.DataFrame)
    services: pd.DataFrame = field(default_factory=pd.DataFrame)
    risk: pd.DataFrame = field(default_factory=pd.DataFrame)
    travel: TravelTimes | None = None

    @classmethod
    def build(cls, sc: Scenario, tables: dict[str, pd.DataFrame], rejected_rows: set[int]) -> CheckContext:
        """Index and normalise the tables."""
        ctx = cls(sc, tables, {int(r) for r in rejected_rows})
        w = tables["workers"].copy()
        w["worker_id"] = _str(w, "worker_id")
        w["village_code"] = _str(w, "village_code")
        w["factory_id"] = _str(w, "factory_id")
        w["group_id"] = _str(w, "group_id")
        w["health_proof"] = _str(w, "health_proof")
        w["_row"] = w["_row"].astype(np.int64)
        for c in ("ready_date", "proof_date"):
            w[c] = to_day(w[c]) if c in w.columns else pd.NaT
        w["job_confirmed"] = to_bool(w["job_confirmed"]) if "job_confirmed" in w.columns else True
        ctx.workers = w.reset_index(drop=True)

        f = tables["factories"].copy()
        f["factory_id"] = _str(f, "factory_id")
        f["province"] = _str(f, "province")
        f["county_code"] = _str(f, "county_code")
        f["arrival_station_id"] = _str(f, "arrival_station_id")
        f["needed_by"] = to_day(f["needed_by"])
        ctx.factories = f.drop_duplicates("factory_id").set_index("factory_id")

        h = tables["hubs"].copy()
        h["hub_id"] = _str(h, "hub_id")
        h["county_code"] = _str(h, "county_code")
        ctx.hubs = h.drop_duplicates("hub_id").set_index("hub_id")

        parts = []
        v = tables.get("villages")
        if v is not None and len(v):
            code = _str(v, "village_code")
            cc = _str(v, "county_code").where(_str(v, "county_code") != "", code.str[:6])
            parts.append(pd.DataFrame({"place_id": code, "kind": "village", "county_code": cc,
                                       "lon": v["lon"].astype(float), "lat": v["lat"].astype(float)}))
        parts.append(pd.DataFrame({"place_id": ctx.hubs.index, "kind": "hub",
                                   "county_code": ctx.hubs["county_code"].to_numpy(),
                                   "lon": ctx.hubs["lon"].astype(float).to_numpy(),
                                   "lat": ctx.hubs["lat"].astype(float).to_numpy()}))
        parts.append(pd.DataFrame({"place_id": ctx.factories.index, "kind": "factory",
                                   "county_code": ctx.factories["county_code"].to_numpy(),
                                   "lon": ctx.factories["lon"].astype(float).to_numpy(),
                                   "lat": ctx.factories["lat"].astype(float).to_numpy()}))
        st = tables.get("stations")
        if st is not None and len(st):
            parts.append(pd.DataFrame({"place_id": _str(st, "station_id"), "kind": "station",
                                       "county_code": _str(st, "county_code"),
                                       "lon": st["lon"].astype(float), "lat": st["lat"].astype(float)}))
        ctx.places = pd.concat(parts, ignore_index=True).drop_duplicates("place_id").set_index("place_id")
        # the same places as the solver's, so both read the same road tables
        stations = st if st is not None else pd.DataFrame(columns=["station_id", "lon", "lat"])
        ctx.travel = build_travel(sc, scenario_places(tables["villages"], tables["hubs"], stations,
                                                      tables["factories"], w["village_code"].unique()))

        vt = tables["vehicle_types"].copy()
        vt["type_id"] = _str(vt, "type_id")
        vt["mode"] = _str(vt, "mode")
        ctx.vehicle_types = vt.drop_duplicates("type_id").set_index("type_id")
        ctx.layouts = {tid: SeatLayout.from_row(r) for tid, r in vt.drop_duplicates("type_id").set_index("type_id", drop=False).iterrows()}

        fl = tables["fleet"].copy()
        fl["county_code"] = _str(fl, "county_code")
        fl["type_id"] = _str(fl, "type_id")
        fl["count"] = fl["count"].astype(np.int64)
        ctx.fleet = fl.groupby(["county_code", "type_id"], as_index=False)["count"].sum()

        svc = tables.get("train_services")
        if svc is not None and len(svc):
            s = svc.copy()
            s["service_id"] = _str(s, "service_id")
            hhmm = _str(s, "depart_time").str.slice(0, 5).str.split(":", expand=True)
            s["depart"] = to_day(s["date"]) + pd.to_timedelta(hhmm[0].astype(int), unit="h") + pd.to_timedelta(
                hhmm[1].astype(int), unit="m")
            s["arrive"] = s["depart"] + pd.to_timedelta(s["travel_hours"].astype(float), unit="h")
            for c in ("origin_station_id", "destination_station_id", "carriage_type"):
                s[c] = _str(s, c)
            ctx.services = s.drop_duplicates("service_id").set_index("service_id")
        else:
            ctx.services = pd.DataFrame(columns=["depart", "arrive", "origin_station_id", "destination_station_id",
                                                 "carriage_type", "carriages"])

        rk = tables.get("risk_calendar")
        if rk is not None and len(rk):
            ctx.risk = pd.DataFrame({"region_code": _str(rk, "region_code").to_numpy(),
                                     "from": to_day(rk["from"]).to_numpy(), "to": to_day(rk["to"]).to_numpy(),
                                     "rank": rk["level"].astype(str).map(LEVELS.index).to_numpy()})
        else:
            ctx.risk = pd.DataFrame({"region_code": [], "from": pd.Series(dtype="datetime64[ns]"),
                                     "to": pd.Series(dtype="datetime64[ns]"), "rank": []})
        return ctx

    # ----------------------------------------------------------------- lookups
    def levels(self, county_codes: pd.Series, days: pd.Series) -> np.ndarray:
        """Strictest risk rank (0 low .. 3 closed) in force at each county code on each day.

        A calendar region code of 2, 4 or 6 digits matches every county code starting with it.
        """
        codes = np.asarray(county_codes.astype(str))
        d = np.asarray(pd.to_datetime(days).dt.normalize(), dtype="datetime64[ns]")
        out = np.zeros(len(codes), dtype=np.int64)
        if self.risk.empty or not len(codes):
            return out
        uniq, inv = np.unique(codes, return_inverse=True)
        for region, a, b, rank in self.risk.itertuples(index=False):
            hit_code = np.char.startswith(uniq.astype(str), str(region))[inv]
            m = hit_code & (d >= np.datetime64(a)) & (d <= np.datetime64(b))
            out[m] = np.maximum(out[m], int(rank))
        return out

    def place_county(self, place_ids: pd.Series) -> pd.Series:
        """County code of each place ('' when unknown); villages fall back to their first 6 digits."""
        cc = place_ids.map(self.places["county_code"])
        is_code = place_ids.str.fullmatch(r"\d{12}")
        cc = cc.where(cc.notna(), place_ids.str.slice(0, 6).where(is_code, ""))
        return cc.fillna("").astype(str)

    def mode_of_type(self, type_ids: pd.Series) -> pd.Series:
        """coach / feeder / train_carriage ('' when unknown)."""
        return type_ids.map(self.vehicle_types["mode"]).fillna("").astype(str)

    def isolation_rows_of_mode(self, trip_mode: str) -> int:
        """Rows kept empty in vehicles of a trip mode (coach, feeder, train)."""
        oc = self.sc.occupancy
        return {"coach": oc.coach_isolation_rows, "feeder": oc.feeder_isolation_rows,
                "train": oc.carriage_isolation_rows}.get(trip_mode, 0)
