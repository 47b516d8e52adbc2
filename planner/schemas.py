"""Declared columns of every input table: name, type, unit, meaning, example.

docs/data-format.md is generated from these declarations, and validation
checks every file against them, so the two never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    """One column of an input table."""

    name: str
    kind: str  # code | str | int | float | date | time | bool | enum | position
    meaning: str
    example: str
    required: bool = True
    digits: tuple[int, ...] = ()  # for codes
    values: tuple[str, ...] = ()  # for enums
    unit: str = ""
    minimum: float | None = None


POSITION = (
    Column("lon", "float", "longitude (or a Point geometry in a GeoPackage/GeoJSON)", "108.3800", unit="degree"),
    Column("lat", "float", "latitude", "30.8000", unit="degree"),
)

TABLES: dict[str, tuple[Column, ...]] = {
    "villages": (
        Column("village_code", "code", "12-digit village (村/社区) code of the NBS division codes", "500101105201", digits=(12,)),
        Column("village_name", "str", "village name", "龙驹村"),
        Column("township_code", "code", "9-digit township (乡/镇/街道) code; the first 9 digits of the village code", "500101105", digits=(9,)),
        Column("county_code", "code", "6-digit district/county code", "500101", digits=(6,)),
        *POSITION,
    ),
    "hubs": (
        Column("hub_id", "str", "unique id: T + county code for terminals, R-… for stations", "T500101"),
        Column("name", "str", "name", "万州区汽车客运站"),
        Column("kind", "enum", "county passenger terminal or railway station", "terminal", values=("terminal", "rail_station")),
        Column("county_code", "code", "county the hub lies in", "500101", digits=(6,)),
        *POSITION,
        Column("daily_capacity_people", "int", "people who may board here per day (checks, temperature)", "1500", unit="people/day", minimum=1),
    ),
    "factories": (
        Column("factory_id", "str", "unique id", "F0042"),
        Column("name", "str", "employer name", "虎门示例电子厂0042"),
        Column("province", "str", "receiving province, short name (广东省 is read as 广东)", "广东"),
        Column("city", "str", "city", "东莞市"),
        *POSITION,
        Column("needed_by", "date", "day the factory needs its workers (arrival by the end of that day)", "2020-03-02"),
        Column("arrival_station_id", "str", "station where train passengers are met (a station_id)", "S-DG", required=False),
        Column("county_code", "code", "6-digit county code; derived from the position when absent", "441900", digits=(6,), required=False),
    ),
    "workers": (
        Column("worker_id", "str", "unique id", "W0000001"),
        Column("name", "str", "name (personal data)", "张某华"),
        Column("id_number", "str", "18-digit resident ID with a valid check digit (personal data)", "50010119800101901X"),
        Column("phone", "str", "11-digit mobile number (personal data)", "19900000001"),
        Column("village_code", "code", "home village (a village_code)", "500101105201", digits=(12,)),
        Column("factory_id", "str", "employer (a factory_id)", "F0042"),
        Column("ready_date", "date", "first day the worker can travel", "2020-02-16"),
        Column("health_proof", "enum", "health proof held", "certificate", values=("certificate", "green_code", "none")),
        Column("proof_date", "date", "day the proof was issued; empty only when health_proof is none", "2020-02-15", required=False),
        Column("job_confirmed", "bool", "the employer confirmed the job (true/false, 是/否, 1/0)", "true"),
        Column("group_id", "str", "family group: people with the same group_id travel together", "G000123", required=False),
    ),
    "fleet": (
        Column("county_code", "code", "county that owns the vehicles", "500101", digits=(6,)),
        Column("type_id", "str", "vehicle type (a type_id)", "C53"),
        Column("count", "int", "vehicles of that type", "48", unit="vehicles", minimum=0),
    ),
    "vehicle_types": (
        Column("type_id", "str", "unique id", "C53"),
        Column("mode", "enum", "what the vehicle does", "coach", values=("coach", "feeder", "train_carriage")),
        Column("name", "str", "name", "53座省际包车大巴"),
        Column("rows", "int", "seat rows including the last (bench) row", "13", minimum=1),
        Column("seats_per_row", "int", "seats in each row but the last", "4", minimum=1),
        Column("aisle_after", "int", "seats left of the aisle", "2", minimum=0),
        Column("last_row_seats", "int", "seats in the last row", "5", minimum=1),
        Column("rated_seats", "int", "rated seats = (rows-1) x seats_per_row + last_row_seats", "53", minimum=1),
    ),
    "train_services": (
        Column("service_id", "str", "unique id", "K7001"),
        Column("date", "date", "departure day", "2020-02-16"),
        Column("depart_time", "time", "departure time (HH:MM, local)", "10:30"),
        Column("origin_station_id", "str", "railway station of departure (a hub of kind rail_station)", "R-WZB"),
        Column("destination_station_id", "str", "destination station (a station_id)", "S-GZN"),
        Column("carriages", "int", "chartered carriages", "8", minimum=1),
        Column("carriage_type", "str", "vehicle type of the carriages (mode train_carriage)", "YZ25"),
        Column("travel_hours", "float", "scheduled travel time", "12.5", unit="h", minimum=0.1),
    ),
    "risk_calendar": (
        Column("region_code", "code", "province (2), city (4) or county (6 digits) of the receiving side", "4403", digits=(2, 4, 6)),
        Column("from", "date", "first day", "2020-02-14"),
        Column("to", "date", "last day (inclusive)", "2020-02-20"),
        Column("level", "enum", "risk level; closed = nobody may arrive", "medium", values=("low", "medium", "high", "closed")),
    ),
    "stations": (
        Column("station_id", "str", "unique id", "S-GZN"),
        Column("name", "str", "name", "广州南站"),
        Column("province", "str", "province", "广东"),
        Column("city", "str", "city", "广州"),
        *POSITION,
        Column("county_code", "code", "county; derived from the position when absent", "440113", digits=(6,), required=False),
    ),
    "counties": (
        Column("county_code", "code", "6-digit county code", "500101", digits=(6,)),
        Column("county_name", "str", "name", "万州区"),
    ),
    "receiving_counties": (
        Column("county_code", "code", "6-digit county code", "441900", digits=(6,)),
        Column("county_name", "str", "name", "东莞市"),
        Column("city_code", "code", "4-digit city code", "4419", digits=(4,)),
        Column("city_name", "str", "city", "东莞市"),
        Column("province_code", "code", "2-digit province code", "44", digits=(2,)),
        Column("province", "str", "province, short name", "广东"),
    ),
}

ID_COLUMNS = {
    "villages": "village_code",
    "hubs": "hub_id",
    "factories": "factory_id",
    "workers": "worker_id",
    "vehicle_types": "type_id",
    "train_services": "service_id",
    "stations": "station_id",
    "counties": "county_code",
    "receiving_counties": "county_code",
}

POLYGON_TABLES = {"counties", "receiving_counties"}
