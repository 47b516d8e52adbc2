"""The shared vocabulary: occupancy rule names, risk levels and unassigned reasons, with their Chinese labels.

One place for the words the solver writes into a plan and the checker, the
documents, the app and ``docs/plan-format.md`` read back. Sharing a *name* is
not sharing a *rule*: the checker still implements every rule itself; it only
agrees with the solver on what the rules and reasons are called.

Adding an unassigned reason is a one-place change: add one :class:`Reason` to
``UNASSIGNED_REASONS`` below (code, Chinese label, what the planner can do, and
whether the worker counts as eligible). The plan writer refuses to write a
reason missing here (:func:`unknown_reasons`), the checker accepts exactly
these, the documents and the app show the label, and
``tools/gen_plan_format_doc.py`` lists it in ``docs/plan-format.md``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

# ------------------------------------------------------------------ occupancy rules
# Seat patterns of the national notice of 11 Feb 2020 (交运明电〔2020〕56号) and local practice;
# planner/rules/seats.py implements them for the solver, planner/check/seats.py for the checker.
OCCUPANCY_RULE_LABELS: dict[str, str] = {
    "half_seats": "隔位就座（不超过核定座位的50%）",
    "one_per_two_seats": "一人双座",
    "one_per_row": "每排一人",
    "all_seats": "不限座位",
}
OCCUPANCY_RULES: tuple[str, ...] = tuple(OCCUPANCY_RULE_LABELS)

# ------------------------------------------------------------------ risk levels
# In order of strictness: the rank of a level is its index (0 low .. 3 closed).
RISK_LEVEL_LABELS: dict[str, str] = {
    "low": "低风险",
    "medium": "中风险",
    "high": "高风险",
    "closed": "封闭（不得抵达）",
}
RISK_LEVELS: tuple[str, ...] = tuple(RISK_LEVEL_LABELS)
RISK_RANK: dict[str, int] = {name: i for i, name in enumerate(RISK_LEVELS)}
CLOSED_RANK: int = RISK_RANK["closed"]


# ------------------------------------------------------------------ unassigned reasons
class Reason(NamedTuple):
    """Why a worker is ``unassigned`` in ``workers.csv``.

    ``eligible``: whether the worker could travel at all (health proof, job,
    dates); ``summary.json``'s ``workers.eligible`` counts them. ``action`` is
    what the county planner can do about it (English, for docs/plan-format.md).
    """

    code: str
    label: str
    action: str
    eligible: bool


UNASSIGNED_REASONS: dict[str, Reason] = {r.code: r for r in (
    Reason("rejected_input", "输入数据有误（见校验报告）",
           "fix the input row (the validation report names it; `reason_detail` says the code)", False),
    Reason("no_recognised_health_proof", "无目的省认可的健康证明",
           "the worker holds no proof the destination province recognises: get a certificate", False),
    Reason("health_proof_expired", "健康证明过期",
           "the proof lapses before any feasible departure: renew it", False),
    Reason("job_not_confirmed", "岗位未确认", "confirm the job with the employer", False),
    Reason("destination_closed", "目的地封闭",
           "the destination is closed on every day the worker could arrive", True),
    Reason("no_vehicle_before_needed_by", "用工日期前无车位",
           "no seat before the factory's `needed_by`: add coaches or a train service", True),
    Reason("no_vehicle_before_proof_expiry", "健康证明有效期内无车位",
           "no seat while the health proof was valid: add coaches, or renew the proof", True),
    Reason("ready_after_window", "就绪晚于计划期", "the worker is ready only after the planning window ends", False),
    Reason("ready_after_needed_by", "就绪晚于用工日期", "the worker is ready too late for the factory's date", False),
    Reason("group_member_ineligible", "同行家庭成员不能出行",
           "a family member cannot travel and the group stays together", False),
    Reason("absent_at_boarding", "登记上车时未到",
           "the worker did not turn up at a published vehicle (recorded `absent` in the store): phone them, and "
           "the next replan gives them a new seat", True),
    Reason("fever_at_boarding", "上车时体温异常（发热）",
           "taken off a published vehicle with a temperature at or above `occupancy.fever_threshold_c`: handed "
           "to the local health authority; travels again only with a new health proof", False),
    Reason("refused_at_boarding", "上车时拒绝乘车",
           "the worker refused to board a published vehicle (recorded `refused`): ask whether they still want "
           "to travel", True),
    # the limit that bound on the unit's last try (planner.solve.county_state.CountyState.note names it)
    Reason("no_coach_free", "可出行日无空闲大巴",
           "every coach of the county was out on the days the worker could leave: add coaches, or a train", True),
    Reason("terminal_capacity", "客运站日接待能力已满",
           "the county terminal's daily capacity was used up on the worker's days: raise it or use another hub",
           True),
    Reason("no_feeder_in_time", "接驳车无法按时送达客运站",
           "no feeder bus could bring the worker to the terminal within `hub.max_wait_min` of a coach and "
           "within the driver rules: add feeder buses (or relay drivers), or widen the wait", True),
    Reason("feeder_ride_too_long_for_train", "专列有空位，但接驳车程超过上限",
           "a special train had free seats, but no feeder reaches its station within the ride limit "
           "(`feeders.max_ride_h`, and half a daytime driving stretch): raise the limit or send a coach", True),
    Reason("no_road_to_village", "路网中无道路通达本村",
           "the scenario's road network has no road to the village (a missing bridge, or the village lies "
           "farther than `roads.max_snap_m` from any road): fix the network or the village's position", True),
)}
REASON_CODES: frozenset[str] = frozenset(UNASSIGNED_REASONS)
INELIGIBLE_REASONS: frozenset[str] = frozenset(c for c, r in UNASSIGNED_REASONS.items() if not r.eligible)
# what the writer records for a worker the solver left without a placement or a reason
# ------------------------------------------------------------------ boarding (the daily loop, planner.store)
# what a township official records at the vehicle door, and the Chinese words the app and documents show
BOARDING_STATUS_LABELS: dict[str, str] = {
    "boarded": "已上车",
    "absent": "未到",
    "fever": "发热（劝离）",
    "refused": "拒绝乘车",
}
BOARDING_STATUSES: tuple[str, ...] = tuple(BOARDING_STATUS_LABELS)
# a status that takes the person off the vehicle -> the unassigned reason a replan gives them
TAKEN_OFF_REASONS: dict[str, str] = {
    "absent": "absent_at_boarding",
    "fever": "fever_at_boarding",
    "refused": "refused_at_boarding",
}
# the kinds of a row of changes.csv (planner.store.changes) and their Chinese labels
CHANGE_LABELS: dict[str, str] = {
    "added": "新增乘车安排",
    "removed": "取消乘车安排",
    "moved": "乘车安排变更",
}
CHANGE_KINDS: tuple[str, ...] = tuple(CHANGE_LABELS)

DEFAULT_UNPLACED_REASON = "no_vehicle_before_needed_by"
REJECTED_INPUT = "rejected_input"


def reason_label(code: str) -> str:
    """The Chinese label of a reason code (the code itself when it is not one of ours)."""
    r = UNASSIGNED_REASONS.get(str(code))
    return r.label if r is not None else str(code)


def reason_labels() -> dict[str, str]:
    """Reason code -> Chinese label, for tables."""
    return {c: r.label for c, r in UNASSIGNED_REASONS.items()}


def unknown_reasons(codes: Iterable[str]) -> list[str]:
    """The codes (sorted, non-empty) that are not unassigned reasons declared here."""
    return sorted({str(c) for c in codes if str(c) and str(c) not in REASON_CODES})


# ------------------------------------------------------------------ validation problems
# The Chinese name of every problem code of planner.schemas.PROBLEM_CODES, for the app's validation
# report (the code stays in the report's last column, where a machine or a support request reads it).
PROBLEM_LABELS: dict[str, str] = {
    "missing_file": "数据文件不存在",
    "unreadable_file": "文件无法读取（格式、编码或工作簿损坏）",
    "missing_column": "缺少必需的列",
    "missing_value": "必填单元格为空",
    "bad_type": "数据类型不对（数字、日期或位数不符）",
    "bad_value": "取值不在允许范围内",
    "out_of_range": "数值小于下限",
    "duplicate_id": "编号重复",
    "dangling_reference": "引用的记录不存在或已被拒绝",
    "inconsistent_code": "村、乡镇、区县代码不一致",
    "outside_china": "位置在中国境外",
    "lonlat_swapped": "经纬度写反",
    "outside_county": "位置在所属区县边界之外",
    "near_county_border": "位置略超出所属区县边界",
    "bad_id_number": "身份证号格式不对",
    "bad_id_birth_date": "身份证号中的出生日期不存在",
    "bad_id_check_digit": "身份证号校验位错误",
    "duplicate_resident_id": "同一身份证号出现两次",
    "underage_worker": "未满 16 周岁",
    "unsafe_id": "编号以公式符号开头或含空格",
    "control_character": "含控制字符或不可见字符",
    "normalised_text": "含全角字符，已自动转换",
    "suspicious_encoding": "文件编码可能不对",
    "bad_phone": "手机号格式不对",
    "date_outside_window": "日期超出计划期",
    "bad_date_range": "起止日期颠倒",
    "inconsistent_seats": "核定座位数与座位布局不符",
    "proof_date_future": "健康证明日期晚于计划期",
    "unknown_province": "目的省份不在情景的健康证明互认表中",
    "county_not_found": "位置不在任何接收地区县内",
    "county_province_mismatch": "区县代码与省份不符",
    "scenario_conflict": "情景设置与数据矛盾",
    "no_workers": "没有可用的务工人员",
    "no_coaches": "车队中没有大巴",
    "group_mixed": "同组人员的村或企业不同",
}

#: What happens to the row (or table) of a problem, by severity (planner.validate.Problem.severity).
PROBLEM_EFFECTS: dict[str, str] = {
    "fatal": "整个表无法使用，无法规划",
    "error": "该行被拒绝，不参与规划",
    "warning": "该行保留，照常规划（请核实）",
}


def problem_label(code: str) -> str:
    """The Chinese name of a validation problem code (the code itself when unknown)."""
    return PROBLEM_LABELS.get(str(code), str(code))
