"""Driving: driver working-time rules on coach trips (passenger and empty return), read from the stops.

Between two consecutive stops the coach drives (a stretch from the depart of one
stop to the arrive at the next); at a stop it stands. Stands shorter than the
minimum rest do not break a continuous driving period.

Rules: continuous_driving, rest_too_short, night_stop_driving, daily_driving,
second_driver_missing, too_fast; for feeder buses, over each bus's sequence of runs and the
empty drives between them: feeder_continuous_driving, feeder_night_stop_driving,
feeder_daily_driving (the same limits, the same code).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from planner.check.context import CheckContext
from planner.check.fast import isin
from planner.check.plan_files import Plan
from planner.check.violations import concat, hm, num, s, vf

DAY_MIN = 1440


def _minute(t) -> int:
    return t.hour * 60 + t.minute


def meets_window(start_min: np.ndarray, length_min: np.ndarray, ws: int, we: int) -> np.ndarray:
    """Whether [start, start+length) (minutes of day, may run past midnight) meets the daily window [ws, we)."""
    inside = (start_min >= ws) & (start_min < we) if ws <= we else (start_min >= ws) | (start_min < we)
    return (length_min > 0) & (inside | (((ws - start_min) % DAY_MIN) < length_min) | (length_min >= DAY_MIN))


def stretches(plan: Plan, ctx: CheckContext) -> pd.DataFrame:
    """Driving stretches of coach trips: trip_id, i (stop index of the start), a, b, minutes, km."""
    tt = plan.trips.drop_duplicates("trip_id")
    coach_ids = tt.loc[tt["mode"] == "coach", "trip_id"]
    st = plan.stops[isin(plan.stops["trip_id"], coach_ids)]
    nxt = st.shift(-1)
    same = (nxt["trip_id"] == st["trip_id"]).to_numpy()
    sel = st[same]
    nx = nxt[same]
    df = pd.DataFrame({
        "trip_id": sel["trip_id"].to_numpy(),
        "from_place": sel["place_id"].to_numpy(),
        "to_place": nx["place_id"].to_numpy(),
        "to_kind": nx["place_kind"].to_numpy(),
        "a": sel["depart"].to_numpy(),
        "b": nx["arrive"].to_numpy(),
        "stand_end": nx["depart"].to_numpy(),
        "km": nx["distance_km"].to_numpy(dtype=float),
    })
    df["minutes"] = (df["b"] - df["a"]).dt.total_seconds() / 60
    return df


def driving(plan: Plan, ctx: CheckContext) -> pd.DataFrame:
    """Continuous driving by day and night, rests, the night stop, 24 h totals, second drivers, speed."""
    out = []
    r = ctx.sc.drivers
    tt = plan.trips.drop_duplicates("trip_id")
    coach = tt[tt["mode"] == "coach"]
    bad = (coach["distance_km"] > r.second_driver_km) & (coach["drivers"] < 2)
    out.append(vf("second_driver_missing", "单程 " + num(coach["distance_km"][bad]) + " km 超过 "
                  + f"{r.second_driver_km:.0f} km，只有 " + s(coach["drivers"][bad]) + " 名驾驶员，需两名",
                  trip=coach["trip_id"][bad]))
    road = tt[tt["mode"].isin(["coach", "feeder"])]
    bad = road["drivers"] < 1
    out.append(vf("second_driver_missing", "车上没有驾驶员（drivers = " + s(road["drivers"][bad]) + "）", trip=road["trip_id"][bad]))

    out.append(feeder_driving(plan, ctx))
    df = stretches(plan, ctx)
    if df.empty:
        return concat(out)
    valid = df["a"].notna() & df["b"].notna() & (df["minutes"] >= 0)
    df = df[valid].reset_index(drop=True)

    # physically possible speed
    top_kmh = ctx.travel.max_kmh  # the coach speed, or the fastest road class when a network is used
    need = df["km"] / top_kmh * 60 - 1
    bad = df["minutes"] < need
    out.append(vf("too_fast", hm(df["a"][bad]) + "–" + hm(df["b"][bad]) + " 从 " + s(df["from_place"][bad]) + " 行驶 "
                  + num(df["km"][bad]) + " km 只用 " + num(df["minutes"][bad]) + " 分钟，按 "
                  + f"{top_kmh:.0f} km/h 至少需 " + num(need[bad] + 1) + " 分钟",
                  trip=df["trip_id"][bad]))

    # rest stops last the minimum rest
    stand = (df["stand_end"] - df["b"]).dt.total_seconds() / 60
    bad = (df["to_kind"] == "rest") & (stand < r.min_rest_min)
    out.append(vf("rest_too_short", "在服务区休息 " + num(stand[bad]) + " 分钟（" + hm(df["b"][bad]) + " 起），少于 "
                  + str(r.min_rest_min) + " 分钟", trip=df["trip_id"][bad]))

    out.append(duty_rules(df, "trip_id", df["trip_id"].map(coach.set_index("trip_id")["drivers"]), ctx, CODES_COACH))
    return concat(out)


class DutyCodes(NamedTuple):
    """Rule codes and the vehicle word used in messages for one kind of bus."""

    night_stop: str
    continuous: str
    daily: str
    what: str  # 大巴 / 接驳车


CODES_COACH = DutyCodes("night_stop_driving", "continuous_driving", "daily_driving", "大巴")
CODES_FEEDER = DutyCodes("feeder_night_stop_driving", "feeder_continuous_driving", "feeder_daily_driving", "接驳车")


def duty_rules(df: pd.DataFrame, key: str, drivers: pd.Series, ctx: CheckContext, codes: DutyCodes) -> pd.DataFrame:
    """The night stop, continuous driving by day and night and the 24 h total over driving stretches.

    ``df`` holds stretches (``trip_id``, ``a``, ``b``, ``minutes``) sorted by ``key`` then time;
    a continuous driving period never spans two values of ``key`` (a coach trip, or a feeder
    bus's whole sequence of runs). ``drivers`` (aligned to ``df``) sets the 24 h cap per stretch;
    the cap of a ``key`` is its smallest one. Violations name the trip of the offending stretch.
    """
    out = []
    r = ctx.sc.drivers
    df = df.reset_index(drop=True)
    drivers = pd.Series(np.asarray(drivers, dtype=float)).fillna(1).clip(lower=1)
    start = (df["a"].dt.hour * 60 + df["a"].dt.minute).to_numpy()
    length = df["minutes"].to_numpy()
    # the night stop: no driving at all in [no_driving_start, no_driving_end)
    xs, xe = _minute(r.no_driving_start), _minute(r.no_driving_end)
    bad = meets_window(start, length, xs, xe)
    out.append(vf(codes.night_stop, codes.what + " " + hm(df["a"][bad]) + "–" + hm(df["b"][bad]) + " 行驶，落入 "
                  + f"{r.no_driving_start:%H:%M}-{r.no_driving_end:%H:%M} 停驶时段", trip=df["trip_id"][bad]))

    # continuous driving periods: consecutive stretches joined by stands shorter than the minimum rest
    prev_key = df[key].shift(1)
    prev_b = df["b"].shift(1)
    gap = (df["a"] - prev_b).dt.total_seconds() / 60
    new_period = (df[key] != prev_key) | (gap >= r.min_rest_min)
    pid = new_period.cumsum()
    night = meets_window(start, length, _minute(r.night_start), _minute(r.night_end))
    per = pd.DataFrame({"pid": pid, "minutes": df["minutes"], "night": night, "trip_id": df["trip_id"],
                        "a": df["a"], "b": df["b"]}).groupby("pid").agg(
        minutes=("minutes", "sum"), night=("night", "any"), trip_id=("trip_id", "last"), a=("a", "first"),
        b=("b", "last"))
    lim = np.where(per["night"], r.max_continuous_night_h * 60, r.max_continuous_day_h * 60)
    bad = per["minutes"] > lim + 1e-6
    out.append(vf(codes.continuous, codes.what + " " + hm(per["a"][bad]) + "–" + hm(per["b"][bad]) + " 连续驾驶 "
                  + num(per["minutes"][bad]) + " 分钟，超过"
                  + s(pd.Series(np.where(per["night"], "夜间", "日间"), index=per.index)[bad]) + "上限 "
                  + num(pd.Series(lim, index=per.index)[bad]) + " 分钟（中间须休息至少 "
                  + str(r.min_rest_min) + " 分钟）", trip=per["trip_id"][bad]))

    # any trailing 24 h: driving <= max per driver x drivers
    cap = r.max_driving_per_24h_h * 60 * drivers.groupby(df[key]).transform("min")
    total = df.groupby(key)["minutes"].transform("sum")
    items = daily_excess(df[total > cap], key, cap)
    if items:
        it = pd.DataFrame(items, columns=["trip_id", "b", "used", "limit"])
        out.append(vf(codes.daily, codes.what + " 截至 " + hm(it["b"]) + " 的 24 小时内驾驶 " + num(it["used"])
                      + " 分钟，超过 " + num(it["limit"]) + " 分钟（每名驾驶员 " + f"{r.max_driving_per_24h_h:g}"
                      + " 小时 × 驾驶员人数）", trip=it["trip_id"]))
    return concat(out)


def daily_excess(sub: pd.DataFrame, key: str, cap: pd.Series) -> list[tuple]:
    """Per value of ``key`` (in order of first appearance), the first 24 h window whose driving
    exceeds its cap: (trip_id, end of the stretch the window is anchored at, minutes, cap).

    The busiest 24 h window starts at a stretch start or ends at a stretch end; the windows of
    a key are tried ending at each stretch's end, then starting at each stretch's start, in
    row order, and the first one over the cap is reported. The driving inside a window
    [lo, hi) is F(hi) - F(lo), where F(t) is the driving before t (sum over stretches of
    clip(t - a, 0, b - a)): with each key's starts and ends sorted and summed once, every window
    of every key is costed at once, in whole minutes (exact).
    """
    if sub.empty:
        return []
    codes, _ = pd.factorize(sub[key], sort=False)
    order = np.argsort(codes, kind="stable")  # rows by key in first-appearance order, in row order within
    g = codes[order]
    a = sub["a"].to_numpy("datetime64[m]").astype(np.int64)[order]
    b = sub["b"].to_numpy("datetime64[m]").astype(np.int64)[order]
    limit = cap.loc[sub.index].to_numpy(dtype=float)[order]
    first_row = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    start_of = np.zeros(g.max() + 1, dtype=np.int64)
    start_of[g[first_row]] = first_row
    limit = limit[start_of[g]]  # a key's cap is the one of its first row
    base = min(int(a.min()), int(b.min())) - DAY_MIN
    big = np.int64(1) << np.int64(40)
    length = np.maximum(b - a, 0)

    def before(ends: np.ndarray):
        """F's terms for sorted points: keys, sorted raw values, prefix sums."""
        k = g * big + (ends - base)
        o = np.argsort(k, kind="stable")
        raw = ends[o]
        return k[o], np.concatenate([[0], np.cumsum(raw)])

    ka, pa = before(a)
    ke, pe = before(a + length)

    def F(gq: np.ndarray, t: np.ndarray) -> np.ndarray:
        q = gq * big + (t - base)
        s0 = start_of[gq]
        out = np.zeros(len(t), dtype=np.int64)
        for keys, pref in ((ka, pa), (ke, pe)):
            i = np.searchsorted(keys, q, side="left")  # points of the key before t
            cnt = i - s0
            part = cnt * t - (pref[i] - pref[s0])
            out = out + part if keys is ka else out - part
        return out

    used_b = (F(g, b) - F(g, b - DAY_MIN)).astype(float)  # windows ending at a stretch end
    used_a = (F(g, a + DAY_MIN) - F(g, a)).astype(float)  # windows starting at a stretch start
    over_b = used_b > limit + 1e-6
    over_a = used_a > limit + 1e-6
    trip = sub["trip_id"].to_numpy()[order]
    b_orig = sub["b"].iloc[order]
    items = []
    hit_b = {}
    for j in np.flatnonzero(over_b):
        hit_b.setdefault(int(g[j]), int(j))
    hit_a = {}
    for j in np.flatnonzero(over_a):
        hit_a.setdefault(int(g[j]), int(j))
    for key_code in range(int(g.max()) + 1):
        if key_code in hit_b:
            j, used = hit_b[key_code], used_b[hit_b[key_code]]
        elif key_code in hit_a:
            j, used = hit_a[key_code], used_a[hit_a[key_code]]
        else:
            continue
        items.append((trip[j], b_orig.iloc[j], float(used), float(limit[j])))
    return items


def feeder_stretches(plan: Plan, ctx: CheckContext) -> pd.DataFrame:
    """Driving stretches of each feeder bus over its sequence of runs, the empty drives included.

    Within a run: depart of one stop -> arrive at the next. Between two runs of one bus
    (``vehicle_id``), the empty drive from where the previous run ended to the next run's first
    village takes the feeder minutes of ``planner/travel.py`` (as ``vehicle_jump`` does) and is
    placed as late as it can be, ending when the next run leaves: the bus stands at the hub
    first, the most favourable reading (a rest before the drive out). When that would drive in
    the 02:00-05:00 stop and the bus was free earlier, the drive ends when the stop begins
    instead (driven the evening before). Columns:
    vehicle_id, trip_id, a, b, minutes, drivers; sorted by vehicle and time.
    """
    tt = plan.trips.drop_duplicates("trip_id")
    fd = tt[(tt["mode"] == "feeder") & (tt["vehicle_id"] != "")]
    cols = ["vehicle_id", "trip_id", "a", "b", "minutes", "drivers"]
    if fd.empty:
        return pd.DataFrame(columns=cols)
    st = plan.stops[isin(plan.stops["trip_id"], fd["trip_id"])]
    nxt = st.shift(-1)
    same = (nxt["trip_id"] == st["trip_id"]).to_numpy()
    runs = pd.DataFrame({"trip_id": st["trip_id"][same].to_numpy(), "a": st["depart"][same].to_numpy(),
                         "b": nxt["arrive"][same].to_numpy()})
    # empty drives between consecutive runs of one bus
    last_place = st.groupby("trip_id")["place_id"].last()
    v = fd.sort_values(["vehicle_id", "depart", "arrive"], kind="stable").reset_index(drop=True)
    v["last_place"] = v["trip_id"].map(last_place).fillna("").astype(str)
    prev_same = (v["vehicle_id"] == v["vehicle_id"].shift(1)).to_numpy()
    nx = v[prev_same]
    pv = v.shift(1)[prev_same]
    parts = [runs]
    if len(nx):
        need = pd.Series(ctx.travel.feeder_minutes_many(pv["last_place"].astype(str), nx["origin_id"].astype(str),
                                                        nx["home_county_code"].astype(str)), index=nx.index)
        need = need.where(np.isfinite(need) & need.notna(), 0.0)
        d = pd.to_timedelta(np.ceil(need.to_numpy(dtype=float)), unit="m")
        b = nx["depart"]
        # not in the night stop when it fits earlier: then it ends when the stop begins
        r = ctx.sc.drivers
        xs = pd.Timedelta(minutes=_minute(r.no_driving_start))
        a0 = b - d
        in_stop = meets_window((a0.dt.hour * 60 + a0.dt.minute).to_numpy(), d.total_seconds().to_numpy() / 60,
                               _minute(r.no_driving_start), _minute(r.no_driving_end))
        before = (b - xs).dt.normalize() + xs  # the last start of the night stop at or before the departure
        move = in_stop & (before - d >= pv["arrive"]).to_numpy()
        b = b.where(~move, before)
        a = (b - d).clip(lower=pv["arrive"])
        dead = pd.DataFrame({"trip_id": nx["trip_id"].to_numpy(), "a": a.to_numpy(), "b": b.to_numpy()})
        parts.append(dead[dead["b"] > dead["a"]])
    df = pd.concat(parts, ignore_index=True)
    info = fd.set_index("trip_id")
    df["vehicle_id"] = df["trip_id"].map(info["vehicle_id"])
    df["drivers"] = df["trip_id"].map(info["drivers"]).astype(float)
    df = df[df["a"].notna() & df["b"].notna()]
    df["minutes"] = (df["b"] - df["a"]).dt.total_seconds() / 60
    df = df[df["minutes"] > 0]
    return df.sort_values(["vehicle_id", "a", "b"], kind="stable").reset_index(drop=True)[cols]


def feeder_driving(plan: Plan, ctx: CheckContext) -> pd.DataFrame:
    """The coach driver rules applied to each feeder bus over its day of runs and empty drives.

    The plan files name no driver, so a bus is taken to keep its crew (the trip's ``drivers``)
    for all its runs: a continuous driving period may span runs when the stand at the hub is
    shorter than ``min_rest_min``, and the 24 h total counts every run of the bus.
    """
    df = feeder_stretches(plan, ctx)
    if df.empty:
        return concat([])
    return duty_rules(df, "vehicle_id", df["drivers"], ctx, CODES_FEEDER)
