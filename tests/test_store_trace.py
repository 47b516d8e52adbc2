"""Trace from the store's legs index: the same contacts as from the whole plan, and recorded boarding applied."""

from __future__ import annotations

from datetime import date

import pytest

from planner.cli import main
from planner.documents.trace import RECORDED, SAME_VEHICLE, TraceSource, trace_trip_from, trace_worker, \
    trace_worker_from
from planner.plan_format import read_plan
from planner.store.boarding import BoardingInput, PlanSeats, current_boarding, record_boarding
from planner.store.db import open_store
from planner.store.legs_index import ensure_index, trace_source
from planner.store.publish import publish


@pytest.fixture(scope="module")
def plan(tiny_plan_dir):
    return read_plan(tiny_plan_dir)


@pytest.fixture
def store(tmp_path, tiny_plan_dir):
    s = open_store(str(tmp_path / "s.sqlite"))
    ensure_index(s, tiny_plan_dir)
    return s


def _key(frame):
    return sorted(zip(frame["kind"], frame["contact_id"], frame["trip_id"], frame["contact_trip_id"].astype(str),
                      frame["minutes_apart"].astype(str)))


def test_indexed_trace_equals_the_whole_plan_trace_for_every_worker(plan, store):
    for wid in sorted(set(plan.legs["worker_id"].astype(str))):
        want = trace_worker(plan, wid)
        got = trace_worker_from(trace_source(store, plan.plan_id, worker_id=wid), wid)
        assert _key(got) == _key(want), wid
        assert set(got["basis"]) <= {"planned"}


def test_indexed_trip_trace_equals_the_whole_plan(plan, store):
    from planner.documents.trace import trace_trip

    for tid in sorted(set(plan.legs["trip_id"].astype(str))):
        want = trace_trip(plan, tid)
        got = trace_trip_from(trace_source(store, plan.plan_id, trip_id=tid), tid)
        assert list(got["worker_id"]) == list(want["worker_id"])
        assert list(got["next_trip_ids"]) == list(want["next_trip_ids"])


def test_recorded_boarding_replaces_the_plan_where_it_exists(plan, store):
    publish(store, plan, date(2020, 2, 29), by="t")
    feeder = plan.trips[plan.trips["mode"] == "feeder"].sort_values("depart").iloc[0]["trip_id"]
    on = sorted(plan.legs.loc[plan.legs["trip_id"] == feeder, "worker_id"].astype(str))
    traced, fever, boarded = on[0], on[1], on[2]
    seats = PlanSeats.load(store, plan.plan_id, plan.trips["trip_id"].astype(str))
    record_boarding(store, seats, [BoardingInput(feeder, fever, "boarded", 38.2),
                                   BoardingInput(feeder, boarded, "boarded", 36.4)],
                    by="甲", fever_threshold_c=37.3, source="app")
    assert set(current_boarding(store)["status"]) == {"fever", "boarded"}
    got = trace_worker_from(trace_source(store, plan.plan_id, worker_id=traced), traced)
    assert fever not in set(got["contact_id"])  # taken off at the feeder: on neither the feeder nor the coach
    later = plan.legs[(plan.legs["worker_id"] == fever) & (plan.legs["leg"] > 1)]["trip_id"]
    assert not any((got["contact_id"] == fever) & got["trip_id"].isin(later))
    row = got[(got["contact_id"] == boarded) & (got["trip_id"] == feeder) & (got["kind"] == SAME_VEHICLE)]
    assert list(row["basis"]) == [RECORDED]
    others = got[(got["contact_id"] != boarded) | (got["trip_id"] != feeder)]
    assert set(others["basis"]) == {"planned"}
    # the same from the whole plan with the records applied
    whole = trace_worker_from(TraceSource.from_plan(plan, current_boarding(store)), traced)
    assert _key(whole) == _key(got)


def test_cli_trace_says_the_basis_and_refuses_an_unknown_worker(tiny_plan_dir, tmp_path, capsys):
    db = str(tmp_path / "c.sqlite")
    wid = "W0000001"
    assert main(["trace", str(tiny_plan_dir), "--worker", wid, "--db", db]) == 0
    out = capsys.readouterr().out
    assert "依据 (basis)" in out and "同车" in out
    assert main(["trace", str(tiny_plan_dir), "--worker", "NOPE", "--db", db]) == 2
    assert "计划中没有务工人员 NOPE" in capsys.readouterr().err
    assert main(["trace", str(tiny_plan_dir), "--worker", wid, "--no-store"]) == 0
