"""Seats: labels exist, are allowed by the trip's pattern, outside the isolation rows, one person each.

Rules: seat_unknown, seat_not_allowed, seat_double_booked, over_capacity, seats_allowed_mismatch,
passenger_count_mismatch, wrong_occupancy_rule.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from planner.check.context import LEVELS, CheckContext
from planner.check.fast import isin
from planner.check.plan_files import Plan
from planner.check.structure import RULES
from planner.check.violations import concat, s, vf
from planner.rules.seats import allowed_seats


def seats(plan: Plan, ctx: CheckContext) -> pd.DataFrame:
    """Seat labels, patterns, isolation rows, double bookings, counts and the occupancy rule in force."""
    out = []
    t = plan.trips.drop_duplicates("trip_id")
    legs = plan.legs.merge(t[["trip_id", "mode", "vehicle_type", "occupancy_rule"]], on="trip_id", how="left")

    # seat tables: every seat of every type, and the allowed seats per (type, rule, mode)
    exist_rows = [(tid, lab) for tid, lay in ctx.layouts.items() for lab in lay.seats()]
    exists = pd.MultiIndex.from_tuples(exist_rows or [("", "")], names=["vehicle_type", "seat"])
    combos = t[["vehicle_type", "occupancy_rule", "mode"]].drop_duplicates()
    allowed_rows = []
    n_allowed = {}
    for vt, rule, mode in combos.itertuples(index=False):
        lay = ctx.layouts.get(vt)
        if lay is None or rule not in RULES:
            continue
        labels = allowed_seats(lay, rule, ctx.isolation_rows_of_mode(mode))
        n_allowed[(vt, rule, mode)] = len(labels)
        allowed_rows += [(vt, rule, mode, lab) for lab in labels]
    allowed = pd.MultiIndex.from_tuples(allowed_rows or [("", "", "", "")])
    known = legs["mode"].notna()
    e_ok = pd.MultiIndex.from_arrays([legs["vehicle_type"], legs["seat"]]).isin(exists)
    a_ok = pd.MultiIndex.from_arrays([legs["vehicle_type"], legs["occupancy_rule"], legs["mode"], legs["seat"]]).isin(allowed)
    bad = known & ~e_ok
    out.append(vf("seat_unknown", "座位 '" + s(legs["seat"][bad]) + "' 在车型 " + s(legs["vehicle_type"][bad]) + " 中不存在",
                  trip=legs["trip_id"][bad], worker=legs["worker_id"][bad]))
    bad = known & e_ok & ~a_ok
    if bad.any():
        rows = legs["seat"][bad].str.extract(r"^(\d+)")[0].astype(int)
        total = legs["vehicle_type"][bad].map({k: v.rows for k, v in ctx.layouts.items()})
        iso = legs["mode"][bad].map(ctx.isolation_rows_of_mode)
        in_iso = rows > total - iso
        why = pd.Series(np.where(in_iso, "在最后 " + iso.astype(str) + " 排留观区", "不在 " + legs["occupancy_rule"][bad]
                                 + " 座位图中"), index=rows.index)
        out.append(vf("seat_not_allowed", "座位 " + s(legs["seat"][bad]) + " " + why,
                      trip=legs["trip_id"][bad], worker=legs["worker_id"][bad]))
    dup = legs.duplicated(["trip_id", "seat"], keep=False) & known
    out.append(vf("seat_double_booked", "座位 " + s(legs["seat"][dup]) + " 同时安排了两人以上",
                  trip=legs["trip_id"][dup], worker=legs["worker_id"][dup]))

    # counts
    tt = t.set_index("trip_id")
    counted = plan.legs.groupby("trip_id").size().reindex(tt.index).fillna(0).astype(np.int64)
    bad = tt["passengers"] != counted
    out.append(vf("passenger_count_mismatch", "trips.csv 载客 " + s(tt["passengers"][bad]) + " 人，乘车记录 "
                  + s(counted[bad]) + " 人", trip=pd.Series(tt.index[bad])))
    # the larger of the two counts: a trip that claims 40 people on 22 legs is over by its own claim
    claimed = tt["passengers"].fillna(0).astype(np.int64)
    people = np.maximum(claimed, counted)
    bad = (tt["purpose"] == "passenger") & (people > tt["seats_allowed"])
    which = pd.Series(np.where(claimed[bad] > counted[bad], "（trips.csv 载客数；乘车记录 " + s(counted[bad]) + " 人）",
                               np.where(claimed[bad] < counted[bad], "（乘车记录；trips.csv 载客 " + s(claimed[bad]) + " 人）", "")),
                      index=tt.index[bad], dtype=object)
    out.append(vf("over_capacity", "载客 " + s(people[bad]) + " 人" + which + "，超过允许座位 " + s(tt["seats_allowed"][bad]),
                  trip=pd.Series(tt.index[bad])))
    want = pd.Series([n_allowed.get(k, -1) for k in zip(tt["vehicle_type"], tt["occupancy_rule"], tt["mode"])],
                     index=tt.index)
    bad = (tt["purpose"] == "passenger") & (want >= 0) & (tt["seats_allowed"] != want)
    out.append(vf("seats_allowed_mismatch", "seats_allowed 为 " + s(tt["seats_allowed"][bad]) + "，按 "
                  + s(tt["occupancy_rule"][bad]) + " 及留观区应为 " + s(want[bad]), trip=pd.Series(tt.index[bad])))

    st = plan.stops
    b = st.groupby(["trip_id", "place_id"])["boarding"].sum()
    a = st.groupby(["trip_id", "place_id"])["alighting"].sum()
    lb = plan.legs.groupby(["trip_id", "board_place_id"]).size()
    la = plan.legs.groupby(["trip_id", "alight_place_id"]).size()
    lb.index.names = b.index.names
    la.index.names = a.index.names
    for what, x, y in (("上车", b, lb), ("下车", a, la)):
        x2, y2 = x.align(y, fill_value=0)
        d = x2 != y2
        idx = x2.index[d]
        out.append(vf("passenger_count_mismatch", "在 " + pd.Series(idx.get_level_values(1)) + " " + what + " stops.csv 为 "
                      + pd.Series(x2[d].astype(int).astype(str).to_numpy()) + " 人，乘车记录为 "
                      + pd.Series(y2[d].astype(int).astype(str).to_numpy()) + " 人",
                      trip=pd.Series(idx.get_level_values(0))))

    out.append(_occupancy_rule(plan, ctx))
    return concat(out)


def _occupancy_rule(plan: Plan, ctx: CheckContext) -> pd.DataFrame:
    """The rule in force: strictest level at the trip's destinations on the arrival days, rule of the departure day."""
    t = plan.trips.drop_duplicates("trip_id")
    t = t[t["purpose"] == "passenger"]
    st = plan.stops
    first = st.groupby("trip_id").cumcount() == 0
    dest = st[~first & st["place_kind"].isin(["hub", "station", "factory"]) & st["arrive"].notna()]
    dest = dest[isin(dest["trip_id"], t["trip_id"])]
    lvl = pd.Series(ctx.levels(ctx.place_county(dest["place_id"]), dest["arrive"]), index=dest.index)
    worst = lvl.groupby(dest["trip_id"]).max().reindex(t["trip_id"]).fillna(0).astype(int)
    dep_day = t["depart"].dt.date
    want = pd.Series([ctx.sc.occupancy.rule_for(LEVELS[lv], d) if pd.notna(d) else "" for lv, d in
                      zip(worst.to_numpy(), dep_day)], index=t.index)
    bad = (want != "") & (want != t["occupancy_rule"])
    return vf("wrong_occupancy_rule", "目的地风险等级 " + s(pd.Series(worst.to_numpy(), index=t.index)[bad].map(lambda i: LEVELS[i]))
              + "，应执行 " + s(want[bad]) + "，计划为 " + s(t["occupancy_rule"][bad]), trip=t["trip_id"][bad])
