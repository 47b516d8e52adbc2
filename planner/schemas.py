"""Declared columns of every input table: name, type, unit, meaning, example.

docs/data-format.md is generated from these declarations (by
``tools/gen_data_format_doc.py``), and :mod:`planner.validate` checks every
file against them, so the two never drift apart. These formats are stable:
other tools write these files.

Kinds: ``code`` (a string of exactly ``digits`` digits, kept as text so leading
zeros survive), ``str``, ``int``, ``float``, ``date`` (YYYY-MM-DD), ``time``
(HH:MM), ``bool`` (true/false, 是/否, 1/0, yes/no), ``enum`` (one of ``values``),
``geometry`` (polygon layers only).
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.vocab import RISK_LEVELS


@dataclass(frozen=True)
class Column:
    """One column of an input table."""

    name: str
    kind: str  # code | str | int | float | date | time | bool | enum | geometry
    meaning: str
    example: str
    required: bool = True
    digits: tuple[int, ...] = ()  # for codes
    values: tuple[str, ...] = ()  # for enums
    unit: str = ""
    minimum: float | None = None


POSITION = (
    Column("lon", "float", "longitude, WGS-84 unless the scenario gives the file crs = gcj02/bd09 "
           "(or a Point geometry in a GeoPackage/GeoJSON)", "108.3800", unit="degree"),
    Column("lat", "float", "latitude, same system as lon", "30.8000", unit="degree"),
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
        Column("province", "str", "receiving province, short name (广东省, 上海市 are read as 广东, 上海)", "广东"),
        Column("city", "str", "city", "东莞市"),
        *POSITION,
        Column("needed_by", "date", "day the factory needs its workers (arrival by the end of that day)", "2020-03-02"),
        Column("arrival_station_id", "str", "station where train passengers are met (a station_id)", "S-DG", required=False),
        Column("county_code", "code", "6-digit county code; derived from the position when absent", "441900", digits=(6,), required=False),
    ),
    "workers": (
        Column("worker_id", "str", "unique id", "W0000001"),
        Column("name", "str", "name (personal data)", "张某华"),
        Column("id_number", "str", "18-digit resident ID with a valid check digit (personal data)", "500101198001019018"),
        Column("phone", "str", "11-digit mobile number (personal data)", "19900000001"),
        Column("village_code", "code", "home village (a village_code)", "500101105201", digits=(12,)),
        Column("factory_id", "str", "employer (a factory_id)", "F0042"),
        Column("ready_date", "date", "first day the worker can travel", "2020-02-16"),
        Column("health_proof", "enum", "health proof held", "certificate", values=("certificate", "green_code", "none")),
        Column("proof_date", "date", "day the proof was issued; empty only when health_proof is none", "2020-02-15", required=False),
        Column("job_confirmed", "bool", "the employer confirmed the job (true/false, 是/否, 1/0, yes/no)", "true"),
        Column("group_id", "str", "family group: people with the same group_id travel together", "G000123", required=False),
    ),
    "fleet": (
        Column("county_code", "code", "county that owns the vehicles", "500101", digits=(6,)),
        Column("type_id", "str", "vehicle type (a type_id)", "C53"),
        Column("count", "int", "vehicles of that type", "48", unit="vehicles", minimum=0),
    ),
    "vehicles": (
        Column("vehicle_id", "str", "a vehicle of the fleet table, as the plan names it (trips.csv `vehicle_id`): "
               "county code, type_id and its number within the fleet row, 1 to `count`, three digits; optional "
               "table (the vehicle register): without it, boarding sheets leave plate and driver blank to fill in",
               "500101-C53-001"),
        Column("county_code", "code", "county that owns the vehicle (the fleet row's county)", "500101", digits=(6,)),
        Column("type_id", "str", "vehicle type (the fleet row's type_id)", "C53"),
        Column("plate", "str", "licence plate (号牌)", "渝F12345"),
        Column("driver_name", "str", "driver (personal data)", "王某军", required=False),
        Column("driver_phone", "str", "driver's 11-digit mobile number (personal data)", "13900000001", required=False),
        Column("driver2_name", "str", "second driver, for trips that need two (personal data)", "刘某明", required=False),
        Column("driver2_phone", "str", "second driver's mobile number (personal data)", "13900000002", required=False),
        Column("available_from", "date", "first day the vehicle may be used (recorded, not yet planned with)",
               "2020-02-14", required=False),
        Column("available_until", "date", "last day the vehicle may be used (recorded, not yet planned with)",
               "2020-03-15", required=False),
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
        Column("level", "enum", "risk level; closed = nobody may arrive", "medium", values=RISK_LEVELS),
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
        Column("geometry", "geometry", "county polygon (GeoPackage or GeoJSON only)", "MULTIPOLYGON (...)"),
    ),
    "receiving_counties": (
        Column("county_code", "code", "6-digit county code", "441900", digits=(6,)),
        Column("county_name", "str", "name", "东莞市"),
        Column("city_code", "code", "4-digit city code", "4419", digits=(4,)),
        Column("city_name", "str", "city", "东莞市"),
        Column("province_code", "code", "2-digit province code", "44", digits=(2,)),
        Column("province", "str", "province, short name", "广东"),
        Column("geometry", "geometry", "county polygon (GeoPackage or GeoJSON only)", "MULTIPOLYGON (...)"),
    ),
}

ID_COLUMNS = {
    "villages": "village_code",
    "hubs": "hub_id",
    "factories": "factory_id",
    "workers": "worker_id",
    "vehicles": "vehicle_id",
    "vehicle_types": "type_id",
    "train_services": "service_id",
    "stations": "station_id",
    "counties": "county_code",
    "receiving_counties": "county_code",
}

# Keys of more than one column (a second row with the same key is a duplicate).
COMPOSITE_KEYS = {"fleet": ("county_code", "type_id")}

POLYGON_TABLES = {"counties", "receiving_counties"}
POINT_TABLES = {"villages", "hubs", "factories", "stations"}

# Short names of every provincial-level division; 广东省, 上海市, 广西壮族自治区 ... are
# read as these.
PROVINCES = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江", "安徽",
    "福建", "江西", "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州",
    "云南", "西藏", "陕西", "甘肃", "青海", "宁夏", "新疆", "香港", "澳门", "台湾",
)

# GB/T 2260 province codes (the first two digits of every division code) -> short name.
PROVINCE_CODES: dict[str, str] = {
    "11": "北京", "12": "天津", "13": "河北", "14": "山西", "15": "内蒙古", "21": "辽宁", "22": "吉林",
    "23": "黑龙江", "31": "上海", "32": "江苏", "33": "浙江", "34": "安徽", "35": "福建", "36": "江西",
    "37": "山东", "41": "河南", "42": "湖北", "43": "湖南", "44": "广东", "45": "广西", "46": "海南",
    "50": "重庆", "51": "四川", "52": "贵州", "53": "云南", "54": "西藏", "61": "陕西", "62": "甘肃",
    "63": "青海", "64": "宁夏", "65": "新疆", "71": "台湾", "81": "香港", "82": "澳门",
}

# Columns kept exactly as written (names of people and places); every other text
# cell is NFKC-normalised before it is checked (full-width ５ reads as 5).
FREE_TEXT_COLUMNS = frozenset({"name", "village_name", "county_name", "city_name", "city", "driver_name",
                               "driver2_name"})

# Every problem code validation can report: code -> (usual severity, meaning).
PROBLEM_CODES: dict[str, tuple[str, str]] = {
    "missing_file": ("fatal", "a data file does not exist (for [synth] tables: run planner synth)"),
    "unreadable_file": ("fatal", "a file cannot be read: unknown extension, encoding, broken workbook"),
    "missing_column": ("fatal", "a required column is absent; the whole table is unusable"),
    "missing_value": ("error", "a required cell is empty"),
    "bad_type": ("error", "a value is not of the column's type (number, date, code of N digits ...)"),
    "bad_value": ("error", "a value is not one of the allowed ones"),
    "out_of_range": ("error", "a number is below its minimum"),
    "duplicate_id": ("error", "a second row with the same key; the first one is kept"),
    "dangling_reference": ("error", "a reference to a row that does not exist or was rejected"),
    "inconsistent_code": ("error", "village, township and county codes disagree"),
    "outside_china": ("error", "a position outside China (lon 73-136, lat 3-54)"),
    "lonlat_swapped": ("error", "lon and lat look exchanged"),
    "outside_county": ("error", "a position more than about 1 km outside its own county polygon"),
    "near_county_border": ("warning", "a position just outside its county polygon (simplified borders)"),
    "bad_id_number": ("error", "a resident ID that is not 17 digits plus a check character"),
    "bad_id_birth_date": ("error", "a resident ID whose birth date is impossible"),
    "bad_id_check_digit": ("error", "a resident ID whose check character is wrong"),
    "duplicate_resident_id": ("error", "a second worker row with the same resident ID (one person twice); the first is kept"),
    "underage_worker": ("warning", "a worker under 16 (the legal working age) at the window start, by the resident ID"),
    "unsafe_id": ("error", "an id starts like a spreadsheet formula (= + - @) or holds blanks"),
    "control_character": ("error", "a cell holds a control or invisible character (NUL, line break, tab, bidi control)"),
    "normalised_text": ("warning", "cells of a column held full-width or compatibility characters, read after NFKC "
                        "(５ as 5); one warning per column"),
    "suspicious_encoding": ("warning", "the encoding the scenario declares decodes, but UTF-8 or GB18030 would give Chinese text"),
    "bad_phone": ("error", "a mobile number that is not 11 digits starting with 1"),
    "date_outside_window": ("error", "a date after the window (warning for a factory needed before it)"),
    "bad_date_range": ("error", "a risk period whose from is after its to"),
    "inconsistent_seats": ("error", "rated_seats differs from the seat layout"),
    "proof_date_future": ("warning", "a health proof dated after the window: never valid in it"),
    "unknown_province": ("warning", "a destination province the scenario's [health] does not list"),
    "county_not_found": ("warning", "a factory or station position in no receiving county polygon"),
    "county_province_mismatch": ("error", "a factory or station whose county_code lies in another province than its "
                                 "province column or its position"),
    "scenario_conflict": ("fatal", "a scenario key that the data makes impossible (isolation rows >= rows of a vehicle "
                          "type in use, no sellable seat); planning refuses it"),
    "no_workers": ("warning", "the worker register has no usable row: nobody to plan"),
    "no_coaches": ("warning", "the fleet has no coach: nobody can go by coach"),
    "group_mixed": ("warning", "members of one group differ in village or factory"),
}
