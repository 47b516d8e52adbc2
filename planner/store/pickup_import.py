"""``planner boarding import``: read a ticked pick-up list (乘车人员名单 workbook) back into the store.

The workbook is the one ``planner export --township`` writes
(:mod:`planner.documents.pickup`): one sheet per day, and the sheet
``名单信息`` naming the township and the plan version. An official fills in
two columns per row:

* ``上车确认``: boarded ``✓ √ ✔ 是 1 Y 到 已上车``; absent ``缺 否 0 × ✗ N 未到``;
  ``发热`` (fever); ``拒`` / ``拒绝`` (refused). Case and spaces do not matter.
* ``体温``: a number in °C (``36.5``, ``36.5℃``). At or above the scenario's
  fever threshold the record is ``fever`` whatever was ticked.

A row with both empty is not recorded (nobody ticked it). A row is matched to
its worker by ``车次`` and ``座位`` (one person per seat of a trip), so a list
can be re-sorted or cut without losing anyone. A whole workbook is refused
when it is not a pick-up list, names no plan version, or names another plan
version than ``--plan``; a row is refused (and named by sheet and row) when
its trip or seat is not in the plan, its trip is not published, its worker is
of another township, its mark is unknown or its temperature is not a number
in 34-43 °C; the other rows are recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from planner.documents.pickup import INFO_PLAN, INFO_SHEET, INFO_TOWNSHIP
from planner.plan_format import PlanFiles
from planner.store.boarding import BoardingInput, BoardingProblem, BoardingResult, PlanSeats, record_boarding
from planner.store.db import Store, StoreError

BOARDED_MARKS = frozenset({"✓", "√", "✔", "☑", "是", "1", "y", "yes", "到", "已到", "上车", "已上车"})
ABSENT_MARKS = frozenset({"缺", "否", "0", "×", "✗", "✘", "x", "n", "no", "未到", "没到"})
FEVER_MARKS = frozenset({"发热", "热", "发烧"})
REFUSED_MARKS = frozenset({"拒", "拒绝", "拒乘", "拒绝乘车"})
NEEDED = ("车次", "座位", "上车确认", "体温")


def mark_status(mark: object) -> str | None:
    """The status a 上车确认 mark means: 'boarded', 'absent', 'fever', 'refused', '' (empty) or None (unknown)."""
    text = "" if mark is None else str(mark).strip().lower()
    if text.endswith(".0") and text[:-2].isdigit():  # a number typed into a cell Excel stored as 1.0
        text = text[:-2]
    if text == "":
        return ""
    for marks, status in ((BOARDED_MARKS, "boarded"), (ABSENT_MARKS, "absent"), (FEVER_MARKS, "fever"),
                          (REFUSED_MARKS, "refused")):
        if text in marks:
            return status
    return None


@dataclass(frozen=True)
class ImportResult:
    township_code: str
    rows_read: int
    not_filled: int
    result: BoardingResult


def _cell(v: object) -> object:
    return None if v is None or (isinstance(v, float) and pd.isna(v)) else v


def read_list(path: Path) -> tuple[dict[str, str], list[tuple[str, int, dict[str, object]]]]:
    """(info, rows): the workbook's 名单信息 and every data row as (sheet, Excel row number, {column: value})."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable file becomes one message
        msg = f"{path.name}：无法读取 Excel 文件（{type(exc).__name__}），请上传导出的乘车人员名单 (.xlsx)"
        raise StoreError(msg) from None
    try:
        if INFO_SHEET not in wb.sheetnames:
            msg = (f"{path.name}：没有“{INFO_SHEET}”工作表，无法确认乡镇和计划版本；请用 planner export --township "
                   "重新导出名单后填写 (not a pick-up list of this planner, or an older one)")
            raise StoreError(msg)
        info = {}
        for row in wb[INFO_SHEET].iter_rows(min_row=1, max_row=20, max_col=2, values_only=True):
            if row and row[0] is not None:
                info[str(row[0]).strip()] = "" if len(row) < 2 or row[1] is None else str(row[1]).strip()
        rows: list[tuple[str, int, dict[str, object]]] = []
        for name in wb.sheetnames:
            if name == INFO_SHEET:
                continue
            it = wb[name].iter_rows(values_only=True)
            header = next(it, None)
            if header is None:
                continue
            cols = [str(h).strip() if h is not None else "" for h in header]
            missing = [c for c in NEEDED if c not in cols]
            if missing:
                msg = f"{path.name} 工作表“{name}”：缺少列 {'、'.join(missing)}，不是乘车人员名单"
                raise StoreError(msg)
            for i, values in enumerate(it, start=2):
                if values is None or all(v is None or str(v).strip() == "" for v in values):
                    continue
                rows.append((name, i, {c: _cell(v) for c, v in zip(cols, values) if c}))
    finally:
        wb.close()
    return info, rows


def import_pickup_list(store: Store, plan: PlanFiles, path: Path, *, by: str, fever_threshold_c: float,
                       township: str | None = None) -> ImportResult:
    """Record the ticked rows of one pick-up list workbook (see the module docstring).

    ``township``: refuse the workbook (nothing recorded) unless it is that township's list.
    """
    expected_township = township
    path = Path(path)
    info, rows = read_list(path)
    plan_id = info.get(INFO_PLAN, "")
    township = info.get(INFO_TOWNSHIP, "")
    if not plan_id:
        msg = f"{path.name}：名单未写明计划版本，无法导入"
        raise StoreError(msg)
    if plan_id != plan.plan_id:
        msg = (f"{path.name}：该名单来自计划版本 {plan_id[:20]}，而 --plan 给出的计划版本是 {plan.plan_id}；"
               "请用导出该名单的计划目录导入，或重新导出名单 (list from another plan version; nothing recorded)")
        raise StoreError(msg)
    if expected_township and township != expected_township:
        msg = (f"{path.name}：这是乡镇 {township[:20]} 的名单，不是 --township {expected_township} 的名单，"
               "未导入 (list of another township)")
        raise StoreError(msg)
    known_towns = set(plan.workers["township_code"].astype(str))
    if township not in known_towns:
        msg = f"{path.name}：名单的乡镇代码 {township[:20]} 不在计划中，无法导入"
        raise StoreError(msg)
    legs = plan.legs[["worker_id", "trip_id", "seat", "leg"]].astype({"worker_id": str, "trip_id": str, "seat": str})
    first = legs[legs["leg"] == 1]
    by_seat: dict[tuple[str, str], list[str]] = {}
    for w, t, s in zip(first["worker_id"], first["trip_id"], first["seat"]):
        by_seat.setdefault((t, s.strip().upper()), []).append(w)
    problems: list[BoardingProblem] = []
    inputs: list[BoardingInput] = []
    not_filled = 0
    for sheet, row, cells in rows:
        where = f"{path.name} 工作表“{sheet}”第 {row} 行"
        mark, temp = cells.get("上车确认"), cells.get("体温")
        status = mark_status(mark)
        if status == "" and (temp is None or str(temp).strip() == ""):
            not_filled += 1
            continue
        if status is None:
            problems.append(BoardingProblem(where, f"上车确认“{str(mark)[:20]}”无法识别（已上车填 ✓ 或 是，未到填 缺 "
                                                   "或 否，发热填 发热，拒绝乘车填 拒），未记录"))
            continue
        trip = "" if cells.get("车次") is None else str(cells["车次"]).strip()
        seat = "" if cells.get("座位") is None else str(cells["座位"]).strip().upper()
        who = by_seat.get((trip, seat), [])
        if len(who) != 1:
            text = "计划中没有" if not who else "计划中有多人对应"
            problems.append(BoardingProblem(where, f"{text}车次 {trip[:40]} 座位 {seat[:10]} 的乘车人员，未记录"))
            continue
        inputs.append(BoardingInput(trip, who[0], status, temp, f"{sheet}!{row}", f"{sheet}!{row}"))
    seats = PlanSeats.load(store, plan.plan_id, plan.trips["trip_id"].astype(str))
    res = record_boarding(store, seats, inputs, by=by, fever_threshold_c=fever_threshold_c,
                          source=f"import:{path.name}", township=township)
    # name the file and row in the problems of the store's checks too
    fixed = [BoardingProblem(f"{path.name} 工作表“{p.where.split('!')[0]}”第 {p.where.split('!')[1]} 行"
                             if "!" in p.where else p.where, p.message) for p in res.problems]
    return ImportResult(township, len(rows), not_filled, BoardingResult(res.applied, problems + fixed))
