"""The validation report as tables for the app: one row per problem, and the row balance per table.

:meth:`planner.validate.ValidationResult.report_text` is the command line's
report (``file:row:column: message (code)``, Chinese with English glosses).
The app shows the same problems as a table a planner can sort and filter:
file (its name only, never a server path), row, column, the problem in Chinese,
what happens to the row, and the problem code last (for whoever maintains the
data). Then per table: rows read = accepted + rejected.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from planner.app.zh import zh_many, zh_only
from planner.validate import ORDER, TABLE_ZH, ValidationResult
from planner.vocab import PROBLEM_EFFECTS, problem_label

__all__ = ["PROBLEM_COLUMNS", "problems_table", "balance_table", "verdict"]

PROBLEM_COLUMNS = ["文件", "行", "列", "问题类型", "问题", "处理", "代码"]
BALANCE_COLUMNS = ["数据表", "读入行数", "接受", "拒绝"]
#: The order of the severities in the table: what stops planning first.
_SEVERITY_ORDER = {"fatal": 0, "error": 1, "warning": 2}


def _effect(severity: str, row: int | None) -> str:
    if row is None and severity == "error":
        return "该表其余各行都被拒绝，不参与规划"
    if row is None and severity == "warning":
        return "照常使用（请核实）"
    return PROBLEM_EFFECTS.get(severity, severity)


def problems_table(result: ValidationResult) -> pd.DataFrame:
    """Every problem of ``result``: 文件, 行, 列, 问题类型, 问题, 处理, 代码; fatal first, then by file and row.

    ``行`` is the row a user sees in the file (the header is row 1), empty for the
    whole file; the message is Chinese only (:func:`planner.app.zh.zh_only`).
    200,000 problems (a county's register with a column typed wrong gives one
    per row) take about a second.
    """
    probs = result.problems
    if not probs:
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    names: dict[str, str] = {}
    labels: dict[str, str] = {}
    frame = pd.DataFrame({
        "文件": [names.get(p.file) or names.setdefault(p.file, Path(str(p.file)).name) for p in probs],
        "行": pd.array([p.row for p in probs], dtype="Int64"),
        "列": [p.column or "" for p in probs],
        "问题类型": [labels.get(p.code) or labels.setdefault(p.code, problem_label(p.code)) for p in probs],
        "问题": zh_many(p.message for p in probs),
        "处理": [_effect(p.severity, p.row) for p in probs],
        "代码": [p.code for p in probs],
        "_sev": [_SEVERITY_ORDER.get(p.severity, 3) for p in probs],
    })
    frame = frame.sort_values(["_sev", "文件", "行"], kind="stable", na_position="first")
    return frame[PROBLEM_COLUMNS].reset_index(drop=True)


def report_only(result: ValidationResult) -> ValidationResult:
    """``result`` without its tables (what the report needs: problems, counts, whether rows were rejected).

    The app keeps this in the session so that filtering the report does not
    validate again, without holding every accepted table in memory.
    """
    return ValidationResult(problems=list(result.problems), counts=dict(result.counts),
                            rejected={t: f.head(1) for t, f in result.rejected.items() if len(f)},
                            files=dict(result.files))


def balance_table(result: ValidationResult, names: dict[str, str] | None = None) -> pd.DataFrame:
    """Rows read, accepted and rejected per table (read = accepted + rejected), in the order tables are read."""
    names = names or TABLE_ZH
    rows = [{"数据表": f"{names.get(t, TABLE_ZH.get(t, t))}（{t}）", "读入行数": int(c["read"]),
             "接受": int(c["accepted"]), "拒绝": int(c["rejected"])}
            for t in ORDER if (c := result.counts.get(t))]
    return pd.DataFrame(rows, columns=BALANCE_COLUMNS)


def verdict(result: ValidationResult) -> tuple[str, str]:
    """(state, sentence): state ok | warnings | rejected | fatal, the sentence in Chinese."""
    n = {s: sum(1 for p in result.problems if p.severity == s) for s in ("fatal", "error", "warning")}
    rejected = sum(int(c["rejected"]) for c in result.counts.values())
    counts = f"致命问题 {n['fatal']:,} 个，拒绝 {n['error']:,} 处，提醒 {n['warning']:,} 处；被拒绝的行 {rejected:,}"
    if result.fatal:
        return "fatal", f"有无法使用的表，不能规划：{counts}。"
    if not result.ok:
        return "rejected", f"数据可以规划，但有被拒绝的行（这些人员或记录不参与规划）：{counts}。"
    if result.plan_warnings():
        return "warnings", "数据可用，但计划中将没有人（或没有大巴）出行：" + "；".join(
            zh_only(w) for w in result.plan_warnings()) + "。"
    if n["warning"]:
        return "warnings", f"数据无误，可以规划；有 {n['warning']:,} 处提醒，请核实。"
    return "ok", "数据无误，可以规划。"


#: The most problem rows drawn on screen; the download has them all.
SHOWN_ROWS = 5000


def show_validation(result: ValidationResult, scenario_name: str, *, key: str, show_table=None) -> None:
    """Draw the verdict, the problems as a filterable table (with a CSV download) and the row balance."""
    import streamlit as st

    from planner.documents.common import excel_safe_frame

    state, sentence = verdict(result)
    box = {"ok": st.success, "warnings": st.warning, "rejected": st.warning, "fatal": st.error}[state]
    box(f"情景 {scenario_name}：{sentence}")
    table = problems_table(result)
    draw = show_table or (lambda f, **kw: st.dataframe(f, **kw))
    if len(table):
        st.subheader(f"发现的问题（{len(table):,} 处）")
        kinds = sorted(table["问题类型"].unique())
        files = sorted(table["文件"].unique())
        left, right = st.columns(2)
        pick_kinds = left.multiselect("按问题类型筛选", kinds, key=f"{key}-kinds", placeholder="全部问题类型")
        pick_files = right.multiselect("按文件筛选", files, key=f"{key}-files", placeholder="全部文件")
        shown = table
        if pick_kinds:
            shown = shown[shown["问题类型"].isin(pick_kinds)]
        if pick_files:
            shown = shown[shown["文件"].isin(pick_files)]
        if len(shown) > SHOWN_ROWS:
            st.caption(f"只显示前 {SHOWN_ROWS:,} 行；完整的问题表请下载。")
        draw(shown.head(SHOWN_ROWS), hide_index=True, width="stretch",
             column_config={"行": st.column_config.NumberColumn(width="small", format="%d"),
                            "列": st.column_config.TextColumn(width="small"),
                            "问题类型": st.column_config.TextColumn(width="medium"),
                            "问题": st.column_config.TextColumn(width="large"),
                            "处理": st.column_config.TextColumn(width="medium"),
                            "代码": st.column_config.TextColumn(width="small")})
        csv = excel_safe_frame(table).to_csv(index=False).encode("utf-8-sig")  # Excel opens UTF-8 with a BOM
        st.download_button("下载完整的问题表（CSV）", data=csv, file_name="校验问题表.csv", mime="text/csv",
                           key=f"{key}-download")
    st.subheader("行数核对（读入 = 接受 + 拒绝）")
    draw(balance_table(result), hide_index=True)
