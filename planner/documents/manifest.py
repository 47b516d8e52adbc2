"""Arrival manifests (到达名单 / 交接单) for the receiving provinces.

For each destination province (or one named province) :func:`write_manifests`
writes ``到达名单_<省>.xlsx`` and ``到达名单_<省>.pdf``. A province's files hold
only the people who alight in that province: the passengers of inter-provincial
trips (coaches and train carriages, ``purpose = passenger``) whose alighting
place (a factory gate for a coach, the arrival station for a train carriage,
where the employer meets them) lies in that province.

Excel layout (one workbook per province):

* sheet ``到达车辆``: one row per arriving vehicle and destination (a coach that
  drops at two factory gates has two rows), sorted by arrival day, destination
  and arrival time: trip and vehicle ids, mode, train service, drivers, leader
  (带队人), origin, departure, expected arrival at that destination, head-count
  alighting there;
* sheet ``到达人员``: one row per person, in the same order, seats in seat order:
  the vehicle columns again (so the sheet can be filtered on its own), seat,
  worker id, name, ID number (masked to the first 6 and last 4 characters
  unless ``full_id=True``), phone, health proof and its date, employer.

The PDF starts with the list of arriving vehicles, then gives each vehicle and
destination a page of its own (the hand-over sheet): vehicle data, the
passenger list, the head-count to confirm, and signature lines for the
driver(s), the leader and the receiving unit, each with a time.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from planner.documents.common import (
    CjkPdf,
    DocData,
    DocumentBatch,
    as_dates,
    local_naive,
    local_time,
    mask_id,
    write_excel,
)
from planner.plan_format import trunk_trips

log = logging.getLogger(__name__)

PROOF_NAMES = {"certificate": "健康证明", "green_code": "绿码", "none": "无"}
MODE_NAMES = {"coach": "大巴", "train": "专列车厢", "feeder": "接驳车"}
DEST_KIND_NAMES = {"factory": "厂门", "station": "到达站"}
WEEKDAYS = "一二三四五六日"

VEHICLE_COLUMNS = ["到达日期", "目的地", "目的地类型", "行程号", "车辆编号", "方式", "车次", "车型",
                   "驾驶员人数", "带队人", "出发地", "出发时间", "预计到达时间", "到达人数"]
PASSENGER_COLUMNS = ["到达日期", "目的地", "行程号", "车辆编号", "座位", "人员编号", "姓名", "身份证号",
                     "电话", "健康证明", "证明日期", "用工单位"]


def normalise_province_name(name: str) -> str:
    """A province name in the short form the validated tables use (广东省 -> 广东)."""
    from planner.validate import normalise_province

    return str(normalise_province(pd.Series([str(name)])).iloc[0])


def station_table(data: DocData) -> pd.DataFrame:
    """The scenario's stations (indexed by station_id, with province and city), empty if none."""
    st = data.tables.get("stations")
    if st is None or st.empty:
        return pd.DataFrame(columns=["province", "city"])
    st = st.copy()
    st["province"] = st["province"].map(normalise_province_name) if "province" in st.columns else ""
    if "city" not in st.columns:
        st["city"] = ""
    return st.set_index(st["station_id"].astype(str))


def place_region(data: DocData, stations: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Place id -> (province, city) for every factory and station."""
    out: dict[str, tuple[str, str]] = {}
    for sid, row in stations.iterrows():
        out[str(sid)] = (str(row.get("province", "")), str(row.get("city", "")))
    f = data.factories
    for fid, prov, city in zip(f.index, f["province"].astype(str),
                               f["city"].astype(str) if "city" in f.columns else [""] * len(f)):
        out[str(fid)] = (prov, city)
    return out


def day_label(day: pd.Timestamp) -> str:
    """'2020-02-18（周二）'."""
    day = pd.Timestamp(day)
    return f"{day.strftime('%Y-%m-%d')}（周{WEEKDAYS[day.weekday()]}）"


def _seat_key(seat: str) -> tuple[int, str]:
    m = re.match(r"^(\d+)(.*)$", str(seat))
    return (int(m.group(1)), m.group(2)) if m else (10**6, str(seat))


def _text(v: object) -> str:
    if v is None:
        return ""
    try:
        if pd.isna(v):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%d") if v == v.normalize() else local_time(v)
    return str(v)


def arrivals(data: DocData, *, full_id: bool = False) -> pd.DataFrame:
    """One row per person alighting from an inter-provincial trip, with vehicle and person columns.

    Columns (English, internal): worker_id, trip_id, seat, dest_id, dest_kind,
    province, arrive, day, plus trip and person data. Sorted by day,
    destination, arrival, trip and seat.
    """
    plan = data.plan
    trips = plan.trips
    inter = trunk_trips(trips)
    legs = plan.legs.merge(inter, on="trip_id", how="inner", suffixes=("", "_trip"))
    stations = station_table(data)
    region = place_region(data, stations)
    stops = plan.stops.drop_duplicates(["trip_id", "place_id"], keep="last")
    kinds = {(t, p): _text(k) for t, p, k in zip(stops["trip_id"], stops["place_id"], stops["place_kind"])}
    kind = [kinds.get((t, p), "") for t, p in zip(legs["trip_id"], legs["alight_place_id"])]
    legs["dest_kind"] = kind
    # the inter-provincial leg ends at a factory gate or an arrival station
    is_dest = legs["dest_kind"].isin(["factory", "station"]) | legs["alight_place_id"].isin(region.keys())
    legs = legs[is_dest].copy()
    legs.loc[legs["dest_kind"] == "", "dest_kind"] = [
        "factory" if p in data.factories.index else "station" for p in legs.loc[legs["dest_kind"] == "", "alight_place_id"]
    ]
    w = plan.workers[plan.workers["status"] == "planned"].drop_duplicates("worker_id").set_index("worker_id")
    legs["factory_id"] = legs["worker_id"].map(w["factory_id"]).fillna("").astype(str)
    fac_prov = data.factories["province"].astype(str)
    legs["province"] = [region.get(p, ("", ""))[0] or fac_prov.get(f, "")
                        for p, f in zip(legs["alight_place_id"], legs["factory_id"])]
    legs["arrive"] = legs["alight_time"].where(legs["alight_time"].notna(), legs["arrive"])
    legs["day"] = legs["arrive"].dt.tz_localize(None).dt.normalize() if len(legs) else pd.Series(dtype="datetime64[ns]")
    legs["dest_name"] = legs["alight_place_id"].map(lambda p: data.places.get(p, p))
    legs["origin_name"] = legs["origin_id"].map(lambda p: data.places.get(p, p))
    people = data.people
    def person(col: str) -> pd.Series:
        if col not in people.columns:
            return pd.Series([""] * len(legs), index=legs.index)
        return legs["worker_id"].map(people[col]).map(_text)
    legs["name"] = person("name")
    ids = person("id_number")
    legs["id_shown"] = ids if full_id else ids.map(mask_id)
    legs["phone"] = person("phone")
    legs["proof"] = person("health_proof").map(lambda x: PROOF_NAMES.get(x, x))
    legs["proof_date"] = person("proof_date")
    legs["employer"] = legs["factory_id"].map(lambda f: data.places.get(f, f))
    leader = legs["leader_worker_id"] if "leader_worker_id" in legs.columns else pd.Series("", index=legs.index)
    legs["leader"] = leader.map(lambda x: _text(people["name"].get(x, "")) if "name" in people.columns and _text(x) else "")
    legs["seat_key"] = legs["seat"].map(_seat_key)
    legs = legs.sort_values(["day", "dest_name", "arrive", "trip_id", "seat_key"], kind="stable")
    return legs.reset_index(drop=True)


def vehicle_frame(legs: pd.DataFrame, data: DocData) -> pd.DataFrame:
    g = legs.groupby(["trip_id", "alight_place_id"], sort=False)
    first = g.head(1).set_index(["trip_id", "alight_place_id"])
    counts = g.size()
    rows = []
    for key, r in first.iterrows():
        rows.append({
            "到达日期": r["day"].strftime("%Y-%m-%d"),
            "目的地": r["dest_name"],
            "目的地类型": DEST_KIND_NAMES.get(r["dest_kind"], r["dest_kind"]),
            "行程号": key[0],
            "车辆编号": _text(r["vehicle_id"]),
            "方式": MODE_NAMES.get(r["mode"], r["mode"]),
            "车次": _text(r["service_id"]),
            "车型": _text(r["vehicle_type"]),
            "驾驶员人数": int(r["drivers"]),
            "带队人": r["leader"],
            "出发地": r["origin_name"],
            "出发时间": local_time(r["depart"]),
            "预计到达时间": local_time(r["arrive"]),
            "到达人数": int(counts[key]),
        })
    return pd.DataFrame(rows, columns=VEHICLE_COLUMNS)


def _passenger_frame(legs: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({
        "到达日期": legs["day"].dt.strftime("%Y-%m-%d"),
        "目的地": legs["dest_name"],
        "行程号": legs["trip_id"],
        "车辆编号": legs["vehicle_id"].map(_text),
        "座位": legs["seat"].map(_text),
        "人员编号": legs["worker_id"],
        "姓名": legs["name"],
        "身份证号": legs["id_shown"],
        "电话": legs["phone"],
        "健康证明": legs["proof"],
        "证明日期": legs["proof_date"],
        "用工单位": legs["employer"],
    }, columns=PASSENGER_COLUMNS)


def write_manifests(data: DocData, out_dir: Path, province: str | None = None, *,
                    full_id: bool = False, store=None,  # noqa: ANN001 - a planner.store Store
                    legs: pd.DataFrame | None = None,
                    on_file: Callable[[Path, bool], None] | None = None) -> list[Path]:
    """Write the arrival manifests, one Excel and one PDF per destination province.

    ``province`` (e.g. "广东" or "广东省") restricts the output to that province;
    a province with no arrivals still gets (empty) files. ID numbers are masked
    to the first 6 and last 4 characters unless ``full_id`` is true. Returns the
    paths written (Excel then PDF for each province). Each file is written
    atomically; a failing document does not stop the others
    (:class:`planner.documents.common.ExportError` names it).

    With ``store`` (a :class:`planner.store.db.Store`), each hand-over sheet
    shows 实到 from the boarding recorded there (:func:`handover_lines`) and
    the signature already recorded, and the vehicles sheet gets a 实到 column;
    without it 实到 is a blank to fill in.

    ``legs``: :func:`arrivals` of ``data`` with the same ``full_id``, when the
    caller has it already (an export writing one province per job).
    ``on_file(path, ok)`` is called after each file.
    """
    out_dir = Path(out_dir)
    if legs is None:
        legs = arrivals(data, full_id=full_id)
    lines = handover_lines(data, legs, store) if store is not None else {}
    if province is not None:
        wanted = [normalise_province_name(province)]
    else:
        wanted = sorted(p for p in legs["province"].unique() if p)
    batch = DocumentBatch(on_file=on_file)
    for prov in wanted:
        xlsx, pdf = out_dir / f"到达名单_{prov}.xlsx", out_dir / f"到达名单_{prov}.pdf"
        sub = legs[legs["province"] == prov]
        try:
            vehicles = vehicle_frame(sub, data)
            passengers = _passenger_frame(sub)
        except Exception as exc:  # noqa: BLE001 - the other provinces are still written
            batch.fail([xlsx, pdf], exc)
            continue
        title = f"到达名单（交接单）· {prov} · {data.scenario.name}"
        if full_id:
            title += "（含完整身份证号，注意保密）"
        sheet_vehicles = vehicles
        if store is not None and len(vehicles) and "行程号" in vehicles.columns:
            per_trip = _trip_counts(data, sub, store)
            sheet_vehicles = vehicles.assign(实到=vehicles["行程号"].map(per_trip).fillna(""))
        sheets = {"到达车辆": excel_vehicles(sheet_vehicles, sub), "到达人员": excel_passengers(passengers)}
        batch.write(xlsx, lambda p, sheets=sheets, title=title: write_excel(p, sheets, title=title))
        batch.write(pdf, lambda p, title=title, sub=sub, vehicles=vehicles, passengers=passengers:
                    _write_pdf(p, title, sub, vehicles, passengers, lines))
        log.info("arrival manifest for one province: %d vehicles, %d people", len(vehicles), len(passengers))
    return batch.result()


def excel_vehicles(vehicles: pd.DataFrame, legs: pd.DataFrame) -> pd.DataFrame:
    """The 到达车辆 sheet with dates and times as Excel values (the frame keeps text for the app and the PDF)."""
    out = vehicles.copy()
    if not len(out):
        return out
    first = legs.groupby(["trip_id", "alight_place_id"], sort=False).head(1)
    out["到达日期"] = as_dates(out["到达日期"])
    out["出发时间"] = local_naive(first["depart"]).to_numpy()
    out["预计到达时间"] = local_naive(first["arrive"]).to_numpy()
    return out


def excel_passengers(passengers: pd.DataFrame) -> pd.DataFrame:
    """The 到达人员 sheet with 到达日期 and 证明日期 as Excel dates."""
    out = passengers.copy()
    for col in ("到达日期", "证明日期"):
        out[col] = as_dates(out[col].astype(str).str[:10].where(out[col].astype(str) != "", ""))
    return out


def handover_lines(data: DocData, legs: pd.DataFrame, store) -> dict[tuple[str, str], str]:  # noqa: ANN001
    """(trip_id, drop place) -> the sheet's 应到/实到 line from the store's boarding records and signature."""
    from planner.store.boarding import current_boarding
    from planner.store.handover import arrival_counts, latest_handovers

    plan_legs = data.plan.legs[["worker_id", "leg", "trip_id"]].astype({"worker_id": str, "trip_id": str})
    signed = latest_handovers(store, sorted(set(legs["trip_id"].astype(str))))
    records = current_boarding(store)  # read once for every hand-over sheet
    legs_of = dict(tuple(plan_legs.groupby("worker_id")))
    out = {}
    for (trip_id, dest), block in legs.groupby(["trip_id", "alight_place_id"], sort=False):
        people = sorted(set(block["worker_id"].astype(str)))
        theirs = pd.concat([legs_of[w] for w in people if w in legs_of]) if people else plan_legs.iloc[0:0]
        count = arrival_counts(store, theirs, [str(trip_id)], records=records)[str(trip_id)]
        line = count.label() + "；体温检测 ______ 人正常。"
        h = signed.get(str(trip_id))
        if h is not None:
            line += f"\n已签收（整车）：{h.organisation} {h.signed_by}，实收 {h.received} 人，{h.signed_at[:16].replace('T', ' ')}"
        out[(str(trip_id), str(dest))] = line
    return out


def _trip_counts(data: DocData, legs: pd.DataFrame, store) -> dict[str, str]:  # noqa: ANN001
    from planner.store.handover import arrival_counts

    counts = arrival_counts(store, data.plan.legs, sorted(set(legs["trip_id"].astype(str))))
    return {t: (str(c.boarded) if c.complete else "") for t, c in counts.items()}


def _write_pdf(path: Path, title: str, legs: pd.DataFrame, vehicles: pd.DataFrame,
               passengers: pd.DataFrame, lines: dict[tuple[str, str], str] | None = None) -> Path:
    pdf = CjkPdf(title)
    pdf.page()
    n_people = len(passengers)
    pdf.text(f"到达车辆 {len(vehicles)} 车次，到达人员 {n_people} 人。每车每目的地一页交接单，见后页。"
             "身份证号仅用于核验，请妥善保管，不得外传。")
    if len(vehicles):
        for day, block in vehicles.groupby("到达日期", sort=True):
            pdf.heading(f"{day_label(pd.Timestamp(day))} 到达 {len(block)} 车次，{int(block['到达人数'].sum())} 人")
            pdf.table(block.drop(columns=["到达日期"]),
                      widths=[2.6, 1.2, 2.2, 2.0, 1.2, 1, 1, 1.5, 1.2, 2.6, 1.6, 1.6, 1.2])
    else:
        pdf.text("本省无到达人员。")
    cols = ["座位", "姓名", "身份证号", "电话", "健康证明", "证明日期", "用工单位", "签到"]
    # one page per (trip, destination) in order of first appearance, as groupby(sort=False); plain lists:
    # pandas per group costs more than drawing the page
    head = ("dest_kind", "day", "dest_name", "mode", "service_id", "drivers", "vehicle_id", "vehicle_type",
            "leader", "origin_name", "depart", "arrive")
    col = {c: legs[c].tolist() for c in head + ("trip_id", "alight_place_id", "seat", "name", "id_shown", "phone",
                                                  "proof", "proof_date", "employer")}
    groups: dict[tuple, list[int]] = {}
    for i, key in enumerate(zip(col["trip_id"], col["alight_place_id"])):
        if not (pd.isna(key[0]) or pd.isna(key[1])):  # groupby drops missing keys
            groups.setdefault(key, []).append(i)
    for (trip_id, dest), rows in groups.items():
        r = {c: col[c][rows[0]] for c in head}
        pdf.page()
        kind = DEST_KIND_NAMES.get(r["dest_kind"], "")
        pdf.heading(f"交接单 {day_label(r['day'])} · {r['dest_name']}（{kind}） · 行程 {trip_id}")
        mode = MODE_NAMES.get(r["mode"], r["mode"])
        service = f"，车次 {_text(r['service_id'])}" if _text(r["service_id"]) else ""
        drivers = f"，驾驶员 {int(r['drivers'])} 名" if int(r["drivers"]) > 0 else ""
        pdf.text(f"{mode}：车辆编号 {_text(r['vehicle_id'])}（车型 {_text(r['vehicle_type'])}）{service}{drivers}，"
                 f"带队人 {r['leader'] or '—'}")
        pdf.text(f"出发地 {r['origin_name']}，出发 {local_time(r['depart'])}；"
                 f"预计到达 {r['dest_name']} {local_time(r['arrive'])}；本站下车 {len(rows)} 人")
        table = [[_text(col["seat"][i]), str(col["name"][i]), str(col["id_shown"][i]), str(col["phone"][i]),
                  str(col["proof"][i]), str(col["proof_date"][i]), str(col["employer"][i]), ""] for i in rows]
        pdf.table_rows(cols, table, widths=[0.8, 1.2, 2.2, 1.6, 1.0, 1.2, 2.6, 1.2])
        pdf.text((lines or {}).get((str(trip_id), str(dest)),
                                   f"应到 {len(rows)} 人，实到 ______ 人；体温检测 ______ 人正常。"))
        labels = (["驾驶员"] if int(r["drivers"]) > 0 else []) + ["带队人", "接收单位"]
        pdf.signatures(labels)
    return pdf.save(path)

