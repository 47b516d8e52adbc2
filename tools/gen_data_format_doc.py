"""Write docs/data-format.md from planner/schemas.py, so the doc never drifts from validation.

Run: .venv/bin/python tools/gen_data_format_doc.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planner.schemas import COMPOSITE_KEYS, ID_COLUMNS, PROBLEM_CODES, TABLES  # noqa: E402

INTRO = """# Input data formats

Stable formats: other tools write these files. Generated from `planner/schemas.py` by
`tools/gen_data_format_doc.py`; `planner validate` checks every file against the same
declarations (`planner/validate.py`, readers in `planner/io/readers.py`).

## Files, encodings, coordinates
- **Tables** (workers, fleet, the optional vehicle register `vehicles`, vehicle types, train services, risk calendar): CSV or Excel (`.xlsx`,
  first sheet or `sheet = "..."`). The app's 上传数据 tab offers an Excel template of every table
  below but the polygon layers (`planner/app/templates.py`, made from the same declarations: the
  columns, their type and meaning in Chinese, one example row with cells of the right type).
- **Places** (villages, hubs, factories, stations): CSV/Excel with `lon`/`lat` columns, or a
  GeoPackage (`.gpkg`, first layer or `layer = "..."`) or GeoJSON with Point geometries (which
  become `lon`/`lat`). A layer in a projected CRS is reprojected to EPSG:4326.
- **Polygons** (`counties`, `receiving_counties`): GeoPackage or GeoJSON (Polygon/MultiPolygon).
- **Encodings**: CSV files may be UTF-8, UTF-8 with BOM, or GB18030/GBK (what Excel in China
  saves); detection tries UTF-8 (with or without BOM) first, then GB18030. Set
  `encoding = "..."` in the scenario to force one. A forced encoding may decode a file it does
  not fit (`latin-1` decodes any bytes, GBK many UTF-8 files), turning names into mojibake
  without an error: validation warns (`suspicious_encoding`) when the bytes are also valid UTF-8
  holding Chinese and read differently, or when the declared decoding holds no Chinese character
  but GB18030 gives some.
- **Text** is NFKC-normalised before it is checked, in every column but the names of people and
  places (`name`, `village_name`, `county_name`, `city_name`, `city`, which stay as written):
  full-width digits, letters and punctuation typed with a Chinese input method (`５００１`, `：`)
  read as their ASCII forms (a `normalised_text` warning per column says so), and the accepted
  tables hold the normalised text. A cell holding a control or invisible character (NUL, tab,
  line break, escape, zero-width or bidi controls, BOM) rejects its row (`control_character`),
  whatever the column. Leading and trailing spaces are removed.
- **Coordinates (CRS)** are WGS-84 (EPSG:4326; CGCS2000 is equal at metre level) unless the
  scenario says a file is `crs = "gcj02"` (火星坐标: Amap/高德, Tencent/腾讯) or `crs = "bd09"`
  (Baidu/百度); such files are converted to WGS-84 on load (iterated inverse, error below 1 mm),
  points and polygons alike. The offset is 300-700 m in Chongqing, so an undeclared GCJ-02 file
  puts villages in the wrong place without any error. Points outside China are not converted and
  are reported as they were written.
- **Row numbers** in messages are the rows a user sees: in CSV and Excel the header is row 1 and
  the first data row is row 2 (blank lines count but yield no row); in GeoPackage/GeoJSON the
  first feature is row 1. Every problem line reads `file:row:column: message (code)`. A CSV
  that cannot be parsed (a row with more fields than the header, an unclosed quote, a repeated
  column name) is unreadable, and the message names the row the same way; a quoted line break
  keeps a record on one row, as Excel shows it.
- **Dates** are `YYYY-MM-DD` (also `YYYY/M/D`, `2020年2月14日` and Excel date cells); times
  `HH:MM`, local time (Asia/Shanghai). Booleans: `true`/`false`, `是`/`否`, `1`/`0`, `yes`/`no`.
- **Codes** are the National Bureau of Statistics division codes (统计用区划代码): county 6
  digits, township 9, village 12; a village code starts with its township code, which starts with
  its county code. Codes are text: keep leading digits, never let Excel turn them into numbers
  (a code, ID or phone that looks like Excel's number, `5.00101E+17` or `500101001001.0`, is
  rejected with the hint "format the column as text"). The first two digits of a factory's or
  station's `county_code` are its province (GB/T 2260): they must agree with its `province`
  and with the receiving county its position lies in (`county_province_mismatch`).
- **Resident IDs** are 17 digits and a check character (`X` in either case). The birth date
  they hold is judged against the window start, never today's date: born after it is rejected,
  under 16 (the legal working age) is a warning. Two worker rows with the same ID are one
  person twice: the later rows are rejected (`duplicate_resident_id`, naming the first row).
- **Provinces** are short names (广东, 浙江, 上海); 广东省, 上海市, 广西壮族自治区 are read as the short form.

## What validation does with a bad row
A row that cannot be used is **rejected** with its reason and listed in the report with file,
row and column (`planner validate --rejected-dir DIR` writes the rejected rows as CSV: the row as
written, `_row` and `reason` = `code [column]: message`). **The rejected files hold personal
data**: full names, full ID numbers and phones, unmasked, because they are for fixing the
source. They are written readable by their owner only (mode 600); cells starting with `= + - @`
get a leading `'` so that a spreadsheet never runs them as formulas, and control characters are
written as U+FFFD. `DIR` may not be, or lie inside, a plan directory (a folder holding
`summary.json`, which documents and the app read and serve) or the app's upload folder
(`PLANNER_APP_UPLOAD_DIR`, default `out/uploads`) or `static/`; such a `DIR` is refused. For every table, rows read = accepted
+ rejected, and the report says so (`工人 读入 N = 接受 A + 拒绝 R`). References cascade: a worker
whose village or factory was rejected is rejected too, the reason naming the village and why it
was rejected. A missing required column makes the whole table unusable (fatal, every row
rejected); rows that refer to an unusable table are rejected under one problem. Warnings do not
reject anything. `planner validate` exits non-zero when anything is rejected or fatal. Personal
data (name, ID number, phone) never appears in a message: a worker is named by row and `worker_id`.

Scenario keys the data makes impossible are fatal `scenario_conflict` problems naming the key
(isolation rows not fewer than the rows of a vehicle type in use; an occupancy rule leaving no
sellable seat on one), and `planner plan` refuses the scenario. A register with no usable row
(`no_workers`) or a fleet with no coach (`no_coaches`) is legal but warned about loudly: the
report ends with the warning, and `planner plan` repeats it in its report and in the
`warnings` list of `summary.json`, saying why nobody moves.

Accepted tables are typed: codes and ids text, dates pandas `datetime64[ns]` (midnight, local;
`NaT` for an empty optional date), times text `HH:MM`, integers `int64`, floats `float64`,
booleans `bool`, `lon`/`lat` `float64` in WGS-84, polygons shapely geometry; workers gain
`township_code` and `county_code` from their village, factories and stations without
`county_code` gain it from the receiving county polygon their position lies in.

## Problem codes
"""

#: prose that follows a table's column list (a table's companion files)
AFTER_TABLE = {
    "train_services": """### Candidate services (`planner size-trains --candidates FILE`)

A file of services a bureau could request, not part of any scenario: the same columns, types
and rules as `train_services` above (one row per possible service; the origin a `rail_station`
hub of the scenario, the destination one of its `stations`, the carriage type of mode
`train_carriage`). It is validated by the same code as the scenario's own `train_services`, so
each problem names the candidate file, the row (header = row 1) and the column, and then also
refused: a `service_id` already in the scenario's `train_services` or twice in the file
(column `service_id`), and fewer than one carriage (column `carriages`). Any such problem refuses
the whole file before anything is planned (docs/what-if.md).

```text
service_id,date,depart_time,origin_station_id,destination_station_id,carriages,carriage_type,travel_hours
K9001,2020-02-20,10:30,R-WZB,S-DG,1,YZ25,20.5
```""",
}


def render() -> str:
    """The whole document."""
    out = [INTRO, "| code | severity | meaning |\n|---|---|---|"]
    out += [f"| `{code}` | {sev} | {meaning} |" for code, (sev, meaning) in PROBLEM_CODES.items()]
    for table, cols in TABLES.items():
        key = " + ".join(f"`{k}`" for k in COMPOSITE_KEYS[table]) if table in COMPOSITE_KEYS else None
        key = key or (f"`{ID_COLUMNS[table]}`" if table in ID_COLUMNS else None)
        out.append(f"\n## `{table}`\n")
        if key:
            out.append(f"Unique key: {key}.\n")
        out.append("| column | type | required | unit | meaning | example |\n|---|---|---|---|---|---|")
        for c in cols:
            kind = c.kind
            if c.kind == "code":
                kind = f"code ({' or '.join(str(d) for d in c.digits)} digits)"
            elif c.kind == "enum":
                kind = " / ".join(f"`{v}`" for v in c.values)
            out.append(f"| `{c.name}` | {kind} | {'yes' if c.required else 'no'} | {c.unit} | {c.meaning} | `{c.example}` |")
        if table in AFTER_TABLE:
            out.append("\n" + AFTER_TABLE[table])
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    target = Path(__file__).resolve().parents[1] / "docs" / "data-format.md"
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
