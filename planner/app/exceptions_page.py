"""The unassigned people of a county or township in the app (issue 15 section 1): table, filters, Excel.

The rows are those of the exception lists (:mod:`planner.documents.exceptions`),
read from the plan and the scenario only: name, masked ID number, phone, village,
employer, destination, the reason and what to do, in Chinese. The download is
the same workbook as ``planner export --exceptions`` writes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd

from planner.documents.common import DocData, excel_safe_frame, write_excel
from planner.documents.exceptions import (
    DOC_NAME,
    area_label,
    exception_rows,
    select_rows,
    summary_rows,
    unassigned,
)

ALL = "__all__"
#: The columns the app shows (序号, 说明 and 输入行号 stay in the Excel file).
SHOWN = ["乡镇", "姓名", "身份证号", "电话", "村", "用工单位", "目的地", "未安排原因", "处理建议", "人员编号"]


def unassigned_table(data: DocData, code: str | None) -> pd.DataFrame:
    """The unassigned people of a township (9 digits), a county (6 digits) or all (None), as shown."""
    frame = exception_rows(data, code)
    return frame[[c for c in SHOWN if c in frame.columns]].reset_index(drop=True)


def filter_table(frame: pd.DataFrame, *, reasons: list[str] | None = None, place_column: str | None = None,
                 place: str | None = None) -> pd.DataFrame:
    """Rows whose 未安排原因 is one of ``reasons`` (all when empty) and whose ``place_column`` is ``place``."""
    out = frame
    if reasons:
        out = out[out["未安排原因"].isin(reasons)]
    if place_column and place not in (None, ALL):
        out = out[out[place_column] == place]
    return out.reset_index(drop=True)


def exception_excel(data: DocData, code: str | None) -> bytes:
    """The exception-list workbook of a township, county or (None) the whole plan, as bytes."""
    rows = unassigned(data)
    frame = exception_rows(data, code, rows=rows)
    summary = summary_rows(frame, select_rows(rows, code)["reason"])
    label = "全部区县" if code is None else area_label(data, str(code))
    with tempfile.TemporaryDirectory(prefix="planner-app-") as tmp:
        path = Path(tmp) / "list.xlsx"
        write_excel(path, {"未安排人员": frame, "原因汇总": summary}, title=f"{DOC_NAME}　{label}　{data.scenario.name}")
        return path.read_bytes()


def show_unassigned(data: DocData, code: str | None, key: str) -> None:
    """The section: count, filters (reason; 乡镇 for a county, 村 for a township), table, Excel download."""
    import streamlit as st

    table = unassigned_table(data, code)
    st.subheader(f"未安排人员名单（{len(table):,} 人）")
    if table.empty:
        st.caption("所选范围内没有未安排的人员。")
        return
    place_column = "村" if code is not None and len(str(code)) == 9 else "乡镇"
    left, right = st.columns(2)
    reasons = left.multiselect("按未安排原因筛选", sorted(table["未安排原因"].unique()), key=f"{key}-reasons",
                               placeholder="全部原因")
    places = sorted(table[place_column].unique())
    place = right.selectbox(f"按{place_column}筛选", [ALL, *places], key=f"{key}-place",
                            format_func=lambda p: f"全部{place_column}" if p == ALL else p)
    shown = filter_table(table, reasons=reasons, place_column=place_column, place=place)
    if len(shown) != len(table):
        st.caption(f"筛选后 {len(shown):,} 人")
    if place_column == "村":
        shown = shown.drop(columns="乡镇", errors="ignore")
    st.dataframe(excel_safe_frame(shown), hide_index=True, width="stretch",
                 column_config={"处理建议": st.column_config.TextColumn(width="large")})
    name = f"{DOC_NAME}_{code or '全部区县'}.xlsx"
    st.download_button(f"下载 {name}（未筛选，身份证号已遮蔽）", data=lambda: exception_excel(data, code),
                       file_name=name, key=f"{key}-download",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
