"""Repair mode of ``planner replan`` (the default) on the tiny scenario.

Day 1 is planned and published through 2020-02-18; one person is recorded absent on a locked trip;
today's data cancel one person on a later (unlocked) trip, register three new people and remove the
county's only C45 coach, which has a later trip. Invariants: the plan checks clean; everybody no change
touches keeps every leg row byte for byte; the cancelled person's seat is freed on a trip that is kept
(one passenger fewer); the new registrations are planned; the removed coach's later trip is gone and its
people ride other vehicles; no vehicle's trips overlap; ``changes.csv`` lists exactly the people whose
legs differ; a county without changes is not planned. ``--mode fresh`` still plans everything after the
lock again.
"""

from __future__ import annotations

import csv
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from planner.cli import main
from planner.plan_format import read_plan
from planner.solve.busy import Busy
from planner.store.boarding import BoardingInput, PlanSeats, record_boarding
from planner.store.cli_support import store_for
from tests.conftest import TINY_SCENARIO
from tests.test_replan_loop import _journeys, _raw
from tests.solver_fixtures import id_number

LOCK = "2020-02-18"
REMOVED_TYPE = "C45"


def _leg_lines(plan: Path) -> dict[str, set[str]]:
    """worker_id -> their lines of legs.csv, as on disk."""
    out: dict[str, set[str]] = {}
    with open(plan / "legs.csv", encoding="utf-8") as f:
        next(f)
        for line in f:
            out.setdefault(line.split(",", 1)[0], set()).add(line)
    return out


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    root = tmp_path_factory.mktemp("repair")
    sc_dir = root / "scenario"
    shutil.copytree(TINY_SCENARIO.parent, sc_dir)
    scenario = sc_dir / "scenario.toml"
    day1 = root / "ops" / "day1"
    assert main(["plan", str(scenario), "--out", str(day1), "--no-check"]) == 0
    assert main(["publish", str(day1), "--through", LOCK]) == 0
    trips, legs = _raw(day1, "trips"), _raw(day1, "legs")
    published = set(trips.loc[trips["depart"].str[:10] <= LOCK, "trip_id"])
    # the removed coach: the C45 with a trip after the lock (and one before it, locked)
    c45 = trips[(trips["vehicle_type"] == REMOVED_TYPE) & (trips["purpose"] == "passenger")]
    later_c45 = c45[~c45["trip_id"].isin(published)]
    assert len(later_c45) and len(c45[c45["trip_id"].isin(published)]), "the tiny plan changed: pick another coach"
    on_removed = set(legs.loc[legs["trip_id"].isin(set(later_c45["trip_id"])), "worker_id"])
    # one no-show on a locked trip (recorded in the store)
    plan = read_plan(day1)
    store = store_for(None, day1)
    on_pub = legs[legs["trip_id"].isin(published)].sort_values(["worker_id", "leg"])
    absent = on_pub.iloc[0]
    seats = PlanSeats.load(store, plan.plan_id, plan.trips["trip_id"].astype(str))
    res = record_boarding(store, seats, [BoardingInput(absent["trip_id"], absent["worker_id"], "absent")],
                          by="test", fever_threshold_c=37.3, source="cli")
    assert not res.problems
    # one cancellation on a later trip that keeps other people (not the removed coach's)
    per_trip = legs.groupby("trip_id")["worker_id"].nunique()
    later = legs[~legs["trip_id"].isin(published) & ~legs["worker_id"].isin(on_removed)
                 & legs["trip_id"].map(per_trip).gt(1)]
    later = later[~later["worker_id"].isin(set(on_pub["worker_id"]))].sort_values(["worker_id", "leg"])
    cancelled = later.iloc[0]
    rows = list(csv.reader(open(sc_dir / "workers.csv", encoding="utf-8")))
    hdr, body = rows[0], rows[1:]
    body = [r for r in body if r[0] != cancelled["worker_id"]]
    ok = set(legs["worker_id"])  # copies of people the base plan could move
    singles = [r for r in body if not r[hdr.index("group_id")] and r[0] in ok]
    new_ids = []
    for k in range(3):
        r = list(singles[k])
        r[0] = f"W08{k:05d}"
        r[2] = id_number("500101", 800 + k)
        r[3] = f"1880000{k:04d}"
        r[hdr.index("ready_date")] = r[hdr.index("proof_date")] = "2020-02-19"
        new_ids.append(r[0])
        body.append(r)
    with open(sc_dir / "workers.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([hdr, *body])
    fleet = pd.read_csv(sc_dir / "fleet.csv", dtype=str)
    fleet.loc[(fleet["county_code"] == "500101") & (fleet["type_id"] == REMOVED_TYPE), "count"] = "0"
    fleet.to_csv(sc_dir / "fleet.csv", index=False)
    day2 = root / "ops" / "day2"
    assert main(["replan", str(scenario), "--base", str(day1), "--out", str(day2)]) == 0
    return {"root": root, "scenario": scenario, "day1": day1, "day2": day2, "published": published,
            "absent": str(absent["worker_id"]), "cancelled": cancelled, "new": new_ids,
            "removed_trips": set(later_c45["trip_id"]), "on_removed": on_removed}


def test_repair_checks_clean_and_says_what_it_did(case, capsys):
    capsys.readouterr()
    assert main(["check", str(case["day2"]), "--scenario", str(case["scenario"])]) == 0
    block = json.loads((case["day2"] / "summary.json").read_text(encoding="utf-8"))["replan"]
    assert block["mode"] == "repair"
    rp = block["repair"]
    assert case["removed_trips"] <= set(rp["dropped_trips"])
    assert {rp["dropped_trips"][t] for t in case["removed_trips"]} == {"vehicle_removed"}
    # its people are re-pooled, unless another coach of the county takes the trip over as it was
    carried = set(_raw(case["day1"], "legs").query("trip_id in @rv", local_dict={"rv": list(rp["revehicled"])})
                  ["worker_id"])
    assert set(rp["repooled"]) | carried >= case["on_removed"]
    assert rp["counties_planned"] == ["500101"]


def test_untouched_people_keep_trip_and_seat_exactly(case):
    old, new = _leg_lines(case["day1"]), _leg_lines(case["day2"])
    touched = {case["absent"], str(case["cancelled"]["worker_id"])} | case["on_removed"]
    untouched = set(old) - touched
    assert untouched
    for w in untouched:
        assert new.get(w) == old[w], w
    # the kept trips are the base plan's rows apart from the people counts and group leader
    t1, t2 = _raw(case["day1"], "trips").set_index("trip_id"), _raw(case["day2"], "trips").set_index("trip_id")
    kept = set(t1.index) - case["removed_trips"] - set(json.loads(
        (case["day2"] / "summary.json").read_text(encoding="utf-8"))["replan"]["repair"]["dropped_trips"])
    cols = [c for c in t1.columns if c not in ("passengers", "leader_worker_id")]
    pd.testing.assert_frame_equal(t1.loc[sorted(kept), cols], t2.loc[sorted(kept), cols])
    # a county without changes: its trips are copied, nothing new
    other = t1[t1["home_county_code"] == "500154"]
    assert set(t2[t2["home_county_code"] == "500154"].index) == set(other.index)


def test_a_cancelled_persons_seat_is_freed_on_a_kept_trip(case):
    c = case["cancelled"]
    legs2 = _raw(case["day2"], "legs")
    assert c["worker_id"] not in set(legs2["worker_id"])
    t1, t2 = _raw(case["day1"], "trips").set_index("trip_id"), _raw(case["day2"], "trips").set_index("trip_id")
    assert c["trip_id"] in t2.index  # the trip is kept
    filled = set(json.loads((case["day2"] / "summary.json").read_text(encoding="utf-8"))["replan"]["repair"]
                 ["filled_seats"])
    on = legs2[legs2["trip_id"] == c["trip_id"]]
    put_in = set(on["worker_id"]) & filled  # the seat freed may go to somebody of the pool
    assert int(t2.at[c["trip_id"], "passengers"]) == int(t1.at[c["trip_id"], "passengers"]) - 1 + len(put_in)
    holder = set(on.loc[on["seat"] == c["seat"], "worker_id"])
    assert holder <= put_in
    assert int(t2.at[c["trip_id"], "passengers"]) == len(on)
    st = _raw(case["day2"], "stops")
    st = st[st["trip_id"] == c["trip_id"]]
    assert st["boarding"].astype(int).sum() == len(on) == st["alighting"].astype(int).sum()
    ch = _raw(case["day2"], "changes").set_index("worker_id")
    assert ch.at[c["worker_id"], "change"] == "removed" and ch.at[c["worker_id"], "reason"] == "cancelled"


def test_new_registrations_are_planned(case):
    w2 = _raw(case["day2"], "workers").set_index("worker_id")
    ch = _raw(case["day2"], "changes").set_index("worker_id")
    for w in case["new"]:
        assert w2.at[w, "status"] == "planned", (w, w2.at[w, "reason"])
        assert ch.at[w, "change"] == "added" and ch.at[w, "reason"] == "new_registration"
    legs2 = _raw(case["day2"], "legs")
    new_trips = set(legs2.loc[legs2["worker_id"].isin(case["new"]), "trip_id"])
    assert new_trips.isdisjoint(case["published"])
    filled = set(json.loads((case["day2"] / "summary.json").read_text(encoding="utf-8"))["replan"]["repair"]
                 ["filled_seats"])
    kept = set(json.loads((case["day2"] / "summary.json").read_text(encoding="utf-8"))["replan"]["repair"]
               ["kept_trips"])
    # into free seats of kept trips, or on new trips (numbered after the base plan's, or a dropped run's id)
    for w in case["new"]:
        mine = set(legs2.loc[legs2["worker_id"] == w, "trip_id"])
        assert mine <= kept if w in filled else not (mine & kept), w


def test_the_removed_coachs_trip_is_replanned_and_no_vehicle_overlaps(case):
    t2 = _raw(case["day2"], "trips")
    assert case["removed_trips"].isdisjoint(set(t2["trip_id"]))
    removed_vehicles = set(_raw(case["day1"], "trips").set_index("trip_id").loc[sorted(case["removed_trips"]),
                                                                                "vehicle_id"])
    assert set(t2.loc[t2["vehicle_id"].isin(removed_vehicles), "trip_id"]) <= case["published"] | {
        t for t in t2["trip_id"] if t.startswith("E")}
    w2 = _raw(case["day2"], "workers").set_index("worker_id")
    ch = _raw(case["day2"], "changes").set_index("worker_id")
    legs2 = _raw(case["day2"], "legs")
    for w in case["on_removed"]:
        assert w2.at[w, "status"] == "planned", (w, w2.at[w, "reason"])
        assert ch.at[w, "change"] == "moved" and ch.at[w, "reason"] == "vehicle_removed"
        assert set(legs2.loc[legs2["worker_id"] == w, "trip_id"]).isdisjoint(case["removed_trips"])
    v = t2[t2["vehicle_id"] != ""].assign(depart=lambda d: pd.to_datetime(d["depart"]),
                                         arrive=lambda d: pd.to_datetime(d["arrive"]))
    for vid, g in v.groupby("vehicle_id"):
        g = g.sort_values("depart")
        assert (g["depart"].iloc[1:].to_numpy() >= g["arrive"].iloc[:-1].to_numpy()).all(), vid


def test_changes_lists_exactly_the_people_whose_plan_changed(case):
    a, b = _journeys(case["day1"]), _journeys(case["day2"])
    changed = {w for w in set(a) | set(b) if a.get(w) != b.get(w)}
    ch = _raw(case["day2"], "changes")
    assert set(ch["worker_id"]) == changed and len(ch) == len(changed)
    expected = {case["absent"], str(case["cancelled"]["worker_id"]), *case["on_removed"], *case["new"]}
    assert changed == expected


def test_fresh_mode_plans_everything_after_the_lock_again(case):
    out = case["root"] / "ops" / "day2-fresh"
    assert main(["replan", str(case["scenario"]), "--base", str(case["day1"]), "--out", str(out),
                 "--mode", "fresh"]) == 0
    block = json.loads((out / "summary.json").read_text(encoding="utf-8"))["replan"]
    assert block["mode"] == "fresh" and "repair" not in block
    t1 = _raw(case["day1"], "trips")
    t2 = _raw(out, "trips")
    later = set(t1.loc[~t1["trip_id"].isin(block["locked_trips"]), "trip_id"])
    fresh = t2[~t2["trip_id"].isin(block["locked_trips"])]
    assert (fresh["depart"].str[:10] > LOCK).all()
    assert later - case["removed_trips"]  # trips the repair kept are planned again (ids reused only for the same run)


def test_busy_intervals():
    t0 = datetime(2020, 2, 20, 8)
    b = Busy(((t0, t0 + timedelta(days=2)), (t0 + timedelta(days=5), t0 + timedelta(days=7))), timedelta(days=2))
    assert b.fits(t0 - timedelta(days=1), t0)  # ends as the kept trip leaves
    assert not b.fits(t0 - timedelta(hours=1), t0 + timedelta(hours=1))
    assert b.fits(t0 + timedelta(days=2), t0 + timedelta(days=5))  # the gap between them
    assert not b.fits(t0 + timedelta(days=2), t0 + timedelta(days=5, minutes=1))
    assert not b.fits(t0 + timedelta(days=1), t0 + timedelta(days=1, hours=1))
    # a trip leaving by day 3 may run until day 5: the first kept trip must be over, the second not yet started
    assert b.free_from(t0 - timedelta(days=3), t0 + timedelta(days=3)) == t0 + timedelta(days=2)
    # leaving by day 4, it may reach day 6: after the second one
    assert b.free_from(t0 - timedelta(days=3), t0 + timedelta(days=4)) == t0 + timedelta(days=7)
    assert b.free_from(t0 - timedelta(days=5), t0 - timedelta(days=3)) == t0 - timedelta(days=5)


def test_data_changes_repool_exactly_the_people_concerned(case, tmp_path, capsys):
    """A kept person's proof now issued after their trip: off it; a base-unassigned job now confirmed: planned."""
    sc_dir = tmp_path / "sc"
    shutil.copytree(case["scenario"].parent, sc_dir)
    w1 = _raw(case["day1"], "workers").drop_duplicates("worker_id").set_index("worker_id")
    legs1 = _raw(case["day1"], "legs")
    rows = list(csv.reader(open(sc_dir / "workers.csv", encoding="utf-8")))
    hdr, body = rows[0], rows[1:]
    kept_later = sorted(set(legs1.loc[~legs1["trip_id"].isin(case["published"]) & ~legs1["trip_id"].isin(
        case["removed_trips"]), "worker_id"]) - {str(case["cancelled"]["worker_id"])} - set(
        legs1.loc[legs1["trip_id"].isin(case["published"]), "worker_id"]))
    single = {r[0] for r in body if not r[hdr.index("group_id")]}
    lapsed = next(x for x in kept_later if x in single)
    job = next(x for x in sorted(w1.index[w1["reason"] == "job_not_confirmed"]) if x in single)
    for r in body:
        if r[0] == lapsed:  # the proof is issued after their trip: not valid on its day any more
            r[hdr.index("proof_date")] = r[hdr.index("ready_date")] = "2020-03-10"
        if r[0] == job:
            r[hdr.index("job_confirmed")] = "true"
    with open(sc_dir / "workers.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([hdr, *body])
    out = tmp_path / "day2"
    assert main(["replan", str(sc_dir / "scenario.toml"), "--base", str(case["day1"]), "--out", str(out),
                 "--db", str(case["day1"].parent / "planner-store.sqlite")]) == 0
    capsys.readouterr()
    assert main(["check", str(out), "--scenario", str(sc_dir / "scenario.toml")]) == 0
    block = json.loads((out / "summary.json").read_text(encoding="utf-8"))["replan"]["repair"]
    assert block["repooled"].get(lapsed) == "registration_changed"
    a, b = _journeys(case["day1"]), _journeys(out)
    touched = {lapsed, job, case["absent"], str(case["cancelled"]["worker_id"]), *case["on_removed"], *case["new"]}
    assert {w for w in set(a) | set(b) if a.get(w) != b.get(w)} <= touched
    assert lapsed in a and a.get(lapsed) != b.get(lapsed)  # not on the trip their proof no longer allows
    legs2 = _raw(out, "legs")
    assert set(legs2.loc[legs2["worker_id"] == lapsed, "board_time"].str[:10]) >= {"2020-03-10"} or \
        lapsed not in set(legs2["worker_id"])
    w2 = _raw(out, "workers").drop_duplicates("worker_id").set_index("worker_id")
    assert w2.at[job, "status"] == "planned" or w2.at[job, "reason"] != "job_not_confirmed"
    ch = _raw(out, "changes").set_index("worker_id")
    assert lapsed in ch.index and job in ch.index if w2.at[job, "status"] == "planned" else lapsed in ch.index


def test_a_feeder_bus_that_loses_a_run_drops_the_next_run_it_can_no_longer_reach():
    """Bus B (one driver, 4 h continuous by day, 20 min rest) runs R1 V1->H1 06:00-07:00, R2 V2->H2
    08:00-09:00, R3 V3->H2 10:00-11:00. Empty drives: H1->V2 30 min, H2->V3 30 min, so each run
    starts after a 30 min stand (a rest). R2 dropped: the bus stands at H1, and H1->V3 takes 170 min,
    from 07:10; with the 10 min stand after R1 it drives 06:00-11:00 in one period, 5 h > 4 h, so R3
    cannot be kept (its people are re-pooled). R1 dropped instead: R2 is then the bus's first run,
    nothing breaks. The last run dropped: nothing after it, nothing breaks."""
    from types import SimpleNamespace

    from planner.scenario import Drivers
    from planner.solve.repair import _FeederChains

    day = datetime(2020, 2, 16)
    runs = [("R1", "V1", "H1", 6), ("R2", "V2", "H2", 8), ("R3", "V3", "H2", 10)]
    trips = pd.DataFrame({
        "trip_id": [r[0] for r in runs], "mode": "feeder", "purpose": "passenger", "vehicle_id": "B",
        "home_county_code": "500101", "origin_id": [r[1] for r in runs], "destination_ids": [r[2] for r in runs],
        "depart": [day + timedelta(hours=r[3]) for r in runs], "arrive": [day + timedelta(hours=r[3] + 1) for r in runs],
        "drivers": 1})
    stops = pd.DataFrame({"trip_id": [r[0] for r in runs for _ in (0, 1)],
                          "place_kind": ["village", "hub"] * len(runs)})
    minutes = {("H1", "V2"): 30, ("H2", "V3"): 30, ("H1", "V3"): 170}
    travel = SimpleNamespace(feeder_minutes=lambda a, b, county: 0.0 if a == b else float(minutes.get((a, b), 60)))
    p = SimpleNamespace(sc=SimpleNamespace(drivers=Drivers()), travel=travel)

    def broken(dropped: set[str], locked: frozenset = frozenset()) -> set[str]:
        return _FeederChains(trips, stops, set(locked), p, 0).broken({t: "no_passengers_left" for t in dropped})

    assert broken(set()) == set()
    assert broken({"R2"}) == {"R3"}
    assert broken({"R1"}) == set()
    assert broken({"R3"}) == set()
    # asked again with nothing new dropped, the bus is not tested twice; a locked run is never dropped
    chains = _FeederChains(trips, stops, set(), p, 0)
    assert chains.broken({"R2": "x"}) == {"R3"}
    assert chains.broken({"R2": "x", "R3": "y"}) == set()
    assert broken({"R2"}, frozenset({"R3"})) == set()


def test_a_cancelled_train_and_a_stricter_rule_drop_the_trips_they_no_longer_allow(case, tmp_path, capsys):
    """Today's data cancel the 02-24 train K7005 and raise 东莞 (4419) to high from 02-21, where high
    now means one person per row. Unlocked trips that no longer match are dropped, their people planned
    again: the K7005 carriage (train_service_changed), and every unlocked passenger trip arriving in
    东莞 on or after 02-21 under the old half_seats rule (occupancy_rule_changed). Locked trips stay;
    the new plan checks clean (the checker holds trains to their service and trips to the rule in force)."""
    sc_dir = tmp_path / "sc"
    shutil.copytree(case["scenario"].parent, sc_dir)
    svc = pd.read_csv(sc_dir / "train_services.csv", dtype=str)
    svc[svc["service_id"] != "K7005"].to_csv(sc_dir / "train_services.csv", index=False)
    with open(sc_dir / "risk_calendar.csv", "a", encoding="utf-8") as f:
        f.write("4419,2020-02-21,2020-03-15,high\n")
    toml = (sc_dir / "scenario.toml").read_text(encoding="utf-8")
    (sc_dir / "scenario.toml").write_text(toml + '\n[occupancy]\nhigh = "one_per_row"\n', encoding="utf-8")
    day1 = case["day1"]
    trips1, stops1, legs1 = _raw(day1, "trips"), _raw(day1, "stops"), _raw(day1, "legs")
    open_ = trips1[~trips1["trip_id"].isin(case["published"]) & (trips1["purpose"] == "passenger")]
    k7005 = set(open_.loc[open_["service_id"] == "K7005", "trip_id"])
    dest = stops1[stops1["place_id"].isin(["F0001", "F0003", "S-DG"]) & (stops1["arrive"].str[:10] >= "2020-02-21")]
    stricter = set(open_["trip_id"]) & set(dest["trip_id"]) - k7005 - case["removed_trips"]
    assert k7005 and stricter, "the tiny plan changed: no unlocked trip for K7005 or to 东莞 after 02-21"
    out = tmp_path / "day2"
    assert main(["replan", str(sc_dir / "scenario.toml"), "--base", str(day1), "--out", str(out),
                 "--db", str(day1.parent / "planner-store.sqlite")]) == 0
    capsys.readouterr()
    assert main(["check", str(out), "--scenario", str(sc_dir / "scenario.toml")]) == 0
    rp = json.loads((out / "summary.json").read_text(encoding="utf-8"))["replan"]["repair"]
    assert {rp["dropped_trips"].get(t) for t in k7005} == {"train_service_changed"}
    assert {rp["dropped_trips"].get(t) for t in stricter} == {"occupancy_rule_changed"}
    on = legs1[legs1["trip_id"].isin(k7005 | stricter)]["worker_id"]
    taken_off = {case["absent"], str(case["cancelled"]["worker_id"])}  # off anyway (store, cancellation)
    assert {rp["repooled"].get(w) for w in on if w not in taken_off} <= {"train_service_changed",
                                                                        "occupancy_rule_changed", "family_replanned"}
    trips2 = _raw(out, "trips")
    assert not (trips2["service_id"] == "K7005").any()
    assert case["published"] <= set(trips2["trip_id"])  # the locked trips stay whatever the rules say now
    ch = _raw(out, "changes")
    # (the removed coach's trip to 东莞 counts as stale too: the stricter rule is found first)
    stale_or_removed = set(legs1.loc[legs1["trip_id"].isin(k7005 | stricter | case["removed_trips"]), "worker_id"])
    assert set(ch.loc[ch["reason"].isin(["train_service_changed", "occupancy_rule_changed"]), "worker_id"]) \
        <= stale_or_removed


def test_stale_trains_by_hand(tmp_path):
    """The tiny plan's K7001 carriage and a second one copied from it: with the service cut to one
    carriage the locked one stays and the other goes; a re-timed or cancelled service takes its open
    carriages; a carriage matching its service stays."""
    from planner.pipeline import load_and_validate
    from planner.solve.problem import build_problem
    from planner.solve.repair import _stale_trips

    day1 = tmp_path / "day1"
    assert main(["plan", str(TINY_SCENARIO), "--out", str(day1), "--no-check"]) == 0
    plan = read_plan(day1)
    sc, val = load_and_validate(TINY_SCENARIO)
    p = build_problem(sc, val.tables)
    trips = plan.trips.assign(trip_id=plan.trips["trip_id"].astype(str))
    car = trips[trips["trip_id"] == "TK7001-01"]
    assert len(car) == 1, "the tiny plan changed: no K7001 carriage"
    trips = pd.concat([trips, car.assign(trip_id="TK7001-02", vehicle_id="K7001-02")], ignore_index=True)
    assert _stale_trips(trips, plan.stops, p, set()) == {}
    sid = p.services["service_id"].astype(str)
    p.services.loc[sid == "K7001", "carriages"] = 1
    assert _stale_trips(trips, plan.stops, p, {"TK7001-02"}) == {"TK7001-01": "train_service_changed"}
    assert _stale_trips(trips, plan.stops, p, set()) == {"TK7001-02": "train_service_changed"}
    p.services.loc[sid == "K7001", ["carriages", "depart_time"]] = [8, "11:30"]
    assert _stale_trips(trips, plan.stops, p, set()) == {t: "train_service_changed" for t in ("TK7001-01", "TK7001-02")}
    p.services = p.services[sid != "K7005"]
    assert _stale_trips(trips, plan.stops, p, {"TK7001-01", "TK7001-02"}) == {"TK7005-01": "train_service_changed"}
