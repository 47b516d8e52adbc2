"""Contact tracing from a plan (planner.documents.trace)."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from planner.check.plan_files import PlanFiles, read_plan
from planner.documents.trace import (
    SAME_HUB,
    SAME_VEHICLE,
    TRACE_COLUMNS,
    TRIP_COLUMNS,
    trace_trip,
    trace_worker,
    write_trace_csv,
)
from planner.errors import DataError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def tiny(tiny_plan_dir):
    """(plan dir, PlanFiles) of the tiny scenario."""
    return tiny_plan_dir, read_plan(tiny_plan_dir)


@pytest.fixture(scope="module")
def raw_legs(tiny):
    """legs.csv read directly with pandas, times parsed here (independent of read_plan)."""
    out, _ = tiny
    legs = pd.read_csv(out / "legs.csv", dtype=str, keep_default_na=False)
    for c in ("board_time", "alight_time"):
        legs[c] = pd.to_datetime(legs[c], utc=True)
    return legs


def _row(seat: str) -> int | None:
    m = re.fullmatch(r"(\d+)([A-Z]+)", seat.strip())
    return int(m.group(1)) if m else None


def expected_copassengers(legs: pd.DataFrame, wid: str) -> dict[tuple[str, str], dict]:
    """(contact, trip) -> shared interval and seats, by a plain loop over legs.csv."""
    out: dict[tuple[str, str], dict] = {}
    mine = [r for r in legs.itertuples(index=False) if r.worker_id == wid]
    for m in mine:
        for o in legs.itertuples(index=False):
            if o.worker_id == wid or o.trip_id != m.trip_id:
                continue
            if m.board_time < o.alight_time and o.board_time < m.alight_time:
                out[(o.worker_id, m.trip_id)] = {
                    "from": max(m.board_time, o.board_time),
                    "until": min(m.alight_time, o.alight_time),
                    "seat": m.seat,
                    "contact_seat": o.seat,
                }
    return out


def chosen_workers(plan: PlanFiles) -> list[str]:
    """The first planned worker, a family-group member and a train passenger, when there are such."""
    w = plan.workers[plan.workers["status"] == "planned"]
    picks = [w["worker_id"].iloc[0]]
    grouped = w[w["group_id"].astype(str) != ""]
    if len(grouped):
        picks.append(grouped["worker_id"].iloc[0])
    train = w[w["chain"] == "train"]
    if len(train):
        picks.append(train["worker_id"].iloc[0])
    return list(dict.fromkeys(picks))


# ------------------------------------------------------------------ (1) co-passengers
def test_same_vehicle_contacts_match_legs(tiny, raw_legs):
    _, plan = tiny
    workers = chosen_workers(plan)
    assert len(workers) >= 2, "the tiny plan should have a group member or a train passenger"
    total = 0
    for wid in workers:
        got = trace_worker(plan, wid)
        assert list(got.columns) == TRACE_COLUMNS
        assert (got["worker_id"] == wid).all()
        assert wid not in set(got["contact_id"]), f"{wid} is listed as their own contact"
        veh = got[got["kind"] == SAME_VEHICLE]
        expected = expected_copassengers(raw_legs, wid)
        assert set(zip(veh["contact_id"], veh["trip_id"])) == set(expected), wid
        assert not veh.duplicated(["contact_id", "trip_id"]).any()
        for r in veh.itertuples(index=False):
            e = expected[(r.contact_id, r.trip_id)]
            assert r.shared_from_time == e["from"] and r.shared_until_time == e["until"]
            assert (r.seat, r.contact_seat) == (e["seat"], e["contact_seat"])
            assert r.contact_trip_id == r.trip_id
        total += len(expected)
    assert total > 0, "no co-passenger at all: the comparison proves nothing"


def test_vehicle_columns_come_from_trips(tiny):
    _, plan = tiny
    wid = chosen_workers(plan)[0]
    got = trace_worker(plan, wid)
    trips = plan.trips.set_index("trip_id")
    for r in got.itertuples(index=False):
        assert r.mode == trips.loc[r.trip_id, "mode"]
        assert r.vehicle_id == trips.loc[r.trip_id, "vehicle_id"]


def test_sorted_same_vehicle_first_then_trip_then_rows(tiny):
    _, plan = tiny
    got = trace_worker(plan, chosen_workers(plan)[0])
    kinds = got["kind"].tolist()
    assert kinds == sorted(kinds, key=[SAME_VEHICLE, SAME_HUB].index)
    veh = got[got["kind"] == SAME_VEHICLE]
    keys = list(zip(veh["trip_id"], veh["rows_apart"].fillna(10**6)))
    assert keys == sorted(keys)


def test_hub_contacts_are_at_a_hub_within_the_window(tiny, raw_legs):
    _, plan = tiny
    hubs = set(plan.stops.loc[plan.stops["place_kind"].isin(["hub", "station"]), "place_id"])
    for wid in chosen_workers(plan):
        got = trace_worker(plan, wid)
        hub_rows = got[got["kind"] == SAME_HUB]
        assert set(hub_rows["hub_id"]) <= hubs
        assert (hub_rows["minutes_apart"] <= 60).all()
        # every co-passenger who rode into or out of the same hub at the same time is there too
        mine = raw_legs[raw_legs["worker_id"] == wid]
        at_hub = mine[mine["alight_place_id"].isin(hubs)]
        for r in at_hub.itertuples(index=False):
            same = raw_legs[(raw_legs["trip_id"] == r.trip_id) & (raw_legs["alight_place_id"] == r.alight_place_id)
                            & (raw_legs["worker_id"] != wid)]
            assert set(same["worker_id"]) <= set(hub_rows.loc[hub_rows["hub_id"] == r.alight_place_id, "contact_id"])


# ------------------------------------------------------------------ (2) rows apart
def test_rows_apart_on_a_pair_of_the_plan(tiny, raw_legs):
    _, plan = tiny
    # a hand-checkable pair: two people on one trip whose seat rows differ
    pair = raw_legs.merge(raw_legs, on="trip_id", suffixes=("", "_c"))
    pair = pair[(pair["worker_id"] != pair["worker_id_c"])
                & (pair["board_time"] < pair["alight_time_c"]) & (pair["board_time_c"] < pair["alight_time"])]
    pair = pair.assign(r=pair["seat"].map(_row), rc=pair["seat_c"].map(_row))
    pair = pair[pair["r"] != pair["rc"]].iloc[0]
    got = trace_worker(plan, pair["worker_id"])
    row = got[(got["kind"] == SAME_VEHICLE) & (got["contact_id"] == pair["worker_id_c"])
              & (got["trip_id"] == pair["trip_id"])]
    assert len(row) == 1
    assert row["rows_apart"].iloc[0] == abs(pair["r"] - pair["rc"]) > 0


# ------------------------------------------------------------------ (3) hand-built plan
def _t(hhmm: str) -> pd.Timestamp:
    return pd.Timestamp(f"2020-02-20T{hhmm}:00", tz="Asia/Shanghai")


@pytest.fixture
def hand_plan() -> PlanFiles:
    """One coach C1: H1 (hub) -> V2 -> F1 (A alights) -> V3 (C boards) -> F2.

    A boards at the hub 06:00 and alights at F1 08:00; B boards at V2 07:00 and
    rides to F2; D boards at F1 08:00 (as A alights: no overlap); C boards at V3
    08:30. At the hub: E arrived 05:30 by feeder FE (30 min before A: contact), G
    arrived 04:00 (two hours before: not within 60 min) and H arrived 03:00 and
    waited until 09:00 for coach C2 (a long wait around A's time: contact); K
    arrived 06:45 (45 min after A left: contact) and L 07:30 (too late).
    """
    trips = pd.DataFrame({
        "trip_id": ["C1", "C2", "FE", "FG", "FH", "FK", "FL"],
        "mode": ["coach", "coach", "feeder", "feeder", "feeder", "feeder", "feeder"],
        "vehicle_id": ["BUS1", "BUS2", "MINI1", "MINI1", "MINI2", "MINI3", "MINI3"],
    })
    stops = pd.DataFrame({
        "trip_id": ["C1"] * 5 + ["C2", "C2", "FE", "FE", "FG", "FG", "FH", "FH", "FK", "FK", "FL", "FL"],
        "place_id": ["H1", "V2", "F1", "V3", "F2", "H1", "F3", "V7", "H1", "V8", "H1", "V9", "H1",
                     "V6", "H1", "V6", "H1"],
        "place_kind": ["hub", "village", "factory", "village", "factory", "hub", "factory",
                       "village", "hub", "village", "hub", "village", "hub", "village", "hub", "village", "hub"],
    })
    rows = [
        ("A", 1, "C1", "1A", "H1", "06:00", "F1", "08:00"),
        ("B", 1, "C1", "4C", "V2", "07:00", "F2", "10:00"),
        ("D", 1, "C1", "1A", "F1", "08:00", "F2", "10:00"),
        ("C", 1, "C1", "12C", "V3", "08:30", "F2", "10:00"),
        ("E", 1, "FE", "1A", "V7", "05:00", "H1", "05:30"),
        ("G", 1, "FG", "1A", "V8", "03:30", "H1", "04:00"),
        ("H", 1, "FH", "1A", "V9", "02:30", "H1", "03:00"),
        ("H", 2, "C2", "X", "H1", "09:00", "F3", "11:00"),
        ("K", 1, "FK", "1A", "V6", "06:15", "H1", "06:45"),
        ("L", 1, "FL", "1A", "V6", "07:00", "H1", "07:30"),
    ]
    legs = pd.DataFrame(rows, columns=["worker_id", "leg", "trip_id", "seat", "board_place_id", "board_time",
                                       "alight_place_id", "alight_time"])
    legs["board_time"] = legs["board_time"].map(_t)
    legs["alight_time"] = legs["alight_time"].map(_t)
    workers = pd.DataFrame({"worker_id": list("ABCDEGHKLZ"), "status": ["planned"] * 9 + ["unassigned"]})
    return PlanFiles(trips, stops, legs, workers, {})


def _contacts(frame: pd.DataFrame, kind: str) -> set[str]:
    return set(frame.loc[frame["kind"] == kind, "contact_id"])


def test_non_overlapping_passengers_are_not_contacts(hand_plan):
    assert _contacts(trace_worker(hand_plan, "A"), SAME_VEHICLE) == {"B"}
    assert _contacts(trace_worker(hand_plan, "B"), SAME_VEHICLE) == {"A", "C", "D"}
    assert _contacts(trace_worker(hand_plan, "C"), SAME_VEHICLE) == {"B", "D"}
    # D boards at F1 the minute A alights there: they never sit in the bus together
    assert _contacts(trace_worker(hand_plan, "D"), SAME_VEHICLE) == {"B", "C"}


def test_shared_interval_and_rows_on_hand_plan(hand_plan):
    got = trace_worker(hand_plan, "B").set_index("contact_id")
    a = got.loc["A"]
    assert (a["shared_from_place_id"], a["shared_from_time"]) == ("V2", _t("07:00"))
    assert (a["shared_until_place_id"], a["shared_until_time"]) == ("F1", _t("08:00"))
    assert a["seat"] == "4C" and a["contact_seat"] == "1A" and a["rows_apart"] == 3
    c = got.loc["C"]
    assert (c["shared_from_place_id"], c["shared_until_place_id"]) == ("V3", "F2")
    assert c["rows_apart"] == 8
    assert list(got.reset_index()["contact_id"]) == ["A", "D", "C"]  # by rows apart: 3, 3, 8 (ties by id)
    # H's seat "X" cannot be parsed: rows_apart is empty, not an error
    h = trace_worker(hand_plan, "H")
    assert h[h["kind"] == SAME_VEHICLE].empty


def test_hub_window_on_hand_plan(hand_plan):
    got = trace_worker(hand_plan, "A")
    hub = got[got["kind"] == SAME_HUB].set_index("contact_id")
    assert set(hub.index) == {"E", "H", "K"}
    assert hub.loc["E", "hub_id"] == "H1" and hub.loc["E", "minutes_apart"] == 30
    assert hub.loc["E", "contact_hub_arrive_time"] == _t("05:30")
    assert hub.loc["E", "hub_leave_time"] == _t("06:00")
    assert hub.loc["H", "minutes_apart"] == 0  # H waited at the hub from 03:00 to 09:00
    assert hub.loc["H", "contact_trip_id"] == "C2"
    assert hub.loc["K", "minutes_apart"] == 45
    assert (hub.loc["K", "shared_from_time"], hub.loc["K", "shared_until_time"]) == (_t("06:00"), _t("06:45"))
    wide = trace_worker(hand_plan, "A", hub_window_min=150)
    assert _contacts(wide, SAME_HUB) == {"E", "G", "H", "K", "L"}
    assert _contacts(trace_worker(hand_plan, "A", hub_window_min=0), SAME_HUB) == {"H"}
    # a worker who never passes a hub has no hub contacts
    assert _contacts(trace_worker(hand_plan, "C"), SAME_HUB) == set()


def test_trace_trip_on_hand_plan(hand_plan):
    got = trace_trip(hand_plan, "C2")
    assert list(got.columns) == TRIP_COLUMNS
    assert got["worker_id"].tolist() == ["H"]
    assert got["previous_trip_ids"].iloc[0] == "FH" and got["next_trip_ids"].iloc[0] == ""
    c1 = trace_trip(hand_plan, "C1")
    assert c1["worker_id"].tolist() == ["A", "D", "B", "C"]  # seats 1A, 1A, 4C, 12C
    assert set(c1["mode"]) == {"coach"} and set(c1["vehicle_id"]) == {"BUS1"}


# ------------------------------------------------------------------ trace_trip on the plan
def test_trace_trip_lists_passengers_and_their_other_trips(tiny, raw_legs):
    _, plan = tiny
    trip = raw_legs["trip_id"].value_counts().index[0]
    got = trace_trip(plan, trip)
    on = raw_legs[raw_legs["trip_id"] == trip]
    assert sorted(got["worker_id"]) == sorted(on["worker_id"])
    assert (got["trip_id"] == trip).all()
    for r in got.itertuples(index=False):
        mine = raw_legs[raw_legs["worker_id"] == r.worker_id].assign(leg=lambda d: d["leg"].astype(int))
        mine = mine.sort_values("leg")
        assert r.previous_trip_ids == ";".join(mine.loc[mine["leg"] < r.leg, "trip_id"])
        assert r.next_trip_ids == ";".join(mine.loc[mine["leg"] > r.leg, "trip_id"])
        leg = on[on["worker_id"] == r.worker_id].iloc[0]
        assert (r.seat, r.board_place_id, r.alight_place_id) == (leg["seat"], leg["board_place_id"],
                                                                 leg["alight_place_id"])
    assert any(got["previous_trip_ids"] != "") or any(got["next_trip_ids"] != "")


def test_empty_return_has_no_passengers(tiny):
    _, plan = tiny
    empty = plan.trips.loc[plan.trips["purpose"] == "empty_return", "trip_id"]
    if empty.empty:
        pytest.skip("no empty return in the tiny plan")
    got = trace_trip(plan, empty.iloc[0])
    assert got.empty and list(got.columns) == TRIP_COLUMNS


# ------------------------------------------------------------------ (4) unknown ids
def test_unknown_worker_raises_data_error(tiny):
    _, plan = tiny
    with pytest.raises(DataError, match="W9999999"):
        trace_worker(plan, "W9999999")


def test_unknown_trip_raises_data_error(tiny):
    _, plan = tiny
    with pytest.raises(DataError, match="C-NO-SUCH-TRIP"):
        trace_trip(plan, "C-NO-SUCH-TRIP")


def test_unassigned_worker_has_no_contacts(tiny, hand_plan):
    _, plan = tiny
    unassigned = plan.workers.loc[plan.workers["status"] == "unassigned", "worker_id"]
    unassigned = unassigned[~unassigned.isin(plan.legs["worker_id"]) & (unassigned != "")]
    if len(unassigned):
        got = trace_worker(plan, unassigned.iloc[0])
        assert got.empty and list(got.columns) == TRACE_COLUMNS
    assert trace_worker(hand_plan, "Z").empty


# ------------------------------------------------------------------ (5) CSV
def test_write_trace_csv_round_trips(tiny, tmp_path):
    _, plan = tiny
    frame = trace_worker(plan, chosen_workers(plan)[0])
    path = write_trace_csv(frame, tmp_path / "sub" / "trace.csv")
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    back = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert list(back.columns) == TRACE_COLUMNS
    assert len(back) == len(frame)
    for c in ("worker_id", "kind", "contact_id", "trip_id", "seat", "contact_seat", "shared_from_place_id"):
        assert back[c].tolist() == frame[c].fillna("").astype(str).tolist(), c
    assert back["rows_apart"].tolist() == [("" if pd.isna(x) else str(x)) for x in frame["rows_apart"]]
    times = pd.to_datetime(back["shared_from_time"], format="ISO8601").dt.tz_convert("Asia/Shanghai")
    assert times.tolist() == frame["shared_from_time"].tolist()
    assert set(back["kind"]) <= {SAME_VEHICLE, SAME_HUB}


def test_write_trace_csv_chinese_headers(hand_plan, tmp_path):
    path = write_trace_csv(trace_trip(hand_plan, "C1"), tmp_path / "trip.csv", zh_headers=True)
    back = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert "上车时间" in back.columns and "此前车次" in back.columns
    assert back.iloc[:, 3].tolist() == ["A", "D", "B", "C"]


def test_module_holds_no_personal_data():
    src = (REPO / "planner/documents/trace.py").read_text(encoding="utf-8")
    for pattern in (r"[\"']id_number[\"']", r"[\"']phone[\"']", r"[\"']name[\"']", r"\.people\b",
                    r"load_doc_data", r"load_and_validate"):
        assert not re.search(pattern, src), pattern
