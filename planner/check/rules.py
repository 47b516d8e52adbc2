"""The checker's rules. Each function returns a list of violations (rule, trip, worker, message).

Rule codes (docs/checker.md explains each):
accounting: worker_missing, worker_duplicate, worker_unknown_row, worker_id_mismatch, bad_status,
    rejected_not_reported, unassigned_has_legs, planned_without_legs, summary_mismatch
chains: leg_numbering, chain_start, chain_end, chain_gap, transfer_too_short, leg_time_mismatch,
    feeder_ride_too_long, family_split
seats: seat_unknown, seat_not_allowed, seat_double_booked, over_capacity, seats_allowed_mismatch,
    passenger_count_mismatch, wrong_occupancy_rule
county: pickup_en_route, pickup_outside_county
driving: continuous_driving, night_stop_driving, daily_driving, second_driver_missing, too_fast
fleet: fleet_exceeded, vehicle_overlap, vehicle_jump, empty_return_missing, rest_after_return,
    coaches_on_road, train_service_mismatch, train_carriages_exceeded
hubs: hub_capacity
dates: outside_window, before_ready, after_needed_by, destination_closed, job_not_confirmed,
    proof_not_recognised, proof_not_valid
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from planner.check.context import LEVELS, CheckContext
from planner.check.plan_files import PlanFiles
from planner.rules.geo import haversine_km
from planner.rules.seats import allowed_seats, seats_allowed

Violation = tuple[str, str, str, str]  # rule, trip_id, worker_id, message


def _v(rule: str, trip: str = "", worker: str = "", msg: str = "") -> Violation:
    return (rule, str(trip), str(worker), msg)


def _fmt(t) -> str:
    return "" if pd.isna(t) else pd.Timestamp(t).strftime("%m-%d %H:%M")


# ------------------------------------------------------------------ accounting
def accounting(plan: PlanFiles, ctx: CheckContext) -> list[Violation]:
    out: list[Violation] = []
    w = plan.workers
    acc = ctx.tables["workers"]
    expected = set(acc["_row"].astype(int)) | set(ctx.rejected_rows)
    rows = w["source_row"]
    dup = rows[rows.duplicated()]
    for r in dup.unique()[:1000]:
        out.append(_v("worker_duplicate", msg=f"输入第 {r} 行在 workers.csv 中出现多次"))
    present = set(rows)
    for r in sorted(expected - present)[:1000]:
        out.append(_v("worker_missing", msg=f"输入第 {r} 行的人员不在 workers.csv 中（有人被遗漏）"))
    for r in sorted(present - expected)[:1000]:
        out.append(_v("worker_unknown_row", msg=f"workers.csv 有输入中不存在的第 {r} 行"))
    ids = acc.set_index(acc["_row"].astype(int))["worker_id"].astype(str)
    mine = w[w["source_row"].isin(ids.index)]
    bad = mine[mine["worker_id"] != mine["source_row"].map(ids)]
    for _, r in bad.head(1000).iterrows():
        out.append(_v("worker_id_mismatch", worker=r["worker_id"], msg=f"第 {r['source_row']} 行的 worker_id 与输入不符"))
    bad = w[~w["status"].isin(["planned", "unassigned"]) | ((w["status"] == "unassigned") & (w["reason"] == ""))]
    for _, r in bad.head(1000).iterrows():
        out.append(_v("bad_status", worker=r["worker_id"], msg=f"状态 {r['status']!r} 或原因缺失"))
    rej = w[w["source_row"].isin(ctx.rejected_rows)]
    bad = rej[(rej["status"] != "unassigned") | (rej["reason"] != "rejected_input")]
    for _, r in bad.head(1000).iterrows():
        out.append(_v("rejected_not_reported", worker=r["worker_id"], msg=f"第 {r['source_row']} 行输入被拒绝，应标为 rejected_input"))
    with_legs = set(plan.legs["worker_id"])
    un = w[(w["status"] == "unassigned") & w["worker_id"].isin(with_legs) & ~w["source_row"].isin(ctx.rejected_rows)]
    for _, r in un.head(1000).iterrows():
        out.append(_v("unassigned_has_legs", worker=r["worker_id"], msg="未安排的人员却有乘车记录"))
    pl = w[(w["status"] == "planned") & ~w["worker_id"].isin(with_legs)]
    for _, r in pl.head(1000).iterrows():
        out.append(_v("planned_without_legs", worker=r["worker_id"], msg="已安排的人员没有乘车记录"))
    s = plan.summary.get("workers", {}) if plan.summary else {}
    if s:
        for key, val in (("read", len(expected)), ("planned", int((w["status"] == "planned").sum())),
                         ("unassigned", int((w["status"] == "unassigned").sum()))):
            if int(s.get(key, -1)) != val:
                out.append(_v("summary_mismatch", msg=f"summary.json 的 workers.{key} = {s.get(key)}，实际为 {val}"))
    return out


# ---------------------------------------------------------------------- chains
def chains(plan: PlanFiles, ctx: CheckContext) -> list[Violation]:
    out: list[Violation] = []
    sc = ctx.sc
    legs = plan.legs.sort_values(["worker_id", "leg"]).reset_index(drop=True)
    if legs.empty:
        return out
    trips = plan.trips.set_index("trip_id")
    legs["mode"] = legs["trip_id"].map(trips["mode"])
    unknown = legs[legs["mode"].isna()]
    for _, r in unknown.head(1000).iterrows():
        out.append(_v("chain_gap", r["trip_id"], r["worker_id"], "乘车记录指向不存在的车次"))
    g = legs.groupby("worker_id", sort=False)
    n = g["leg"].transform("size")
    rank = g.cumcount() + 1
    bad = legs[legs["leg"] != rank]
    for wid in bad["worker_id"].unique()[:1000]:
        out.append(_v("leg_numbering", worker=wid, msg="行程段编号应为 1, 2, … 连续"))
    wk = plan.workers.drop_duplicates("worker_id").set_index("worker_id")
    fac = ctx.tables["factories"].set_index("factory_id")
    first = legs[rank == 1]
    bad = first[first["board_place_id"] != first["worker_id"].map(wk["village_code"])]
    for _, r in bad.head(1000).iterrows():
        out.append(_v("chain_start", r["trip_id"], r["worker_id"], f"第一段应从本人所在村上车，实际为 {r['board_place_id']}"))
    last = legs[rank == n].copy()
    last["factory_id"] = last["worker_id"].map(wk["factory_id"])
    last["station"] = last["factory_id"].map(fac["arrival_station_id"]) if "arrival_station_id" in fac else ""
    ok_end = np.where(last["mode"] == "train", last["alight_place_id"] == last["station"],
                      last["alight_place_id"] == last["factory_id"])
    for _, r in last[~ok_end].head(1000).iterrows():
        out.append(_v("chain_end", r["trip_id"], r["worker_id"], f"最后一段应到达企业或其接站站点，实际为 {r['alight_place_id']}"))
    nxt = legs.groupby("worker_id", sort=False).shift(-1)
    has_next = nxt["trip_id"].notna()
    gap = has_next & (nxt["board_place_id"] != legs["alight_place_id"])
    for i in np.flatnonzero(gap.to_numpy())[:1000]:
        out.append(_v("chain_gap", nxt["trip_id"].iloc[i], legs["worker_id"].iloc[i],
                      f"下车地 {legs['alight_place_id'].iloc[i]} 与下一段上车地 {nxt['board_place_id'].iloc[i]} 不同"))
    need = pd.Timedelta(minutes=sc.hub.transfer_min)
    short = has_next & ~gap & ((nxt["board_time"] - legs["alight_time"]) < need)
    for i in np.flatnonzero(short.to_numpy())[:1000]:
        out.append(_v("transfer_too_short", nxt["trip_id"].iloc[i], legs["worker_id"].iloc[i],
                      f"在 {legs['alight_place_id'].iloc[i]} 换乘只有 "
                      f"{(nxt['board_time'].iloc[i] - legs['alight_time'].iloc[i]).total_seconds() / 60:.0f} 分钟，"
                      f"需至少 {sc.hub.transfer_min} 分钟"))
    # leg times equal the vehicle's stop times
    st = plan.stops
    dep = st.set_index(["trip_id", "place_id"])["depart"]
    arr = st.set_index(["trip_id", "place_id"])["arrive"]
    dep = dep[~dep.index.duplicated()]
    arr = arr[~arr.index.duplicated()]
    bk = pd.MultiIndex.from_arrays([legs["trip_id"], legs["board_place_id"]])
    ak = pd.MultiIndex.from_arrays([legs["trip_id"], legs["alight_place_id"]])
    bt = dep.reindex(bk).to_numpy()
    at_ = arr.reindex(ak).to_numpy()
    bad = (pd.Series(bt, index=legs.index) != legs["board_time"]) | (pd.Series(at_, index=legs.index) != legs["alight_time"])
    for _, r in legs[bad].head(1000).iterrows():
        out.append(_v("leg_time_mismatch", r["trip_id"], r["worker_id"], "上下车时间与车次停靠时间不符（或该车不停靠此地）"))
    feeder = legs["mode"] == "feeder"
    ride = (legs["alight_time"] - legs["board_time"]).dt.total_seconds() / 3600
    long_ = feeder & (ride > sc.feeders.max_ride_h + 1e-9)
    for _, r in legs[long_].head(1000).iterrows():
        out.append(_v("feeder_ride_too_long", r["trip_id"], r["worker_id"], f"接驳乘车超过 {sc.feeders.max_ride_h} 小时"))
    # families ride the same trips
    if "group_id" in plan.workers.columns:
        wg = plan.workers[(plan.workers["status"] == "planned") & (plan.workers["group_id"] != "")]
        if len(wg):
            key = wg.set_index("worker_id")["group_id"] + "|" + wg.set_index("worker_id")["factory_id"]
            seq = legs[legs["worker_id"].isin(key.index)].groupby("worker_id")["trip_id"].agg(";".join)
            df = pd.DataFrame({"key": key.reindex(seq.index), "seq": seq})
            split = df.groupby("key")["seq"].nunique()
            for k in split[split > 1].index[:1000]:
                out.append(_v("family_split", msg=f"同行家庭 {k.split('|')[0]} 的成员乘坐了不同车次"))
    return out


# ----------------------------------------------------------------------- seats
def seats(plan: PlanFiles, ctx: CheckContext) -> list[Violation]:
    out: list[Violation] = []
    sc = ctx.sc
    trips = plan.trips
    legs = plan.legs.merge(trips[["trip_id", "vehicle_type", "occupancy_rule"]], on="trip_id", how="left")
    allowed_rows = []
    exists_rows = []
    for (vt, rule), _ in legs.groupby(["vehicle_type", "occupancy_rule"]):
        lay = ctx.layouts.get(vt)
        if lay is None:
            continue
        for s in allowed_seats(lay, rule, ctx.isolation_rows(vt)):
            allowed_rows.append((vt, rule, s))
    for vt, lay in ctx.layouts.items():
        for s in lay.seats():
            exists_rows.append((vt, s))
    exists = pd.MultiIndex.from_tuples(exists_rows) if exists_rows else pd.MultiIndex.from_tuples([("", "")])
    allowed = pd.MultiIndex.from_tuples(allowed_rows) if allowed_rows else pd.MultiIndex.from_tuples([("", "", "")])
    e_ok = pd.MultiIndex.from_arrays([legs["vehicle_type"], legs["seat"]]).isin(exists)
    a_ok = pd.MultiIndex.from_arrays([legs["vehicle_type"], legs["occupancy_rule"], legs["seat"]]).isin(allowed)
    for _, r in legs[~e_ok].head(1000).iterrows():
        out.append(_v("seat_unknown", r["trip_id"], r["worker_id"], f"座位 {r['seat']} 在车型 {r['vehicle_type']} 中不存在"))
    for _, r in legs[e_ok & ~a_ok].head(1000).iterrows():
        out.append(_v("seat_not_allowed", r["trip_id"], r["worker_id"],
                      f"座位 {r['seat']} 不允许售出（{r['occupancy_rule']}，或在最后几排留观区）"))
    dup = legs.duplicated(["trip_id", "seat"], keep=False)
    for _, r in legs[dup].head(1000).iterrows():
        out.append(_v("seat_double_booked", r["trip_id"], r["worker_id"], f"座位 {r['seat']} 有两人"))
    per_trip = plan.legs.groupby("trip_id").size()
    t = trips.set_index("trip_id")
    counted = per_trip.reindex(t.index).fillna(0).astype(int)
    for tid in t.index[(t["passengers"] != counted).to_numpy()][:1000]:
        out.append(_v("passenger_count_mismatch", tid, msg=f"trips.csv 人数 {t.at[tid, 'passengers']}，乘车记录 {counted[tid]}"))
    over = t[t["passengers"] > t["seats_allowed"]]
    for tid, r in over.head(1000).iterrows():
        out.append(_v("over_capacity", tid, msg=f"载客 {r['passengers']} 超过允许座位 {r['seats_allowed']}"))
    for tid, r in t.iterrows():
        lay = ctx.layouts.get(r["vehicle_type"])
        if lay is None or r["purpose"] != "passenger":
            continue
        n = seats_allowed(lay, r["occupancy_rule"], ctx.isolation_rows(r["vehicle_type"]))
        if n != r["seats_allowed"]:
            out.append(_v("seats_allowed_mismatch", tid, msg=f"seats_allowed {r['seats_allowed']} 应为 {n}"))
    # boarding/alighting in stops equal the legs
    st = plan.stops
    b = st.groupby(["trip_id", "place_id"])["boarding"].sum()
    a = st.groupby(["trip_id", "place_id"])["alighting"].sum()
    lb = plan.legs.groupby(["trip_id", "board_place_id"]).size()
    la = plan.legs.groupby(["trip_id", "alight_place_id"]).size()
    lb.index.names = b.index.names
    la.index.names = a.index.names
    db = b.sub(lb, fill_value=0)
    da = a.sub(la, fill_value=0)
    for (tid, pid) in list(db[db != 0].index[:500]) + list(da[da != 0].index[:500]):
        out.append(_v("passenger_count_mismatch", tid, msg=f"在 {pid} 的上下车人数与乘车记录不符"))
    # occupancy rule in force
    dest = st[st["place_kind"].isin(["factory", "station", "hub"])]
    arrive_last = dest.groupby("trip_id")
    for tid, g in arrive_last:
        if tid not in t.index or t.at[tid, "purpose"] != "passenger":
            continue
        mode = t.at[tid, "mode"]
        kinds = ("hub",) if mode == "feeder" else ("factory", "station")
        gg = g[g["place_kind"].isin(kinds) & g["arrive"].notna()]
        if gg.empty:
            continue
        lvl = max(ctx.level(p, a.date()) for p, a in zip(gg["place_id"], gg["arrive"]))
        day = t.at[tid, "depart"].date()
        want = sc.occupancy.rule_for(LEVELS[min(lvl, 2)], day)
        if want != t.at[tid, "occupancy_rule"]:
            out.append(_v("wrong_occupancy_rule", tid, msg=f"应执行 {want}，计划写的是 {t.at[tid, 'occupancy_rule']}"))
    return out


# ---------------------------------------------------------------------- county
def county(plan: PlanFiles, ctx: CheckContext) -> list[Violation]:
    out: list[Violation] = []
    t = plan.trips.set_index("trip_id")
    st = plan.stops.sort_values(["trip_id", "seq"])
    for tid, g in st.groupby("trip_id", sort=False):
        if tid not in t.index or t.at[tid, "mode"] == "train":
            continue
        home = str(t.at[tid, "home_county_code"])
        seen_stop = False
        for kind, pid, b, a in zip(g["place_kind"], g["place_id"], g["boarding"], g["alighting"]):
            if b > 0:
                if seen_stop or a > 0:
                    out.append(_v("pickup_en_route", tid, msg=f"在 {pid} 途中上客（已有人下车之后）"))
                if ctx.place_county.get(pid, "") != home:
                    out.append(_v("pickup_outside_county", tid, msg=f"在本县 {home} 之外的 {pid} 上客"))
            if a > 0:
                seen_stop = True
    return out


# --------------------------------------------------------------------- driving
def driving(plan: PlanFiles, ctx: CheckContext) -> list[Violation]:
    out: list[Violation] = []
    r = ctx.sc.drivers
    day_lim = r.max_continuous_day_h * 60
    night_lim = r.max_continuous_night_h * 60
    ns, ne = r.night_start.hour * 60 + r.night_start.minute, r.night_end.hour * 60 + r.night_end.minute
    xs, xe = r.no_driving_start.hour * 60 + r.no_driving_start.minute, r.no_driving_end.hour * 60 + r.no_driving_end.minute
    t = plan.trips.set_index("trip_id")
    coach = t[t["mode"] == "coach"]
    st = plan.stops[plan.stops["trip_id"].isin(coach.index)].sort_values(["trip_id", "seq"])
    speed = ctx.sc.travel.coach_speed_kmh
    for tid, g in st.groupby("trip_id", sort=False):
        drivers = int(coach.at[tid, "drivers"])
        if coach.at[tid, "distance_km"] > r.second_driver_km and drivers < 2:
            out.append(_v("second_driver_missing", tid, msg=f"单程 {coach.at[tid, 'distance_km']:.0f} km 需两名驾驶员"))
        deps = g["depart"].to_list()
        arrs = g["arrive"].to_list()
        kms = g["distance_km"].to_list()
        stretches = []
        for i in range(len(g) - 1):
            a, b = deps[i], arrs[i + 1]
            if pd.isna(a) or pd.isna(b) or b < a:
                out.append(_v("too_fast", tid, msg="停靠时间缺失或倒序"))
                continue
            minutes = (b - a).total_seconds() / 60
            if minutes + 1 < kms[i + 1] / speed * 60:
                out.append(_v("too_fast", tid, msg=f"{_fmt(a)}–{_fmt(b)} 行驶 {kms[i + 1]:.0f} km 过快"))
            stretches.append((a, b))
        period = 0.0
        night = False
        prev_end = None
        for a, b in stretches:
            if prev_end is not None and (a - prev_end) >= timedelta(minutes=r.min_rest_min):
                period, night = 0.0, False
            m = (b - a).total_seconds() / 60
            s = a.hour * 60 + a.minute
            if _meets(s, m, ns, ne):
                night = True
            if _meets(s, m, xs, xe):
                out.append(_v("night_stop_driving", tid, msg=f"{_fmt(a)}–{_fmt(b)} 在 02:00-05:00 行驶"))
            period += m
            lim = night_lim if night else day_lim
            if period > lim + 1e-6:
                out.append(_v("continuous_driving", tid, msg=f"连续驾驶 {period:.0f} 分钟，超过 {lim:.0f} 分钟（至 {_fmt(b)}）"))
            lo = b - timedelta(hours=24)
            total = sum((y - max(x, lo)).total_seconds() / 60 for x, y in stretches if y > lo and x < b)
            if total > r.max_driving_per_24h_h * 60 * drivers + 1e-6:
                out.append(_v("daily_driving", tid, msg=f"24 小时内驾驶 {total:.0f} 分钟，超过 {drivers} 名驾驶员的上限"))
            prev_end = b
    return out


def _meets(start: int, length: float, ws: int, we: int) -> bool:
    """Whether [start, start+length) minutes of day meets the daily window [ws, we)."""
    if length <= 0:
        return False
    inside = (ws <= start < we) if ws <= we else (start >= ws or start < we)
    return inside or ((ws - start) % 1440) < length


# ----------------------------------------------------------------------- fleet
def fleet(plan: PlanFiles, ctx: CheckContext) -> list[Violation]:
    out: list[Violation] = []
    sc = ctx.sc
    t = plan.trips
    fl = ctx.tables["fleet"]
    own = {(str(c), str(ty)): int(n) for c, ty, n in zip(fl["county_code"], fl["type_id"], fl["count"])}
    road = t[t["mode"].isin(["coach", "feeder"])]
    used = road.groupby(["home_county_code", "vehicle_type"])["vehicle_id"].nunique()
    for (c, ty), n in used.items():
        if n > own.get((c, ty), 0):
            out.append(_v("fleet_exceeded", msg=f"区县 {c} 车型 {ty} 用了 {n} 辆车，车队只有 {own.get((c, ty), 0)} 辆"))
    for vid, g in road.sort_values(["vehicle_id", "depart"]).groupby("vehicle_id", sort=False):
        rows = g.to_dict("records")
        for p, q in zip(rows[:-1], rows[1:]):
            if q["depart"] < p["arrive"]:
                out.append(_v("vehicle_overlap", q["trip_id"], msg=f"车辆 {vid} 上一趟 {p['trip_id']} 未结束就出发"))
                continue
            last = str(p["destination_ids"]).split(";")[-1]
            if p["mode"] == "coach":
                if q["origin_id"] != last:
                    out.append(_v("vehicle_jump", q["trip_id"], msg=f"车辆 {vid} 应从 {last} 出发，实际从 {q['origin_id']}"))
                if sc.fleet.empty_return and p["purpose"] == "passenger" and q["purpose"] != "empty_return":
                    out.append(_v("empty_return_missing", q["trip_id"], msg=f"车辆 {vid} 送客后未空车返回本县"))
                if p["purpose"] == "empty_return" and q["depart"] - p["arrive"] < timedelta(hours=sc.fleet.rest_after_return_h) - timedelta(seconds=1):
                    out.append(_v("rest_after_return", q["trip_id"], msg=f"车辆 {vid} 返回后休息不足 {sc.fleet.rest_after_return_h} 小时"))
            else:
                a = ctx.place_xy.get(last)
                b = ctx.place_xy.get(q["origin_id"])
                if a and b:
                    km = haversine_km(a[0], a[1], b[0], b[1]) * sc.travel.detour_factor
                    need = timedelta(minutes=km / sc.travel.feeder_speed_kmh * 60 * 0.999)
                    if q["depart"] - p["arrive"] < need:
                        out.append(_v("vehicle_jump", q["trip_id"], msg=f"接驳车 {vid} 来不及从 {last} 赶到 {q['origin_id']}"))
        if rows and rows[-1]["mode"] == "coach" and rows[-1]["purpose"] == "passenger" and sc.fleet.empty_return:
            out.append(_v("empty_return_missing", rows[-1]["trip_id"], msg=f"车辆 {vid} 最后一趟送客后未空车返回"))
    # coaches on the road per county per calendar day
    coach = t[t["mode"] == "coach"]
    if len(coach):
        days = []
        for vid, c, a, b in zip(coach["vehicle_id"], coach["home_county_code"], coach["depart"], coach["arrive"]):
            d = a.date()
            while d <= b.date():
                days.append((c, d, vid))
                d += timedelta(days=1)
        on = pd.DataFrame(days, columns=["c", "d", "v"]).drop_duplicates().groupby(["c", "d"]).size()
        cap = {}
        for (c, ty), n in own.items():
            if ctx.modes.get(ty) == "coach":
                cap[c] = cap.get(c, 0) + n
        for (c, d), n in on.items():
            if n > cap.get(c, 0):
                out.append(_v("coaches_on_road", msg=f"区县 {c} 在 {d} 有 {n} 辆大巴在路上，超过车队 {cap.get(c, 0)} 辆"))
    # train carriages belong to their service
    tr = t[t["mode"] == "train"]
    svc = ctx.tables.get("train_services")
    if len(tr):
        s = svc.set_index("service_id") if svc is not None else pd.DataFrame()
        for tid, r in tr.set_index("trip_id").iterrows():
            sid = r["service_id"]
            if sid not in s.index:
                out.append(_v("train_service_mismatch", tid, msg=f"专列 {sid} 不在情景中"))
                continue
            x = s.loc[sid]
            hh, mm = (int(v) for v in str(x["depart_time"]).split(":")[:2])
            dep = pd.Timestamp(x["date"]).tz_localize("Asia/Shanghai") + pd.Timedelta(hours=hh, minutes=mm)
            arr = dep + pd.Timedelta(hours=float(x["travel_hours"]))
            if (abs(r["depart"] - dep) > pd.Timedelta(minutes=1) or abs(r["arrive"] - arr) > pd.Timedelta(minutes=1)
                    or r["origin_id"] != x["origin_station_id"] or r["destination_ids"] != x["destination_station_id"]
                    or r["vehicle_type"] != x["carriage_type"]):
                out.append(_v("train_service_mismatch", tid, msg=f"车厢与专列 {sid} 的时间、站点或车型不符"))
        per = tr.groupby("service_id")["vehicle_id"].nunique()
        for sid, n in per.items():
            if svc is not None and sid in set(svc["service_id"]) and n > int(svc.set_index("service_id").at[sid, "carriages"]):
                out.append(_v("train_carriages_exceeded", msg=f"专列 {sid} 用了 {n} 节车厢，超过包租数"))
    return out


# ------------------------------------------------------------------------ hubs
def hubs(plan: PlanFiles, ctx: CheckContext) -> list[Violation]:
    out: list[Violation] = []
    st = plan.stops[(plan.stops["boarding"] > 0) & plan.stops["place_id"].isin(ctx.hub_capacity.keys())]
    if st.empty:
        return out
    per = st.groupby([st["place_id"], st["depart"].dt.date])["boarding"].sum()
    for (hub, d), n in per.items():
        if n > ctx.hub_capacity[hub]:
            out.append(_v("hub_capacity", msg=f"枢纽 {hub} 在 {d} 上车 {n} 人，超过日容量 {ctx.hub_capacity[hub]}"))
    return out


# ----------------------------------------------------------------------- dates
def dates(plan: PlanFiles, ctx: CheckContext) -> list[Violation]:
    out: list[Violation] = []
    sc = ctx.sc
    t = plan.trips.set_index("trip_id")
    legs = plan.legs.merge(plan.trips[["trip_id", "mode", "depart"]], on="trip_id", how="left")
    trunk = legs[legs["mode"].isin(["coach", "train"])].drop_duplicates("worker_id", keep="last")
    trunk = trunk.assign(day=trunk["depart"].dt.date)
    acc = ctx.tables["workers"].drop_duplicates("worker_id").set_index("worker_id")
    fac = ctx.tables["factories"].set_index("factory_id")
    trunk = trunk[trunk["worker_id"].isin(acc.index)]
    w = acc.loc[trunk["worker_id"]]
    day = pd.to_datetime(pd.Series(trunk["day"].to_numpy()))
    ready = pd.to_datetime(w["ready_date"]).reset_index(drop=True)
    out_win = (day < pd.Timestamp(sc.window.start)) | (day > pd.Timestamp(sc.window.end))
    early = day < ready
    fid = w["factory_id"].astype(str).to_numpy()
    need = pd.to_datetime(pd.Series(fac["needed_by"].reindex(fid).to_numpy()))
    last_legs = plan.legs.sort_values(["worker_id", "leg"]).drop_duplicates("worker_id", keep="last").set_index("worker_id")
    arrive = pd.Series(last_legs["alight_time"].reindex(trunk["worker_id"]).to_numpy())
    arrive_day = pd.to_datetime(arrive.dt.strftime("%Y-%m-%d"))
    late = arrive_day > need
    prov = fac["province"].reindex(fid).to_numpy()
    proof = w["health_proof"].astype(str).to_numpy()
    pdate = pd.to_datetime(w["proof_date"]).reset_index(drop=True)
    job = w["job_confirmed"].astype(bool).to_numpy()
    wid = trunk["worker_id"].to_numpy()
    tid = trunk["trip_id"].to_numpy()
    for i in range(len(trunk)):
        if out_win.iloc[i]:
            out.append(_v("outside_window", tid[i], wid[i], f"出发日 {day.iloc[i].date()} 不在规划期内"))
        if early.iloc[i]:
            out.append(_v("before_ready", tid[i], wid[i], f"出发日 {day.iloc[i].date()} 早于可出发日 {ready.iloc[i].date()}"))
        if late.iloc[i]:
            out.append(_v("after_needed_by", tid[i], wid[i], f"到达 {arrive_day.iloc[i].date()} 晚于企业需要日 {need.iloc[i].date()}"))
        if not job[i]:
            out.append(_v("job_not_confirmed", tid[i], wid[i], "工作未确认却被安排出行"))
        rule = sc.health.provinces.get(str(prov[i]))
        days = rule.valid_days(proof[i]) if rule is not None else (3650 if sc.health.unknown_province == "accept" and proof[i] != "none" else None)
        if days is None:
            out.append(_v("proof_not_recognised", tid[i], wid[i], f"{prov[i]} 不认可其健康证明 {proof[i]}"))
        elif pd.isna(pdate.iloc[i]) or not (pdate.iloc[i] <= day.iloc[i] <= pdate.iloc[i] + pd.Timedelta(days=days - 1)):
            out.append(_v("proof_not_valid", tid[i], wid[i], f"出发日 {day.iloc[i].date()} 健康证明不在有效期内"))
    # arrivals into closed places
    st = plan.stops[plan.stops["place_kind"].isin(["factory", "station"]) & plan.stops["arrive"].notna()]
    st = st[st["trip_id"].isin(t.index[t["purpose"] == "passenger"])]
    for tid_, pid, a in zip(st["trip_id"], st["place_id"], st["arrive"]):
        if ctx.level(pid, a.date()) >= 3:
            out.append(_v("destination_closed", tid_, msg=f"{a.date()} 抵达已关闭的目的地 {pid}"))
    return out


ALL_RULES = (accounting, chains, seats, county, driving, fleet, hubs, dates)
