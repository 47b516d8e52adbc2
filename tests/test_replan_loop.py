"""The daily loop end to end on the tiny scenario: plan, publish 3 days, tick a pick-up list, replan, check.

Invariants: the new plan checks clean; every locked trip's rows are the base plan's bytes apart from
the people counts and group leader; everybody still on a locked trip keeps their leg row byte for byte;
the people taken off (absent, fever, cancelled) are off; ``changes.csv`` lists exactly the workers whose
legs (trip and seat, leg by leg) differ between the two plans; bad input is a Chinese message, exit 2.
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook

from planner.cli import main
from planner.documents.pickup import INFO_SHEET
from planner.store.boarding import current_boarding
from planner.store.db import open_store
from tests.conftest import TINY_SCENARIO
from tests.solver_fixtures import id_number
from tests.store_fixtures import edited_plan

LOCK = "2020-02-18"
TRIP_PEOPLE = {"passengers", "leader_worker_id"}
STOP_PEOPLE = {"boarding", "alighting"}


def _raw(plan: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(plan / f"{name}.csv", dtype=str, keep_default_na=False)


def _lines(plan: Path, name: str) -> dict[str, list[str]]:
    """trip_id -> the file's lines of that trip, as bytes on disk (decoded)."""
    out: dict[str, list[str]] = {}
    with open(plan / f"{name}.csv", encoding="utf-8") as f:
        next(f)
        for line in f:
            out.setdefault(line.split(",", 1)[0], []).append(line)
    return out


def _tick(src: Path, dst: Path, published: set[str], marks: list[tuple[str, str | None]]) -> list[str]:
    """Fill 上车确认/体温 for the rows on published trips, in turn from ``marks``; return the ticked trips."""
    wb = load_workbook(src)
    i = 0
    ticked = []
    for ws in wb.worksheets:
        if ws.title == INFO_SHEET:
            continue
        hdr = [c.value for c in ws[1]]
        for r in range(2, ws.max_row + 1):
            trip = ws.cell(r, hdr.index("车次") + 1).value
            if trip not in published or i >= len(marks):
                continue
            mark, temp = marks[i]
            ws.cell(r, hdr.index("上车确认") + 1, mark)
            ws.cell(r, hdr.index("体温") + 1, temp)
            ticked.append(trip)
            i += 1
    wb.save(dst)
    return ticked


def _journeys(plan: Path) -> dict[str, tuple]:
    legs = _raw(plan, "legs").sort_values(["worker_id", "leg"], key=lambda s: s.astype(int) if s.name == "leg" else s)
    return {w: tuple(zip(g["trip_id"], g["seat"])) for w, g in legs.groupby("worker_id")}


@pytest.fixture(scope="module")
def loop(tmp_path_factory):
    """Day 1 planned, published through LOCK, one township's list ticked and imported; day 2's data."""
    root = tmp_path_factory.mktemp("replan")
    sc_dir = root / "scenario"
    shutil.copytree(TINY_SCENARIO.parent, sc_dir)
    scenario = sc_dir / "scenario.toml"
    day1 = root / "ops" / "day1"
    assert main(["plan", str(scenario), "--out", str(day1), "--no-check"]) == 0
    assert main(["publish", str(day1), "--through", LOCK]) == 0
    trips = _raw(day1, "trips")
    published = set(trips.loc[trips["depart"].str[:10] <= LOCK, "trip_id"])
    legs = _raw(day1, "legs")
    on_pub = legs[legs["trip_id"].isin(published)]
    workers = _raw(day1, "workers")
    town = workers.set_index("worker_id").loc[on_pub["worker_id"], "township_code"].value_counts().index[0]
    docs = root / "docs"
    assert main(["export", str(day1), "--scenario", str(scenario), "--out", str(docs), "--township", town]) == 0
    ticked = root / "ticked.xlsx"
    _tick(docs / f"乘车人员名单_{town}.xlsx", ticked, published, [("缺", None), ("✓", "36.6"), ("√", "38.5")])
    assert main(["boarding", "import", str(ticked), "--plan", str(day1), "--by", "村干部"]) == 0
    store = open_store(str(day1.parent / "planner-store.sqlite"))
    cur = current_boarding(store)
    assert {"absent", "fever", "boarded"} <= set(cur["status"])
    # today's data: two cancellations (one on a locked trip, one later), three new registrations, a coach fewer
    rows = list(csv.reader(open(sc_dir / "workers.csv", encoding="utf-8")))
    hdr, body = rows[0], rows[1:]
    recorded = set(cur["worker_id"])
    locked_other = sorted(set(on_pub["worker_id"]) - recorded)[0]
    later = sorted(set(legs["worker_id"]) - set(on_pub["worker_id"]))[0]
    cancelled = {locked_other, later}
    body = [r for r in body if r[0] not in cancelled]
    new_ids = []
    for k in range(3):
        r = list(body[k])
        r[0] = f"W09{k:05d}"
        r[2] = id_number("500101", 700 + k)
        r[3] = f"1990000{k:04d}"
        r[hdr.index("group_id")] = ""
        new_ids.append(r[0])
        body.append(r)
    with open(sc_dir / "workers.csv", "w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([hdr, *body])
    fleet = (sc_dir / "fleet.csv").read_text(encoding="utf-8")
    assert "500101,C53,5" in fleet
    (sc_dir / "fleet.csv").write_text(fleet.replace("500101,C53,5", "500101,C53,4"), encoding="utf-8")
    return {"root": root, "scenario": scenario, "day1": day1, "published": published, "cancelled": cancelled,
            "new": new_ids, "records": cur, "store": store}


@pytest.fixture(scope="module")
def day2(loop):
    out = loop["root"] / "ops" / "day2"
    assert main(["replan", str(loop["scenario"]), "--base", str(loop["day1"]), "--out", str(out)]) == 0
    return out


def test_the_replanned_plan_checks_clean_and_keeps_the_locked_trips(loop, day2, capsys):
    capsys.readouterr()
    assert main(["check", str(day2), "--scenario", str(loop["scenario"])]) == 0  # base read from summary.json
    day1, pub = loop["day1"], loop["published"]
    summary = json.loads((day2 / "summary.json").read_text(encoding="utf-8"))
    locked = set(summary["replan"]["locked_trips"])
    assert pub <= locked
    # locked trips: the base plan's bytes apart from the people counts (and leader)
    for name, people in (("trips", TRIP_PEOPLE), ("stops", STOP_PEOPLE)):
        a, b = _raw(day1, name), _raw(day2, name)
        cols = [c for c in a.columns if c not in people]
        a = a[a["trip_id"].isin(locked)][cols].sort_values(cols).reset_index(drop=True)
        b = b[b["trip_id"].isin(locked)][cols].sort_values(cols).reset_index(drop=True)
        pd.testing.assert_frame_equal(a, b)
    # everyone left on a locked trip keeps their leg line byte for byte; the people taken off are gone
    old_legs, new_legs = _lines(day1, "legs"), _lines(day2, "legs")
    old_on = {ln for lines in old_legs.values() for ln in lines if ln.split(",")[2] in locked}
    new_on = {ln for lines in new_legs.values() for ln in lines if ln.split(",")[2] in locked}
    assert new_on <= old_on
    gone = {ln.split(",")[0] for ln in old_on - new_on}
    rec = loop["records"]
    off = set(rec.loc[rec["status"].isin(["absent", "fever", "refused"]), "worker_id"])
    assert gone == (off | loop["cancelled"]) & {ln.split(",")[0] for ln in old_on}
    # passengers = people left on each locked trip
    t2 = _raw(day2, "trips").set_index("trip_id")
    on = pd.Series([ln.split(",")[2] for ln in new_on]).value_counts()
    for tid in locked:
        if t2.at[tid, "purpose"] == "passenger":
            assert int(t2.at[tid, "passengers"]) == int(on.get(tid, 0))
    # nothing new leaves on or before the lock date; the removed coach is not used after it
    fresh = t2[~t2.index.isin(locked)]
    assert (fresh["depart"].str[:10] > LOCK).all()
    assert "500101-C53-005" not in set(fresh["vehicle_id"])
    # a replanned plan publishes on top of its base
    assert main(["publish", str(day2), "--through", "2020-02-20"]) == 0


def test_changes_lists_exactly_the_people_whose_plan_changed(loop, day2):
    a, b = _journeys(loop["day1"]), _journeys(day2)
    changed = {w for w in set(a) | set(b) if a.get(w) != b.get(w)}
    ch = _raw(day2, "changes")
    assert set(ch["worker_id"]) == changed and len(ch) == len(changed)
    kinds = dict(zip(ch["worker_id"], ch["change"]))
    for w in loop["cancelled"]:
        assert kinds[w] == "removed"
    reasons = dict(zip(ch["worker_id"], ch["reason"]))
    assert {reasons[w] for w in loop["cancelled"]} == {"cancelled"}
    rec = loop["records"]
    fever = rec.loc[rec["status"] == "fever", "worker_id"].iloc[0]
    absent = rec.loc[rec["status"] == "absent", "worker_id"].iloc[0]
    assert reasons[fever] == "fever_at_boarding" and kinds[fever] == "removed"  # no newer proof
    assert reasons[absent] == "absent_at_boarding"  # back in the pool
    w2 = _raw(day2, "workers").set_index("worker_id")
    assert w2.at[fever, "reason"] == "fever_at_boarding"
    # back in the pool: planned again, or unassigned for a reason of their own
    assert w2.at[absent, "status"] == "planned" or w2.at[absent, "reason"] != "group_member_ineligible"
    for w in loop["new"]:
        assert w in w2.index
        if w2.at[w, "status"] == "planned":
            assert kinds[w] == "added" and reasons[w] == "new_registration"


def test_a_fever_with_a_newer_proof_travels_again(loop, tmp_path):
    sc_dir = tmp_path / "sc"
    shutil.copytree(loop["scenario"].parent, sc_dir)
    rec = loop["records"]
    fever = rec.loc[rec["status"] == "fever", "worker_id"].iloc[0]
    w = pd.read_csv(sc_dir / "workers.csv", dtype=str, keep_default_na=False)
    w.loc[w["worker_id"] == fever, "proof_date"] = "2020-02-19"
    w.to_csv(sc_dir / "workers.csv", index=False, encoding="utf-8")
    out = tmp_path / "day2b"
    assert main(["replan", str(sc_dir / "scenario.toml"), "--base", str(loop["day1"]), "--out", str(out),
                 "--db", str(loop["day1"].parent / "planner-store.sqlite")]) == 0
    w2 = _raw(out, "workers").set_index("worker_id")
    assert w2.at[fever, "reason"] != "fever_at_boarding"
    # their family travelled on a locked trip: that does not hold them back
    assert w2.at[fever, "status"] == "planned"


def test_bad_input_is_a_message_and_exit_2(loop, tmp_path, capsys):
    sc = str(loop["scenario"])
    capsys.readouterr()
    assert main(["replan", sc, "--base", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "原计划目录不存在" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as exc:
        main(["replan", sc, "--base", str(loop["day1"]), "--out", str(tmp_path / "x"), "--lock-through", "2020-02-30"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "锁定日期应为 YYYY-MM-DD" in err and "Traceback" not in err
    other = tmp_path / "other"
    shutil.copytree(loop["scenario"].parent, other)
    toml = (other / "scenario.toml").read_text(encoding="utf-8")
    (other / "scenario.toml").write_text(toml.replace('name = "校验测试情景"', 'name = "另一个情景"'), encoding="utf-8")
    assert main(["replan", str(other / "scenario.toml"), "--base", str(loop["day1"]), "--out",
                 str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "来自情景「校验测试情景」" in err and "Traceback" not in err
    assert not (tmp_path / "x").exists() or not any((tmp_path / "x").iterdir())


def test_the_checker_finds_a_locked_trip_moved_and_a_seat_changed(loop, day2, tmp_path, capsys):
    summary = json.loads((day2 / "summary.json").read_text(encoding="utf-8"))
    locked = sorted(summary["replan"]["published_trips"])
    legs = _raw(day2, "legs")
    seated = legs[legs["trip_id"].isin(locked)].iloc[0]

    def tamper(t):
        tr = t["trips"]
        first = tr["trip_id"] == locked[0]
        tr.loc[first, "distance_km"] = str(float(tr.loc[first, "distance_km"].iloc[0]) + 1)
        lg = t["legs"]
        mine = (lg["worker_id"] == seated["worker_id"]) & (lg["trip_id"] == seated["trip_id"])
        lg.loc[mine, "seat"] = "9Z"

    bad = edited_plan(day2, tmp_path / "bad", tamper)
    capsys.readouterr()
    assert main(["check", str(bad), "--scenario", str(loop["scenario"]), "--base", str(loop["day1"])]) == 1
    out = capsys.readouterr().out
    assert "[locked_trip_changed]" in out and locked[0] in out
    assert "[locked_seat_changed]" in out and seated["worker_id"] in out
    # against another base plan than the one it was made from
    assert main(["check", str(bad), "--scenario", str(loop["scenario"]), "--base", str(day2)]) == 1
    assert "[locked_base_missing]" in capsys.readouterr().out


def test_an_earlier_lock_date_locks_less_and_says_so(loop, tmp_path, capsys):
    out = tmp_path / "day2c"
    capsys.readouterr()
    assert main(["replan", str(loop["scenario"]), "--base", str(loop["day1"]), "--out", str(out),
                 "--lock-through", "2020-02-16", "--no-check"]) == 0
    assert "晚于锁定日 2020-02-16 的已发布车次将重新规划" in capsys.readouterr().out
    block = json.loads((out / "summary.json").read_text(encoding="utf-8"))["replan"]
    assert block["lock_through"] == "2020-02-16" and block["not_before"] == "2020-02-17"
    trips = _raw(out, "trips")
    base = _raw(loop["day1"], "trips").set_index("trip_id")
    assert all(base.at[t, "depart"][:10] <= "2020-02-16" for t in block["published_trips"])
    fresh = trips[~trips["trip_id"].isin(block["locked_trips"])]
    assert (fresh["depart"].str[:10] >= "2020-02-17").all()
    assert main(["check", str(out), "--scenario", str(loop["scenario"])]) == 0


def test_a_coach_removed_after_its_locked_trip_is_not_a_fleet_excess(loop, tmp_path):
    sc_dir = tmp_path / "sc"
    shutil.copytree(loop["scenario"].parent, sc_dir)
    base = _raw(loop["day1"], "trips")
    out_on_locked = set(base.loc[base["trip_id"].isin(loop["published"]) & (base["mode"] == "coach"), "vehicle_type"])
    kind = sorted(out_on_locked)[0]
    fleet = pd.read_csv(sc_dir / "fleet.csv", dtype=str)
    row = (fleet["county_code"] == "500101") & (fleet["type_id"] == kind)
    fleet.loc[row, "count"] = "0"
    fleet.to_csv(sc_dir / "fleet.csv", index=False)
    out = tmp_path / "day2d"
    assert main(["replan", str(sc_dir / "scenario.toml"), "--base", str(loop["day1"]), "--out", str(out),
                 "--db", str(loop["day1"].parent / "planner-store.sqlite")]) == 0
    trips = _raw(out, "trips")
    locked = set(json.loads((out / "summary.json").read_text(encoding="utf-8"))["replan"]["locked_trips"])
    fresh = trips[~trips["trip_id"].isin(locked)]
    assert kind in set(trips.loc[trips["trip_id"].isin(locked), "vehicle_type"])
    assert kind not in set(fresh.loc[fresh["home_county_code"] == "500101", "vehicle_type"])
