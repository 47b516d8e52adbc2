"""Township pick-up lists (乘车人员名单): who boards where and when, to tick off at boarding.

One Excel workbook and one PDF per township, ``乘车人员名单_<township_code>.xlsx/.pdf``.
Each planned worker of the township appears once, at their first leg (``leg == 1``):
the village pick-up point of a feeder or township-direct coach, its departure time,
trip, vehicle and seat. Rows are grouped by day (local date of the boarding time),
then by time and pick-up point. A township's files hold only that township's workers.

Personal data (names, ID numbers, phones) goes only into these files, never into
logs or error messages; ID numbers are masked (first 6 and last 4 characters).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from planner.plan_format import TZ
from planner.documents.common import (CjkPdf, DocData, DocumentBatch, as_dates, cell_text, mask_id, memo,
                                      person_fields, safe_codes, write_excel)

DOC_NAME = "乘车人员名单"

COLUMNS = ["序号", "日期", "上车点", "上车时间", "车次", "车辆", "座位", "姓名", "身份证号", "电话",
           "村", "用工单位", "目的地", "上车确认", "体温"]

# The PDF leaves out 日期 (each page is one day and says so in its heading).
PDF_COLUMNS = [c for c in COLUMNS if c != "日期"]
# PDF column widths in mm, in the order of PDF_COLUMNS (A4 landscape, 7.5 pt).
PDF_WIDTHS = [9, 34, 13, 23, 23, 10, 12, 30, 20, 26, 28, 18, 13, 12]

SIGNATURES = ["乡镇负责人", "带队人", "驾驶员"]

UNKNOWN_DAY = "日期不详"





def seat_key(seat: str) -> tuple[int, str]:
    """Sort key of a seat like '12C': row number first, then the letter."""
    m = re.match(r"^\s*(\d+)\s*([A-Za-z]*)\s*$", seat or "")
    if not m:
        return (10**6, seat or "")
    return (int(m.group(1)), m.group(2).upper())


def destination_name(province: str, city: str) -> str:
    """Province and city as one place name: '广东东莞市', but '上海市' (not '上海上海市')."""
    short = province.rstrip("省市")
    if city.startswith(short):
        return city or province
    return province + city


def township_label(data: DocData, code: str) -> str:
    """'name（code）' when the geodata names the township, else '乡镇（code）'."""
    name = data.townships.get(code, "")
    return f"{name}（{code}）" if name else f"乡镇（{code}）"


def _shared_tables(data: DocData) -> tuple:
    """What every township's list reads: first legs, trip -> vehicle, village names, factory (name, destination)."""
    plan = data.plan
    legs = plan.legs
    first = legs[legs["leg"] == 1].copy()
    first["worker_id"] = first["worker_id"].astype(str)
    first = first.drop_duplicates("worker_id")
    first = first[["worker_id", "trip_id", "seat", "board_place_id", "board_time"]]
    vehicles = dict(zip(plan.trips["trip_id"].astype(str), plan.trips["vehicle_id"].astype(str)))
    village_names: dict[str, str] = {}
    if "village_name" in data.villages.columns:
        vn = data.villages["village_name"]
        for k, v in zip(vn.index, vn):
            village_names.setdefault(str(k), cell_text(v))
    factory_info: dict[str, tuple[str, str]] = {}
    for fid, f in data.factories.iterrows():
        if str(fid) in factory_info:
            continue
        factory_info[str(fid)] = (cell_text(f.get("name")),
                                  destination_name(cell_text(f.get("province")), cell_text(f.get("city"))))
    return first, vehicles, village_names, factory_info


def pickup_rows(data: DocData, township_code: str) -> pd.DataFrame:
    """The pick-up list of one township: one row per planned worker, columns :data:`COLUMNS`.

    Every cell is text. Rows are sorted by day, boarding time, pick-up point, trip and
    seat; ``序号`` counts from 1 within each day.
    """
    plan = data.plan
    w = plan.workers
    w = w[(w["status"].astype(str) == "planned") & (w["township_code"].astype(str) == str(township_code))].copy()
    w["worker_id"] = w["worker_id"].astype(str)
    w = w.drop_duplicates("worker_id")

    first, vehicles, village_names, factory_info = memo(data, "pickup_tables", lambda: _shared_tables(data))
    rows = w[["worker_id", "village_code", "factory_id"]].merge(first, on="worker_id", how="left")
    people = person_fields(data)

    times = pd.to_datetime(rows["board_time"])
    if len(times) and times.dt.tz is not None:
        times = times.dt.tz_convert(TZ)
    records = []
    for i, r in enumerate(rows.itertuples(index=False)):
        t = times.iloc[i]
        has_time = not pd.isna(t)
        day = t.strftime("%Y-%m-%d") if has_time else UNKNOWN_DAY
        hhmm = t.strftime("%H:%M") if has_time else ""
        place_id = cell_text(r.board_place_id)
        place_name = data.places.get(place_id, "")
        place = f"{place_name}（{place_id}）" if place_name else place_id
        trip = cell_text(r.trip_id)
        wid = r.worker_id
        name, id_number, phone = people.get(wid, ("", "", ""))  # duplicated worker ids: the first
        village = village_names.get(cell_text(r.village_code), "")
        factory_id = cell_text(r.factory_id)
        factory, destination = factory_info.get(factory_id, ("", ""))
        records.append({
            "_t": t.value if has_time else 2**62,  # unknown times last
            "_seat": seat_key(cell_text(r.seat)),
            "日期": day, "上车点": place, "上车时间": hhmm, "车次": trip, "车辆": vehicles.get(trip, ""),
            "座位": cell_text(r.seat), "姓名": name, "身份证号": mask_id(id_number), "电话": phone,
            "村": village, "用工单位": factory or factory_id, "目的地": destination,
            "上车确认": "", "体温": "",
        })
    if not records:
        return pd.DataFrame(columns=COLUMNS)
    df = pd.DataFrame.from_records(records)
    df = df.sort_values(["日期", "_t", "上车点", "车次", "_seat"], kind="stable").reset_index(drop=True)
    df["序号"] = (df.groupby("日期").cumcount() + 1).astype(str)
    return df[COLUMNS]


def excel_typed(rows: pd.DataFrame) -> pd.DataFrame:
    """A day's rows for the workbook: 序号 a number, 日期 a date, 上车时间 a time (columns and order unchanged)."""
    import datetime as dt

    out = rows.copy()
    out["序号"] = pd.to_numeric(out["序号"], errors="coerce").astype("Int64")
    out["日期"] = as_dates(out["日期"])
    out["上车时间"] = [dt.time(int(x[:2]), int(x[3:5])) if re.fullmatch(r"\d{2}:\d{2}", str(x)) else x
                     for x in out["上车时间"]]
    return out


def _groups_text(day_rows: pd.DataFrame) -> list[str]:
    """One line per (time, pick-up point, trip) with its head-count, in list order."""
    counts: dict[tuple, int] = {}  # in order of first appearance, as groupby(sort=False)
    for key in zip(*(day_rows[c].tolist() for c in ("上车时间", "上车点", "车次", "车辆"))):
        counts[key] = counts.get(key, 0) + 1
    return [f"{hhmm}  {place}  车次 {trip}  车辆 {vehicle}：{n} 人"
            for (hhmm, place, trip, vehicle), n in counts.items()]


def _write_pdf(path: Path, data: DocData, code: str, frame: pd.DataFrame) -> Path:
    """A page (or more) per day: heading, pick-up points summary, the table, signature lines."""
    label = township_label(data, code)
    pdf = CjkPdf(f"{DOC_NAME}　{label}")
    if frame.empty:
        pdf.page()
        pdf.heading(f"{label}：本计划无安排乘车人员")
        return pdf.save(path)
    # township, day and page number on every page, so loose pages can be put back in order
    pdf.footer_prefix = f"{DOC_NAME}　{label}"
    for day, rows in frame.groupby("日期", sort=False):
        pdf.page()  # closes the previous page, whose footer still shows the previous day
        pdf.footer_prefix = f"{DOC_NAME}　{label}　{day}"
        pdf.heading(f"乡镇：{label}    日期：{day}    乘车人数：{len(rows)} 人")
        pdf.text("上车点汇总：\n" + "\n".join(_groups_text(rows)))
        table = rows[PDF_COLUMNS].copy()
        # the pick-up point's name over its code, so the column stays narrow
        table["上车点"] = table["上车点"].str.replace("（", "\n（", n=1, regex=False)
        pdf.table(table, widths=PDF_WIDTHS, size=7.5)
        pdf.signatures(SIGNATURES)
    return pdf.save(path)


#: the sheet that says which township and plan version a workbook is for (read back by `planner boarding import`)
INFO_SHEET = "名单信息"
INFO_TOWNSHIP = "乡镇代码"
INFO_PLAN = "计划版本"
MARKS_HELP = ("上车确认填写：已上车 ✓ √ 是 1；未到 缺 否 0 ×；发热 发热；拒绝乘车 拒。体温填数字（℃），"
              "体温达到发热标准的自动记为发热。")


def list_info_writer(code: str, plan_id: str):
    """A ``write_excel`` finisher adding :data:`INFO_SHEET`: the township code, the plan version, how to tick."""
    def finish(book) -> None:  # noqa: ANN001 - an xlsxwriter workbook
        ws = book.add_worksheet(INFO_SHEET)
        for i, (k, v) in enumerate([(INFO_TOWNSHIP, code), (INFO_PLAN, plan_id), ("填写说明", MARKS_HELP)]):
            ws.write_string(i, 0, k)
            ws.write_string(i, 1, str(v))
        ws.set_column(0, 0, 12)
        ws.set_column(1, 1, 90)
    return finish


def write_pickup_lists(data: DocData, out_dir: Path, townships: list[str] | None = None, *,
                       on_file: Callable[[Path, bool], None] | None = None) -> list[Path]:
    """Write ``乘车人员名单_<code>.xlsx`` and ``.pdf`` for each township into ``out_dir``.

    ``townships=None`` means every township with planned workers. A named township
    without planned workers still gets both files, saying so. Returns the paths
    written, the workbook then the PDF of each township, in township order.

    Each file is written atomically; a document that fails does not stop the
    others: :class:`planner.documents.common.ExportError` then names the failed
    files and carries the written ones. An invalid township code is refused
    (ValueError) before anything is written. ``on_file(path, ok)`` is called
    after each file (a progress bar).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if townships is None:
        w = data.plan.workers
        codes = w.loc[w["status"].astype(str) == "planned", "township_code"].astype(str)
        townships = sorted(c for c in codes.unique() if c and c != "nan")
    townships = safe_codes(townships, "乡镇")
    batch = DocumentBatch(on_file=on_file)
    for code in townships:
        xlsx, pdf = out_dir / f"{DOC_NAME}_{code}.xlsx", out_dir / f"{DOC_NAME}_{code}.pdf"
        try:
            frame = pickup_rows(data, code)
        except Exception as exc:  # noqa: BLE001 - the other townships are still written
            batch.fail([xlsx, pdf], exc)
            continue
        label = township_label(data, code)
        if frame.empty:
            sheets = {"乘车人员名单": frame}
        else:
            sheets = {day: excel_typed(rows) for day, rows in frame.groupby("日期", sort=False)}
        finish = list_info_writer(code, data.plan.plan_id)
        batch.write(xlsx, lambda p, sheets=sheets, label=label, finish=finish:
                    write_excel(p, sheets, title=f"{DOC_NAME} {label}", finish=finish))
        batch.write(pdf, lambda p, code=code, frame=frame: _write_pdf(p, data, code, frame))
    return batch.result()
