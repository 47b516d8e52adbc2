"""Small in-memory scenarios for solver tests, built without any data file.

``tiny_tables`` returns the validated-table dictionary the solver reads (the
shape :func:`planner.validate.validate_scenario` produces) and a Scenario, so
a test can argue its expected answer on paper.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from planner.idcard import id_check_char
from planner.scenario import Scenario
from planner.synth import VEHICLE_TYPES

WUSHAN = "500237"
TERMINAL = "T500237"

# four destination towns of the 巫山 first day (杭州, 深圳龙岗, 石狮, 珠海), far apart
FACTORIES = [
    ("F0001", "杭州示例厂", "浙江", "杭州", "330109", 120.26, 30.18),
    ("F0002", "龙岗示例厂", "广东", "深圳", "440307", 114.25, 22.72),
    ("F0003", "石狮示例厂", "福建", "泉州", "350581", 118.65, 24.73),
    ("F0004", "珠海示例厂", "广东", "珠海", "440404", 113.55, 22.25),
]

def scenario(**overrides) -> Scenario:
    """A Scenario for the in-memory tables (data paths are placeholders)."""
    doc = {
        "name": "测试情景",
        "window": {"start": date(2020, 2, 14), "end": date(2020, 3, 15)},
        "data": {
            "villages": "v.csv",
            "hubs": "h.csv",
            "counties": "c.geojson",
            "vehicle_types": "vt.csv",
            "workers": "w.csv",
            "factories": "f.csv",
            "fleet": "fl.csv",
        },
    }
    for key, value in overrides.items():
        doc[key] = value
    return Scenario.model_validate(doc)


def id_number(county: str, i: int) -> str:
    """A valid-looking fictitious resident ID."""
    born = date(1980, 1, 1) + timedelta(days=i * 37 % 9000)
    first17 = f"{county}{born:%Y%m%d}{900 + i % 99:03d}"
    return first17 + id_check_char(first17)


def tiny_tables(
    counts: dict[str, int],
    *,
    villages: int = 6,
    coaches: int = 30,
    feeders: int = 10,
    ready: date = date(2020, 2, 14),
    needed_by: date = date(2020, 3, 20),
    seed: int = 0,
    groups: list[list[int]] | None = None,
    risk: list[tuple[str, date, date, str]] | None = None,
    services: list[dict] | None = None,
    job_confirmed: dict[int, bool] | None = None,
    proof: dict[int, str] | None = None,
) -> dict[str, pd.DataFrame]:
    """Tables for one county (巫山) sending ``counts[factory_id]`` workers to each factory."""
    rng = np.random.default_rng(seed)
    vcodes = [f"{WUSHAN}{101 + i // 3:03d}{201 + i:03d}" for i in range(villages)]
    vill = pd.DataFrame(
        {
            "village_code": vcodes,
            "village_name": [f"示例{i + 1}村" for i in range(villages)],
            "township_code": [c[:9] for c in vcodes],
            "county_code": WUSHAN,
            "lon": 109.88 + rng.uniform(-0.12, 0.12, villages),
            "lat": 31.08 + rng.uniform(-0.08, 0.08, villages),
            "_row": np.arange(2, villages + 2),
        }
    )
    hubs = pd.DataFrame(
        [
            (TERMINAL, "巫山县汽车客运站", "terminal", WUSHAN, 109.878, 31.074, 5000, 2),
            ("R-WS", "巫山站", "rail_station", WUSHAN, 109.90, 31.10, 5000, 3),
        ],
        columns=["hub_id", "name", "kind", "county_code", "lon", "lat", "daily_capacity_people", "_row"],
    )
    fac = pd.DataFrame(FACTORIES, columns=["factory_id", "name", "province", "city", "county_code", "lon", "lat"])
    fac["needed_by"] = needed_by
    fac["arrival_station_id"] = ["S-HZD", "S-SZB", "S-QZ", "S-ZH"]
    fac["_row"] = np.arange(2, len(fac) + 2)
    fac = fac[fac["factory_id"].isin(counts)].reset_index(drop=True)
    stations = pd.DataFrame(
        [
            ("S-HZD", "杭州东", "浙江", "杭州", "330104", 120.21, 30.29),
            ("S-SZB", "深圳北", "广东", "深圳", "440309", 114.03, 22.61),
            ("S-QZ", "泉州", "福建", "泉州", "350503", 118.58, 24.95),
            ("S-ZH", "珠海", "广东", "珠海", "440402", 113.55, 22.22),
        ],
        columns=["station_id", "name", "province", "city", "county_code", "lon", "lat"],
    )
    rows = []
    i = 0
    for fid, n in counts.items():
        for _ in range(n):
            rows.append(
                {
                    "worker_id": f"W{i + 1:07d}",
                    "name": "张某华",
                    "id_number": id_number(WUSHAN, i),
                    "phone": f"199{i:08d}",
                    "village_code": vcodes[i % villages],
                    "factory_id": fid,
                    "ready_date": ready,
                    "health_proof": "certificate",
                    "proof_date": ready,
                    "job_confirmed": True,
                    "group_id": "",
                }
            )
            i += 1
    workers = pd.DataFrame(rows)
    for gi, members in enumerate(groups or []):
        v = workers.at[members[0], "village_code"]
        f = workers.at[members[0], "factory_id"]
        for m in members:
            workers.at[m, "group_id"] = f"G{gi + 1:05d}"
            workers.at[m, "village_code"] = v
            workers.at[m, "factory_id"] = f
    for m, ok in (job_confirmed or {}).items():
        workers.at[m, "job_confirmed"] = ok
    for m, kind in (proof or {}).items():
        workers.at[m, "health_proof"] = kind
        if kind == "none":
            workers.at[m, "proof_date"] = None
    workers["township_code"] = workers["village_code"].str[:9]
    workers["county_code"] = workers["village_code"].str[:6]
    workers["_row"] = np.arange(2, len(workers) + 2)
    fleet = pd.DataFrame(
        [(WUSHAN, "C53", coaches), (WUSHAN, "F35", feeders)], columns=["county_code", "type_id", "count"]
    )
    risk_df = pd.DataFrame(risk or [], columns=["region_code", "from", "to", "level"])
    svc = pd.DataFrame(
        services or [],
        columns=["service_id", "date", "depart_time", "origin_station_id", "destination_station_id",
                 "carriages", "carriage_type", "travel_hours"],
    )
    return {
        "villages": vill,
        "hubs": hubs,
        "factories": fac,
        "stations": stations,
        "workers": workers,
        "fleet": fleet,
        "vehicle_types": VEHICLE_TYPES.copy(),
        "risk_calendar": risk_df,
        "train_services": svc,
    }
