"""Planning with a road network: feeder times come from the roads, a village behind a missing
bridge is unassigned with its reason (never dropped), and the checker agrees with the solver.

The network is the project's own tiny OSM file (tools/make_test_osm.py): a hub on a primary
road, village 1 north and village 2 south on tertiary roads, village 3 across a bridge.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from planner.check import check_plan, read_plan
from planner.plan_writer import write_plan
from planner.roads import road_tables
from planner.solve.problem import build_problem
from planner.solve.solver import solve
from tests.solver_fixtures import TERMINAL, scenario, tiny_tables

ROADS = Path(__file__).parent / "data" / "roads"
# the hub and the three villages of the tiny network (lon, lat), as in tests/test_roads.py
HUB = (108.3801, 30.8003)
VILLAGES = [(108.4052, 30.8254), (108.3548, 30.7748), (108.4505, 30.8102)]


def _tables():
    t = tiny_tables({"F0002": 40, "F0004": 35}, villages=3)
    for i, (lon, lat) in enumerate(VILLAGES):
        t["villages"].loc[i, ["lon", "lat"]] = [lon, lat]
    t["hubs"].loc[t["hubs"]["hub_id"] == TERMINAL, ["lon", "lat"]] = list(HUB)
    return t


def _plan(network: Path, tmp_path: Path):
    tables = _tables()
    # one pick-up stop per direct coach: loads from several villages go through the hub by feeder
    sc = scenario(roads={"network": str(network), "cache_dir": str(tmp_path / "cache")}, fleet={"max_pickup_stops": 1})
    p = build_problem(sc, tables)
    res = solve(p)
    out = tmp_path / "plan"
    write_plan(out, p, res, pd.DataFrame(), len(tables["workers"]), {})
    return sc, tables, p, out


@pytest.mark.parametrize("network", ["tiny.osm", "tiny_no_bridge.osm"])
def test_plan_on_roads_passes_the_checker(network, tmp_path):
    """Every worker is accounted for once and the checker (reading the same roads) finds nothing."""
    sc, tables, _p, out = _plan(ROADS / network, tmp_path)
    report = check_plan(read_plan(out), sc, tables, set())
    assert report.ok, report.text()
    workers = pd.read_csv(out / "workers.csv", dtype=str)
    assert sorted(workers["worker_id"]) == sorted(tables["workers"]["worker_id"])


def test_village_behind_missing_bridge_is_unassigned_with_its_reason(tmp_path):
    """Without the bridge, village 3's workers are unassigned as no_road_to_village; the others travel."""
    _sc, tables, p, out = _plan(ROADS / "tiny_no_bridge.osm", tmp_path)
    v3 = tables["villages"].loc[2, "village_code"]
    assert p.travel.unreachable == {v3}
    workers = pd.read_csv(out / "workers.csv", dtype=str)
    cut = workers[workers["village_code"] == v3]
    assert len(cut) > 0
    assert (cut["status"] == "unassigned").all() and (cut["reason"] == "no_road_to_village").all()
    assert (workers.loc[workers["village_code"] != v3, "status"] == "planned").all()


def test_feeder_times_follow_the_roads(tmp_path):
    """A feeder's drive from its last village to the hub takes the road time (whole minutes, rounded up)."""
    _sc, tables, _p, out = _plan(ROADS / "tiny.osm", tmp_path)
    places = pd.concat([
        tables["villages"][["village_code", "lon", "lat"]].rename(columns={"village_code": "place_id"}),
        pd.DataFrame({"place_id": [TERMINAL], "lon": [HUB[0]], "lat": [HUB[1]]}),
    ], ignore_index=True)
    roads = road_tables(ROADS / "tiny.osm", places)
    idx = roads.index()
    trips = pd.read_csv(out / "trips.csv", dtype=str)
    stops = pd.read_csv(out / "stops.csv", dtype=str, parse_dates=["arrive", "depart"])
    feeders = trips.loc[(trips["mode"] == "feeder") & (trips["destination_ids"] == TERMINAL), "trip_id"]
    assert len(feeders) > 0
    for tid in feeders:
        st = stops[stops["trip_id"] == tid].sort_values("seq", key=lambda s: s.astype(int))
        last_village, hub = st.iloc[-2], st.iloc[-1]
        minutes = (hub["arrive"] - last_village["depart"]).total_seconds() / 60
        road = roads.minutes[idx[last_village["place_id"]], idx[TERMINAL]]
        assert minutes == math.ceil(road - 1e-9)
