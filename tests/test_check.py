"""The checker accepts a hand-built legal plan and catches each rule broken on purpose."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from planner.check import CheckReport, check_plan, read_plan
from planner.errors import PlanFormatError
from planner.plan_format import REQUIRED_FILES, file_manifest
from tests.check_fixtures import REJECTED_ROW, build

TZ = "Asia/Shanghai"


@pytest.fixture(scope="module")
def fx():
    """The legal fixture (built once; every test gets fresh copies of the plan and tables)."""
    return build()


@pytest.fixture
def case(fx):
    """(plan, tables) fresh copies to break."""
    return fx.plan(), {k: v.copy() for k, v in fx.tables.items()}


def run(fx, plan, tables=None, sc=None) -> CheckReport:
    return check_plan(plan, sc or fx.sc, tables if tables is not None else fx.tables, fx.rejected_rows)


def hits(report: CheckReport, rule: str, *, trip: str | None = None, worker: str | None = None) -> bool:
    v = report.of(rule)
    if trip is not None:
        v = v[v["trip_id"] == trip]
    if worker is not None:
        v = v[v["worker_id"] == worker]
    return len(v) > 0


def leg_index(plan, worker: str, trip: str) -> int:
    legs = plan.legs
    return legs.index[(legs["worker_id"] == worker) & (legs["trip_id"] == trip)][0]


def stop_index(plan, trip: str, seq: int) -> int:
    st = plan.stops
    return st.index[(st["trip_id"] == trip) & (st["seq"] == seq)][0]


def set_trip(plan, trip: str, **values) -> None:
    for k, v in values.items():
        plan.trips.loc[plan.trips["trip_id"] == trip, k] = v


# ------------------------------------------------------------------ legal plan
def test_legal_plan_passes(fx):
    """The hand-built plan breaks no rule."""
    report = run(fx, fx.plan())
    assert report.ok, report.text()
    assert report.stats == {"trips": 8, "stops": 39, "legs": 18, "workers": 13}


def test_legal_plan_read_from_disk_passes(fx, tmp_path):
    """Written to a directory and read back with read_plan, the plan still passes."""
    plan = read_plan(fx.write(tmp_path / "plan"))
    assert str(plan.trips["depart"].dt.tz) == TZ
    assert pd.api.types.is_string_dtype(plan.workers["worker_id"]) and plan.stops["place_id"].iloc[0] == "500101105201"
    report = run(fx, plan)
    assert report.ok, report.text()


def test_missing_file_or_column_raises(fx, tmp_path):
    """A missing file or column raises PlanFormatError naming the file and the column."""
    out = fx.write(tmp_path / "plan")
    (out / "legs.csv").unlink()
    with pytest.raises(PlanFormatError, match="legs.csv"):
        read_plan(out)
    out = fx.write(tmp_path / "plan2")
    fx.raw["stops"].drop(columns="boarding").to_csv(out / "stops.csv", index=False)
    relist(out)
    with pytest.raises(PlanFormatError, match=r"stops\.csv.*boarding"):
        read_plan(out)


def relist(out) -> None:
    """Record the files as they now are in summary.json (a plan edited on purpose, not a mixed one)."""
    summ = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    summ["files"] = file_manifest(out, REQUIRED_FILES)
    (out / "summary.json").write_text(json.dumps(summ, ensure_ascii=False), encoding="utf-8")


def test_report_text_names_rules_without_personal_data(fx, case):
    """The text lists counts per rule and examples, and never a name or an ID number."""
    plan, tables = case
    plan.legs.loc[leg_index(plan, "W01", "C500101-0001"), "seat"] = "12A"
    text = run(fx, plan).text(max_per_rule=5)
    assert "[seat_not_allowed]" in text and "W01" in text
    assert "张某华" not in text and "50010119800101901X" not in text


# ------------------------------------------------------------------ accounting
def test_dropped_worker_is_caught(fx, case):
    """A worker row missing from workers.csv is reported (nobody may disappear)."""
    plan, _ = case
    plan.workers = plan.workers[plan.workers["worker_id"] != "W11"]
    assert hits(run(fx, plan), "worker_missing", worker="W11")


def test_dropped_rejected_row_is_caught(fx, case):
    """The rejected input row must also appear in workers.csv."""
    plan, _ = case
    plan.workers = plan.workers[plan.workers["source_row"] != REJECTED_ROW]
    assert hits(run(fx, plan), "worker_missing")


def test_duplicated_worker_is_caught(fx, case):
    """A worker listed twice is reported."""
    plan, _ = case
    plan.workers = pd.concat([plan.workers, plan.workers[plan.workers["worker_id"] == "W03"]], ignore_index=True)
    assert hits(run(fx, plan), "worker_duplicate", worker="W03")


def test_unassigned_with_legs_is_caught(fx, case):
    """An unassigned worker who still has legs is reported."""
    plan, _ = case
    plan.workers.loc[plan.workers["worker_id"] == "W04", ["status", "reason", "chain"]] = ["unassigned", "job_not_confirmed", ""]
    assert hits(run(fx, plan), "unassigned_has_legs", worker="W04")


def test_summary_mismatch_is_caught(fx, case):
    """summary.json counts that disagree with workers.csv are reported."""
    plan, _ = case
    plan.summary["workers"]["planned"] = 11
    assert hits(run(fx, plan), "summary_mismatch")


# ---------------------------------------------------------------------- chains
def test_broken_chain_place_is_caught(fx, case):
    """Boarding the coach somewhere else than where the feeder dropped you is reported."""
    plan, _ = case
    plan.legs.loc[leg_index(plan, "W05", "F500101-0002"), "alight_place_id"] = "R-WZB"
    assert hits(run(fx, plan), "chain_gap", trip="C500101-0001", worker="W05")


def test_wrong_start_is_caught(fx, case):
    """A first leg that does not start at the worker's village is reported."""
    plan, tables = case
    tables["workers"].loc[tables["workers"]["worker_id"] == "W07", "village_code"] = "500101105202"
    assert hits(run(fx, plan, tables), "chain_start", trip="C500101-0002", worker="W07")


def test_short_transfer_is_caught(fx, case):
    """A feeder arriving 23 minutes before the coach leaves the hub is reported (60 needed)."""
    plan, _ = case
    shift = pd.Timedelta(minutes=45)
    t = "F500101-0002"
    for col in ("depart", "arrive"):
        plan.trips.loc[plan.trips["trip_id"] == t, col] += shift
    for col in ("depart", "arrive"):
        plan.stops.loc[plan.stops["trip_id"] == t, col] += shift
    for col in ("board_time", "alight_time"):
        plan.legs.loc[plan.legs["trip_id"] == t, col] += shift
    report = run(fx, plan)
    assert hits(report, "transfer_too_short", trip="C500101-0001", worker="W05")
    assert "只有 23 分钟" in report.of("transfer_too_short")["message"].iloc[0]


def test_leg_time_mismatch_is_caught(fx, case):
    """A leg whose board time is not the vehicle's departure is reported."""
    plan, _ = case
    plan.legs.loc[leg_index(plan, "W07", "C500101-0002"), "board_time"] += pd.Timedelta(minutes=5)
    assert hits(run(fx, plan), "leg_time_mismatch", trip="C500101-0002", worker="W07")


def test_split_family_is_caught(fx, case):
    """Two members of one family (same group, factory and village) on different vehicles are reported."""
    plan, tables = case
    w = tables["workers"]
    w.loc[w["worker_id"].isin(["W05", "W09"]), "group_id"] = "G2"
    # a family is one group per village (validate's group_mixed): make W09 live where W05 does
    w.loc[w["worker_id"] == "W09", "village_code"] = w.loc[w["worker_id"] == "W05", "village_code"].iloc[0]
    report = run(fx, plan, tables)
    assert hits(report, "family_split", worker="W05") or hits(report, "family_split", worker="W09")


# ----------------------------------------------------------------------- seats
def test_seat_in_isolation_rows_is_caught(fx, case):
    """A passenger in row 12 of a 13-row coach (the observation area) is reported."""
    plan, _ = case
    plan.legs.loc[leg_index(plan, "W01", "C500101-0001"), "seat"] = "12A"
    report = run(fx, plan)
    assert hits(report, "seat_not_allowed", trip="C500101-0001", worker="W01")
    assert "留观区" in report.of("seat_not_allowed")["message"].iloc[0]


def test_seat_outside_pattern_is_caught(fx, case):
    """Seat 1A is not in the half-seat chequerboard (1B, 1D, 2A, …): reported."""
    plan, _ = case
    plan.legs.loc[leg_index(plan, "W02", "C500101-0001"), "seat"] = "1A"
    assert hits(run(fx, plan), "seat_not_allowed", trip="C500101-0001", worker="W02")


def test_unknown_seat_is_caught(fx, case):
    """A seat label the vehicle does not have is reported."""
    plan, _ = case
    plan.legs.loc[leg_index(plan, "W09", "T-S1-01"), "seat"] = "30A"
    assert hits(run(fx, plan), "seat_unknown", trip="T-S1-01", worker="W09")


def test_double_booked_seat_is_caught(fx, case):
    """Two passengers in one seat are reported."""
    plan, _ = case
    seat = plan.legs.at[leg_index(plan, "W01", "C500101-0001"), "seat"]
    plan.legs.loc[leg_index(plan, "W02", "C500101-0001"), "seat"] = seat
    assert hits(run(fx, plan), "seat_double_booked", trip="C500101-0001", worker="W02")


def test_wrong_seats_allowed_is_caught(fx, case):
    """seats_allowed that is not the pattern's count is reported."""
    plan, _ = case
    set_trip(plan, "C500101-0001", seats_allowed=26)
    assert hits(run(fx, plan), "seats_allowed_mismatch", trip="C500101-0001")


def test_over_capacity_reports_the_claimed_count(fx, case):
    """A trip claiming 40 people on its legs' count, over 22 allowed seats, is reported as 40 people, allowed 22."""
    plan, _ = case
    set_trip(plan, "C500101-0001", passengers=40, seats_allowed=22)
    report = run(fx, plan)
    msgs = report.of("over_capacity")
    msgs = msgs[msgs["trip_id"] == "C500101-0001"]["message"]
    assert len(msgs) == 1
    assert msgs.iloc[0].startswith("载客 40 人") and "允许座位 22" in msgs.iloc[0], msgs.iloc[0]
    assert hits(report, "passenger_count_mismatch", trip="C500101-0001")


def test_over_capacity_by_legs_reports_the_legs_count(fx, case):
    """More legs than allowed seats, with trips.csv agreeing: the message gives that count and the limit."""
    plan, _ = case
    n = int((plan.legs["trip_id"] == "C500101-0001").sum())
    set_trip(plan, "C500101-0001", seats_allowed=n - 1)
    msgs = run(fx, plan).of("over_capacity")["message"]
    assert list(msgs) == [f"载客 {n} 人，超过允许座位 {n - 1}"]


def test_wrong_occupancy_rule_is_caught(fx, case):
    """all_seats on a trip to a low-risk area before relaxation is reported."""
    plan, _ = case
    set_trip(plan, "C500101-0002", occupancy_rule="all_seats", seats_allowed=53)
    assert hits(run(fx, plan), "wrong_occupancy_rule", trip="C500101-0002")


# ---------------------------------------------------------------------- county
def test_pickup_after_alighting_is_caught(fx, case):
    """Boarding at the second factory, after people got off at the first, is reported."""
    plan, _ = case
    plan.stops.loc[stop_index(plan, "C500101-0001", 8), "boarding"] = 1
    assert hits(run(fx, plan), "pickup_en_route", trip="C500101-0001")


def _county_rule_on(stops: list[tuple[str, str, int, int]]):
    """The county rule on one coach trip given as (place_id, place_kind, boarding, alighting) rows."""
    from types import SimpleNamespace

    from planner.check.county import county

    st = pd.DataFrame(stops, columns=["place_id", "place_kind", "boarding", "alighting"])
    st.insert(0, "trip_id", "C500101-0009")
    st.insert(1, "seq", range(1, len(st) + 1))
    trips = pd.DataFrame({"trip_id": ["C500101-0009"], "mode": ["coach"], "home_county_code": ["500101"]})
    ctx = SimpleNamespace(place_county=lambda ids: pd.Series("500101", index=ids.index))
    return county(SimpleNamespace(stops=st, trips=trips), ctx)


def test_rest_on_the_empty_run_is_not_en_route():
    """A rest before anyone boarded (terminal -> first village) does not make later pick-ups en route."""
    out = _county_rule_on([("H1", "hub", 0, 0), ("REST", "rest", 0, 0), ("V1", "village", 3, 0),
                           ("V2", "village", 2, 0), ("F1", "factory", 0, 5)])
    assert "pickup_en_route" not in set(out["rule"])


def test_pickup_after_a_rest_with_people_aboard_is_caught():
    """A rest between two pick-ups, with people aboard, makes the second pick-up en route."""
    out = _county_rule_on([("H1", "hub", 0, 0), ("V1", "village", 3, 0), ("REST", "rest", 0, 0),
                           ("V2", "village", 2, 0), ("F1", "factory", 0, 5)])
    en_route = out[out["rule"] == "pickup_en_route"]
    assert len(en_route) == 1 and "V2" in en_route["message"].iloc[0]


def test_pickup_outside_home_county_is_caught(fx, case):
    """A coach of another county picking people up in 500101 is reported."""
    plan, _ = case
    set_trip(plan, "C500101-0002", home_county_code="500102")
    set_trip(plan, "E500101-0002", home_county_code="500102")
    assert hits(run(fx, plan), "pickup_outside_county", trip="C500101-0002")


# --------------------------------------------------------------------- driving
def test_five_hours_without_rest_is_caught(fx, case):
    """Removing the first rest stop leaves 8 h 20 min of continuous driving: reported."""
    plan, _ = case
    st = plan.stops
    rest = stop_index(plan, "C500101-0001", 2)
    nxt = stop_index(plan, "C500101-0001", 3)
    st.loc[nxt, "distance_km"] += st.at[rest, "distance_km"]
    st = st.drop(rest)
    sel = st["trip_id"] == "C500101-0001"
    st.loc[sel, "seq"] = range(1, int(sel.sum()) + 1)
    plan.stops = st
    assert hits(run(fx, plan), "continuous_driving", trip="C500101-0001")


def test_driving_at_three_in_the_morning_is_caught(fx, case):
    """Leaving the 02:00-05:00 stop at 03:00 is reported."""
    plan, _ = case
    i = stop_index(plan, "E500101-0001", 4)
    assert plan.stops.at[i, "depart"].hour == 5
    plan.stops.loc[i, "depart"] = plan.stops.at[i, "depart"] - pd.Timedelta(hours=2)
    assert hits(run(fx, plan), "night_stop_driving", trip="E500101-0001")


def test_short_rest_is_caught(fx, case):
    """A 10-minute stop at a service area is reported."""
    plan, _ = case
    i = stop_index(plan, "C500101-0002", 2)
    plan.stops.loc[i, "depart"] = plan.stops.at[i, "arrive"] + pd.Timedelta(minutes=10)
    assert hits(run(fx, plan), "rest_too_short", trip="C500101-0002")


def test_one_driver_on_a_long_trip_is_caught(fx, case):
    """A 1,300 km trip with one driver is reported (and so is its 24 h driving)."""
    plan, _ = case
    set_trip(plan, "C500101-0001", drivers=1)
    report = run(fx, plan)
    assert hits(report, "second_driver_missing", trip="C500101-0001")
    assert hits(report, "daily_driving", trip="C500101-0001")


def test_impossible_speed_is_caught(fx, case):
    """Covering 288 km in 2 hours is reported."""
    plan, _ = case
    i = stop_index(plan, "C500101-0002", 2)
    plan.stops.loc[i, "distance_km"] = 400.0
    assert hits(run(fx, plan), "too_fast", trip="C500101-0002")


# ----------------------------------------------------------------------- fleet
def test_fleet_exceeded_is_caught(fx, case):
    """Using two coaches when the county owns one is reported."""
    plan, tables = case
    fl = tables["fleet"]
    fl.loc[fl["type_id"] == "C53", "count"] = 1
    report = run(fx, plan, tables)
    assert hits(report, "fleet_exceeded")
    assert hits(report, "coaches_on_road")


def test_overlapping_vehicle_trips_are_caught(fx, case):
    """The direct coach run by the hub coach's vehicle, at the same time, is reported."""
    plan, _ = case
    set_trip(plan, "C500101-0002", vehicle_id="500101-C53-001")
    set_trip(plan, "E500101-0002", vehicle_id="500101-C53-001")
    assert hits(run(fx, plan), "vehicle_overlap", trip="C500101-0001")


def test_missing_empty_return_is_caught(fx, case):
    """A coach that never goes home empty is reported."""
    plan, _ = case
    plan.trips = plan.trips[plan.trips["trip_id"] != "E500101-0001"]
    plan.stops = plan.stops[plan.stops["trip_id"] != "E500101-0001"]
    assert hits(run(fx, plan), "empty_return_missing", trip="C500101-0001")


def test_feeder_deadhead_too_short_is_caught(fx, case):
    """A feeder that cannot get from the hub to the next village in time is reported."""
    plan, _ = case
    t = "F500101-0002"
    shift = pd.Timedelta(minutes=-20)
    for col in ("depart", "arrive"):
        plan.trips.loc[plan.trips["trip_id"] == t, col] += shift
        plan.stops.loc[plan.stops["trip_id"] == t, col] += shift
    for col in ("board_time", "alight_time"):
        plan.legs.loc[plan.legs["trip_id"] == t, col] += shift
    assert hits(run(fx, plan), "vehicle_jump", trip=t)


def test_train_off_schedule_is_caught(fx, case):
    """A carriage leaving an hour before its service is reported."""
    plan, _ = case
    set_trip(plan, "T-S1-01", depart=plan.trips.loc[plan.trips["trip_id"] == "T-S1-01", "depart"].iloc[0]
             - pd.Timedelta(hours=1))
    assert hits(run(fx, plan), "train_service_mismatch", trip="T-S1-01")


# ------------------------------------------------------------------------ hubs
def test_hub_capacity_is_caught(fx, case):
    """Six people boarding at a terminal that takes five a day is reported."""
    plan, tables = case
    tables["hubs"].loc[tables["hubs"]["hub_id"] == "T500101", "daily_capacity_people"] = 5
    report = run(fx, plan, tables)
    assert hits(report, "hub_capacity")
    assert "T500101" in report.of("hub_capacity")["message"].iloc[0]


# ----------------------------------------------------------------------- dates
def test_arrival_after_needed_by_is_caught(fx, case):
    """Arriving on 17 Feb at a factory that needs its workers by 16 Feb is reported."""
    plan, tables = case
    f = tables["factories"]
    f.loc[f["factory_id"] == "F0001", "needed_by"] = date(2020, 2, 16)
    assert hits(run(fx, plan, tables), "after_needed_by", trip="C500101-0002", worker="W07")


def test_departure_before_ready_is_caught(fx, case):
    """Leaving on 16 Feb when the worker is ready only on 20 Feb is reported."""
    plan, tables = case
    w = tables["workers"]
    w.loc[w["worker_id"] == "W03", "ready_date"] = date(2020, 2, 20)
    assert hits(run(fx, plan, tables), "before_ready", trip="C500101-0001", worker="W03")


def test_departure_outside_window_is_caught(fx, case):
    """A trunk departure before the window starts is reported."""
    plan, _ = case
    sc = fx.sc.model_copy(update={"window": fx.sc.window.model_copy(update={"start": date(2020, 2, 17)})})
    assert hits(run(fx, plan, sc=sc), "outside_window", trip="C500101-0001")


def test_arrival_on_a_closed_day_is_caught(fx, case):
    """Arriving in 东莞 (4419) on a day it is closed is reported."""
    plan, tables = case
    tables["risk_calendar"] = pd.DataFrame([("4419", date(2020, 2, 17), date(2020, 2, 17), "closed")],
                                           columns=["region_code", "from", "to", "level"])
    report = run(fx, plan, tables)
    assert hits(report, "destination_closed", trip="C500101-0001")
    assert hits(report, "destination_closed", trip="C500101-0002")


def test_unrecognised_or_expired_proof_is_caught(fx, case):
    """Planning a worker with no proof, or with a proof past its 7 days, is reported."""
    plan, tables = case
    w = tables["workers"]
    w.loc[w["worker_id"] == "W04", ["health_proof", "proof_date"]] = ["none", None]
    w.loc[w["worker_id"] == "W05", "proof_date"] = date(2020, 2, 1)
    report = run(fx, plan, tables)
    assert hits(report, "proof_not_recognised", trip="C500101-0001", worker="W04")
    assert hits(report, "proof_not_valid", trip="C500101-0001", worker="W05")


def test_proof_not_recognised_by_province_is_caught(fx, case):
    """A green code that 广东 does not recognise in this scenario is reported."""
    plan, tables = case
    w = tables["workers"]
    w.loc[w["worker_id"] == "W07", "health_proof"] = "green_code"
    sc = fx.sc.model_copy(update={"health": fx.sc.health.model_copy(update={"provinces": {
        **fx.sc.health.provinces, "广东": fx.sc.health.provinces["广东"].model_copy(update={"green_code": None})}})})
    assert hits(run(fx, plan, tables, sc=sc), "proof_not_recognised", trip="C500101-0002", worker="W07")


def test_job_not_confirmed_is_caught(fx, case):
    """Planning a worker whose job is not confirmed is reported."""
    plan, tables = case
    w = tables["workers"]
    w.loc[w["worker_id"] == "W08", "job_confirmed"] = False
    assert hits(run(fx, plan, tables), "job_not_confirmed", trip="C500101-0002", worker="W08")


# ------------------------------------------------------------------ feeder routes
def _move_feeder_end(plan, trip: str, minutes: int) -> None:
    """Move a feeder's arrival at the hub by ``minutes`` (trip, last stop and the legs' alight time)."""
    delta = pd.Timedelta(minutes=minutes)
    last = plan.stops[plan.stops["trip_id"] == trip]["seq"].max()
    plan.stops.loc[stop_index(plan, trip, last), "arrive"] += delta
    plan.trips.loc[plan.trips["trip_id"] == trip, "arrive"] += delta
    plan.legs.loc[plan.legs["trip_id"] == trip, "alight_time"] += delta


def test_feeder_faster_than_the_road_is_caught(fx, case):
    """A feeder reaching the hub far sooner than its road time allows is reported."""
    plan, _ = case
    t = "F500101-0001"
    st = plan.stops[plan.stops["trip_id"] == t]
    ride = (st["arrive"].iloc[-1] - st["depart"].iloc[-2]).total_seconds() / 60
    assert ride > 5  # the fixture's village lies more than a few minutes out
    _move_feeder_end(plan, t, -int(ride) + 2)
    report = run(fx, plan)
    assert hits(report, "feeder_too_fast", trip=t)
    assert not hits(run(fx, fx.plan()), "feeder_too_fast")


def test_feeder_run_over_the_ride_limit_is_caught(fx, case):
    """A run lasting longer than feeders.max_ride_h from its first village is reported."""
    plan, _ = case
    t = "F500101-0001"
    _move_feeder_end(plan, t, int(fx.sc.feeders.max_ride_h * 60) + 30)
    assert hits(run(fx, plan), "feeder_run_too_long", trip=t)


def test_feeder_ending_at_a_village_is_caught(fx, case):
    """A feeder run must end at a hub (terminal or station); one ending at a village is reported."""
    plan, _ = case
    t = "F500101-0001"
    last = plan.stops[plan.stops["trip_id"] == t]["seq"].max()
    i = stop_index(plan, t, last)
    first_village = plan.stops[plan.stops["trip_id"] == t]["place_id"].iloc[0]
    plan.stops.loc[i, "place_id"] = first_village
    plan.stops.loc[i, "place_kind"] = "village"
    assert hits(run(fx, plan), "feeder_route_shape", trip=t)


# ------------------------------------------------------------------- new rules
def shift_trip(plan, trip: str, minutes: int) -> None:
    """Move one trip, its stops and its legs in time (everything else stays)."""
    d = pd.Timedelta(minutes=minutes)
    for col in ("depart", "arrive"):
        plan.trips.loc[plan.trips["trip_id"] == trip, col] += d
        plan.stops.loc[plan.stops["trip_id"] == trip, col] += d
    for col in ("board_time", "alight_time"):
        plan.legs.loc[plan.legs["trip_id"] == trip, col] += d


def with_keys(fx, **sections):
    """The fixture's scenario with some keys of some sections changed."""
    doc = fx.sc.model_dump()
    for section, values in sections.items():
        doc[section].update(values)
    return type(fx.sc).model_validate(doc)


# drops: the hub coach C500101-0001 drops at F0001 and F0002, about 18 km apart
def _f1_f2_km(fx) -> float:
    from planner.rules.geo import haversine_km
    f = fx.tables["factories"].set_index("factory_id")
    return float(haversine_km(f.at["F0001", "lon"], f.at["F0001", "lat"], f.at["F0002", "lon"], f.at["F0002", "lat"]))


def test_drop_radius_exceeded_is_caught(fx):
    """Two drop factories farther apart than drop_radius_km are reported; at the radius they pass."""
    km = _f1_f2_km(fx)
    assert 15 < km < 20
    report = run(fx, fx.plan(), sc=with_keys(fx, fleet={"drop_radius_km": km - 0.5}))
    assert hits(report, "drop_radius_exceeded", trip="C500101-0001")
    assert not hits(report, "drop_radius_exceeded", trip="C500101-0002")  # one drop only
    assert "F0001" in report.of("drop_radius_exceeded")["message"].iloc[0]
    assert run(fx, fx.plan(), sc=with_keys(fx, fleet={"drop_radius_km": km + 0.05})).ok


def test_drop_radius_counts_a_moved_factory(fx, case):
    """A factory moved 60 km away (the plan unchanged) breaks the 30 km default radius."""
    plan, tables = case
    f = tables["factories"]
    f.loc[f["factory_id"] == "F0002", "lat"] = 22.95 - 60 / 111.2
    f.loc[f["factory_id"] == "F0002", "lon"] = 113.75
    assert hits(run(fx, plan, tables), "drop_radius_exceeded", trip="C500101-0001")


def test_too_many_drop_factories_is_caught(fx):
    """A coach dropping at two factories when the scenario allows one is reported."""
    report = run(fx, fx.plan(), sc=with_keys(fx, fleet={"max_drop_factories": 1}))
    assert hits(report, "too_many_drop_factories", trip="C500101-0001")
    assert not hits(report, "too_many_drop_factories", trip="C500101-0002")
    assert run(fx, fx.plan(), sc=with_keys(fx, fleet={"max_drop_factories": 2})).ok


# hub waits: W01-W04 alight at 06:14 and board at 08:00 (106 min), W05-W06 52 min later, W09-W10 110 min
def test_hub_wait_within_the_limit_passes(fx):
    """Waits of 106 and 110 minutes pass a 110-minute limit (the limit itself is allowed)."""
    assert run(fx, fx.plan(), sc=with_keys(fx, hub={"max_wait_min": 110})).ok


def test_hub_wait_too_long_is_caught(fx):
    """With a 100-minute limit the 106- and 110-minute waits are reported, the 68-minute one is not."""
    report = run(fx, fx.plan(), sc=with_keys(fx, hub={"max_wait_min": 100}))
    assert hits(report, "hub_wait_too_long", trip="C500101-0001", worker="W01")
    assert hits(report, "hub_wait_too_long", trip="T-S1-01", worker="W09")
    assert not hits(report, "hub_wait_too_long", worker="W05")
    assert not hits(report, "hub_wait_too_long", worker="W07")  # direct coach: no hub
    assert "106 分钟" in report.of("hub_wait_too_long").query("worker_id == 'W01'")["message"].iloc[0]
    assert report.rules() == {"hub_wait_too_long"}


def test_early_feeder_waits_too_long_under_the_default(fx, case):
    """A feeder run moved 2 h earlier leaves its riders 226 minutes at the terminal: over the default 120."""
    plan, _ = case
    shift_trip(plan, "F500101-0001", -120)
    report = run(fx, plan)
    assert hits(report, "hub_wait_too_long", trip="C500101-0001", worker="W03")
    assert "226 分钟" in report.of("hub_wait_too_long")["message"].iloc[0]


# feeder driver rules: bus 500101-F35-001 drives F1 06:00-06:14, empty 06:28-06:40, F2 06:40-06:52,
# empty 07:36-07:50, F3 07:50-08:10: one continuous period of 38 min (stands of 14 and 0 min), then 34 min
def test_feeder_driving_spans_runs(fx):
    """Runs joined by stands shorter than the minimum rest are one driving period (38 min > 36)."""
    report = run(fx, fx.plan(), sc=with_keys(fx, drivers={"max_continuous_day_h": 0.6}))
    assert hits(report, "feeder_continuous_driving", trip="F500101-0002")
    assert not hits(report, "feeder_continuous_driving", trip="F500101-0003")
    assert "38 分钟" in report.of("feeder_continuous_driving")["message"].iloc[0]


def test_feeder_rest_at_the_hub_breaks_the_period(fx, case):
    """F1 10 min earlier: a 24-minute stand at the hub is a rest, so no period exceeds 36 min."""
    plan, _ = case
    shift_trip(plan, "F500101-0001", -10)
    report = run(fx, plan, sc=with_keys(fx, drivers={"max_continuous_day_h": 0.6}))
    assert not hits(report, "feeder_continuous_driving")


def test_feeder_driving_in_the_night_stop_is_caught(fx, case):
    """A feeder run at 04:40-04:54 drives in the 02:00-05:00 stop."""
    plan, _ = case
    shift_trip(plan, "F500101-0001", -80)
    report = run(fx, plan)
    assert hits(report, "feeder_night_stop_driving", trip="F500101-0001")
    assert not hits(report, "feeder_night_stop_driving", trip="F500101-0002")


def test_feeder_daily_driving_is_caught(fx):
    """The bus drives 72 min in the day: over a 1 h daily cap, within 1.25 h."""
    report = run(fx, fx.plan(), sc=with_keys(fx, drivers={"max_driving_per_24h_h": 1.0}))
    assert hits(report, "feeder_daily_driving")
    assert "72 分钟" in report.of("feeder_daily_driving")["message"].iloc[0]
    report = run(fx, fx.plan(), sc=with_keys(fx, drivers={"max_driving_per_24h_h": 1.25}))
    assert not hits(report, "feeder_daily_driving")


def test_feeder_four_hours_without_rest_is_caught(fx, case):
    """Under the default 4 h limit: F3 stretched to a 4 h 10 min run straight after the others is caught."""
    plan, _ = case
    t = "F500101-0003"
    last = stop_index(plan, t, 2)
    plan.stops.loc[last, "arrive"] += pd.Timedelta(hours=3, minutes=50)
    plan.trips.loc[plan.trips["trip_id"] == t, "arrive"] += pd.Timedelta(hours=3, minutes=50)
    plan.legs.loc[plan.legs["trip_id"] == t, "alight_time"] += pd.Timedelta(hours=3, minutes=50)
    report = run(fx, plan)
    assert hits(report, "feeder_continuous_driving", trip=t)


def test_feeder_empty_drive_before_the_night_stop_is_not_night_driving(fx, case):
    """F3 moved to 05:10 next day: its 14-min empty drive fits before 02:00 (the bus was free), so no night driving."""
    plan, _ = case
    shift_trip(plan, "F500101-0003", 21 * 60 + 20)
    report = run(fx, plan)
    assert not hits(report, "feeder_night_stop_driving")
    shift_trip(plan, "F500101-0003", -40)  # the run itself now at 04:30-04:50: in the stop
    assert hits(run(fx, plan), "feeder_night_stop_driving", trip="F500101-0003")


def test_coach_boarding_outside_window_is_caught(fx):
    """A coach boarding after fleet.latest_coach_depart_time, or before the first boarding time, is reported."""
    plan = fx.plan()
    st = plan.stops
    trip = "C500101-0001"
    boards = st[(st["trip_id"] == trip) & (pd.to_numeric(st["boarding"]) > 0)]
    last = pd.to_datetime(boards["depart"]).max()
    first = pd.to_datetime(boards["depart"]).min()
    assert run(fx, plan).ok
    late = (last - pd.Timedelta(minutes=1)).strftime("%H:%M")
    report = run(fx, fx.plan(), sc=with_keys(fx, fleet={"latest_coach_depart_time": late}))
    assert hits(report, "coach_boarding_outside_window", trip=trip)
    assert "上客时段" in report.of("coach_boarding_outside_window")["message"].iloc[0]
    early = (first + pd.Timedelta(minutes=1)).strftime("%H:%M")
    report = run(fx, fx.plan(), sc=with_keys(fx, fleet={"coach_depart_time": early, "direct_first_pickup_time": early}))
    assert hits(report, "coach_boarding_outside_window", trip=trip)


def test_coach_stretch_shorter_than_the_travel_model_is_caught(fx):
    """A coach stretch claiming fewer km than the travel model (great-circle x detour) is reported;
    within the tolerance (0.5 km here) it is not. F0001 -> F0002 is 23.60 km by the model."""
    from planner.check.coach_travel import place_stretches

    plan = fx.plan()
    assert not hits(run(fx, plan), "coach_km_below_model")
    # the rest stops are merged in: the hub -> F0001 stretch is 288 x 3 + 144 x 2 + 178.01 km
    df = place_stretches(plan_prepared(plan))
    first = df[(df["trip_id"] == "C500101-0001") & (df["to_place"] == "F0001")].iloc[0]
    assert first["from_place"] == "T500101" and first["km"] == pytest.approx(1330.01)
    i = stop_index(plan, "C500101-0001", 8)
    plan.stops.loc[i, "distance_km"] = 23.2
    assert not hits(run(fx, plan), "coach_km_below_model")
    plan.stops.loc[i, "distance_km"] = 20.0
    report = run(fx, plan)
    assert hits(report, "coach_km_below_model", trip="C500101-0001")
    msg = report.of("coach_km_below_model")["message"].iloc[0]
    assert "F0001" in msg and "F0002" in msg and "出行模型" in msg and "23.6" in msg


def test_coach_faster_than_the_travel_model_is_caught(fx):
    """Driving a stretch in less than the travel model's coach minutes (1 % tolerance) is reported:
    F0001 -> F0002 takes 18.9 min at 75 km/h, the plan says 20; in 15 it is too fast. The empty
    return F0002 -> T500101 (1,075 min by the model, 1,121 in the plan, rest stops left out)
    arriving 60 min earlier is too fast, 15 min earlier is not."""
    plan = fx.plan()
    assert not hits(run(fx, plan), "coach_faster_than_model")
    i = stop_index(plan, "C500101-0001", 8)
    plan.stops.loc[i, "arrive"] -= pd.Timedelta(minutes=5)
    report = run(fx, plan)
    assert hits(report, "coach_faster_than_model", trip="C500101-0001")
    assert "少于出行模型的 18.9 分钟" in report.of("coach_faster_than_model")["message"].iloc[0]
    for minutes, caught in ((15, False), (60, True)):
        plan = fx.plan()
        j = stop_index(plan, "E500101-0001", 8)
        plan.stops.loc[j, "arrive"] -= pd.Timedelta(minutes=minutes)
        assert hits(run(fx, plan), "coach_faster_than_model", trip="E500101-0001") is caught, minutes


def plan_prepared(plan):
    """The plan as the rule families see it (times on the local clock)."""
    from planner.check.plan_files import prepare

    return prepare(plan)


def test_a_coach_removed_while_out_on_a_locked_trip_is_not_counted_against_todays_fleet(fx, case):
    """Replan: the county's fleet today is one C53 (500101-C53-002 removed), and the fixture's two
    coaches are on the road on the same days. When coach 002's trips are locked (published before it
    was removed), today's fleet has one coach on the road: no ``coaches_on_road``. When they are not
    locked, or the locked coach is the one still in the fleet, two coaches count and it is reported."""
    from planner.check.context import CheckContext
    from planner.check.locked import excuse_taken_off
    from planner.check.plan_files import prepare

    plan, tables = case
    tables["fleet"].loc[tables["fleet"]["type_id"] == "C53", "count"] = 1
    found = run(fx, plan, tables).violations
    assert (found["rule"] == "coaches_on_road").any()
    ctx = CheckContext.build(fx.sc, tables, fx.rejected_rows)

    def after(locked: list[str]) -> pd.DataFrame:
        plan.summary = {**(plan.summary or {}), "replan": {"locked_trips": locked}}
        return excuse_taken_off(found, plan, tables, prepare(plan), ctx)

    assert not (after(["C500101-0002", "E500101-0002"])["rule"] == "coaches_on_road").any()
    assert (after([])["rule"] == "coaches_on_road").any()
    assert (after(["C500101-0001", "E500101-0001"])["rule"] == "coaches_on_road").any()
