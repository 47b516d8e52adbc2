"""Dates: the window, ready and needed-by dates, closed destinations, and who may travel at all.

Rules: outside_window, before_ready, after_needed_by, destination_closed, worker_record_mismatch,
job_not_confirmed, proof_not_recognised, proof_not_valid.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.check.context import CLOSED, CheckContext
from planner.check.fast import isin
from planner.check.plan_files import Plan
from planner.plan_format import TRUNK_MODES
from planner.check.violations import concat, day, hm, num, s, vf


def dates(plan: Plan, ctx: CheckContext) -> pd.DataFrame:
    """Trunk departures in the window, per-worker dates, closed destinations, eligibility."""
    out = []
    sc = ctx.sc
    t = plan.trips.drop_duplicates("trip_id")
    trunk_t = t[t["mode"].isin(TRUNK_MODES) & (t["purpose"] == "passenger")]
    d = trunk_t["depart"].dt.normalize()
    bad = (d < pd.Timestamp(sc.window.start)) | (d > pd.Timestamp(sc.window.end))
    out.append(vf("outside_window", "出发日 " + day(d[bad]) + f" 不在规划期 {sc.window.start} 至 {sc.window.end} 内",
                  trip=trunk_t["trip_id"][bad]))

    # no arrival at a factory or station on a day its region is closed
    st = plan.stops
    arr = st[st["place_kind"].isin(["factory", "station"]) & st["arrive"].notna()]
    lvl = ctx.levels(ctx.place_county(arr["place_id"]), arr["arrive"])
    bad = lvl >= CLOSED
    out.append(vf("destination_closed", hm(arr["arrive"][bad]) + " 抵达 " + s(arr["place_id"][bad]) + "，该地当日关闭（风险日历）",
                  trip=arr["trip_id"][bad]))

    # per planned worker (everyone with legs)
    legs = plan.legs
    if legs.empty:
        return concat(out)
    tt = t.set_index("trip_id")
    is_trunk = legs["trip_id"].map(tt["mode"]).isin(TRUNK_MODES).to_numpy()
    trunk = legs[is_trunk].drop_duplicates("worker_id", keep="first").set_index("worker_id")
    last = legs.drop_duplicates("worker_id", keep="last").set_index("worker_id")
    ref = ctx.workers.drop_duplicates("worker_id").set_index("worker_id")
    who = last.index[isin(last.index, ref.index)]
    w = ref.loc[who]
    tdep = trunk["board_time"].reindex(who)
    tday = tdep.dt.normalize()
    ttrip = trunk["trip_id"].reindex(who).fillna(last["trip_id"].reindex(who))
    arrive = last["alight_time"].reindex(who)
    wid = pd.Series(who, index=who)

    bad = tday.notna() & w["ready_date"].notna() & (tday < w["ready_date"])
    out.append(vf("before_ready", "省际出发日 " + day(tday[bad]) + " 早于本人可出发日 " + day(w["ready_date"][bad]),
                  trip=ttrip[bad], worker=wid[bad]))
    need = w["factory_id"].map(ctx.factories["needed_by"])
    bad = arrive.notna() & need.notna() & (arrive.dt.normalize() > need)
    out.append(vf("after_needed_by", hm(arrive[bad]) + " 到达，晚于企业需要日 " + day(need[bad]),
                  trip=last["trip_id"].reindex(who)[bad], worker=wid[bad]))

    bad = ~w["job_confirmed"].astype(bool)
    out.append(vf("job_not_confirmed", "工作未经企业确认却被安排出行", trip=ttrip[bad], worker=wid[bad]))

    prov = w["factory_id"].map(ctx.factories["province"]).fillna("")
    proof = w["health_proof"]
    valid = pd.Series(np.nan, index=who, dtype=float)
    for p in prov.unique():
        for kind in ("certificate", "green_code"):
            days = sc.health.valid_days(p, kind)
            if days is not None:
                valid[(prov == p) & (proof == kind)] = days
    bad = valid.isna()
    out.append(vf("proof_not_recognised", s(prov[bad]) + " 不认可其健康证明 '" + s(proof[bad]) + "'",
                  trip=ttrip[bad], worker=wid[bad]))
    pdate = w["proof_date"]
    expiry = pdate + pd.to_timedelta(valid.fillna(0) - 1, unit="D")
    bad = valid.notna() & tday.notna() & (pdate.isna() | (tday < pdate) | (tday > expiry))
    out.append(vf("proof_not_valid", "省际出发日 " + day(tday[bad]) + " 健康证明（" + day(pdate[bad]) + " 起 "
                  + num(valid[bad]) + " 天）不在有效期内", trip=ttrip[bad], worker=wid[bad]))

    # workers.csv depart_day and planned_arrival agree with the legs
    pw = plan.workers[plan.workers["status"] == "planned"].drop_duplicates("worker_id").set_index("worker_id")
    pw = pw[isin(pw.index, who)]
    dd = pd.to_datetime(pw["depart_day"], errors="coerce").dt.normalize()
    bad = dd != tday.reindex(pw.index)
    out.append(vf("worker_record_mismatch", "workers.csv 的 depart_day " + day(dd[bad]) + " 与省际出发日 "
                  + day(tday.reindex(pw.index)[bad]) + " 不符", worker=pd.Series(pw.index[bad])))
    pa = pw["planned_arrival"]
    bad = pa != arrive.reindex(pw.index)
    out.append(vf("worker_record_mismatch", "workers.csv 的 planned_arrival " + hm(pa[bad]) + " 与最后一段下车时间 "
                  + hm(arrive.reindex(pw.index)[bad]) + " 不符", worker=pd.Series(pw.index[bad])))
    return concat(out)
