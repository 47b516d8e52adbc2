"""Structure: trips and their stops agree with each other and with the scenario's types.

Rules: trip_fields, stop_sequence, stop_times, trip_stops_mismatch.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.check.context import CheckContext
from planner.check.fast import isin
from planner.check.plan_files import Plan
from planner.check.violations import concat, hm, num, s, vf
from planner.plan_format import PLACE_KINDS
from planner.vocab import OCCUPANCY_RULES

MODES = {"coach": "coach", "feeder": "feeder", "train": "train_carriage"}
RULES = set(OCCUPANCY_RULES)
KINDS = set(PLACE_KINDS)
DEST_KINDS = {"hub", "station", "factory"}


def structure(plan: Plan, ctx: CheckContext) -> pd.DataFrame:
    """Trip fields, stop numbering and times, trips.csv against stops.csv."""
    out = []
    t = plan.trips
    st = plan.stops

    dup = t[t["trip_id"].duplicated()]
    out.append(vf("trip_fields", "trip_id 重复", trip=dup["trip_id"]))
    bad = ~t["mode"].isin(list(MODES))
    out.append(vf("trip_fields", "mode '" + s(t["mode"][bad]) + "' 应为 coach/feeder/train", trip=t["trip_id"][bad]))
    bad = ~t["purpose"].isin(["passenger", "empty_return"])
    out.append(vf("trip_fields", "purpose '" + s(t["purpose"][bad]) + "' 应为 passenger/empty_return", trip=t["trip_id"][bad]))
    bad = (t["purpose"] == "empty_return") & ((t["mode"] != "coach") | (t["passengers"] != 0))
    out.append(vf("trip_fields", "空车返回只能是大巴且不载客（载客 " + s(t["passengers"][bad]) + " 人）", trip=t["trip_id"][bad]))
    bad = (t["purpose"] == "passenger") & ~t["occupancy_rule"].isin(list(RULES))
    out.append(vf("trip_fields", "occupancy_rule '" + s(t["occupancy_rule"][bad]) + "' 不是规定的座位规则",
                  trip=t["trip_id"][bad]))
    vmode = ctx.mode_of_type(t["vehicle_type"])
    bad = vmode == ""
    out.append(vf("trip_fields", "车型 '" + s(t["vehicle_type"][bad]) + "' 不在车型表中", trip=t["trip_id"][bad]))
    bad = (vmode != "") & t["mode"].isin(list(MODES)) & (t["mode"].map(MODES) != vmode)
    out.append(vf("trip_fields", "车型 " + s(t["vehicle_type"][bad]) + " 是 " + s(vmode[bad]) + "，不能用作 "
                  + s(t["mode"][bad]), trip=t["trip_id"][bad]))
    rated = t["vehicle_type"].map(ctx.vehicle_types["rated_seats"]) if "rated_seats" in ctx.vehicle_types else None
    if rated is not None:
        bad = rated.notna() & (t["seats_rated"] != rated.fillna(-1).astype(np.int64))
        out.append(vf("trip_fields", "seats_rated " + s(t["seats_rated"][bad]) + " 应为车型核定座位 "
                      + num(rated[bad]), trip=t["trip_id"][bad]))
    bad = t["vehicle_id"] == ""
    out.append(vf("trip_fields", "vehicle_id 为空", trip=t["trip_id"][bad]))
    bad = t["depart"].isna() | t["arrive"].isna() | (t["arrive"] < t["depart"])
    out.append(vf("trip_fields", "出发/到达时间缺失或倒序（" + hm(t["depart"][bad]) + " → " + hm(t["arrive"][bad]) + "）",
                  trip=t["trip_id"][bad]))

    # stops: numbering
    known = isin(st["trip_id"], t["trip_id"])
    out.append(vf("stop_sequence", "stops.csv 中的车次不在 trips.csv 中", trip=pd.Series(st.loc[~known, "trip_id"].unique())))
    has = isin(t["trip_id"], st["trip_id"])
    out.append(vf("stop_sequence", "车次没有停靠记录", trip=t["trip_id"][~has]))
    g = st.groupby("trip_id", sort=False)
    rank = g.cumcount() + 1
    n = g["seq"].transform("size")
    bad_trips = st.loc[(st["seq"] != rank), "trip_id"].unique()
    out.append(vf("stop_sequence", "停靠序号应为 1, 2, … 连续", trip=pd.Series(bad_trips)))
    one = st.loc[n < 2, "trip_id"].unique()
    out.append(vf("stop_sequence", "车次至少要有起点和终点两个停靠", trip=pd.Series(one)))
    bad = ~st["place_kind"].isin(list(KINDS))
    out.append(vf("stop_sequence", "place_kind '" + s(st["place_kind"][bad]) + "' 无效（" + s(st["place_id"][bad]) + "）",
                  trip=st["trip_id"][bad]))
    kind_ok = st["place_kind"].isin(["rest"]) | (st["place_kind"] == "pickup")
    known_place = isin(st["place_id"], ctx.places.index)
    bad = ~kind_ok & ~known_place
    out.append(vf("stop_sequence", "停靠地点 " + s(st["place_id"][bad]) + " 不在情景数据中", trip=st["trip_id"][bad]))
    pk = st["place_id"].map(ctx.places["kind"])
    bad = known_place & st["place_kind"].isin(["village", "hub", "station", "factory"]) & (pk != st["place_kind"])
    out.append(vf("stop_sequence", "地点 " + s(st["place_id"][bad]) + " 是 " + s(pk[bad]) + "，却标为 "
                  + s(st["place_kind"][bad]), trip=st["trip_id"][bad]))

    # stops: times
    first = rank == 1
    last = rank == n
    bad = (~first & st["arrive"].isna()) | (~last & st["depart"].isna())
    out.append(vf("stop_times", "第 " + s(st["seq"][bad]) + " 站 " + s(st["place_id"][bad]) + " 缺少到达或出发时间",
                  trip=st["trip_id"][bad]))
    bad = st["arrive"].notna() & st["depart"].notna() & (st["depart"] < st["arrive"])
    out.append(vf("stop_times", "在 " + s(st["place_id"][bad]) + " 出发 " + hm(st["depart"][bad]) + " 早于到达 "
                  + hm(st["arrive"][bad]), trip=st["trip_id"][bad]))
    nxt_arr = st["arrive"].shift(-1)
    bad = ~last & st["depart"].notna() & nxt_arr.notna() & (nxt_arr < st["depart"])
    out.append(vf("stop_times", "从 " + s(st["place_id"][bad]) + " " + hm(st["depart"][bad]) + " 出发，下一站却在 "
                  + hm(nxt_arr[bad]) + " 到达", trip=st["trip_id"][bad]))
    bad = st["boarding"].lt(0) | st["alighting"].lt(0) | ((st["place_kind"] == "rest") & ((st["boarding"] > 0) | (st["alighting"] > 0)))
    out.append(vf("stop_times", "在 " + s(st["place_id"][bad]) + "（" + s(st["place_kind"][bad]) + "）上下车人数无效",
                  trip=st["trip_id"][bad]))

    # trips.csv against the stops
    f = st[first].set_index("trip_id")
    lst = st[last].set_index("trip_id")
    tt = t.drop_duplicates("trip_id").set_index("trip_id")
    tt = tt[isin(tt.index, f.index)]
    o_place = f["place_id"].reindex(tt.index)
    o_dep = f["depart"].reindex(tt.index)
    l_place = lst["place_id"].reindex(tt.index)
    l_arr = lst["arrive"].reindex(tt.index)
    km = st.groupby("trip_id")["distance_km"].sum().reindex(tt.index)
    dest_stops = st[~first & st["place_kind"].isin(list(DEST_KINDS))]
    dests = dest_stops.groupby("trip_id", sort=False)["place_id"].agg(";".join).reindex(tt.index).fillna("")
    msgs = pd.Series("", index=tt.index, dtype=object)
    m = tt["origin_id"] != o_place
    msgs[m] += "origin_id " + s(tt["origin_id"][m]) + " 而首站为 " + s(o_place[m]) + "；"
    m = tt["depart"] != o_dep
    msgs[m] += "depart " + hm(tt["depart"][m]) + " 而首站出发 " + hm(o_dep[m]) + "；"
    m = tt["arrive"] != l_arr
    msgs[m] += "arrive " + hm(tt["arrive"][m]) + " 而末站到达 " + hm(l_arr[m]) + "；"
    m = tt["destination_ids"] != dests
    msgs[m] += "destination_ids " + s(tt["destination_ids"][m]) + " 而停靠的目的地为 " + s(dests[m]) + "；"
    last_dest = tt["destination_ids"].str.split(";").str[-1]
    m = last_dest != l_place
    msgs[m] += "末站为 " + s(l_place[m]) + "；"
    m = (tt["distance_km"] - km).abs() > 1 + 0.01 * km.abs()
    msgs[m] += "distance_km " + num(tt["distance_km"][m], 1) + " 而各段之和为 " + num(km[m], 1) + "；"
    bad = msgs != ""
    out.append(vf("trip_stops_mismatch", "trips.csv 与 stops.csv 不符：" + msgs[bad], trip=pd.Series(tt.index[bad])))
    return concat(out)
