"""Chinese for the person at the screen: the app's planning log and messages without their English glosses.

The planner's messages are written for two readers at once, ``中文 (English)``:
the command line and the logs keep both, the app shows the Chinese only
(:func:`zh_only`). The machine codes (reason codes, problem codes, checker
rules) stay in the files and in a column of their own where a table shows
them; they are not the words a user reads first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from planner.vocab import reason_label

__all__ = ["zh_only", "zh_many", "plan_report_lines", "WALL_TIME_NAMES", "check_lines"]

# " (plan written to)", " (OK)", "(checking the plan)": a parenthesis of ASCII text holding an
# English word (two lower-case letters in a row, or a capitalised word such as OK / NOT OK).
# Codes such as (W0000001) or (500101) have no such word and stay.
# A position a parser gives, "(at line 2, column 8)", is not a gloss and stays.
_GLOSS = re.compile(r"\s*\((?![^()]*\b(?:line|column) [0-9])(?=[^()]*(?:[a-z]{2}|\b[A-Z]{2,}\b))[\x20-\x7e]*?\)")
# the same in full-width parentheses: （English）
_GLOSS_WIDE = re.compile(r"\s*（(?=[^（）]*[a-z]{2})[\x20-\x7e]*?）")

#: The stages of ``summary.json`` ``wall_time_s``, as the app names them.
WALL_TIME_NAMES: dict[str, str] = {
    "load": "读取并校验数据",
    "prepare": "准备",
    "solve": "求解",
    "solve_total": "求解（各进程合计）",
    "write": "写入计划",
    "check": "独立校验",
    "roads": "路网",
    "travel": "行程时间",
}


def zh_only(text: object) -> str:
    """``text`` without its English glosses in parentheses: ``不能为空 (empty)`` -> ``不能为空``.

    Only a parenthesis of plain ASCII text with an English word goes; Chinese
    in parentheses, codes without a word (``(W0000001)``) and a parser's
    position (``(at line 2, column 8)``) stay.
    """
    out = _GLOSS.sub("", str(text))
    return _GLOSS_WIDE.sub("", out)


def zh_many(texts: Iterable[str]) -> list[str]:
    """:func:`zh_only` of many messages, the same messages translated once.

    Validation messages of one kind differ only in what comes before the first
    ``": "`` (``W0000001: phone 应为 … (not a mobile number)``): the rest is
    cleaned once per distinct text, so 200,000 problems take a fraction of a
    second. A message whose head holds a parenthesis is cleaned whole.
    """
    done: dict[str, str] = {}
    out = []
    for text in texts:
        text = str(text)
        head, sep, tail = text.partition(": ")
        if "(" in head or "（" in head:
            out.append(zh_only(text))
            continue
        clean = done.get(tail)
        if clean is None:
            clean = done[tail] = zh_only(tail)
        out.append(head + sep + clean)
    return out


def check_lines(ok: bool | None, text: str = "") -> list[str]:
    """The checker's verdict in Chinese: one line, then (when it found violations) its report without English."""
    if ok is None:
        return ["未运行独立校验"]
    if ok:
        return ["独立校验通过：没有违反任何规则"]
    return ["独立校验发现问题：", *[zh_only(line) for line in str(text).splitlines() if line.strip()]]


def plan_report_lines(summary: dict, *, plan_name: str, replaced: bool = False, notes: list[str] | None = None,
                      check_ok: bool | None = None, check_text: str = "") -> list[str]:
    """What the app says after planning, in Chinese: the numbers of ``summary.json``, the times, the verdict.

    The same content as :meth:`planner.pipeline.PlanReport.text`, which the
    command line prints with English glosses; the plan is named, never given
    as a server path.
    """
    s = summary
    w = s.get("workers", {})
    d = s.get("departures", {})
    lines = [f"计划 {plan_name} 已生成" + ("，替换了同名的原有计划" if replaced else "")]
    lines.append(f"务工人员读入 {w.get('read', 0):,} 人：已安排 {w.get('planned', 0):,}，未安排 {w.get('unassigned', 0):,}")
    for code, n in (w.get("unassigned_by_reason") or {}).items():
        lines.append(f"    未安排原因 {reason_label(code)}：{int(n):,} 人")
    tb = (s.get("throughput_bound") or {}).get("total")
    if tb:
        lines.append(f"运力上界 {tb['bound']:,} 人，已安排 {tb['planned']:,}，差距 {tb['gap']:,}（{tb['gap_pct']}%）")
    hw = s.get("hub_waits")
    if hw and hw.get("transfers"):
        lines.append(f"枢纽候车 {hw['transfers']:,} 人次：中位 {hw['median_min']} 分钟，最长 {hw['max_min']} 分钟，"
                     f"超过 2 小时 {hw['over_2h']:,} 人次，超过上限 {hw['limit_min']} 分钟 {hw['over_limit']:,} 人次")
    if d:
        lines.append(f"发车：大巴 {d.get('coach', 0):,}（乡镇直达 {d.get('direct_coach', 0):,}，枢纽 "
                     f"{d.get('hub_coach', 0):,}），专列车厢 {d.get('train_carriage', 0):,}，接驳车 {d.get('feeder', 0):,}")
    lb = s.get("lower_bound")
    if lb:
        lines.append(f"大巴发车下界 {lb['coach_departures']:,}，差距 {lb['gap']:,}（{lb['gap_pct']}%）")
    seats = s.get("seats")
    if seats:
        lines.append(f"座位使用 {seats['used']:,}/{seats['allowed']:,}，每车平均村数 {s.get('mean_villages_per_vehicle', '')}")
    wall = s.get("wall_time_s") or {}
    if wall:
        lines.append("用时（秒）：" + "，".join(f"{WALL_TIME_NAMES.get(k, k)} {v}" for k, v in wall.items()))
    lines += [zh_only(n) for n in notes or []]
    lines += check_lines(check_ok, check_text)
    return lines
