"""Accounting: every worker row read appears exactly once, with a status and a reason.

Rules: worker_missing, worker_duplicate, worker_unknown_row, worker_record_mismatch,
bad_status, rejected_not_reported, unassigned_has_legs, planned_without_legs,
leg_unknown_worker, summary_mismatch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.check.context import CheckContext
from planner.check.fast import isin
from planner.check.plan_files import Plan
from planner.check.violations import concat, from_list, s, vf, Violation
from planner.plan_format import CHAINS
from planner.vocab import REASON_CODES

REASONS = REASON_CODES  # the names are shared (planner/vocab.py); the rules below are the checker's own


def accounting(plan: Plan, ctx: CheckContext) -> pd.DataFrame:
    """Workers exactly once, statuses and reasons, legs only for planned workers, summary counts."""
    out = []
    w = plan.workers
    acc = ctx.workers
    rows = w["source_row"]
    expected = pd.Index(acc["_row"]).union(pd.Index(sorted(ctx.rejected_rows), dtype=np.int64))

    dup = w[rows.duplicated(keep="first")]
    out.append(vf("worker_duplicate", "输入第 " + s(dup["source_row"]) + " 行在 workers.csv 中出现多次",
                  worker=dup["worker_id"]))
    non_rej = w[~rows.isin(ctx.rejected_rows)]
    dup_id = non_rej[non_rej["worker_id"].duplicated(keep="first") & ~non_rej["source_row"].duplicated(keep=False)]
    out.append(vf("worker_duplicate", "worker_id 在 workers.csv 中出现多次（第 " + s(dup_id["source_row"]) + " 行）",
                  worker=dup_id["worker_id"]))
    missing = expected.difference(pd.Index(rows))
    out.append(vf("worker_missing", "输入第 " + pd.Series(missing.astype(str)) + " 行的人员不在 workers.csv 中（有人被遗漏）",
                  worker=pd.Series(missing).map(acc.set_index("_row")["worker_id"]).fillna("")))
    unknown = w[~rows.isin(expected)]
    out.append(vf("worker_unknown_row", "workers.csv 有输入中不存在的第 " + s(unknown["source_row"]) + " 行",
                  worker=unknown["worker_id"]))

    # the record matches the input row
    ref = acc.drop_duplicates("_row").set_index("_row")
    mine = w[rows.isin(ref.index)]
    bad = np.zeros(len(mine), dtype=bool)
    what = pd.Series("", index=mine.index, dtype=object)
    for col in ("worker_id", "village_code", "factory_id"):
        exp = mine["source_row"].map(ref[col])
        diff = (mine[col] != exp).to_numpy()
        what[diff] = what[diff] + col + " 应为 " + s(exp[diff]) + "，实为 " + s(mine[col][diff]) + "；"
        bad |= diff
    out.append(vf("worker_record_mismatch", "第 " + s(mine["source_row"][bad]) + " 行与输入不符：" + what[bad],
                  worker=mine["worker_id"][bad]))

    # status and reason
    st = w["status"]
    bad = ~st.isin(["planned", "unassigned"])
    out.append(vf("bad_status", "状态 '" + s(w["status"][bad]) + "' 不是 planned/unassigned", worker=w["worker_id"][bad]))
    bad = (st == "unassigned") & ~w["reason"].isin(REASONS)
    out.append(vf("bad_status", "未安排人员的原因 '" + s(w["reason"][bad]) + "' 缺失或不在规定列表中",
                  worker=w["worker_id"][bad]))
    bad = (st == "planned") & (w["reason"] != "")
    out.append(vf("bad_status", "已安排人员不应有未安排原因 '" + s(w["reason"][bad]) + "'", worker=w["worker_id"][bad]))
    bad = (st == "planned") & ~w["chain"].isin(CHAINS)
    out.append(vf("bad_status", "已安排人员的 chain '" + s(w["chain"][bad]) + "' 应为 direct/hub_coach/train",
                  worker=w["worker_id"][bad]))
    rej = w[rows.isin(ctx.rejected_rows)]
    bad = (rej["status"] != "unassigned") | (rej["reason"] != "rejected_input")
    out.append(vf("rejected_not_reported", "输入第 " + s(rej["source_row"][bad]) + " 行被拒绝，应为 unassigned / rejected_input",
                  worker=rej["worker_id"][bad]))
    accepted = w[~rows.isin(ctx.rejected_rows)]
    bad = accepted["reason"] == "rejected_input"
    out.append(vf("bad_status", "输入第 " + s(accepted["source_row"][bad]) + " 行已被接受，不应标为 rejected_input",
                  worker=accepted["worker_id"][bad]))

    # legs belong to planned workers
    with_legs = pd.Index(plan.legs["worker_id"].unique())
    planned_ids = pd.Index(w.loc[st == "planned", "worker_id"].unique())
    un = accepted[(accepted["status"] == "unassigned") & isin(accepted["worker_id"], with_legs)
                  & ~isin(accepted["worker_id"], planned_ids)]
    out.append(vf("unassigned_has_legs", "未安排（" + s(un["reason"]) + "）的人员却有乘车记录", worker=un["worker_id"]))
    pl = w[(st == "planned") & ~isin(w["worker_id"], with_legs)]
    out.append(vf("planned_without_legs", "已安排的人员在 legs.csv 中没有乘车记录", worker=pl["worker_id"]))
    stray = pd.Series(with_legs.difference(pd.Index(w["worker_id"])))
    out.append(vf("leg_unknown_worker", "legs.csv 中的人员不在 workers.csv 中", worker=stray))

    out.append(_summary(plan, ctx, len(expected)))
    return concat(out)


def _summary(plan: Plan, ctx: CheckContext, n_expected: int) -> pd.DataFrame:
    sm = plan.summary or {}
    items: list[Violation] = []
    w = plan.workers
    sw = sm.get("workers")
    if not isinstance(sw, dict):
        return from_list([Violation("summary_mismatch", message="summary.json 缺少 workers 部分")])
    un = w[w["status"] == "unassigned"]
    actual = {
        "read": n_expected,
        "rejected_input": int((w["reason"] == "rejected_input").sum()),
        "planned": int((w["status"] == "planned").sum()),
        "unassigned": len(un),
    }
    for key, val in actual.items():
        if key in sw and _int(sw.get(key)) != val:
            items.append(Violation("summary_mismatch", message=f"summary.json 的 workers.{key} = {sw.get(key)}，实际为 {val}"))
        elif key not in sw and key in ("read", "planned", "unassigned"):
            items.append(Violation("summary_mismatch", message=f"summary.json 缺少 workers.{key}（实际为 {val}）"))
    by = sw.get("unassigned_by_reason")
    if isinstance(by, dict):
        real = un["reason"].value_counts()
        for reason in set(by) | set(real.index):
            a, b = _int(by.get(reason, 0)), int(real.get(reason, 0))
            if a != b:
                items.append(Violation("summary_mismatch",
                                       message=f"summary.json 的 unassigned_by_reason.{reason} = {a}，实际为 {b}"))
    dep = sm.get("departures")
    if isinstance(dep, dict):
        t = plan.trips[plan.trips["purpose"] == "passenger"]
        coaches = set(t.loc[t["mode"] == "coach", "trip_id"])
        st = plan.stops
        # the checker's own reading of the format's definition: a coach taking people on in a village
        direct = set(st.loc[isin(st["trip_id"], coaches) & st["place_kind"].isin(["village", "pickup"])
                            & (st["boarding"] > 0), "trip_id"])
        real = {"coach": int((t["mode"] == "coach").sum()), "train_carriage": int((t["mode"] == "train").sum()),
                "feeder": int((t["mode"] == "feeder").sum()), "direct_coach": len(direct),
                "hub_coach": int((t["mode"] == "coach").sum()) - len(direct)}
        for key, val in real.items():
            if key in dep and _int(dep[key]) != val:
                items.append(Violation("summary_mismatch", message=f"summary.json 的 departures.{key} = {dep[key]}，实际为 {val}"))
    return from_list(items)


def _int(v) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return -1
