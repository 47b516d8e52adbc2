"""The checker accepts a hand-built legal plan and catches each rule broken on purpose."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from planner.check import CheckReport, check_plan, read_plan
from planner.errors import PlanFormatError
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
    with pytest.raises(PlanFormatError, match=r"stops\.csv.*boarding"):
        read_plan(out)


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
