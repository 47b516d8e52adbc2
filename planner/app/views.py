"""The numbers and tables each page of the app shows, as plain functions (no Streamlit).

Every function reads a :class:`planner.documents.common.DocData` (a plan directory
and its scenario) and returns dicts or frames with Chinese column names, ready to
show. ID numbers are always masked (:func:`planner.documents.common.mask_id`).
The documents' own functions are reused, so the screen and the Excel/PDF files agree.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from planner.documents.common import DocData, local_time, mask_id
from planner.documents.manifest import MODE_NAMES, vehicle_frame, arrivals
from planner.documents.pickup import pickup_rows, township_label
from planner.documents.trace import SAME_HUB, SAME_VEHICLE, ZH_HEADERS, trace_trip, trace_worker
from planner.documents.waves import MODE_CATS, WaveTables
from planner.plan_format import direct_coach_ids, passenger_trips
from planner.vocab import reason_label

__all__ = [
    "county_options", "county_kpis", "daily_tables", "township_options", "pickup_rows", "province_options",
    "province_arrivals", "worker_info", "worker_trace", "trip_passengers", "filter_options", "find_workers",
    "unassigned_why",
]


# ------------------------------------------------------------------ choices
def county_options(data: DocData) -> dict[str, str]:
    """County code -> 'name（code）' for every county with workers in the plan, in code order."""
    names: dict[str, str] = {}
    c = data.tables.get("counties")
    if c is not None and len(c) and "county_name" in c.columns:
        names = dict(zip(c["county_code"].astype(str), c["county_name"].astype(str)))
    codes = data.plan.workers["county_code"].astype(str)
    codes = sorted(x for x in codes.unique() if x and x != "nan")
    return {x: f"{names[x]}（{x}）" if x in names else x for x in codes}


def township_options(data: DocData, county: str | None = None) -> dict[str, str]:
    """Township code -> label for every township with registered workers (of one county, or all).

    Every row of the plan's ``workers.csv`` counts, planned or not: a township
    whose people are all unassigned is listed, so its official can see why.
    """
    w = data.plan.workers
    if county:
        w = w[w["county_code"].astype(str) == str(county)]
    codes = sorted(x for x in w["township_code"].astype(str).unique() if x and x != "nan")
    return {x: township_label(data, x) for x in codes}


def province_options(data: DocData) -> list[str]:
    """Destination provinces of the planned workers (short form, e.g. 广东), sorted."""
    w = data.plan.workers
    f = w.loc[w["status"].astype(str) == "planned", "factory_id"].astype(str)
    prov = f.map(data.factories["province"].astype(str)) if "province" in data.factories.columns else f[:0]
    return sorted(p for p in prov.dropna().unique() if p and p != "nan")


def filter_options(data: DocData) -> dict:
    """The choices of the map filters: departure days, counties, provinces."""
    w = data.plan.workers
    days = sorted(d.date() for d in w.loc[w["status"].astype(str) == "planned", "depart_day"].dropna().unique())
    return {"days": days, "counties": county_options(data), "provinces": province_options(data)}


# ------------------------------------------------------------------ county bureau
DEPARTURE_NAMES = {"coach": "省际大巴", "hub_coach": "其中枢纽大巴", "direct_coach": "其中乡镇直达大巴",
                   "train_carriage": "专列车厢", "feeder": "接驳车"}
VKM_NAMES = {"coach": "大巴载客", "coach_empty_return": "大巴空驶返程", "feeder": "接驳车"}


def county_kpis(data: DocData, county: str | None = None) -> dict:
    """Key numbers for the bureau: planned, unassigned (with reasons), departures, vehicle-km, lower bound.

    For the whole scenario (``county=None``) the numbers are those of ``summary.json``;
    for one county they are counted from the plan files (workers by ``county_code``,
    vehicles by ``home_county_code``; train carriages that carry the county's workers).
    The lower bound is computed by the planner for the whole scenario: it is
    shown for a county when that county is the only one of the plan (then the two
    are the same), else ``None``. ``throughput`` is the throughput bound of the
    whole scenario or of the county (``summary.json`` ``throughput_bound``), or
    None when the summary has none.
    """
    s = data.plan.summary or {}
    if county is not None and list(county_options(data)) == [str(county)]:
        # the only county of the plan: its numbers are the scenario's, lower bound included
        out = county_kpis(data, None)
        out["county_only"] = True
        return out
    tb_all = s.get("throughput_bound") or {}
    tb = tb_all.get("total") if county is None else (tb_all.get("by_county") or {}).get(str(county))
    throughput = ({"上界": int(tb.get("bound", 0)), "已安排": int(tb.get("planned", 0)), "差距": int(tb.get("gap", 0)),
                   "差距百分比": tb.get("gap_pct", 0.0)} if tb else None)
    if county is None:
        w = s.get("workers", {})
        reasons = w.get("unassigned_by_reason", {})
        dep = s.get("departures", {})
        vkm = s.get("vehicle_km", {})
        lb = s.get("lower_bound") or {}
        out = {
            "read": int(w.get("read", 0)), "planned": int(w.get("planned", 0)),
            "unassigned": int(w.get("unassigned", 0)),
            "departures": {DEPARTURE_NAMES[k]: int(dep.get(k, 0)) for k in DEPARTURE_NAMES},
            "vehicle_km": {VKM_NAMES[k]: float(vkm.get(k, 0.0)) for k in VKM_NAMES},
            "lower_bound": ({"下界（大巴发车）": lb.get("coach_departures"), "差距": lb.get("gap"),
                             "差距百分比": lb.get("gap_pct")} if lb else None),
            "seat_fill": (s.get("seats") or {}).get("fill"),
        }
    else:
        county = str(county)
        plan = data.plan
        w = plan.workers[plan.workers["county_code"].astype(str) == county]
        reasons = w.loc[w["status"] == "unassigned", "reason"].value_counts().to_dict()
        planned_ids = set(w.loc[w["status"] == "planned", "worker_id"].astype(str))
        trips = plan.trips
        own = trips[trips["home_county_code"].astype(str) == county]
        pas = passenger_trips(own)
        coach = pas[pas["mode"] == "coach"]
        direct_ids = direct_coach_ids(coach, plan.stops)
        train_trips = set(plan.legs.loc[plan.legs["worker_id"].astype(str).isin(planned_ids), "trip_id"])
        pas_all = passenger_trips(trips)
        carriages = pas_all[(pas_all["mode"] == "train") & pas_all["trip_id"].isin(train_trips)]
        dep = {"coach": len(coach), "hub_coach": len(coach) - len(direct_ids), "direct_coach": len(direct_ids),
               "train_carriage": len(carriages), "feeder": int((pas["mode"] == "feeder").sum())}
        empty = own[(own["mode"] == "coach") & (own["purpose"] == "empty_return")]
        vkm = {"coach": float(coach["distance_km"].sum()), "coach_empty_return": float(empty["distance_km"].sum()),
               "feeder": float(pas.loc[pas["mode"] == "feeder", "distance_km"].sum())}
        out = {
            "read": len(w), "planned": len(planned_ids), "unassigned": int((w["status"] == "unassigned").sum()),
            "departures": {DEPARTURE_NAMES[k]: int(dep[k]) for k in DEPARTURE_NAMES},
            "vehicle_km": {VKM_NAMES[k]: round(v, 1) for k, v in vkm.items()},
            "lower_bound": None, "seat_fill": None,
        }
    out["throughput"] = throughput
    out["county_only"] = False
    out["reasons"] = pd.DataFrame(
        [{"原因": reason_label(r), "人数": int(n), "原因代码": r} for r, n in reasons.items() if int(n)],
        columns=["原因", "人数", "原因代码"])  # the Chinese first; the code last, for whoever reads the files
    return out


def daily_tables(data: DocData, county: str | None = None) -> dict[str, pd.DataFrame]:
    """The wave plan's tables (``planner.documents.waves``): per day, per day and hub, reasons.

    ``daily`` has one row per day (日期, 发车合计, 枢纽大巴, 乡镇直达大巴, 专列车厢,
    接驳车趟次, 运送人数, 在途大巴, 空闲大巴, ...); ``departures`` and ``coaches`` are
    the chart data (indexed by 日期) of departures per day by mode and coaches in use.
    """
    t = WaveTables(data, str(county) if county else None)
    daily = t.daily
    return {
        "daily": daily,
        "by_hub": t.by_hub,
        "reasons": t.reasons,
        "departures": daily.set_index("日期")[MODE_CATS],
        "coaches": daily.set_index("日期")[["在途大巴", "空闲大巴"]],
    }


# ------------------------------------------------------------------ receiving province
ARRIVAL_COLUMNS = ["到达日期", "目的地", "目的地类型", "车辆数", "人数"]


def province_arrivals(data: DocData, province: str) -> dict[str, pd.DataFrame]:
    """Arrivals in one province: by day and destination, per day, and the arriving vehicles.

    Same selection as the arrival manifest (``planner.documents.manifest``): people
    alighting from a coach or train carriage at a factory gate or arrival station
    in the province.
    """
    legs = arrivals(data)
    sub = legs[legs["province"] == str(province)]
    vehicles = vehicle_frame(sub, data)
    if vehicles.empty:
        by_dest = pd.DataFrame(columns=ARRIVAL_COLUMNS)
    else:
        by_dest = (vehicles.groupby(["到达日期", "目的地", "目的地类型"], sort=True)
                   .agg(车辆数=("行程号", "nunique"), 人数=("到达人数", "sum")).reset_index())
    per_day = by_dest.groupby("到达日期")[["车辆数", "人数"]].sum() if len(by_dest) else pd.DataFrame(
        columns=["车辆数", "人数"])
    return {"by_destination": by_dest[ARRIVAL_COLUMNS], "per_day": per_day, "vehicles": vehicles,
            "people": int(len(sub))}


# ------------------------------------------------------------------ trace
def _person(data: DocData, wid: str) -> dict:
    p = data.people
    if wid not in p.index:
        return {}
    r = p.loc[wid]
    if isinstance(r, pd.DataFrame):
        r = r.iloc[0]
    return r.to_dict()


def _name(data: DocData, place_id) -> str:
    pid = "" if place_id is None or (isinstance(place_id, float) and pd.isna(place_id)) else str(place_id)
    name = data.places.get(pid, "")
    return f"{name}（{pid}）" if name and pid else pid


def worker_info(data: DocData, worker_id: str) -> dict | None:
    """The worker's status and legs (masked ID), or None when the id is not in the plan."""
    wid = str(worker_id).strip()
    w = data.plan.workers
    row = w[w["worker_id"].astype(str) == wid]
    if row.empty:
        return None
    r = row.iloc[0]
    person = _person(data, wid)
    legs = data.plan.legs
    own = legs[legs["worker_id"].astype(str) == wid].sort_values("leg")
    modes = dict(zip(data.plan.trips["trip_id"], data.plan.trips["mode"]))
    table = pd.DataFrame({
        "行程段": own["leg"].astype(int).to_numpy(),
        "车次": own["trip_id"].astype(str).to_numpy(),
        "方式": [MODE_NAMES.get(modes.get(t, ""), "") for t in own["trip_id"]],
        "座位": own["seat"].astype(str).to_numpy(),
        "上车地点": [_name(data, p) for p in own["board_place_id"]],
        "上车时间": [local_time(t) for t in own["board_time"]],
        "下车地点": [_name(data, p) for p in own["alight_place_id"]],
        "下车时间": [local_time(t) for t in own["alight_time"]],
    })
    return {
        "worker_id": wid,
        "status": "已安排" if r["status"] == "planned" else "未安排",
        "reason": reason_label(str(r["reason"])) if r["status"] != "planned" else "",
        "name": str(person.get("name", "") or ""),
        "id_masked": mask_id(person.get("id_number", "")),
        "village": _name(data, r["village_code"]),
        "factory": _name(data, r["factory_id"]),
        "legs": table,
    }


FOUND_COLUMNS = ["人员编号", "姓名", "身份证号", "乡镇", "村", "状态"]


def find_workers(data: DocData, query: str, township: str | None = None) -> pd.DataFrame:
    """Workers of the plan whose worker id or name is ``query`` (ID numbers masked), for 追溯.

    An exact worker id finds that worker. Otherwise names equal to ``query``
    are found, or, when none is, names containing it. ``township`` (a 9-digit
    code) keeps only that township's people: two people may share a name. Rows
    without a worker id (rejected input) cannot be traced and are not listed.
    Columns :data:`FOUND_COLUMNS` plus ``township_code``.
    """
    q = str(query).strip()
    w = data.plan.workers
    w = w[w["worker_id"].astype(str).str.strip() != ""]
    empty = pd.DataFrame(columns=[*FOUND_COLUMNS, "township_code"])
    if not q or w.empty:
        return empty
    ids = w["worker_id"].astype(str)
    hit = w[ids == q]
    if hit.empty:
        names = ids.map(data.people["name"].astype(str)[~data.people.index.duplicated()]
                        if "name" in data.people.columns else {}).fillna("")
        exact = names == q
        hit = w[exact] if exact.any() else w[names.str.contains(q, regex=False)]
    if township:
        hit = hit[hit["township_code"].astype(str) == str(township)]
    if hit.empty:
        return empty
    rows = []
    for r in hit.itertuples(index=False):
        person = _person(data, str(r.worker_id))
        town = str(r.township_code)
        rows.append({"人员编号": str(r.worker_id), "姓名": str(person.get("name", "") or ""),
                     "身份证号": mask_id(person.get("id_number", "")), "乡镇": township_label(data, town) if town else "",
                     "村": _name(data, r.village_code), "状态": "已安排" if r.status == "planned" else "未安排",
                     "township_code": town})
    return pd.DataFrame(rows, columns=[*FOUND_COLUMNS, "township_code"])


def unassigned_why(data: DocData, worker_id: str) -> dict | None:
    """Why a worker is not on a vehicle: the reason and what to do, in Chinese; None when planned or unknown."""
    from planner.documents.exceptions import action_zh

    w = data.plan.workers
    row = w[w["worker_id"].astype(str) == str(worker_id).strip()]
    if row.empty or str(row.iloc[0]["status"]) == "planned":
        return None
    r = row.iloc[0]
    code = str(r["reason"])
    detail = r.get("reason_detail", "") if hasattr(r, "get") else ""
    detail = "" if detail is None or (isinstance(detail, float) and pd.isna(detail)) else str(detail)
    return {"code": code, "reason": reason_label(code), "action": action_zh(code), "detail": detail}


TRACE_VIEW_COLUMNS = ["接触类型", "接触人员编号", "姓名", "身份证号", "车次", "方式", "同行起点", "同行开始",
                      "同行终点", "同行结束", "座位", "接触人员座位", "相隔排数", "枢纽", "相隔分钟"]


def worker_trace(data: DocData, worker_id: str, *, hub_window_min: int = 60) -> pd.DataFrame:
    """Contacts of a worker (同车 and 同站) with names and masked ID numbers, Chinese headers.

    Raises DataError when the worker is not in the plan (as ``trace_worker``).
    """
    t = trace_worker(data.plan, str(worker_id).strip(), hub_window_min=hub_window_min)
    people = data.people
    names = people["name"].astype(str) if "name" in people.columns else pd.Series(dtype=str)
    ids = people["id_number"].astype(str) if "id_number" in people.columns else pd.Series(dtype=str)
    names = names[~names.index.duplicated()]
    ids = ids[~ids.index.duplicated()]
    out = pd.DataFrame({
        "接触类型": t["kind"].astype(str),
        "接触人员编号": t["contact_id"].astype(str),
        "姓名": t["contact_id"].astype(str).map(names).fillna(""),
        "身份证号": t["contact_id"].astype(str).map(ids).fillna("").map(mask_id),
        "车次": t["trip_id"].fillna("").astype(str),
        "方式": t["mode"].map(MODE_NAMES).fillna(""),
        "同行起点": t["shared_from_place_id"].map(lambda p: _name(data, p)),
        "同行开始": t["shared_from_time"].map(local_time),
        "同行终点": t["shared_until_place_id"].map(lambda p: _name(data, p)),
        "同行结束": t["shared_until_time"].map(local_time),
        "座位": t["seat"].fillna("").astype(str),
        "接触人员座位": t["contact_seat"].fillna("").astype(str),
        "相隔排数": t["rows_apart"].astype("Int64").astype(str).replace("<NA>", ""),
        "枢纽": t["hub_id"].map(lambda p: _name(data, p)),
        "相隔分钟": t["minutes_apart"].map(lambda x: "" if pd.isna(x) else str(int(x))),
    }, columns=TRACE_VIEW_COLUMNS)
    return out.reset_index(drop=True)


def co_passengers(data: DocData, worker_id: str) -> pd.DataFrame:
    """Only the 同车 rows of :func:`worker_trace` (the people who shared a vehicle)."""
    t = worker_trace(data, worker_id)
    return t[t["接触类型"] == SAME_VEHICLE].reset_index(drop=True)


def hub_contacts(data: DocData, worker_id: str) -> pd.DataFrame:
    """Only the 同站 rows of :func:`worker_trace`."""
    t = worker_trace(data, worker_id)
    return t[t["接触类型"] == SAME_HUB].reset_index(drop=True)


TRIP_VIEW_COLUMNS = ["座位", "人员编号", "姓名", "身份证号", "上车地点", "上车时间", "下车地点", "下车时间",
                     "此前车次", "此后车次"]


def trip_passengers(data: DocData, trip_id: str) -> pd.DataFrame:
    """Passengers of one trip in seat order, ID numbers masked, with their trips before and after."""
    t = trace_trip(data.plan, str(trip_id).strip())
    rows = []
    for r in t.itertuples(index=False):
        person = _person(data, str(r.worker_id))
        rows.append({
            "座位": str(r.seat), "人员编号": str(r.worker_id), "姓名": str(person.get("name", "") or ""),
            "身份证号": mask_id(person.get("id_number", "")),
            "上车地点": _name(data, r.board_place_id), "上车时间": local_time(r.board_time),
            "下车地点": _name(data, r.alight_place_id), "下车时间": local_time(r.alight_time),
            "此前车次": str(r.previous_trip_ids), "此后车次": str(r.next_trip_ids),
        })
    return pd.DataFrame(rows, columns=TRIP_VIEW_COLUMNS)


ZH = ZH_HEADERS  # re-exported for the app's captions


def arc_trips(data: DocData, mode: str, origin_id: str, dest_id: str, day: date | None = None) -> list[str]:
    """Trips of ``mode`` from ``origin_id`` with passengers alighting at ``dest_id`` (a map arc), in order.

    ``day`` keeps only trips leaving that local day, as the map's day filter does.
    """
    trips = data.plan.trips
    trips = trips[(trips["mode"] == mode) & (trips["purpose"] == "passenger") & (trips["origin_id"] == origin_id)]
    if day is not None:
        trips = trips[trips["depart"].dt.tz_localize(None).dt.date == day]
    legs = data.plan.legs
    hit = legs[legs["trip_id"].isin(trips["trip_id"]) & (legs["alight_place_id"] == dest_id)]["trip_id"]
    return sorted(hit.unique().tolist())


def arc_passengers(data: DocData, mode: str, origin_id: str, dest_id: str, day: date | None = None) -> pd.DataFrame:
    """Passengers (ID numbers masked) of the trips behind one map arc, trip by trip, those alighting there."""
    frames = []
    for trip in arc_trips(data, mode, origin_id, dest_id, day):
        t = trip_passengers(data, trip)
        t = t[t["下车地点"] == _name(data, dest_id)]
        t.insert(0, "车次", trip)
        frames.append(t)
    if not frames:
        return pd.DataFrame(columns=["车次", *TRIP_VIEW_COLUMNS])
    return pd.concat(frames, ignore_index=True)
