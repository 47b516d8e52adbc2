"""A tiny, fully legal plan for a tiny scenario, built by hand for the checker's tests.

One county (万州 500101), a terminal ``T500101`` and a railway station ``R-WZB``,
two factories near 东莞 and the station ``S-DG``. Ten workers travel on
2020-02-16: six by feeder + hub coach to both factories (one family among
them), two on a township-direct coach, two by feeder + chartered carriage of
train ``S1``; two are unassigned (job not confirmed, no health proof) and one
input row was rejected. Coach timings come from a minute-by-minute driving
simulation that obeys the driver rules, so every rule holds with little slack.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from planner.check.plan_files import PlanFiles, type_table
from planner.plan_format import REQUIRED_FILES, file_manifest
from planner.rules.geo import haversine_km
from planner.rules.seats import SeatLayout, allowed_seats
from planner.scenario import Scenario

COUNTY = "500101"
DAY = date(2020, 2, 16)
KM_PER_MIN = 1.2  # 72 km/h, below the scenario's 75 km/h
V1, V2, V3 = "500101105201", "500101105202", "500101106201"

VEHICLE_TYPES = pd.DataFrame(
    [("C53", "coach", "53座大巴", 13, 4, 2, 5, 53), ("F35", "feeder", "35座接驳车", 9, 4, 2, 3, 35),
     ("YZ25", "train_carriage", "YZ25硬座车", 24, 5, 3, 3, 118)],
    columns=["type_id", "mode", "name", "rows", "seats_per_row", "aisle_after", "last_row_seats", "rated_seats"],
)
POS = {V1: (108.42, 30.85), V2: (108.35, 30.85), V3: (108.30, 30.75), "T500101": (108.38, 30.81),
       "R-WZB": (108.42, 30.77), "F0001": (113.75, 22.95), "F0002": (113.68, 22.80), "S-DG": (113.74, 23.02)}


def scenario(**overrides) -> Scenario:
    """The scenario: 2020 defaults, data paths are placeholders (tables are built in memory)."""
    doc = {
        "name": "校验器测试情景",
        "window": {"start": date(2020, 2, 14), "end": date(2020, 3, 15)},
        "data": {"villages": "v.csv", "hubs": "h.csv", "counties": "c.geojson", "vehicle_types": "vt.csv",
                 "workers": "w.csv", "factories": "f.csv", "fleet": "fl.csv"},
    }
    doc.update(overrides)
    return Scenario.model_validate(doc)


def tables() -> dict[str, pd.DataFrame]:
    """Validated-looking scenario tables (the shape validate_scenario returns)."""
    vill = pd.DataFrame({"village_code": [V1, V2, V3], "village_name": ["龙驹村", "凉水村", "长岭村"],
                         "township_code": [V1[:9], V2[:9], V3[:9]], "county_code": COUNTY,
                         "lon": [POS[v][0] for v in (V1, V2, V3)], "lat": [POS[v][1] for v in (V1, V2, V3)],
                         "_row": [2, 3, 4]})
    hubs = pd.DataFrame([("T500101", "万州区汽车客运站", "terminal", COUNTY, *POS["T500101"], 1500, 2),
                         ("R-WZB", "万州北站", "rail_station", COUNTY, *POS["R-WZB"], 1500, 3)],
                        columns=["hub_id", "name", "kind", "county_code", "lon", "lat", "daily_capacity_people", "_row"])
    fac = pd.DataFrame([("F0001", "东莞示例电子厂", "广东", "东莞市", "441900", *POS["F0001"], date(2020, 3, 1), "S-DG", 2),
                        ("F0002", "东莞示例五金厂", "广东", "东莞市", "441900", *POS["F0002"], date(2020, 3, 1), "S-DG", 3)],
                       columns=["factory_id", "name", "province", "city", "county_code", "lon", "lat", "needed_by",
                                "arrival_station_id", "_row"])
    stations = pd.DataFrame([("S-DG", "东莞站", "广东", "东莞", "441900", *POS["S-DG"], 2)],
                            columns=["station_id", "name", "province", "city", "county_code", "lon", "lat", "_row"])
    w = []
    plan = [(V1, "F0001", "G1"), (V1, "F0001", "G1"), (V1, "F0001", ""), (V1, "F0001", ""),
            (V2, "F0002", ""), (V2, "F0002", ""), (V3, "F0001", ""), (V3, "F0001", ""),
            (V1, "F0002", ""), (V1, "F0002", ""), (V2, "F0001", ""), (V2, "F0002", "")]
    for i, (v, f, g) in enumerate(plan):
        w.append({"worker_id": f"W{i + 1:02d}", "name": "张某华", "id_number": "50010119800101901X",
                  "phone": f"199000000{i:02d}", "village_code": v, "factory_id": f, "ready_date": date(2020, 2, 15),
                  "health_proof": "certificate", "proof_date": date(2020, 2, 15), "job_confirmed": True,
                  "group_id": g, "_row": i + 2, "township_code": v[:9], "county_code": v[:6]})
    w[10]["job_confirmed"] = False
    w[11]["health_proof"] = "none"
    w[11]["proof_date"] = None
    workers = pd.DataFrame(w)
    fleet = pd.DataFrame([(COUNTY, "C53", 2), (COUNTY, "F35", 1)], columns=["county_code", "type_id", "count"])
    services = pd.DataFrame([{"service_id": "S1", "date": DAY, "depart_time": "10:00", "origin_station_id": "R-WZB",
                              "destination_station_id": "S-DG", "carriages": 1, "carriage_type": "YZ25",
                              "travel_hours": 14.0}])
    risk = pd.DataFrame([("4403", date(2020, 2, 14), date(2020, 2, 20), "medium")],
                        columns=["region_code", "from", "to", "level"])
    return {"villages": vill, "hubs": hubs, "factories": fac, "workers": workers, "fleet": fleet,
            "vehicle_types": VEHICLE_TYPES.copy(), "train_services": services, "risk_calendar": risk,
            "stations": stations}


REJECTED_ROW = 14


def road_km(a: str, b: str, factor: float = 1.3) -> float:
    """Great-circle km between two places times the detour factor."""
    return float(haversine_km(*POS[a], *POS[b])) * factor


# ---------------------------------------------------------------- coach timing
def _in(minute_of_day: int, start: int, end: int) -> bool:
    return start <= minute_of_day < end if start <= end else (minute_of_day >= start or minute_of_day < end)


def drive(start: datetime, origin: str, origin_kind: str, route: list[tuple[str, str, float, int]], drivers: int,
          sc: Scenario) -> list[dict]:
    """Stops of a coach trip, minute by minute under the driver rules, with REST stops where needed.

    ``route`` lists (place_id, place_kind, km from the previous place, dwell minutes there).
    """
    r = sc.drivers
    ns, ne = r.night_start.hour * 60 + r.night_start.minute, r.night_end.hour * 60 + r.night_end.minute
    xs, xe = r.no_driving_start.hour * 60 + r.no_driving_start.minute, r.no_driving_end.hour * 60 + r.no_driving_end.minute
    cap = r.max_driving_per_24h_h * 60 * drivers
    t = start
    history: list[datetime] = []
    stops = [{"place_id": origin, "place_kind": origin_kind, "arrive": None, "depart": t, "km": 0.0}]
    cont, night = 0, False

    def can_drive(now: datetime) -> bool:
        m = now.hour * 60 + now.minute
        if _in(m, xs, xe):
            return False
        lo = now + timedelta(minutes=1) - timedelta(hours=24)
        if sum(1 for h in history if h >= lo) + 1 > cap:
            return False
        lim = r.max_continuous_night_h * 60 if (night or _in(m, ns, ne)) else r.max_continuous_day_h * 60
        return cont + 1 <= lim

    for place, kind, km, dwell in route:
        left, seg = km, 0.0
        while left > 1e-9:
            if can_drive(t):
                step = min(KM_PER_MIN, left)
                left -= step
                seg += step
                history.append(t)
                if _in(t.hour * 60 + t.minute, ns, ne):
                    night = True
                cont += 1
                t += timedelta(minutes=1)
            else:
                arrive = t
                cont, night = 0, False
                t += timedelta(minutes=r.min_rest_min)
                while not can_drive(t):
                    t += timedelta(minutes=1)
                stops.append({"place_id": "REST", "place_kind": "rest", "arrive": arrive, "depart": t, "km": seg})
                seg = 0.0
        stops.append({"place_id": place, "place_kind": kind, "arrive": t, "depart": t + timedelta(minutes=dwell),
                      "km": seg})
        t += timedelta(minutes=dwell)
        if dwell >= r.min_rest_min:
            cont, night = 0, False
    stops[-1]["depart"] = None
    return stops


def iso(t: datetime | None) -> str:
    """ISO 8601 with +08:00, '' for None."""
    return "" if t is None else t.strftime("%Y-%m-%dT%H:%M:%S") + "+08:00"


@dataclass
class Fixture:
    """The legal plan as the CSV strings a plan directory holds, plus the scenario it was made for."""

    sc: Scenario
    tables: dict[str, pd.DataFrame]
    rejected_rows: set[int]
    raw: dict[str, pd.DataFrame] = field(default_factory=dict)
    summary: dict = field(default_factory=dict)

    def plan(self) -> PlanFiles:
        """A fresh typed copy (as read_plan returns it)."""
        typed = {k: type_table(k, v.copy()) for k, v in self.raw.items()}
        return PlanFiles(typed["trips"], typed["stops"], typed["legs"], typed["workers"], json.loads(json.dumps(self.summary)))

    def write(self, out: Path) -> Path:
        """Write the plan directory (CSV files and summary.json)."""
        out.mkdir(parents=True, exist_ok=True)
        for name, df in self.raw.items():
            df.to_csv(out / f"{name}.csv", index=False, encoding="utf-8")
        summary = {**self.summary, "files": file_manifest(out, REQUIRED_FILES)}
        (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
        return out


def build() -> Fixture:
    """Build the legal plan."""
    sc = scenario()
    tb = tables()
    lay = {r["type_id"]: SeatLayout.from_row(r) for _, r in VEHICLE_TYPES.iterrows()}
    iso_rows = {"coach": sc.occupancy.coach_isolation_rows, "feeder": sc.occupancy.feeder_isolation_rows,
                "train": sc.occupancy.carriage_isolation_rows}
    trips, stops, legs = [], [], []
    base = datetime(2020, 2, 16)

    def add_trip(tid, mode, purpose, vtype, vid, home, stop_list, drivers, service="", pax=None):
        rule = "half_seats"
        seats = allowed_seats(lay[vtype], rule, iso_rows[mode])
        dests = [s["place_id"] for s in stop_list[1:] if s["place_kind"] in ("hub", "station", "factory")]
        trips.append({"trip_id": tid, "mode": mode, "purpose": purpose, "vehicle_type": vtype, "vehicle_id": vid,
                      "home_county_code": home, "service_id": service, "occupancy_rule": rule,
                      "seats_rated": lay[vtype].rated_seats, "seats_allowed": len(seats),
                      "origin_id": stop_list[0]["place_id"], "depart": iso(stop_list[0]["depart"]),
                      "destination_ids": ";".join(dests), "arrive": iso(stop_list[-1]["arrive"]),
                      "distance_km": round(sum(s["km"] for s in stop_list), 2), "drivers": drivers,
                      "passengers": len(pax or [])})
        board = {}
        alight = {}
        for wid, b, a in pax or []:
            board[b] = board.get(b, 0) + 1
            alight[a] = alight.get(a, 0) + 1
        for i, s in enumerate(stop_list):
            stops.append({"trip_id": tid, "seq": i + 1, "place_id": s["place_id"], "place_kind": s["place_kind"],
                          "arrive": iso(s["arrive"]), "depart": iso(s["depart"]),
                          "boarding": board.get(s["place_id"], 0) if s["place_kind"] != "rest" else 0,
                          "alighting": alight.get(s["place_id"], 0) if s["place_kind"] != "rest" else 0,
                          "distance_km": round(s["km"], 2)})
        at = {s["place_id"]: s for s in stop_list if s["place_kind"] != "rest"}
        for k, (wid, b, a) in enumerate(pax or []):
            legs.append({"worker_id": wid, "trip_id": tid, "seat": seats[k], "board_place_id": b,
                         "board_time": iso(at[b]["depart"]), "alight_place_id": a, "alight_time": iso(at[a]["arrive"])})
        return stop_list

    def feeder(tid, village, hub, depart, pax):
        km = road_km(village, hub)
        arr = depart + timedelta(minutes=math.ceil(km / sc.travel.feeder_speed_kmh * 60))
        st = [{"place_id": village, "place_kind": "village", "arrive": None, "depart": depart, "km": 0.0},
              {"place_id": hub, "place_kind": "hub", "arrive": arr, "depart": None, "km": km}]
        return add_trip(tid, "feeder", "passenger", "F35", "500101-F35-001", COUNTY, st, 1,
                        pax=[(w, village, hub) for w in pax])

    f1 = feeder("F500101-0001", V1, "T500101", base.replace(hour=6), ["W01", "W02", "W03", "W04"])
    f2 = feeder("F500101-0002", V2, "T500101", base.replace(hour=6, minute=40), ["W05", "W06"])
    feeder("F500101-0003", V1, "R-WZB", base.replace(hour=7, minute=50), ["W09", "W10"])
    assert f1[-1]["arrive"] <= base.replace(hour=7) and f2[-1]["arrive"] <= base.replace(hour=7)

    # hub coach: T500101 -> F0001 -> F0002, two drivers
    c1 = drive(base.replace(hour=8), "T500101", "hub",
               [("F0001", "factory", road_km("T500101", "F0001"), 20), ("F0002", "factory", road_km("F0001", "F0002"), 0)],
               2, sc)
    add_trip("C500101-0001", "coach", "passenger", "C53", "500101-C53-001", COUNTY, c1, 2,
             pax=[(w, "T500101", "F0001") for w in ("W01", "W02", "W03", "W04")]
             + [(w, "T500101", "F0002") for w in ("W05", "W06")])
    back = c1[-1]["arrive"] + timedelta(hours=sc.fleet.turnaround_h)
    e1 = drive(back, "F0002", "factory", [("T500101", "hub", road_km("F0002", "T500101"), 0)], 2, sc)
    add_trip("E500101-0001", "coach", "empty_return", "C53", "500101-C53-001", COUNTY, e1, 2)

    # township-direct coach: pick up at the village, straight to F0001
    c2 = drive(base.replace(hour=7), V3, "village", [("F0001", "factory", road_km(V3, "F0001"), 0)], 2, sc)
    add_trip("C500101-0002", "coach", "passenger", "C53", "500101-C53-002", COUNTY, c2, 2,
             pax=[(w, V3, "F0001") for w in ("W07", "W08")])
    e2 = drive(c2[-1]["arrive"] + timedelta(hours=sc.fleet.turnaround_h), "F0001", "factory",
               [("T500101", "hub", road_km("F0001", "T500101"), 0)], 2, sc)
    add_trip("E500101-0002", "coach", "empty_return", "C53", "500101-C53-002", COUNTY, e2, 2)

    # chartered carriage of train S1
    dep = base.replace(hour=10)
    tr = [{"place_id": "R-WZB", "place_kind": "hub", "arrive": None, "depart": dep, "km": 0.0},
          {"place_id": "S-DG", "place_kind": "station", "arrive": dep + timedelta(hours=14), "depart": None, "km": 1250.0}]
    add_trip("T-S1-01", "train", "passenger", "YZ25", "S1-01", "", tr, 0, service="S1",
             pax=[(w, "R-WZB", "S-DG") for w in ("W09", "W10")])

    legs_df = pd.DataFrame(legs)
    legs_df["leg"] = legs_df.groupby("worker_id")["board_time"].rank(method="first").astype(int)
    legs_df = legs_df.sort_values(["worker_id", "leg"])[
        ["worker_id", "leg", "trip_id", "seat", "board_place_id", "board_time", "alight_place_id", "alight_time"]]

    w = tb["workers"]
    trunk = legs_df[legs_df["trip_id"].str[0].isin(["C", "T"])].set_index("worker_id")
    last = legs_df.drop_duplicates("worker_id", keep="last").set_index("worker_id")
    chain = {"W07": "direct", "W08": "direct", "W09": "train", "W10": "train"}
    reason = {"W11": "job_not_confirmed", "W12": "no_recognised_health_proof"}
    rows = []
    for _, r in w.iterrows():
        wid = r["worker_id"]
        planned = wid in last.index
        rows.append({"source_row": r["_row"], "worker_id": wid, "status": "planned" if planned else "unassigned",
                     "reason": "" if planned else reason[wid], "reason_detail": "", "village_code": r["village_code"],
                     "township_code": r["village_code"][:9], "county_code": COUNTY, "factory_id": r["factory_id"],
                     "chain": chain.get(wid, "hub_coach") if planned else "",
                     "depart_day": trunk.at[wid, "board_time"][:10] if planned else "",
                     "planned_arrival": last.at[wid, "alight_time"] if planned else "", "group_id": r["group_id"]})
    rows.append({"source_row": REJECTED_ROW, "worker_id": "W13", "status": "unassigned", "reason": "rejected_input",
                 "reason_detail": "bad_check_digit", "village_code": V2, "township_code": V2[:9], "county_code": COUNTY,
                 "factory_id": "F0001", "chain": "", "depart_day": "", "planned_arrival": "", "group_id": ""})
    workers_df = pd.DataFrame(rows)

    def strs(rows_or_df) -> pd.DataFrame:
        df = pd.DataFrame(rows_or_df)
        return df.astype(str).replace({"None": "", "nan": ""})

    summary = {
        "scenario": {"name": sc.name, "path": "", "checksum": ""},
        "workers": {"read": 13, "rejected_input": 1, "eligible": 10, "planned": 10, "unassigned": 3,
                    "unassigned_by_reason": {"job_not_confirmed": 1, "no_recognised_health_proof": 1,
                                             "rejected_input": 1}},
        "departures": {"coach": 2, "train_carriage": 1, "feeder": 3, "direct_coach": 1, "hub_coach": 1},
    }
    raw = {"trips": strs(trips), "stops": strs(stops), "legs": strs(legs_df), "workers": strs(workers_df)}
    return Fixture(sc, tb, {REJECTED_ROW}, raw, summary)
