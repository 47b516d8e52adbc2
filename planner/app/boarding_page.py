"""The app's daily-loop pages: 上车登记 (boarding at the vehicle door, phone-sized) and 交接签收 (hand-over).

上车登记 lists who should board one published vehicle run: a tick, a
temperature and a status per person; 保存 checks every entry (the store's
checks: :func:`planner.store.boarding.check_record`) and records the good
ones, naming each refused field by seat and name. A temperature at or above
the scenario's fever threshold records ``fever``. Opened directly on a phone
with ``?view=boarding`` (``&trip=<trip_id>`` for one vehicle): a narrow
layout without the sidebar's other pages.

交接签收 shows 应到 / 实到 for a published vehicle and records the receiving
side's signature (name, organisation, count received).

The store is ``PLANNER_APP_DB`` (a URL or a SQLite path) or the default one
beside the plan directory.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import streamlit as st

from planner.documents.common import DocData, local_time, mask_id
from planner.vocab import BOARDING_STATUS_LABELS

DB_ENV = "PLANNER_APP_DB"
NO_STATUS = ""


def store_for_app(plan_dir: Path):
    """The app's store (cached per URL for the session)."""
    from planner.store.db import open_store, store_url

    url = store_url(os.environ.get(DB_ENV) or None, Path(plan_dir))
    key = f"_store::{url}"
    if key not in st.session_state:
        st.session_state[key] = open_store(url)
    return st.session_state[key]


def _published(store, data: DocData) -> pd.DataFrame:
    from planner.store.publish import published_trip_ids

    ids = published_trip_ids(store, data.plan.plan_id)
    t = data.plan.trips
    t = t[t["trip_id"].astype(str).isin(ids) & (t["purpose"].astype(str) == "passenger")]
    return t.sort_values(["depart", "trip_id"], kind="stable")


def _trip_label(data: DocData, r) -> str:  # noqa: ANN001
    origin = data.places.get(str(r.origin_id), str(r.origin_id))
    return f"{local_time(r.depart)} {r.trip_id} {r.vehicle_id}（{origin} 出发，{int(r.passengers)} 人）"


def _choose_trip(data: DocData, trips: pd.DataFrame, key: str) -> str | None:
    if trips.empty:
        st.info("本计划尚无已发布的车次：请先在命令行运行 planner publish 计划目录 --through 日期。")
        return None
    ids = list(trips["trip_id"].astype(str))
    labels = {str(r.trip_id): _trip_label(data, r) for r in trips.itertuples(index=False)}
    wanted = st.query_params.get("trip")
    index = ids.index(wanted) if wanted in ids else 0
    return st.selectbox("车次", ids, index=index, format_func=lambda t: labels[t], key=key)


def _passengers(data: DocData, store, trip_id: str) -> pd.DataFrame:
    from planner.store.boarding import PlanSeats

    seats = PlanSeats.load(store, data.plan.plan_id, [trip_id])
    on = set(seats.published.get(trip_id, {}))
    legs = data.plan.legs
    legs = legs[(legs["trip_id"].astype(str) == trip_id) & legs["worker_id"].astype(str).isin(on)].copy()
    legs["_row"] = legs["seat"].astype(str).str.extract(r"^(\d+)", expand=False).astype(float)
    return legs.sort_values(["_row", "seat", "worker_id"], kind="stable")


def _name(data: DocData, wid: str) -> str:
    p = data.people
    if wid not in p.index or "name" not in p.columns:
        return ""
    v = p.loc[wid, "name"]
    return str(v.iloc[0] if isinstance(v, pd.Series) else v)


def _masked_id(data: DocData, wid: str) -> str:
    p = data.people
    if wid not in p.index or "id_number" not in p.columns:
        return ""
    v = p.loc[wid, "id_number"]
    return mask_id(str(v.iloc[0] if isinstance(v, pd.Series) else v))


def page_boarding(data: DocData, plan_dir: Path) -> None:
    """上车登记: one vehicle run, one row per person (see the module docstring)."""
    from planner.store.boarding import BoardingInput, PlanSeats, current_boarding, record_boarding, status_label

    st.header("上车登记")
    store = store_for_app(plan_dir)
    by = st.text_input("登记人姓名", key="board-by").strip()
    trip = _choose_trip(data, _published(store, data), "board-trip")
    if trip is None:
        return
    people = _passengers(data, store, trip)
    threshold = float(data.scenario.occupancy.fever_threshold_c)
    now = current_boarding(store, [trip]).set_index("worker_id")
    st.caption(f"应上车 {len(people)} 人。勾选已上车并填写体温；体温 ≥ {threshold:g} ℃ 自动记为发热并劝离。")
    entries = []
    for r in people.itertuples(index=False):
        wid = str(r.worker_id)
        who = f"{r.seat} {_name(data, wid)}"
        with st.container(border=True):
            place = data.places.get(str(r.board_place_id), str(r.board_place_id))
            st.markdown(f"**{who}**　{_masked_id(data, wid)}　{place} {local_time(r.board_time)}")
            if wid in now.index:
                rec = now.loc[wid]
                temp = "" if pd.isna(rec["temperature_c"]) else f"，{float(rec['temperature_c']):.1f} ℃"
                st.caption(f"已登记：{status_label(rec['status'])}{temp}（{rec['recorded_by']}）")
            ticked = st.checkbox("已上车", key=f"tick-{trip}-{wid}")
            temp = st.text_input("体温 ℃", key=f"temp-{trip}-{wid}", placeholder="例如 36.5")
            status = st.selectbox("状态", [NO_STATUS, *BOARDING_STATUS_LABELS], key=f"status-{trip}-{wid}",
                                  format_func=lambda s: BOARDING_STATUS_LABELS.get(s, "（按勾选）"))
            chosen = status or ("boarded" if ticked else "")
            if chosen or temp.strip():
                entries.append(BoardingInput(trip, wid, chosen, temp, who, f"seat {r.seat}"))
    if st.button("保存", type="primary", key="board-save"):
        if not by:
            st.error("请填写登记人姓名。")
            return
        if not entries:
            st.warning("没有填写任何人员。")
            return
        seats = PlanSeats.load(store, data.plan.plan_id, data.plan.trips["trip_id"].astype(str))
        res = record_boarding(store, seats, entries, by=by, fever_threshold_c=threshold, source="app")
        if res.applied:
            counts = pd.Series([r.status for r in res.applied]).value_counts()
            st.success("已保存 " + "，".join(f"{status_label(k)} {v} 人" for k, v in counts.items()))
        for p in res.problems:
            st.error(f"{p.where}：{p.message}")


def page_handover(data: DocData, plan_dir: Path) -> None:
    """交接签收: 应到/实到 of a published vehicle and the receiving side's signature."""
    from planner.store.db import StoreError
    from planner.store.handover import arrival_counts, latest_handovers, record_handover

    st.header("交接签收")
    store = store_for_app(plan_dir)
    trips = _published(store, data)
    trips = trips[trips["mode"].astype(str).isin(["coach", "train"])]
    trip = _choose_trip(data, trips, "handover-trip")
    if trip is None:
        return
    count = arrival_counts(store, data.plan.legs, [trip])[trip]
    st.subheader(count.label())
    signed = latest_handovers(store, [trip]).get(trip)
    if signed is not None:
        st.info(f"已签收：{signed.organisation} {signed.signed_by}，实收 {signed.received} 人，"
                f"{signed.signed_at[:16].replace('T', ' ')}")
    by = st.text_input("签收人姓名", key="handover-by")
    org = st.text_input("签收单位", key="handover-org")
    received = st.number_input("实收人数", min_value=0, max_value=max(count.expected, 0), step=1,
                               value=count.boarded if count.complete else count.expected,
                               key="handover-received")
    if st.button("签收", type="primary", key="handover-save"):
        try:
            h = record_handover(store, data.plan.plan_id, trip, count, received=int(received), by=by,
                                organisation=org, source="app")
        except StoreError as exc:
            st.error(str(exc))
            return
        st.success(f"已签收：实收 {h.received} 人（{h.organisation} {h.signed_by}）")
