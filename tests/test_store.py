"""The store: schema migrations, publishing, boarding records, hand-overs, locks for replanning (SQLite and PostgreSQL)."""

from __future__ import annotations

import multiprocessing as mp
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from planner.plan_format import read_plan
from planner.store.boarding import (BoardingInput, PlanSeats, boarding_history, current_boarding, parse_temperature,
                                    record_boarding)
from planner.store.db import StoreError, open_store
from planner.store.handover import arrival_counts, latest_handovers, record_handover
from planner.store.locks import locked_plan
from planner.store.publish import publish, published_trip_ids
from planner.store.schema import SCHEMA_VERSION, boarding_records, handovers
from tests.store_fixtures import edited_plan, pg_cluster, store_url, take_off  # noqa: F401 - fixtures

FEVER = 37.3


@pytest.fixture(scope="module")
def plan(tiny_plan_dir):
    return read_plan(tiny_plan_dir)


def _seats(store, plan) -> PlanSeats:
    return PlanSeats.load(store, plan.plan_id, plan.trips["trip_id"].astype(str))


def _first_feeder(plan) -> tuple[str, list[str]]:
    """The earliest feeder trip and its passengers (the tiny plan's 18 Feb feeder)."""
    t = plan.trips[plan.trips["mode"] == "feeder"].sort_values("depart").iloc[0]
    on = plan.legs[plan.legs["trip_id"] == t["trip_id"]]["worker_id"].astype(str).tolist()
    return str(t["trip_id"]), sorted(on)


# ------------------------------------------------------------------ schema
def test_an_old_schema_is_upgraded_and_keeps_its_rows(tmp_path, plan):
    """A version-1 store (no hand-overs, no legs index) opened by this planner is migrated; its records stay."""
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    old = open_store(url, upgrade_to=1)
    assert old.schema_version() == 1
    publish(old, plan, date(2020, 2, 18), by="t")
    trip, people = _first_feeder(plan)
    record_boarding(old, _seats(old, plan), [BoardingInput(trip, people[0], "boarded", 36.6)], by="甲",
                    fever_threshold_c=FEVER, source="cli")
    with old.read() as conn:
        assert not conn.dialect.has_table(conn, "handovers")
    old.dispose()
    new = open_store(url)
    assert new.schema_version() == SCHEMA_VERSION == 3
    got = current_boarding(new)
    assert list(got["worker_id"]) == [people[0]] and list(got["status"]) == ["boarded"]
    count = arrival_counts(new, plan.legs, [trip])[trip]
    record_handover(new, plan.plan_id, trip, count, received=count.expected, by="乙", organisation="接收单位", source="t")
    assert latest_handovers(new)[trip].received == count.expected


def test_a_newer_schema_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 's.sqlite'}"
    s = open_store(url)
    s.write(lambda c: c.exec_driver_sql("UPDATE store_meta SET value = '99' WHERE key = 'schema_version'"))
    with pytest.raises(StoreError, match="高于本程序支持"):
        open_store(url)


def test_sqlite_store_is_in_wal_mode(tmp_path):
    s = open_store(str(tmp_path / "w.sqlite"))
    with s.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_a_file_that_is_not_a_database_is_a_message(tmp_path):
    bad = tmp_path / "x.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="无法打开数据库"):
        open_store(str(bad))


# ------------------------------------------------------------------ publish
def test_publish_extends_and_is_idempotent(store_url, plan):
    s = open_store(store_url)
    first = publish(s, plan, date(2020, 2, 18), by="t")
    days = plan.trips["depart"].dt.tz_convert("Asia/Shanghai").dt.date
    want18 = set(plan.trips.loc[days <= date(2020, 2, 18), "trip_id"].astype(str))
    assert first.trips_added == len(want18) and published_trip_ids(s, plan.plan_id) == want18
    again = publish(s, plan, date(2020, 2, 18), by="t")
    assert again.trips_added == 0 and again.trips_total == len(want18)
    later = publish(s, plan, date(2020, 2, 20), by="t")
    want20 = set(plan.trips.loc[days <= date(2020, 2, 20), "trip_id"].astype(str))
    assert published_trip_ids(s, plan.plan_id) == want20 and later.trips_added == len(want20 - want18)


def test_a_plan_changing_a_published_trip_is_refused_and_nothing_written(store_url, plan, tiny_plan_dir, tmp_path):
    s = open_store(store_url)
    publish(s, plan, date(2020, 2, 18), by="t")
    trip, _ = _first_feeder(plan)

    def later_departure(t):
        tr = t["trips"]
        tr.loc[tr["trip_id"] == trip, "depart"] = "2020-02-18T05:45:00+08:00"

    other = read_plan(edited_plan(tiny_plan_dir, tmp_path / "other", later_departure))
    assert other.plan_id != plan.plan_id
    with pytest.raises(StoreError, match=f"被改动.*{trip}"):
        publish(s, other, date(2020, 2, 20), by="t")
    assert published_trip_ids(s, other.plan_id) == set()


def test_a_plan_dropping_a_published_trip_or_moving_a_seat_is_refused(store_url, plan, tiny_plan_dir, tmp_path):
    s = open_store(store_url)
    publish(s, plan, date(2020, 2, 18), by="t")
    trip, people = _first_feeder(plan)

    def swap_seats(t):
        legs = t["legs"]
        a = (legs["trip_id"] == trip) & (legs["worker_id"] == people[0])
        b = (legs["trip_id"] == trip) & (legs["worker_id"] == people[1])
        sa, sb = legs.loc[a, "seat"].iloc[0], legs.loc[b, "seat"].iloc[0]
        legs.loc[a, "seat"], legs.loc[b, "seat"] = sb, sa

    swapped = read_plan(edited_plan(tiny_plan_dir, tmp_path / "swapped", swap_seats))
    with pytest.raises(StoreError, match="新增或换座"):
        publish(s, swapped, date(2020, 2, 18), by="t")

    def drop_trip(t):
        for n in ("trips", "stops", "legs"):
            t[n] = t[n][t[n]["trip_id"] != trip]

    dropped = read_plan(edited_plan(tiny_plan_dir, tmp_path / "dropped", drop_trip))
    with pytest.raises(StoreError, match=f"缺失.*{trip}"):
        publish(s, dropped, date(2020, 2, 18), by="t")


def test_a_replanned_plan_keeping_the_trips_minus_people_taken_off_is_accepted(store_url, plan, tiny_plan_dir,
                                                                              tmp_path):
    """What a replan will write (locked trips byte-identical apart from the people taken off) publishes on top."""
    s = open_store(store_url)
    publish(s, plan, date(2020, 2, 18), by="t")
    trip, people = _first_feeder(plan)
    replanned = read_plan(edited_plan(tiny_plan_dir, tmp_path / "new", lambda t: take_off(t, people[0])))
    res = publish(s, replanned, date(2020, 2, 20), by="t")
    assert res.trips_carried == len(published_trip_ids(s, plan.plan_id)) and res.people_missing >= 1
    assert published_trip_ids(s, plan.plan_id) <= published_trip_ids(s, replanned.plan_id)
    seats = _seats(s, replanned)
    assert people[0] not in seats.published[trip] and people[1] in seats.published[trip]


# ------------------------------------------------------------------ boarding
@pytest.fixture
def published(store_url, plan):
    s = open_store(store_url)
    publish(s, plan, date(2020, 2, 18), by="t")
    return s


def test_bad_records_are_named_and_not_applied_the_good_ones_are(published, plan):
    s = published
    trip, people = _first_feeder(plan)
    later = plan.trips.sort_values("depart").iloc[-1]["trip_id"]
    not_on = sorted(set(plan.legs["worker_id"]) - set(people))[0]
    recs = [
        BoardingInput(trip, people[0], "boarded", "36.6", "行1"),
        BoardingInput("NO-SUCH-TRIP", people[0], "boarded", "36.6", "行2"),
        BoardingInput(later, people[0], "boarded", "36.6", "行3"),
        BoardingInput(trip, not_on, "boarded", "36.6", "行4"),
        BoardingInput(trip, people[1], "boarded", "abc", "行5"),
        BoardingInput(trip, people[1], "boarded", "45", "行6"),
        BoardingInput(trip, people[1], "asleep", None, "行7"),
        BoardingInput(trip, people[2], "boarded", "37.3", "行8"),
    ]
    res = record_boarding(s, _seats(s, plan), recs, by="甲", fever_threshold_c=FEVER, source="cli")
    msgs = {p.where: p.message for p in res.problems}
    assert set(msgs) == {"行2", "行3", "行4", "行5", "行6", "行7"}
    assert "不在计划" in msgs["行2"] and "尚未发布" in msgs["行3"] and "不在车次" in msgs["行4"]
    assert "不是数字" in msgs["行5"] and "34–43" in msgs["行6"] and "状态" in msgs["行7"]
    got = current_boarding(s).set_index("worker_id")
    assert set(got.index) == {people[0], people[2]}
    assert got.at[people[2], "status"] == "fever"  # at the threshold: taken off whatever was ticked
    assert got.at[people[0], "status"] == "boarded"


def test_temperature_parsing():
    assert parse_temperature("36.5℃") == (36.5, "")
    assert parse_temperature(None) == (None, "")
    assert parse_temperature("") == (None, "")
    assert parse_temperature(float("nan"))[0] is None
    assert parse_temperature("inf")[1] and parse_temperature("33.9")[1] and parse_temperature(True)[1]


def test_a_second_record_is_kept_and_the_later_stands(published, plan):
    s = published
    trip, people = _first_feeder(plan)
    seats = _seats(s, plan)
    record_boarding(s, seats, [BoardingInput(trip, people[0], "absent")], by="甲", fever_threshold_c=FEVER, source="app")
    record_boarding(s, seats, [BoardingInput(trip, people[0], "boarded", 36.4)], by="乙", fever_threshold_c=FEVER,
                    source="app")
    hist = boarding_history(s, trip, people[0])
    assert list(hist["status"]) == ["absent", "boarded"] and list(hist["recorded_by"]) == ["甲", "乙"]
    cur = current_boarding(s, [trip])
    row = cur[cur["worker_id"] == people[0]].iloc[0]
    assert row["status"] == "boarded" and row["recorded_by"] == "乙" and row["records"] == 2


def _record_many(url: str, plan_dir: str, worker: str, by: str, n: int) -> None:
    store = open_store(url)
    plan = read_plan(Path(plan_dir))
    seats = PlanSeats.load(store, plan.plan_id, plan.trips["trip_id"].astype(str))
    trip, _ = _first_feeder(plan)
    for i in range(n):
        res = record_boarding(store, seats, [BoardingInput(trip, worker, "boarded", 36.0 + (i % 10) / 10)], by=by,
                              fever_threshold_c=FEVER, source="app")
        assert not res.problems


def test_two_processes_recording_at_once_lose_nothing(published, plan, tiny_plan_dir, store_url):
    trip, people = _first_feeder(plan)
    n = 60
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_record_many, args=(store_url, str(tiny_plan_dir), people[i], f"乡镇{i}", n))
             for i in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0, 0]
    with published.read() as conn:
        total = conn.execute(select(func.count()).select_from(boarding_records)).scalar()
        by = dict(conn.execute(select(boarding_records.c.recorded_by, func.count())
                               .group_by(boarding_records.c.recorded_by)).all())
    assert total == 2 * n and by == {"乡镇0": n, "乡镇1": n}


# ------------------------------------------------------------------ hand-over
def test_handover_counts_and_signature(published, plan):
    s = published
    trip, people = _first_feeder(plan)
    before = arrival_counts(s, plan.legs, [trip])[trip]
    assert before.expected == len(people) and before.boarded is None and "______" in before.label()
    seats = _seats(s, plan)
    recs = [BoardingInput(trip, w, "boarded", 36.5) for w in people[1:]] + [BoardingInput(trip, people[0], "absent")]
    record_boarding(s, seats, recs, by="甲", fever_threshold_c=FEVER, source="app")
    after = arrival_counts(s, plan.legs, [trip])[trip]
    assert after.boarded == len(people) - 1 and after.unrecorded == 0
    assert f"实到 {len(people) - 1} 人" in after.label()
    with pytest.raises(StoreError, match="不是整数"):
        record_handover(s, plan.plan_id, trip, after, received="五", by="乙", organisation="厂", source="t")
    with pytest.raises(StoreError, match="不在 0"):
        record_handover(s, plan.plan_id, trip, after, received=len(people) + 1, by="乙", organisation="厂", source="t")
    with pytest.raises(StoreError, match="签收人"):
        record_handover(s, plan.plan_id, trip, after, received=1, by=" ", organisation="厂", source="t")
    h = record_handover(s, plan.plan_id, trip, after, received=len(people) - 1, by="乙", organisation="东莞某厂",
                        source="t")
    assert h.boarded == len(people) - 1 and latest_handovers(s)[trip].organisation == "东莞某厂"
    unpublished = plan.trips.sort_values("depart").iloc[-1]["trip_id"]
    with pytest.raises(StoreError, match="未在计划"):
        record_handover(s, plan.plan_id, unpublished, after, received=0, by="乙", organisation="厂", source="t")
    with s.read() as conn:
        assert conn.execute(select(func.count()).select_from(handovers)).scalar() == 1


# ------------------------------------------------------------------ what replanning consumes
def test_locked_plan_takes_off_absent_and_fever_from_that_leg_on(published, plan):
    s = published
    publish(s, plan, date(2020, 2, 20), by="t")
    trip, people = _first_feeder(plan)
    seats = _seats(s, plan)
    record_boarding(s, seats, [BoardingInput(trip, people[0], "absent"), BoardingInput(trip, people[1], "boarded", 38.0),
                               BoardingInput(trip, people[2], "boarded", 36.2)],
                    by="甲", fever_threshold_c=FEVER, source="app")
    lp = locked_plan(s, plan.plan_id)
    assert lp.trip_ids() == published_trip_ids(s, plan.plan_id)
    off = {(t.worker_id, t.trip_id): t for t in lp.taken_off}
    # every published leg of the two people is gone, with the reason of the first
    for w, reason in ((people[0], "absent_at_boarding"), (people[1], "fever_at_boarding")):
        legs = plan.legs[(plan.legs["worker_id"] == w) & plan.legs["trip_id"].isin(lp.trip_ids())]
        assert {(w, t) for t in legs["trip_id"]} <= set(off)
        assert {off[(w, t)].reason for t in legs["trip_id"]} == {reason}
    assert off[(people[1], trip)].temperature_c == 38.0 and off[(people[1], trip)].status == "fever"
    kept = {sv.worker_id for t in lp.trips for sv in t.seats}
    assert people[0] not in kept and people[1] not in kept and people[2] in kept
    # the seats of everyone left are the plan's
    for t in lp.trips:
        for sv in t.seats:
            row = plan.legs[(plan.legs["worker_id"] == sv.worker_id) & (plan.legs["trip_id"] == t.trip_id)].iloc[0]
            assert row["seat"] == sv.seat
    early = locked_plan(s, plan.plan_id, date(2020, 2, 18))
    assert all(t.depart[:10] <= "2020-02-18" for t in early.trips) and len(early.trips) < len(lp.trips)
    cancelled = locked_plan(s, plan.plan_id, cancelled=[people[2]])
    assert any(t.worker_id == people[2] and t.reason == "cancelled" for t in cancelled.taken_off)


# ------------------------------------------------------------------ the frozen text of a trip
def test_frozen_hash_ignores_people_counts_and_sees_everything_else(tiny_plan_dir, tmp_path, plan):
    from planner.store.frozen import frozen_hashes

    base = frozen_hashes(plan)
    trip, people = _first_feeder(plan)
    fewer = read_plan(edited_plan(tiny_plan_dir, tmp_path / "fewer", lambda t: take_off(t, people[0])))
    assert frozen_hashes(fewer) == base  # people taken off: the trip is the same trip

    def new_stop_time(t):
        st = t["stops"]
        i = st.index[(st["trip_id"] == trip) & (st["arrive"] != "")][0]
        st.loc[i, "arrive"] = st.loc[i, "arrive"].replace(":00+08:00", ":30+08:00")

    moved = frozen_hashes(read_plan(edited_plan(tiny_plan_dir, tmp_path / "moved", new_stop_time)))
    assert moved[trip] != base[trip] and {k for k in base if moved[k] != base[k]} == {trip}


def test_arrival_count_from_earlier_legs_is_a_number_only_when_everyone_is_recorded(published, plan):
    """A coach fed by a ticked feeder: 实到 is printed only once every passenger has a record."""
    s = published
    trip, people = _first_feeder(plan)
    coach_legs = plan.legs[plan.legs["worker_id"].isin(people) & (plan.legs["leg"] == 2)]
    coach = coach_legs["trip_id"].value_counts().index[0]
    on_coach = sorted(set(plan.legs.loc[plan.legs["trip_id"] == coach, "worker_id"].astype(str)))
    from_feeder = [w for w in on_coach if w in people]
    seats = _seats(s, plan)
    record_boarding(s, seats, [BoardingInput(trip, from_feeder[0], "absent")], by="甲", fever_threshold_c=FEVER,
                    source="app")
    part = arrival_counts(s, plan.legs, [coach])[coach]
    assert part.basis == "earlier_legs" and part.off == 1 and not part.complete and "______" in part.label()
    assert f"未上车 1 人，{len(on_coach) - 1} 人未登记" in part.label()
    if set(on_coach) <= set(people):  # everyone on the coach came by that feeder
        record_boarding(s, seats, [BoardingInput(trip, w, "boarded", 36.5) for w in from_feeder[1:]], by="甲",
                        fever_threshold_c=FEVER, source="app")
        full = arrival_counts(s, plan.legs, [coach])[coach]
        assert full.complete and f"实到 {len(on_coach) - 1} 人（据前段上车登记）" in full.label()
