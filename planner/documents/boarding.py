"""Boarding sheets (乘车单), one per vehicle run, for the vehicle door.

A *vehicle run* is a passenger trip that takes people on in the villages: a
feeder run to a hub, or a township-direct coach. For each township (9-digit
code) or county (6-digit code) :func:`write_boarding_sheets` writes
``乘车单_<code>.xlsx`` (one sheet per run) and ``乘车单_<code>.pdf`` (one page, or
more, per run) with the runs that pick up at least one worker of that township
or county. Each sheet is the list for the door, so it names every rider of the
run, also riders of a neighbouring township who share it.

Per run: trip, vehicle id and type, plate and drivers with phones from the
vehicle register (the scenario's optional ``vehicles`` table; blank lines to fill
in by hand without it), the group leader (the plan's ``leader_worker_id`` of the
trip, or for a feeder the riders named leader of their onward coach) with phone,
the stops with times and head-counts, then the riders by stop: seat, name,
masked ID number, phone, worker id, 上车确认, 体温, and the onward vehicle
(trip, departure from the hub, destination). Times in the workbook are Excel
date-times, counts and numbers are numbers; no cell is a formula.

The township pick-up list (``乘车人员名单``, read back by ``planner boarding
import``) is unchanged; these sheets are a separate document.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from planner.documents.common import (
    XLSX_OPTIONS,
    CjkPdf,
    DocData,
    DocumentBatch,
    atomic_output,
    cell_text,
    ellipsis,
    excel_safe_text,
    mask_id,
    safe_codes,
)
from planner.documents.pickup import destination_name, seat_key
from planner.plan_format import TZ

DOC_NAME = "乘车单"
BLANK = "________________"
VILLAGE_KINDS = ("village", "pickup")
STOP_COLUMNS = ["站序", "上车点/停靠点", "到达", "出发", "上车人数", "下车人数"]
RIDER_COLUMNS = ["序号", "上车点", "上车时间", "座位", "姓名", "身份证号", "电话", "人员编号", "上车确认", "体温",
                 "换乘车次", "枢纽发车", "目的地"]
PDF_RIDER_WIDTHS = [0.6, 2.6, 1.0, 0.7, 1.3, 2.4, 1.9, 1.4, 1.1, 0.9, 1.6, 1.3, 2.8]
KIND_NAMES = {"village": "村", "pickup": "上车点", "hub": "枢纽", "station": "到达站", "factory": "厂门",
              "rest": "服务区"}




def _local(ts: object) -> pd.Timestamp | None:
    """A plan time as a local, timezone-free Timestamp (for Excel), or None."""
    if ts is None or (not isinstance(ts, pd.Timestamp) and cell_text(ts) == ""):
        return None
    t = pd.Timestamp(ts)
    if pd.isna(t):
        return None
    if t.tzinfo is not None:
        t = t.tz_convert(TZ).tz_localize(None)
    return t


def _hhmm(ts: pd.Timestamp | None, with_day: bool = False) -> str:
    if ts is None or pd.isna(ts):
        return ""
    return ts.strftime("%m-%d %H:%M") if with_day else ts.strftime("%H:%M")


class Runs:
    """The plan's vehicle runs with their riders, computed once for every sheet of an export."""

    def __init__(self, data: DocData) -> None:
        plan = data.plan
        self.data = data
        legs = plan.legs.copy()
        legs["worker_id"] = legs["worker_id"].astype(str)
        legs["trip_id"] = legs["trip_id"].astype(str)
        stops = plan.stops.copy()
        stops["trip_id"] = stops["trip_id"].astype(str)
        kinds = dict(zip(zip(stops["trip_id"], stops["place_id"].astype(str)), stops["place_kind"].astype(str)))
        first = legs[legs["leg"] == 1]
        at_village = [kinds.get((t, str(p)), "") in VILLAGE_KINDS
                      for t, p in zip(first["trip_id"], first["board_place_id"])]
        trips = plan.trips.copy()
        trips["trip_id"] = trips["trip_id"].astype(str)
        passenger = set(trips.loc[trips["purpose"].astype(str) == "passenger", "trip_id"])
        run_ids = set(first.loc[at_village, "trip_id"]) & passenger
        self.trips = trips.set_index("trip_id")
        self.riders = first[first["trip_id"].isin(run_ids)].copy()
        w = plan.workers.drop_duplicates("worker_id").copy()
        w["worker_id"] = w["worker_id"].astype(str)
        w = w.set_index("worker_id")
        self.riders["township_code"] = self.riders["worker_id"].map(w["township_code"].astype(str)).fillna("")
        self.riders["county_code"] = self.riders["worker_id"].map(w["county_code"].astype(str)).fillna("")
        self.riders["factory_id"] = self.riders["worker_id"].map(w["factory_id"].astype(str)).fillna("")
        # the onward vehicle: the worker's next leg, and where the journey ends
        nxt = legs[legs["leg"] == 2].drop_duplicates("worker_id").set_index("worker_id")
        last = legs.sort_values("leg").drop_duplicates("worker_id", keep="last").set_index("worker_id")
        self.riders["onward_trip"] = self.riders["worker_id"].map(nxt["trip_id"]).fillna("")
        self.riders["onward_depart"] = self.riders["worker_id"].map(nxt["board_time"])
        self.riders["final_place"] = self.riders["worker_id"].map(last["alight_place_id"].astype(str)).fillna("")
        self.stops = stops[stops["trip_id"].isin(run_ids)]
        self.leaders = {str(t): cell_text(x) for t, x in zip(trips["trip_id"], trips.get("leader_worker_id", ""))
                        if cell_text(x)}
        # name, phone, ID number per worker and employer, destination per factory: dicts, read once
        people = data.people
        cols = {c: (people[c].map(cell_text).tolist() if c in people.columns else [""] * len(people))
                for c in ("name", "phone", "id_number")}
        self.people: dict[str, tuple[str, str, str]] = {}
        for wid, name, phone, idn in zip(people.index.astype(str), cols["name"], cols["phone"], cols["id_number"]):
            self.people.setdefault(wid, (name, phone, idn))  # duplicated ids in the input: the first
        fac = data.factories
        self.factories: dict[str, tuple[str, str]] = {}
        for fid, name, prov, city in zip(fac.index.astype(str), fac.get("name", pd.Series("", index=fac.index)),
                                         fac.get("province", pd.Series("", index=fac.index)),
                                         fac.get("city", pd.Series("", index=fac.index))):
            self.factories.setdefault(fid, (cell_text(name), destination_name(cell_text(prov), cell_text(city))))
        # per run, plain records (a run's sheet is laid out from these, not from pandas, once per export)
        self._trip_rec: dict[str, dict] = {}
        wanted = ("vehicle_id", "mode", "vehicle_type", "drivers", "depart", "arrive", "destination_ids")
        tcols = {c: (self.trips[c].tolist() if c in self.trips.columns else [None] * len(self.trips)) for c in wanted}
        for k, tid in enumerate(self.trips.index.tolist()):
            self._trip_rec.setdefault(str(tid), {c: tcols[c][k] for c in wanted})
        self._depart_text = {t: str(r["depart"]) for t, r in self._trip_rec.items()}
        r = self.riders
        self._riders_of: dict[str, list[tuple]] = {}
        for rec in zip(r["trip_id"].tolist(), r["worker_id"].tolist(), r["board_place_id"].astype(str).tolist(),
                       r["board_time"].tolist(), r["seat"].tolist(), r["onward_trip"].tolist(),
                       r["onward_depart"].tolist(), r["final_place"].tolist(), r["factory_id"].tolist()):
            self._riders_of.setdefault(rec[0], []).append(rec[1:])
        st = self.stops
        n_on = pd.to_numeric(st["boarding"], errors="coerce").fillna(0).astype(int).tolist()
        n_off = pd.to_numeric(st["alighting"], errors="coerce").fillna(0).astype(int).tolist()
        self._stops_of: dict[str, list[tuple]] = {}
        for rec in zip(st["trip_id"].tolist(), st["seq"].astype(int).tolist(), st["place_id"].astype(str).tolist(),
                       st["place_kind"].astype(str).tolist(), st["arrive"].tolist(), st["depart"].tolist(),
                       n_on, n_off):
            self._stops_of.setdefault(rec[0], []).append(rec[1:])
        for recs in self._stops_of.values():
            recs.sort(key=lambda x: x[0])

    def for_code(self, code: str) -> list[str]:
        """The runs that pick up a worker of the township (9 digits) or county (6 digits), by departure."""
        col = "county_code" if len(code) == 6 else "township_code"
        ids = set(self.riders.loc[self.riders[col] == code, "trip_id"])
        return sorted(ids, key=lambda i: (self._depart_text[i], i))


def _register_line(data: DocData, vehicle_id: str, drivers: int) -> list[tuple[str, str]]:
    """(label, value) lines for plate and drivers, from the register or blanks to fill in."""
    reg = data.vehicles
    row = reg.loc[vehicle_id] if len(reg) and vehicle_id in reg.index else None
    if isinstance(row, pd.DataFrame):
        row = row.iloc[0]

    def get(col: str) -> str:
        return cell_text(row.get(col)) if row is not None else ""

    lines = [("号牌", get("plate") or BLANK),
             ("驾驶员", f"{get('driver_name') or BLANK}　电话：{get('driver_phone') or BLANK}")]
    if drivers >= 2 or get("driver2_name"):
        lines.append(("第二驾驶员", f"{get('driver2_name') or BLANK}　电话：{get('driver2_phone') or BLANK}"))
    return lines


def _person(runs: Runs, wid: str) -> tuple[str, str]:
    name, phone, _idn = runs.people.get(wid, ("", "", ""))
    return name, phone


class Rows:
    """A small table: ``columns`` and ``rows`` (lists of cell values, in column order)."""

    __slots__ = ("columns", "rows")

    def __init__(self, columns: list[str], rows: list[list]) -> None:
        self.columns = list(columns)
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def frame(self) -> pd.DataFrame:
        """As a DataFrame (for callers that want one)."""
        return pd.DataFrame(self.rows, columns=self.columns)


def run_sheet(runs: Runs, trip_id: str) -> dict:
    """Everything one run's sheet shows: ``info`` (label, value) lines, ``stops`` and ``riders`` (:class:`Rows`).

    ``riders`` keeps Timestamps (local) in 上车时间 and 枢纽发车 for the workbook;
    the PDF formats them.
    """
    data = runs.data
    trip = runs._trip_rec[trip_id]
    vehicle_id = cell_text(trip.get("vehicle_id"))
    mode = cell_text(trip.get("mode"))
    kind = "接驳车" if mode == "feeder" else "乡镇直达大巴"
    drivers = int(trip.get("drivers") or 0)
    riders = runs._riders_of[trip_id]  # (worker, place, time, seat, onward, onward_depart, final, factory)
    # the group leader: the trip's own, else riders who lead their onward coach
    leader_ids = [runs.leaders[trip_id]] if trip_id in runs.leaders else []
    onward_of: dict[str, str] = {}
    for r in riders:
        onward_of.setdefault(r[0], r[4])
    onward_leaders = [r[0] for r in riders if runs.leaders.get(r[4]) == r[0]]
    info = [("车次（行程号）", trip_id), ("类别", kind),
            ("车辆编号", f"{vehicle_id}（车型 {cell_text(trip.get('vehicle_type'))}）")]
    info += _register_line(data, vehicle_id, drivers)
    if leader_ids or onward_leaders:
        for w in leader_ids + [w for w in onward_leaders if w not in leader_ids]:
            name, phone = _person(runs, w)
            of = "" if w in leader_ids else f"（换乘车次 {onward_of[w]} 带队人）"
            info.append(("带队人", f"{name}{of}　电话：{phone or BLANK}"))
    else:
        info.append(("带队人", f"{BLANK}　电话：{BLANK}"))
    depart, arrive = _local(trip.get("depart")), _local(trip.get("arrive"))
    dest_ids = [d for d in cell_text(trip.get("destination_ids")).split(";") if d]
    dest = "、".join(data.places.get(d, d) for d in dest_ids)
    info.append(("出发", f"{_hhmm(depart, True)}　到达 {dest} {_hhmm(arrive, True)}"))
    info.append(("乘车人数", str(len(riders))))

    st = runs._stops_of.get(trip_id, [])  # (seq, place, kind, arrive, depart, boarding, alighting), by seq
    stops = Rows(STOP_COLUMNS, [
        [seq, f"{data.places.get(p, p)}（{KIND_NAMES.get(k, k)} {p}）" if p != "REST" else "服务区（休息）",
         _local(a), _local(d), n_on, n_off]
        for seq, p, k, a, d, n_on, n_off in st])

    seq_of = {p: seq for seq, p, *_ in st if p != "REST"}
    order = sorted(riders, key=lambda r: (seq_of.get(r[1], 10**6), seat_key(cell_text(r[3]))))
    records = []
    for i, (wid, place, board_time, seat, onward, onward_depart, final_place, factory_id) in enumerate(order, 1):
        name, phone, idn = runs.people.get(wid, ("", "", ""))
        employer, city = runs.factories.get(factory_id, (factory_id, ""))
        employer = employer or factory_id
        final = data.places.get(final_place, final_place)
        dest = employer if final == employer or not final else f"{final}（{employer}）"
        dest = f"{city} {dest}".strip()
        records.append([
            i, f"{data.places.get(place, place)}（{place}）", _local(board_time),
            cell_text(seat), name, mask_id(idn), phone, wid,
            "", "",
            cell_text(onward) or ("直达" if mode == "coach" else ""),
            _local(onward_depart) if cell_text(onward) else None,
            dest,
        ])
    return {"trip_id": trip_id, "info": info, "stops": stops, "riders": Rows(RIDER_COLUMNS, records),
            "depart": depart}


# ------------------------------------------------------------------ writing
def _write_xlsx(path: Path, title: str, sheets: list[dict]) -> Path:
    import xlsxwriter

    with atomic_output(Path(path)) as tmp:
        book = xlsxwriter.Workbook(str(tmp), XLSX_OPTIONS)
        bold = book.add_format({"bold": True})
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
        cell = book.add_format({"border": 1})
        when = book.add_format({"border": 1, "num_format": "mm-dd hh:mm"})
        big = book.add_format({"bold": True, "font_size": 14})
        if not sheets:
            ws = book.add_worksheet(DOC_NAME)
            ws.write_string(0, 0, "本计划中没有从这里出发的接驳车或乡镇直达大巴", big)
        for s in sheets:
            ws = book.add_worksheet(s["trip_id"][:31])
            ws.write_string(0, 0, excel_safe_text(f"{DOC_NAME}　{s['trip_id']}"), big)
            r = 1
            for label, value in s["info"]:
                ws.write_string(r, 0, label, bold)
                ws.write_string(r, 1, excel_safe_text(value))
                r += 1
            r += 1
            for frame in (s["stops"], s["riders"]):
                top = r
                for j, col in enumerate(frame.columns):
                    ws.write_string(r, j, col, head)
                for values in frame.rows:
                    r += 1
                    for j, v in enumerate(values):
                        if isinstance(v, pd.Timestamp):
                            ws.write_datetime(r, j, v.to_pydatetime(), when)
                        elif v is None or v is pd.NaT or (isinstance(v, float) and pd.isna(v)):
                            ws.write_blank(r, j, None, cell)
                        elif isinstance(v, (int, float)) and not isinstance(v, bool):
                            ws.write_number(r, j, v, cell)
                        else:
                            ws.write_string(r, j, excel_safe_text(str(v)), cell)
                if frame is s["riders"]:
                    ws.autofilter(top, 0, max(r, top + 1), len(frame.columns) - 1)
                    ws.repeat_rows(top)
                r += 2
            ws.write_string(r, 0, "驾驶员签字：________　带队人签字：________　乡镇负责人签字：________")
            widths = [6, 30, 12, 6, 10, 20, 13, 11, 9, 7, 15, 12, 30]
            for j, wd in enumerate(widths):
                ws.set_column(j, j, wd)
            ws.set_landscape()
            ws.set_paper(9)
            ws.fit_to_pages(1, 0)
            ws.set_header(f"&C{ellipsis(title, 120).replace('&', '&&')}")
            ws.set_footer("&C第 &P 页 / 共 &N 页")
        book.close()
    return Path(path)


def _pdf_rows(sheet: dict) -> tuple[list[list[str]], list[list[str]]]:
    """A run's stops and riders as the text of the PDF's cells (kept in the sheet: a run shared by several
    townships is formatted once)."""
    got = sheet.get("_pdf")
    if got is None:
        stops = [[str(seq), place, _hhmm(a, True), _hhmm(d, True), str(n_on), str(n_off)]
                 for seq, place, a, d, n_on, n_off in sheet["stops"].rows]
        riders = []
        for r in sheet["riders"].rows:
            t = [str(x) for x in r]
            t[1] = r[1].replace("（", "\n（", 1)
            t[2] = _hhmm(r[2])
            t[11] = _hhmm(r[11], True)
            riders.append(t)
        got = sheet["_pdf"] = (stops, riders)
    return got


def _write_pdf(path: Path, title: str, label: str, sheets: list[dict]) -> Path:
    pdf = CjkPdf(title)
    if not sheets:
        pdf.page()
        pdf.heading(f"{label}：本计划中没有从这里出发的接驳车或乡镇直达大巴")
        return pdf.save(path)
    for s in sheets:
        pdf.footer_prefix = f"{DOC_NAME}　{label}　车次 {s['trip_id']}"
        pdf.page()
        pdf.heading(f"{DOC_NAME}　车次 {s['trip_id']}")
        pdf.text("\n".join(f"{k}：{v}" for k, v in s["info"]))
        stops, riders = _pdf_rows(s)
        pdf.table_rows(STOP_COLUMNS, stops, widths=[0.6, 5, 1.4, 1.4, 1, 1], size=7.5)
        pdf.table_rows(RIDER_COLUMNS, riders, widths=PDF_RIDER_WIDTHS, size=7)
        pdf.text(f"应到 {len(riders)} 人，实到 ______ 人；体温 ≥37.3℃ 者不得上车，交当地卫生部门。")
        pdf.signatures(["驾驶员", "带队人", "乡镇负责人"])
    return pdf.save(path)


def area_label(data: DocData, code: str) -> str:
    from planner.documents.exceptions import area_label as label

    return label(data, code)


def write_boarding_sheets(data: DocData, out_dir: Path, codes: list[str], *, runs: Runs | None = None,
                          sheets: dict[str, dict] | None = None,
                          on_file: Callable[[Path, bool], None] | None = None) -> list[Path]:
    """Write ``乘车单_<code>.xlsx`` and ``.pdf`` for each township or county code into ``out_dir``.

    A code with no run still gets both files, saying so. Returns the paths
    written (Excel, then PDF, per code). A failing document does not stop the
    others (:class:`planner.documents.common.ExportError`); an invalid code is
    refused (ValueError) before anything is written. ``sheets``: a dict of run
    sheets kept across calls (each run is laid out once per export);
    ``on_file(path, ok)`` is called after each file.
    """
    out_dir = Path(out_dir)
    codes = safe_codes(codes, "乡镇/区县")
    runs = runs or Runs(data)
    cache: dict[str, dict] = {} if sheets is None else sheets
    batch = DocumentBatch(on_file=on_file)
    for code in codes:
        xlsx, pdf = out_dir / f"{DOC_NAME}_{code}.xlsx", out_dir / f"{DOC_NAME}_{code}.pdf"
        try:
            sheets = []
            for trip_id in runs.for_code(code):
                if trip_id not in cache:
                    cache[trip_id] = run_sheet(runs, trip_id)
                sheets.append(cache[trip_id])
        except Exception as exc:  # noqa: BLE001 - the other codes are still written
            batch.fail([xlsx, pdf], exc)
            continue
        label = area_label(data, code)
        title = f"{DOC_NAME}（每车一单）　{label}　{data.scenario.name}"
        batch.write(xlsx, lambda p, title=title, sheets=sheets: _write_xlsx(p, title, sheets))
        batch.write(pdf, lambda p, title=title, label=label, sheets=sheets: _write_pdf(p, title, label, sheets))
    return batch.result()


def boarding_codes(data: DocData, *, townships: list[str] | None = None, county: str | None = None,
                   all_townships: bool = False, runs: Runs | None = None) -> list[str]:
    """The township and county codes to write boarding sheets for, from the export options.

    ``all_townships``: every township with a rider on a run (not the counties:
    a county's file repeats its townships' sheets). ``runs``: the plan's runs, when already made.
    """
    codes: list[str] = []
    if all_townships:
        runs = runs or Runs(data)
        codes += sorted(c for c in runs.riders["township_code"].unique() if c)
    codes += [str(t) for t in townships or []]
    if county:
        codes.append(str(county))
    return list(dict.fromkeys(codes))
