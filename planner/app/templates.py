"""Excel templates of the input tables, made from :mod:`planner.schemas` so they never drift from the validator.

One workbook per table: the first sheet (数据) has the column names the
validator reads in row 1 and the schema's example in row 2, each cell of the
type the column wants (codes as text so leading zeros survive, numbers as
numbers, dates as dates), enumerations with a drop-down list; the second sheet
(填写说明) has one row per column: its name, what it means and its type in
Chinese, whether it is required, its unit and the example. A template read
back by :func:`planner.io.readers.read_table` gives exactly the schema's
columns and examples (tested).
"""

from __future__ import annotations

import io
from datetime import date

from planner.schemas import TABLES, Column
from planner.vocab import RISK_LEVEL_LABELS

__all__ = ["TEMPLATE_TABLES", "COLUMN_ZH", "kind_zh", "template_rows", "template_workbook", "template_name"]

#: Tables that have an Excel template (polygon tables need a GeoPackage or GeoJSON).
TEMPLATE_TABLES: tuple[str, ...] = tuple(t for t, cols in TABLES.items() if not any(c.kind == "geometry" for c in cols))

#: The Chinese meaning of every column of every table (tests check none is missing).
COLUMN_ZH: dict[tuple[str, str], str] = {
    ("villages", "village_code"): "村（社区）的 12 位统计用区划代码",
    ("villages", "village_name"): "村（社区）名称",
    ("villages", "township_code"): "所属乡镇（街道）的 9 位代码，即村代码的前 9 位",
    ("villages", "county_code"): "所属区县的 6 位代码",
    ("villages", "lon"): "经度（WGS-84）",
    ("villages", "lat"): "纬度（WGS-84）",
    ("hubs", "hub_id"): "枢纽编号：客运站为 T 加区县代码，火车站以 R- 开头",
    ("hubs", "name"): "枢纽名称",
    ("hubs", "kind"): "类型：terminal 客运站，rail_station 火车站",
    ("hubs", "county_code"): "所在区县的 6 位代码",
    ("hubs", "lon"): "经度（WGS-84）",
    ("hubs", "lat"): "纬度（WGS-84）",
    ("hubs", "daily_capacity_people"): "每天最多可接待上车的人数（测温、查验）",
    ("factories", "factory_id"): "企业编号（唯一）",
    ("factories", "name"): "用工单位名称",
    ("factories", "province"): "接收省份简称（广东省、上海市也可，按 广东、上海 读取）",
    ("factories", "city"): "所在城市",
    ("factories", "lon"): "经度（WGS-84）",
    ("factories", "lat"): "纬度（WGS-84）",
    ("factories", "needed_by"): "企业需要工人到岗的日期（当天结束前到达）",
    ("factories", "arrival_station_id"): "专列乘客的接站车站编号（到达站表中的 station_id）",
    ("factories", "county_code"): "所在区县的 6 位代码；不填时按位置推算",
    ("workers", "worker_id"): "人员编号（唯一）",
    ("workers", "name"): "姓名（个人信息）",
    ("workers", "id_number"): "18 位居民身份证号，校验位须正确（个人信息）",
    ("workers", "phone"): "11 位手机号（个人信息）",
    ("workers", "village_code"): "户籍所在村的 12 位代码（村表中的 village_code）",
    ("workers", "factory_id"): "用工单位编号（企业表中的 factory_id）",
    ("workers", "ready_date"): "最早可出行日期",
    ("workers", "health_proof"): "所持健康证明：certificate 健康申报证明，green_code 绿码，none 无",
    ("workers", "proof_date"): "健康证明开具日期；只有 health_proof 为 none 时可以不填",
    ("workers", "job_confirmed"): "用工单位是否已确认岗位（是/否）",
    ("workers", "group_id"): "家庭同行组：同一组号的人员同车出行",
    ("fleet", "county_code"): "车辆所属区县的 6 位代码",
    ("fleet", "type_id"): "车型编号（车型表中的 type_id）",
    ("fleet", "count"): "该车型的车辆数",
    ("vehicles", "vehicle_id"): "车辆编号：区县代码-车型编号-三位序号（1 至车队表中的数量），与计划中的车辆编号一致",
    ("vehicles", "county_code"): "车辆所属区县的 6 位代码",
    ("vehicles", "type_id"): "车型编号",
    ("vehicles", "plate"): "车牌号",
    ("vehicles", "driver_name"): "驾驶员姓名（个人信息）",
    ("vehicles", "driver_phone"): "驾驶员手机号（个人信息）",
    ("vehicles", "driver2_name"): "第二驾驶员姓名（长途需双驾时；个人信息）",
    ("vehicles", "driver2_phone"): "第二驾驶员手机号（个人信息）",
    ("vehicles", "available_from"): "车辆可用的第一天（目前仅记录）",
    ("vehicles", "available_until"): "车辆可用的最后一天（目前仅记录）",
    ("vehicle_types", "type_id"): "车型编号（唯一）",
    ("vehicle_types", "mode"): "用途：coach 省际大巴，feeder 接驳车，train_carriage 专列车厢",
    ("vehicle_types", "name"): "车型名称",
    ("vehicle_types", "rows"): "座位排数（含最后一排）",
    ("vehicle_types", "seats_per_row"): "除最后一排外每排座位数",
    ("vehicle_types", "aisle_after"): "过道左侧的座位数",
    ("vehicle_types", "last_row_seats"): "最后一排座位数",
    ("vehicle_types", "rated_seats"): "核定座位数 = (排数 - 1) × 每排座位数 + 最后一排座位数",
    ("train_services", "service_id"): "车次编号（唯一）",
    ("train_services", "date"): "发车日期",
    ("train_services", "depart_time"): "发车时间（当地时间）",
    ("train_services", "origin_station_id"): "始发火车站（枢纽表中类型为 rail_station 的 hub_id）",
    ("train_services", "destination_station_id"): "到达站编号（到达站表中的 station_id）",
    ("train_services", "carriages"): "包用车厢数",
    ("train_services", "carriage_type"): "车厢车型（用途为 train_carriage 的 type_id）",
    ("train_services", "travel_hours"): "运行时间",
    ("risk_calendar", "region_code"): "接收地省（2 位）、市（4 位）或区县（6 位）代码",
    ("risk_calendar", "from"): "起始日期",
    ("risk_calendar", "to"): "截止日期（含当天）",
    ("risk_calendar", "level"): "风险等级：" + "，".join(f"{k} {v}" for k, v in RISK_LEVEL_LABELS.items()),
    ("stations", "station_id"): "到达站编号（唯一）",
    ("stations", "name"): "车站名称",
    ("stations", "province"): "省份简称",
    ("stations", "city"): "城市",
    ("stations", "lon"): "经度（WGS-84）",
    ("stations", "lat"): "纬度（WGS-84）",
    ("stations", "county_code"): "所在区县代码；不填时按位置推算",
    ("counties", "county_code"): "区县的 6 位代码",
    ("counties", "county_name"): "区县名称",
    ("counties", "geometry"): "区县边界多边形（仅 GeoPackage 或 GeoJSON）",
    ("receiving_counties", "county_code"): "区县的 6 位代码",
    ("receiving_counties", "county_name"): "区县名称",
    ("receiving_counties", "city_code"): "城市的 4 位代码",
    ("receiving_counties", "city_name"): "城市名称",
    ("receiving_counties", "province_code"): "省份的 2 位代码",
    ("receiving_counties", "province"): "省份简称",
    ("receiving_counties", "geometry"): "区县边界多边形（仅 GeoPackage 或 GeoJSON）",
}

UNIT_ZH = {"degree": "度", "people/day": "人/天", "vehicles": "辆", "h": "小时", "people": "人"}
GUIDE_COLUMNS = ["列名", "含义", "类型", "是否必填", "单位", "示例"]


def kind_zh(c: Column) -> str:
    """The type of a column in Chinese: 文本, 整数, 日期（YYYY-MM-DD）, 6 位数字代码（文本） ..."""
    if c.kind == "code":
        return "或".join(str(d) for d in c.digits) + " 位数字代码（按文本填写，保留开头的 0）"
    if c.kind == "enum":
        return "以下之一：" + " / ".join(c.values)
    names = {"str": "文本", "int": "整数", "float": "数字（可带小数）", "date": "日期（YYYY-MM-DD）",
             "time": "时间（HH:MM）", "bool": "是/否（也可填 true/false、1/0）", "geometry": "几何图形"}
    text = names.get(c.kind, c.kind)
    if c.minimum is not None:
        text += f"，不小于 {c.minimum:g}"
    return text


def template_rows(table: str) -> list[dict[str, str]]:
    """The 填写说明 rows of ``table``: one per column, in Chinese."""
    return [{"列名": c.name, "含义": COLUMN_ZH.get((table, c.name), c.meaning), "类型": kind_zh(c),
             "是否必填": "必填" if c.required else "选填", "单位": UNIT_ZH.get(c.unit, c.unit), "示例": c.example}
            for c in TABLES[table]]


def _example_value(c: Column):
    """The schema's example as the cell a user would type: a number, a date or text."""
    if c.kind == "int":
        return int(c.example)
    if c.kind == "float":
        return float(c.example)
    if c.kind == "date":
        return date.fromisoformat(c.example)
    return c.example


def template_name(table: str) -> str:
    """The file name of a table's template: ``workers.xlsx`` (so the filled-in file is recognised on upload)."""
    return f"{table}.xlsx"


def template_workbook(table: str) -> bytes:
    """The Excel template of ``table`` (a key of :data:`planner.schemas.TABLES` without polygons), as bytes."""
    if table not in TEMPLATE_TABLES:
        raise ValueError(f"数据表 {table} 没有 Excel 模板（区县边界请用 GeoPackage 或 GeoJSON）")
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    cols = TABLES[table]
    wb = Workbook()
    ws = wb.active
    ws.title = "数据"
    guide = {r["列名"]: r for r in template_rows(table)}
    for j, c in enumerate(cols, start=1):
        head = ws.cell(row=1, column=j, value=c.name)
        head.font = Font(bold=c.required)
        head.fill = PatternFill("solid", fgColor="DDEBF7" if c.required else "F2F2F2")
        g = guide[c.name]
        head.comment = Comment(f"{g['含义']}\n类型：{g['类型']}\n{g['是否必填']}", "模板")
        cell = ws.cell(row=2, column=j, value=_example_value(c))
        letter = get_column_letter(j)
        if c.kind == "date":
            cell.number_format = "yyyy-mm-dd"
        elif c.kind in ("int",):
            cell.number_format = "0"
        elif c.kind != "float":
            cell.number_format = "@"  # text: codes, ids, phones keep their leading zeros and all digits
            for r in range(3, 1002):  # the rows a user fills in are text too
                ws.cell(row=r, column=j).number_format = "@"
        if c.kind == "enum":
            dv = DataValidation(type="list", formula1='"' + ",".join(c.values) + '"', allow_blank=not c.required)
            dv.error = "请从下拉列表中选择：" + " / ".join(c.values)
            dv.errorTitle = "取值不对"
            ws.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}1001")
        ws.column_dimensions[letter].width = max(12, min(28, len(c.example) + 6, len(c.name) + 14))
    ws.freeze_panes = "A2"
    info = wb.create_sheet("填写说明")
    info.append(GUIDE_COLUMNS)
    for cell in info[1]:
        cell.font = Font(bold=True)
    for r in template_rows(table):
        info.append([r[k] for k in GUIDE_COLUMNS])
    for letter, width in zip("ABCDEF", (22, 60, 36, 10, 10, 24)):
        info.column_dimensions[letter].width = width
    info.append([])
    info.append(["说明：第一个工作表“数据”的第 1 行是列名（请勿修改），第 2 行是示例（请删除或覆盖）。"
                 "加粗的列必须填写。个人信息仅用于本次返岗包车。"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
