"""Fleet: vehicles owned, never in two places at once, coaches return empty, train carriages as chartered.

Rules: vehicle_identity, fleet_exceeded, vehicle_overlap, vehicle_jump, empty_return_missing,
empty_return_place, turnaround_too_short, rest_after_return, coaches_on_road,
train_service_mismatch, train_carriages_exceeded.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.check.context import CheckContext
from planner.check.fast import isin
from planner.check.plan_files import Plan
from planner.check.violations import concat, hm, num, s, vf


def fleet(plan: Plan, ctx: CheckContext) -> pd.DataFrame:
    """Fleet counts, vehicle timelines, empty returns, coaches on the road per day, train carriages."""
    out = []
    sc = ctx.sc
    t = plan.trips.drop_duplicates("trip_id").copy()
    t["last_dest"] = t["destination_ids"].str.split(";").str[-1].fillna("")
    vmode = ctx.mode_of_type(t["vehicle_type"])

    # one vehicle is one type of one county
    road = t[t["mode"].isin(["coach", "feeder"])]
    ident = road.groupby("vehicle_id").agg(types=("vehicle_type", "nunique"), counties=("home_county_code", "nunique"))
    bad = (ident["types"] > 1) | (ident["counties"] > 1)
    ids = pd.Series(ident.index[bad])
    first_trip = road.drop_duplicates("vehicle_id").set_index("vehicle_id")["trip_id"]
    out.append(vf("vehicle_identity", "车辆 " + ids + " 在不同车次中车型或车籍不同", trip=ids.map(first_trip)))

    # fleet counts per county and type
    used = road.groupby(["home_county_code", "vehicle_type"])["vehicle_id"].nunique()
    own = ctx.fleet.set_index(["county_code", "type_id"])["count"]
    have = pd.Series(own.reindex(used.index).fillna(0).astype(np.int64).to_numpy(), index=used.index)
    bad = used > have
    idx = used.index[bad]
    out.append(vf("fleet_exceeded", "区县 " + pd.Series(idx.get_level_values(0)) + " 车型 " + pd.Series(idx.get_level_values(1))
                  + " 用了 " + pd.Series(used[bad].to_numpy()).astype(str) + " 辆车，车队只有 "
                  + pd.Series(have[bad].to_numpy()).astype(str) + " 辆"))

    # each vehicle's timeline
    v = t[t["vehicle_id"] != ""].sort_values(["vehicle_id", "depart", "arrive"], kind="stable").reset_index(drop=True)
    same = (v["vehicle_id"] == v["vehicle_id"].shift(1)).to_numpy()
    p_arr = v["arrive"].shift(1)
    p_last = v["last_dest"].shift(1)
    p_purpose = v["purpose"].shift(1)
    p_trip = v["trip_id"].shift(1)
    p_mode = v["mode"].shift(1)
    overlap = same & (v["depart"] < p_arr).to_numpy()
    out.append(vf("vehicle_overlap", "车辆 " + s(v["vehicle_id"][overlap]) + " 上一趟 " + s(p_trip[overlap]) + " "
                  + hm(p_arr[overlap]) + " 才结束，本趟 " + hm(v["depart"][overlap]) + " 就出发",
                  trip=v["trip_id"][overlap]))
    ok = same & ~overlap
    coach_next = ok & (v["mode"] == "coach").to_numpy() & (p_mode == "coach").to_numpy()
    bad = coach_next & (v["origin_id"] != p_last).to_numpy()
    out.append(vf("vehicle_jump", "大巴 " + s(v["vehicle_id"][bad]) + " 上一趟停在 " + s(p_last[bad]) + "，本趟却从 "
                  + s(v["origin_id"][bad]) + " 出发", trip=v["trip_id"][bad]))
    feed = ok & (v["mode"] == "feeder").to_numpy()
    if feed.any():
        fx = v[feed]
        a = p_last[feed].fillna("").astype(str)
        b = fx["origin_id"].astype(str)
        home = fx["home_county_code"].astype(str)
        need = pd.Series(ctx.travel.feeder_minutes_many(a, b, home), index=fx.index)
        have_min = (fx["depart"] - p_arr[feed]).dt.total_seconds() / 60
        bad = need.notna() & (have_min < need - 1)
        # km only for the message, so only for the reported rows
        km = pd.Series([ctx.travel.km(x, y, c) for x, y, c in zip(a[bad], b[bad], home[bad])],
                       index=fx.index[bad], dtype=float)
        out.append(vf("vehicle_jump", "接驳车 " + s(fx["vehicle_id"][bad]) + " " + hm(p_arr[feed][bad]) + " 到 "
                      + s(p_last[feed][bad]) + "，空驶 " + num(km[bad]) + " km 到 " + s(fx["origin_id"][bad]) + " 需 "
                      + num(need[bad]) + " 分钟，只有 " + num(have_min[bad]) + " 分钟", trip=fx["trip_id"][bad]))

    # empty returns
    if sc.fleet.empty_return:
        home = v["home_county_code"]
        dest_county = ctx.place_county(v["last_dest"])
        away = (v["mode"] == "coach") & (v["purpose"] == "passenger") & (dest_county.str.slice(0, 2) != home.str.slice(0, 2))
        n_vid = v["vehicle_id"].shift(-1)
        n_purpose = v["purpose"].shift(-1)
        bad = away & ((n_vid != v["vehicle_id"]) | (n_purpose != "empty_return"))
        out.append(vf("empty_return_missing", "大巴 " + s(v["vehicle_id"][bad]) + " 送客到外省 " + s(v["last_dest"][bad])
                      + " 后没有空车返回本县（下一趟应为 empty_return）", trip=v["trip_id"][bad]))
        er = v["purpose"] == "empty_return"
        bad = er & (dest_county != home)
        out.append(vf("empty_return_place", "空车返回终点 " + s(v["last_dest"][bad]) + "（区县 " + s(dest_county[bad])
                      + "）不在车籍区县 " + s(home[bad]), trip=v["trip_id"][bad]))
        gap_h = (v["depart"] - p_arr).dt.total_seconds() / 3600
        bad = er & same & (p_purpose == "passenger").to_numpy() & (gap_h < sc.fleet.turnaround_h - 1e-6)
        out.append(vf("turnaround_too_short", "送客到达 " + hm(p_arr[bad]) + " 后 " + num(gap_h[bad], 1) + " 小时就返回，"
                      + f"需至少 {sc.fleet.turnaround_h:g} 小时（卸客、消毒、休息）", trip=v["trip_id"][bad]))
        bad = same & (p_purpose == "empty_return").to_numpy() & (gap_h < sc.fleet.rest_after_return_h - 1e-6)
        out.append(vf("rest_after_return", "大巴 " + s(v["vehicle_id"][bad]) + " " + hm(p_arr[bad]) + " 返回本县，"
                      + num(gap_h[bad], 1) + f" 小时后就再出发，需休息至少 {sc.fleet.rest_after_return_h:g} 小时",
                      trip=v["trip_id"][bad]))

    out.append(on_road(t, ctx))
    out.append(_trains(t, ctx, vmode))
    return concat(out)


def on_road(t: pd.DataFrame, ctx: CheckContext) -> pd.DataFrame:
    """Per county per calendar day, coaches with any trip on that day <= the county's coaches."""
    coach = t[(t["mode"] == "coach") & t["depart"].notna() & t["arrive"].notna()]
    if coach.empty:
        return concat([])
    d0 = coach["depart"].dt.normalize()
    n = ((coach["arrive"].dt.normalize() - d0).dt.days + 1).clip(lower=1).to_numpy()
    rep = np.repeat(np.arange(len(coach)), n)
    offs = np.arange(len(rep)) - np.repeat(np.cumsum(n) - n, n)
    days = d0.to_numpy()[rep] + offs.astype("timedelta64[D]")
    on = pd.DataFrame({"c": coach["home_county_code"].to_numpy()[rep], "d": days,
                       "v": coach["vehicle_id"].to_numpy()[rep]}).drop_duplicates().groupby(["c", "d"]).size()
    fl = ctx.fleet.assign(mode=ctx.mode_of_type(ctx.fleet["type_id"]))
    cap = fl[fl["mode"] == "coach"].groupby("county_code")["count"].sum()
    have = pd.Series(on.index.get_level_values(0).map(cap).fillna(0).astype(np.int64).to_numpy(), index=on.index)
    bad = on > have
    idx = on.index[bad]
    return vf("coaches_on_road", "区县 " + pd.Series(idx.get_level_values(0)) + " 在 "
              + pd.Series(idx.get_level_values(1)).dt.strftime("%Y-%m-%d") + " 有 " + pd.Series(on[bad].to_numpy()).astype(str)
              + " 辆大巴在路上，车队只有 " + pd.Series(have[bad].to_numpy()).astype(str) + " 辆")


def _trains(t: pd.DataFrame, ctx: CheckContext, vmode: pd.Series) -> pd.DataFrame:
    """Carriages match their service (times, stations, type) and stay within the chartered number."""
    out = []
    tr = t[t["mode"] == "train"]
    if tr.empty:
        return concat(out)
    svc = ctx.services
    known = isin(tr["service_id"], svc.index)
    out.append(vf("train_service_mismatch", "专列 '" + s(tr["service_id"][~known]) + "' 不在情景的专列表中",
                  trip=tr["trip_id"][~known]))
    x = tr[known]
    ref = svc.reindex(x["service_id"])
    ref.index = x.index
    tol = pd.Timedelta(minutes=1)
    msgs = pd.Series("", index=x.index, dtype=object)
    m = (x["depart"] - ref["depart"]).abs() > tol
    msgs[m] += "出发 " + hm(x["depart"][m]) + " 应为 " + hm(ref["depart"][m]) + "；"
    m = (x["arrive"] - ref["arrive"]).abs() > tol
    msgs[m] += "到达 " + hm(x["arrive"][m]) + " 应为 " + hm(ref["arrive"][m]) + "；"
    m = x["origin_id"] != ref["origin_station_id"]
    msgs[m] += "始发 " + s(x["origin_id"][m]) + " 应为 " + s(ref["origin_station_id"][m]) + "；"
    m = x["destination_ids"] != ref["destination_station_id"]
    msgs[m] += "到站 " + s(x["destination_ids"][m]) + " 应为 " + s(ref["destination_station_id"][m]) + "；"
    m = x["vehicle_type"] != ref["carriage_type"]
    msgs[m] += "车型 " + s(x["vehicle_type"][m]) + " 应为 " + s(ref["carriage_type"][m]) + "；"
    bad = msgs != ""
    out.append(vf("train_service_mismatch", "车厢与专列 " + s(x["service_id"][bad]) + " 不符：" + msgs[bad],
                  trip=x["trip_id"][bad]))
    per = x.groupby("service_id").agg(cars=("vehicle_id", "nunique"), trips=("trip_id", "size"))
    per["n"] = per[["cars", "trips"]].max(axis=1)
    cap = svc["carriages"].astype(int).reindex(per.index)
    bad = per["n"] > cap
    out.append(vf("train_carriages_exceeded", "专列 " + pd.Series(per.index[bad]) + " 用了 "
                  + pd.Series(per["n"][bad].to_numpy()).astype(str) + " 节车厢，只包租了 "
                  + pd.Series(cap[bad].to_numpy()).astype(str) + " 节"))
    return concat(out)
