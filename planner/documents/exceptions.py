"""Named exception lists (未安排人员名单): who is not on a vehicle, why, and what to do.

One Excel workbook and one PDF per township (9-digit code) or county (6-digit
code), ``未安排人员名单_<code>.xlsx/.pdf``. Each row is one ``unassigned`` row of
the plan's ``workers.csv`` of that township or county (rejected input rows
included, matched to the input file by ``source_row``, so nobody is left out):
name, masked ID number, phone, village, employer, destination, the reason in
Chinese (:mod:`planner.vocab`) and what the township or county can do about it
(:data:`ACTIONS_ZH`), with the worker id and the input row.

The plan format holds no "date that would have been possible" for an
unassigned worker, so the lists have no such column (``docs/documents.md``).

Personal data goes only into these files, never into logs or error messages;
ID numbers are masked (first 6 and last 4 characters).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from planner.documents.common import CjkPdf, DocData, DocumentBatch, cell_text, mask_id, safe_codes, write_excel
from planner.documents.pickup import destination_name
from planner.vocab import UNASSIGNED_REASONS, reason_label

DOC_NAME = "未安排人员名单"

#: What the township or county can do, per reason (Chinese; the English of planner.vocab for the planner).
ACTIONS_ZH: dict[str, str] = {
    "rejected_input": "按校验报告改正该人员的登记信息（见“说明”列的问题代码），重新规划",
    "no_recognised_health_proof": "目的省不认可其现有证明：请其到乡镇卫生院办理健康申报证明",
    "health_proof_expired": "健康证明在可出发日前过期：请其重新办理健康证明",
    "job_not_confirmed": "请与用工单位联系确认岗位",
    "destination_closed": "目的地在其可到达的日期均封闭：等待解封，或联系用工单位另行安排",
    "no_vehicle_before_needed_by": "用工日期前无车位：区县增派大巴或申请专列车厢",
    "no_vehicle_before_proof_expiry": "健康证明有效期内无车位：增派大巴，或请其重新办理健康证明",
    "ready_after_window": "就绪日期晚于本计划期：列入下一期计划",
    "ready_after_needed_by": "就绪日期晚于用工日期：与用工单位协商到岗日期",
    "group_member_ineligible": "同行家庭成员不能出行：联系家庭，确认是否分开出行",
    "absent_at_boarding": "登记上车时未到：电话联系本人，下次重新规划时另行安排座位",
    "fever_at_boarding": "上车时发热，已交当地卫生部门：康复并重新办理健康证明后方可出行",
    "refused_at_boarding": "上车时拒绝乘车：询问本人是否仍要出行",
    "no_coach_free": "可出行日全县大巴均已派出：增派大巴或申请专列",
    "terminal_capacity": "客运站当日接待能力已满：提高接待能力或改用其他枢纽",
    "no_feeder_in_time": "接驳车无法按时送达客运站：增派接驳车（或配备换班驾驶员），或放宽候车时间",
    "feeder_ride_too_long_for_train": "专列有空位但接驳车程过长：放宽接驳车程上限，或改派大巴",
    "no_road_to_village": "路网中无道路通达本村：核对村庄位置或补充路网",
}
DEFAULT_ACTION = "请联系区县人社局核实"

TOWNSHIP_COLUMNS = ["序号", "姓名", "身份证号", "电话", "村", "用工单位", "目的地", "未安排原因", "处理建议",
                    "说明", "人员编号", "输入行号"]
COUNTY_COLUMNS = ["序号", "乡镇", *TOWNSHIP_COLUMNS[1:]]
SUMMARY_COLUMNS = ["未安排原因", "原因代码", "人数", "处理建议"]
# PDF column widths (relative), in the order of the columns without 说明/输入行号 (kept in Excel only)
PDF_DROP = ("说明", "输入行号")
PDF_WIDTHS = {"序号": 0.7, "乡镇": 2.0, "姓名": 1.4, "身份证号": 2.4, "电话": 1.9, "村": 1.7, "用工单位": 2.4,
              "目的地": 1.6, "未安排原因": 2.3, "处理建议": 4.5, "人员编号": 1.5}



def action_zh(code: str) -> str:
    """What to do about an unassigned reason, in Chinese."""
    return ACTIONS_ZH.get(str(code), DEFAULT_ACTION)




def unassigned(data: DocData) -> pd.DataFrame:
    """Every unassigned row of the plan, with the person and place columns the lists show.

    Internal column names (English): source_row, worker_id, township_code,
    county_code, reason, name, id_masked, phone, village, employer,
    destination, reason_zh, action, detail. One row per ``workers.csv`` row.
    """
    w = data.plan.workers
    un = w[w["status"].astype(str) == "unassigned"].copy()
    for col in ("reason_detail", "village_code", "township_code", "county_code", "factory_id", "worker_id"):
        if col not in un.columns:
            un[col] = ""
        un[col] = un[col].map(cell_text)
    rows = un["source_row"].astype(int)
    people = data.people_by_row
    def person(col: str) -> pd.Series:
        if people is None or col not in people.columns:
            return pd.Series([""] * len(un), index=un.index)
        return rows.map(people[col]).map(cell_text)
    village_names = {str(k): cell_text(v) for k, v in data.villages["village_name"].items()} \
        if "village_name" in data.villages.columns else {}
    fac = data.factories
    factory_names = {str(k): cell_text(v) for k, v in fac["name"].items()} if "name" in fac.columns else {}
    dests = {str(k): destination_name(cell_text(p), cell_text(c))
             for k, p, c in zip(fac.index, fac.get("province", pd.Series("", index=fac.index)),
                                fac.get("city", pd.Series("", index=fac.index)))}
    out = pd.DataFrame({
        "source_row": rows,
        "worker_id": un["worker_id"],
        "township_code": un["township_code"],
        "county_code": un["county_code"],
        "reason": un["reason"].map(cell_text),
        "name": person("name"),
        "id_masked": person("id_number").map(mask_id),
        "phone": person("phone"),
        "village": un["village_code"].map(lambda v: village_names.get(v, v)),
        "employer": un["factory_id"].map(lambda f: factory_names.get(f, f)),
        "destination": un["factory_id"].map(lambda f: dests.get(f, "")),
        "detail": un["reason_detail"],
    })
    out["reason_zh"] = out["reason"].map(reason_label)
    out["action"] = out["reason"].map(action_zh)
    # the county code of a rejected row may be unreadable: take it from the township code when that has 9 digits
    fill = (out["county_code"] == "") & out["township_code"].str.fullmatch(r"\d{9}")
    out.loc[fill, "county_code"] = out.loc[fill, "township_code"].str[:6]
    order = {c: i for i, c in enumerate(UNASSIGNED_REASONS)}
    out["_r"] = out["reason"].map(lambda r: order.get(r, len(order)))
    out = out.sort_values(["_r", "township_code", "village", "source_row"], kind="stable").drop(columns="_r")
    return out.reset_index(drop=True)


def _township_name(data: DocData, code: str) -> str:
    name = data.townships.get(code, "")
    return f"{name}（{code}）" if name else code


def select_rows(rows: pd.DataFrame, code: str | None) -> pd.DataFrame:
    """The rows of :func:`unassigned` of one township (9 digits) or county (6 digits); all when ``code`` is None."""
    if code is None:
        return rows
    code = str(code)
    return rows[(rows["county_code"] == code) if len(code) == 6 else (rows["township_code"] == code)]


def exception_rows(data: DocData, code: str | None, *, rows: pd.DataFrame | None = None) -> pd.DataFrame:
    """The list of one township (9-digit code) or county (6-digit code): columns as shown to the reader.

    ``code=None`` lists every unassigned row of the plan (county columns).
    ``rows`` is :func:`unassigned` when the caller already has it (it is read
    once for many lists). 序号 and 输入行号 are integers.
    """
    un = unassigned(data) if rows is None else rows
    county = code is None or len(str(code)) == 6
    sub = select_rows(un, code)
    frame = pd.DataFrame({
        "序号": range(1, len(sub) + 1),
        "乡镇": [_township_name(data, t) for t in sub["township_code"]],
        "姓名": sub["name"].to_numpy(), "身份证号": sub["id_masked"].to_numpy(), "电话": sub["phone"].to_numpy(),
        "村": sub["village"].to_numpy(), "用工单位": sub["employer"].to_numpy(),
        "目的地": sub["destination"].to_numpy(), "未安排原因": sub["reason_zh"].to_numpy(),
        "处理建议": sub["action"].to_numpy(), "说明": sub["detail"].to_numpy(),
        "人员编号": sub["worker_id"].to_numpy(), "输入行号": sub["source_row"].astype(int).to_numpy(),
    })
    return frame[COUNTY_COLUMNS if county else TOWNSHIP_COLUMNS]


def summary_rows(frame: pd.DataFrame, reasons: pd.Series) -> pd.DataFrame:
    """People per reason, in the order of :data:`planner.vocab.UNASSIGNED_REASONS`."""
    counts = reasons.value_counts()
    rows = [{"未安排原因": reason_label(c), "原因代码": c, "人数": int(counts[c]), "处理建议": action_zh(c)}
            for c in [*UNASSIGNED_REASONS, *sorted(set(counts.index) - set(UNASSIGNED_REASONS))] if c in counts]
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def area_label(data: DocData, code: str) -> str:
    """'name（code）' of a township or county, '乡镇（code）' / '区县（code）' when unnamed."""
    if len(code) == 6:
        c = data.tables.get("counties")
        names = dict(zip(c["county_code"].astype(str), c["county_name"].astype(str))) \
            if c is not None and "county_name" in c.columns else {}
        return f"{names[code]}（{code}）" if code in names else f"区县（{code}）"
    name = data.townships.get(code, "")
    return f"{name}（{code}）" if name else f"乡镇（{code}）"


def _write_pdf(path: Path, title: str, label: str, frame: pd.DataFrame, summary: pd.DataFrame) -> Path:
    pdf = CjkPdf(title)
    pdf.page()
    if frame.empty:
        pdf.heading(f"{label}：本计划中没有未安排的人员")
        return pdf.save(path)
    pdf.heading(f"{label}：未安排 {len(frame)} 人。请逐一电话联系，告知原因和办理事项。")
    pdf.table(summary[["未安排原因", "人数", "处理建议"]], widths=[2.5, 0.8, 6.0])
    pdf.text("身份证号已遮蔽；说明列（校验问题代码）与输入行号见 Excel。本计划文件不含“可出行日期”，故未列出。")
    cols = [c for c in frame.columns if c not in PDF_DROP]
    table = frame[cols].copy()
    if "乡镇" in table.columns:  # the township's name over its code, so the column stays narrow
        table["乡镇"] = table["乡镇"].str.replace("（", "\n（", n=1, regex=False)
    pdf.table(table, widths=[PDF_WIDTHS[c] for c in cols], size=7)
    pdf.signatures(["核对人"])
    return pdf.save(path)


def write_exception_lists(data: DocData, out_dir: Path, codes: list[str], *, rows: pd.DataFrame | None = None,
                          on_file: Callable[[Path, bool], None] | None = None) -> list[Path]:
    """Write ``未安排人员名单_<code>.xlsx`` and ``.pdf`` for each township or county code into ``out_dir``.

    A 9-digit code is a township, a 6-digit one a county. A code without
    unassigned people still gets both files, saying so. Returns the paths
    written (Excel, then PDF, per code). A failing document does not stop the
    others (:class:`planner.documents.common.ExportError`); an invalid code is
    refused (ValueError) before anything is written. ``rows``: :func:`unassigned` of
    ``data``, when the caller has it already;
    ``on_file(path, ok)`` is called after each file.
    """
    out_dir = Path(out_dir)
    codes = safe_codes(codes, "乡镇/区县")
    rows = unassigned(data) if rows is None else rows
    batch = DocumentBatch(on_file=on_file)
    for code in codes:
        xlsx, pdf = out_dir / f"{DOC_NAME}_{code}.xlsx", out_dir / f"{DOC_NAME}_{code}.pdf"
        try:
            frame = exception_rows(data, code, rows=rows)
            county = len(code) == 6
            reasons = rows.loc[(rows["county_code"] if county else rows["township_code"]) == code, "reason"]
            summary = summary_rows(frame, reasons)
        except Exception as exc:  # noqa: BLE001 - the other lists are still written
            batch.fail([xlsx, pdf], exc)
            continue
        label = area_label(data, code)
        title = f"{DOC_NAME}　{label}　{data.scenario.name}"
        sheets = {"未安排人员": frame, "原因汇总": summary}
        batch.write(xlsx, lambda p, sheets=sheets, title=title: write_excel(p, sheets, title=title))
        batch.write(pdf, lambda p, title=title, label=label, frame=frame, summary=summary:
                    _write_pdf(p, title, label, frame, summary))
    return batch.result()


def exception_codes(data: DocData, *, townships: list[str] | None = None, county: str | None = None,
                    all_townships: bool = False) -> list[str]:
    """The township and county codes to write lists for, from the export options.

    ``all_townships``: every township with an unassigned row (and each of their counties).
    """
    codes: list[str] = []
    if all_townships:
        un = unassigned(data)
        ts = sorted(c for c in un["township_code"].unique() if c)
        codes += ts + sorted({c for c in un["county_code"].unique() if c})
    codes += [str(t) for t in townships or []]
    if county:
        codes.append(str(county))
    return list(dict.fromkeys(codes))
