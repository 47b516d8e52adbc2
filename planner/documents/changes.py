"""Change lists (变更名单): after a replan, the people a township or a receiving province must tell.

Made from ``changes.csv`` (:mod:`planner.store.changes`): one Excel workbook
and one PDF per township (``变更名单_<township_code>``, for the official who
phones them) and per destination province (``变更名单_<province>``, for the
receiving side whose arrival manifest changed). Each row: what changed
(新增 / 取消 / 变更), who (name, phone, masked ID: the reader phones them), the
old and the new first trip, seat and boarding time, and why, in Chinese.
Nobody whose plan did not change is listed.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planner.documents.common import CjkPdf, DocData, DocumentBatch, local_time, mask_id, write_excel
from planner.documents.manifest import normalise_province_name
from planner.plan_format import PlanFiles
from planner.store.changes import change_reason_label
from planner.vocab import CHANGE_LABELS

DOC_NAME = "变更名单"
COLUMNS = ["序号", "变更", "人员编号", "姓名", "电话", "身份证号", "原车次", "原座位", "原上车时间",
           "新车次", "新座位", "新上车时间", "原因"]
PDF_WIDTHS = [9, 20, 22, 16, 26, 34, 27, 12, 22, 27, 12, 22, 28]


def _first_boarding(plan: PlanFiles) -> dict[str, str]:
    legs = plan.legs.sort_values(["worker_id", "leg"], kind="stable").drop_duplicates("worker_id")
    return dict(zip(legs["worker_id"].astype(str), legs["board_time"].map(local_time)))


def change_rows(data: DocData, changes: pd.DataFrame, old: PlanFiles) -> pd.DataFrame:
    """Every row of ``changes`` as a list row (columns :data:`COLUMNS` plus ``_township``, ``_province``)."""
    old_time, new_time = _first_boarding(old), _first_boarding(data.plan)
    factory_of: dict[str, str] = {}
    for plan in (old, data.plan):
        w = plan.workers
        factory_of.update(zip(w["worker_id"].astype(str), w["factory_id"].astype(str)))
    province = {str(k): normalise_province_name(str(v)) for k, v in data.factories["province"].items()} \
        if "province" in data.factories.columns else {}
    people = data.people

    def person(wid: str, col: str) -> str:
        if wid not in people.index or col not in people.columns:
            return ""
        v = people.loc[wid, col]
        v = v.iloc[0] if isinstance(v, pd.Series) else v
        return "" if pd.isna(v) else str(v)

    rows = []
    for r in changes.itertuples(index=False):
        wid = str(r.worker_id)
        rows.append({
            "变更": CHANGE_LABELS.get(r.change, r.change), "人员编号": wid, "姓名": person(wid, "name"),
            "电话": person(wid, "phone"), "身份证号": mask_id(person(wid, "id_number")),
            "原车次": str(r.old_trip_id).split(";")[0], "原座位": str(r.old_seat).split(";")[0],
            "原上车时间": old_time.get(wid, "") if r.old_trip_id else "",
            "新车次": str(r.new_trip_id).split(";")[0], "新座位": str(r.new_seat).split(";")[0],
            "新上车时间": new_time.get(wid, "") if r.new_trip_id else "",
            "原因": change_reason_label(str(r.reason)),
            "_township": str(r.township_code), "_province": province.get(factory_of.get(wid, ""), ""),
        })
    out = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "序号"] + ["_township", "_province"])
    out.insert(0, "序号", [str(i) for i in range(1, len(out) + 1)])
    return out


def _pdf(path: Path, title: str, frame: pd.DataFrame) -> Path:
    pdf = CjkPdf(title)
    pdf.page()
    pdf.heading(f"{title}：共 {len(frame)} 人")
    if frame.empty:
        pdf.text("本次重新规划没有需要通知的人员。")
    else:
        counts = frame["变更"].value_counts()
        pdf.text("，".join(f"{k} {v} 人" for k, v in counts.items()) + "。请逐一电话通知。")
        pdf.table(frame[COLUMNS], widths=PDF_WIDTHS, size=7)
    pdf.signatures(["通知人", "日期"])
    return pdf.save(path)


def write_change_lists(data: DocData, changes: pd.DataFrame, out_dir: Path, *, old: PlanFiles) -> list[Path]:
    """Write ``变更名单_<township>`` and ``变更名单_<province>`` (.xlsx and .pdf) for everyone in ``changes``."""
    out_dir = Path(out_dir)
    rows = change_rows(data, changes, old)
    batch = DocumentBatch()
    groups = [(f"乡镇{code}", code, g) for code, g in rows.groupby("_township", sort=True) if code]
    groups += [(prov, prov, g) for prov, g in rows.groupby("_province", sort=True) if prov]
    for label, key, g in groups:
        frame = g[COLUMNS].reset_index(drop=True).assign(序号=[str(i) for i in range(1, len(g) + 1)])
        title = f"{DOC_NAME} · {label} · {data.scenario.name}"
        xlsx, pdf = out_dir / f"{DOC_NAME}_{key}.xlsx", out_dir / f"{DOC_NAME}_{key}.pdf"
        batch.write(xlsx, lambda p, frame=frame, title=title: write_excel(p, {DOC_NAME: frame}, title=title))
        batch.write(pdf, lambda p, frame=frame, title=title: _pdf(p, title, frame))
    return batch.result()
