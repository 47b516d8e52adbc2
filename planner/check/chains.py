"""Chains: every planned worker's legs lead, in place and time, from the village to the factory.

Rules: leg_unknown_trip, leg_numbering, chain_start, chain_end, chain_gap, transfer_too_short,
leg_time_mismatch, leg_on_empty_return, chain_kind, feeder_ride_too_long, family_split.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.check.context import CheckContext
from planner.check.fast import isin
from planner.check.plan_files import Plan
from planner.plan_format import TRUNK_MODES
from planner.check.violations import concat, hm, num, s, vf


def chains(plan: Plan, ctx: CheckContext) -> pd.DataFrame:
    """Legs numbered 1..n, chained in place and time, start at the village, end at the factory."""
    out = []
    sc = ctx.sc
    legs = plan.legs
    if legs.empty:
        return concat(out)
    tt = plan.trips.drop_duplicates("trip_id").set_index("trip_id")
    mode = legs["trip_id"].map(tt["mode"])
    purpose = legs["trip_id"].map(tt["purpose"])
    bad = mode.isna()
    out.append(vf("leg_unknown_trip", "乘车记录指向不存在的车次", trip=legs["trip_id"][bad], worker=legs["worker_id"][bad]))
    bad = purpose == "empty_return"
    out.append(vf("leg_on_empty_return", "空车返回车次上不能有乘客", trip=legs["trip_id"][bad], worker=legs["worker_id"][bad]))

    wid = legs["worker_id"]
    g = legs.groupby("worker_id", sort=False)
    rank = g.cumcount() + 1
    n = g["leg"].transform("size")
    bad_w = legs.loc[legs["leg"] != rank, "worker_id"].unique()
    out.append(vf("leg_numbering", "行程段编号应为 1, 2, … 连续", worker=pd.Series(bad_w)))

    ref = ctx.workers.drop_duplicates("worker_id").set_index("worker_id")
    village = wid.map(ref["village_code"])
    factory = wid.map(ref["factory_id"])
    first = (rank == 1).to_numpy()
    lastm = (rank == n).to_numpy()
    bad = first & village.notna().to_numpy() & (legs["board_place_id"] != village).to_numpy()
    out.append(vf("chain_start", "第一段应从本人所在村 " + s(village[bad]) + " 上车，实际为 " + s(legs["board_place_id"][bad]),
                  trip=legs["trip_id"][bad], worker=wid[bad]))
    station = factory.map(ctx.factories["arrival_station_id"])
    want = pd.Series(np.where(mode == "train", station.fillna(""), factory.fillna("")), index=legs.index)
    bad = lastm & factory.notna().to_numpy() & (legs["alight_place_id"] != want).to_numpy()
    out.append(vf("chain_end", "最后一段应到达 " + s(want[bad]) + "（企业或其接站站点），实际为 " + s(legs["alight_place_id"][bad]),
                  trip=legs["trip_id"][bad], worker=wid[bad]))
    bad = lastm & ~mode.isin(TRUNK_MODES).to_numpy() & mode.notna().to_numpy()
    out.append(vf("chain_end", "最后一段是 " + s(mode[bad]) + "，应是省际大巴或专列车厢",
                  trip=legs["trip_id"][bad], worker=wid[bad]))

    # consecutive legs
    has_next = ~lastm
    nb_place = legs["board_place_id"].shift(-1)
    nb_time = legs["board_time"].shift(-1)
    n_trip = legs["trip_id"].shift(-1)
    gap = has_next & (nb_place != legs["alight_place_id"]).to_numpy()
    out.append(vf("chain_gap", "在 " + s(legs["alight_place_id"][gap]) + " 下车，下一段却在 " + s(nb_place[gap]) + " 上车",
                  trip=n_trip[gap], worker=wid[gap]))
    wait = (nb_time - legs["alight_time"]).dt.total_seconds() / 60
    short = has_next & ~gap & (wait < sc.hub.transfer_min).to_numpy()
    out.append(vf("transfer_too_short", "在 " + s(legs["alight_place_id"][short]) + " " + hm(legs["alight_time"][short])
                  + " 下车，" + hm(nb_time[short]) + " 上车，换乘只有 " + num(wait[short]) + " 分钟，需至少 "
                  + str(sc.hub.transfer_min) + " 分钟", trip=n_trip[short], worker=wid[short]))
    trunk_n = (mode.isin(TRUNK_MODES) & (purpose == "passenger")).groupby(wid).transform("sum")
    bad = lastm & (trunk_n != 1).to_numpy()
    out.append(vf("chain_kind", "行程应恰好含一段省际大巴或专列，实有 " + s(trunk_n[bad]) + " 段", worker=wid[bad]))

    # leg times are the vehicle's times at those places, boarding before alighting
    st = plan.stops
    key = st[["trip_id", "place_id", "seq", "arrive", "depart"]].drop_duplicates(["trip_id", "place_id"])
    b = legs[["trip_id", "board_place_id"]].merge(key, how="left", left_on=["trip_id", "board_place_id"],
                                                  right_on=["trip_id", "place_id"])
    a = legs[["trip_id", "alight_place_id"]].merge(key, how="left", left_on=["trip_id", "alight_place_id"],
                                                   right_on=["trip_id", "place_id"])
    b.index = legs.index
    a.index = legs.index
    known = mode.notna()
    nostop = known & (b["seq"].isna() | a["seq"].isna())
    out.append(vf("leg_time_mismatch", "车次不停靠上车地 " + s(legs["board_place_id"][nostop]) + " 或下车地 "
                  + s(legs["alight_place_id"][nostop]), trip=legs["trip_id"][nostop], worker=wid[nostop]))
    ok = known & ~nostop
    order = ok & (b["seq"] >= a["seq"])
    out.append(vf("leg_time_mismatch", "上车地 " + s(legs["board_place_id"][order]) + " 不在下车地 "
                  + s(legs["alight_place_id"][order]) + " 之前", trip=legs["trip_id"][order], worker=wid[order]))
    bt = ok & ~order & (b["depart"] != legs["board_time"])
    out.append(vf("leg_time_mismatch", "上车时间 " + hm(legs["board_time"][bt]) + " 与车辆在 " + s(legs["board_place_id"][bt])
                  + " 的出发时间 " + hm(b["depart"][bt]) + " 不符", trip=legs["trip_id"][bt], worker=wid[bt]))
    at = ok & ~order & (a["arrive"] != legs["alight_time"])
    out.append(vf("leg_time_mismatch", "下车时间 " + hm(legs["alight_time"][at]) + " 与车辆在 " + s(legs["alight_place_id"][at])
                  + " 的到达时间 " + hm(a["arrive"][at]) + " 不符", trip=legs["trip_id"][at], worker=wid[at]))

    ride = (legs["alight_time"] - legs["board_time"]).dt.total_seconds() / 3600
    long_ = (mode == "feeder") & (ride > sc.feeders.max_ride_h + 1e-9)
    out.append(vf("feeder_ride_too_long", "接驳乘车 " + num(ride[long_], 2) + " 小时，超过 " + str(sc.feeders.max_ride_h) + " 小时",
                  trip=legs["trip_id"][long_], worker=wid[long_]))

    # chain label in workers.csv
    w = plan.workers[plan.workers["status"] == "planned"].drop_duplicates("worker_id").set_index("worker_id")
    has_feeder = (mode == "feeder").groupby(wid).any()
    has_train = (mode == "train").groupby(wid).any()
    kind = pd.Series(np.where(has_train, "train", np.where(has_feeder, "hub_coach", "direct")), index=has_train.index)
    kind = kind.reindex(w.index)
    bad = kind.notna() & (w["chain"] != kind)
    out.append(vf("chain_kind", "workers.csv 的 chain 为 " + s(w["chain"][bad]) + "，行程实为 " + s(kind[bad]),
                  worker=pd.Series(w.index[bad])))

    out.append(_families(plan, ctx, legs))
    return concat(out)


def _families(plan: Plan, ctx: CheckContext, legs: pd.DataFrame) -> pd.DataFrame:
    """Members of a family group (same group_id, factory and village) ride the same trips.

    A family living in two villages travels as one group per village (as validate warns and
    the planner plans: see docs/planner.md "Who may travel").
    """
    ref = ctx.workers
    grp = ref[ref["group_id"] != ""][["worker_id", "group_id", "factory_id", "village_code"]].drop_duplicates("worker_id")
    if grp.empty:
        return concat([])
    status = plan.workers.drop_duplicates("worker_id").set_index("worker_id")["status"]
    grp = grp.assign(status=grp["worker_id"].map(status).fillna(""),
                     key=grp["group_id"] + "|" + grp["factory_id"] + "|" + grp["village_code"].astype(str))
    out = []
    planned = grp[grp["status"] == "planned"]
    if len(planned):
        seq = legs[isin(legs["worker_id"], planned["worker_id"])].groupby("worker_id", sort=False)["trip_id"].agg(";".join)
        planned = planned.assign(seq=planned["worker_id"].map(seq).fillna(""))
        want = planned["key"].map(_most_common(planned["key"], planned["seq"]))
        bad = planned["seq"] != want
        out.append(vf("family_split", "同行家庭 " + s(planned["group_id"][bad]) + " 的成员乘坐 " + s(planned["seq"][bad])
                      + "，其他成员乘坐 " + s(want[bad]), worker=planned["worker_id"][bad]))
    if ctx.sc.groups.hold_if_member_ineligible:
        is_planned = grp["status"].eq("planned")
        some = is_planned.groupby(grp["key"]).transform("any")
        all_ = is_planned.groupby(grp["key"]).transform("all")
        bad = (some & ~all_).astype(bool) & is_planned
        out.append(vf("family_split", "同行家庭 " + s(grp["group_id"][bad]) + " 有成员不能出行，按规定全家应等待",
                      worker=grp["worker_id"][bad]))
    return concat(out)


def _most_common(key: pd.Series, value: pd.Series) -> pd.Series:
    """Per key, its most common value; a tie goes to the value seen first (as ``value_counts().index[0]``).

    Vectorised: one groupby over (key, value) instead of a Python call per key.
    """
    frame = pd.DataFrame({"key": key.to_numpy(), "value": value.to_numpy(), "pos": np.arange(len(key))})
    counts = frame.groupby(["key", "value"], sort=False).agg(n=("pos", "size"), first=("pos", "min")).reset_index()
    counts = counts.sort_values(["key", "n", "first"], ascending=[True, False, True], kind="stable")
    best = counts.drop_duplicates("key")
    return pd.Series(best["value"].to_numpy(), index=best["key"].to_numpy())
