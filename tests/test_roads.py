"""Road travel times from a road network file (planner.roads), on the tiny networks of tests/data/roads."""

from __future__ import annotations

import bz2
import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from planner import roads
from planner.errors import DataError
from planner.roads import RoadNetwork, load_network, road_tables, snap_places, travel_matrix
from planner.rules.geo import haversine_km

DATA = Path(__file__).parent / "data" / "roads"
TINY = DATA / "tiny.osm"
NO_BRIDGE = DATA / "tiny_no_bridge.osm"

# node positions in tools/make_test_osm.py
N101, N102, N103, N111 = (108.360, 30.800), (108.380, 30.800), (108.400, 30.800), (108.400, 30.815)


@pytest.fixture(scope="module")
def tiny() -> RoadNetwork:
    return load_network(TINY)


@pytest.fixture(scope="module")
def tiny_no_bridge() -> RoadNetwork:
    return load_network(NO_BRIDGE)


@pytest.fixture
def places() -> pd.DataFrame:
    """The hub and three villages, each a few dozen metres off its road node."""
    return pd.DataFrame(
        {
            "place_id": ["hub", "v1", "v2", "v3"],
            "lon": [108.3801, 108.4052, 108.3548, 108.4505],
            "lat": [30.8003, 30.8254, 30.7748, 30.8102],
        }
    )


def _minutes(km: float, kmh: float) -> float:
    return km / kmh * 60.0


def _between(net: RoadNetwork, a: int, b: int) -> float:
    ia, ib = net.node_index([a, b])
    return float(net.minutes([ia], [ib])[0, 0])


def test_committed_files_equal_the_generator():
    """tests/data/roads/*.osm are exactly what tools/make_test_osm.py writes."""
    spec = importlib.util.spec_from_file_location("make_test_osm", Path(__file__).parents[1] / "tools" / "make_test_osm.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert TINY.read_text(encoding="utf-8") == mod.osm_xml(with_bridge=True)
    assert NO_BRIDGE.read_text(encoding="utf-8") == mod.osm_xml(with_bridge=False)
    assert 'k="bridge"' in TINY.read_text(encoding="utf-8")
    assert 'k="bridge"' not in NO_BRIDGE.read_text(encoding="utf-8")


def test_only_road_nodes_are_kept(tiny, tiny_no_bridge):
    """River nodes and off-road POI/village nodes are dropped; the island behind the bridge is kept."""
    road_nodes = {101, 102, 103, 104, 111, 112, 121, 122, 131, 132, 133, 134}
    assert set(tiny.osmid.tolist()) == road_nodes
    assert set(tiny_no_bridge.osmid.tolist()) == road_nodes


def test_hand_computed_primary_time(tiny):
    """101 -> 102 on the primary road takes great-circle length / 60 km/h."""
    expected = _minutes(haversine_km(*N101, *N102), 60.0)
    assert _between(tiny, 101, 102) == pytest.approx(expected, rel=1e-6)
    assert _between(tiny, 102, 101) == pytest.approx(expected, rel=1e-6)


def test_hand_computed_tertiary_path(tiny):
    """102 -> 111 is 102-103 on the primary (60 km/h) then 103-111 on the tertiary (40 km/h)."""
    expected = _minutes(haversine_km(*N102, *N103), 60.0) + _minutes(haversine_km(*N103, *N111), 40.0)
    assert _between(tiny, 102, 111) == pytest.approx(expected, rel=1e-6)


def test_speeds_override(tiny):
    """speeds_kmh overrides a class; other classes keep their defaults."""
    net = load_network(TINY, speeds_kmh={"primary": 30.0})
    assert _between(net, 101, 102) == pytest.approx(2 * _between(tiny, 101, 102), rel=1e-9)
    assert _between(net, 103, 111) == pytest.approx(_between(tiny, 103, 111), rel=1e-9)


def test_parallel_edges_keep_the_faster(tiny):
    """102-103 is both a primary road and a track: the primary time counts, not the track's nor the sum."""
    km = haversine_km(*N102, *N103)
    got = _between(tiny, 102, 103)
    assert got == pytest.approx(_minutes(km, 60.0), rel=1e-6)
    assert got < _minutes(km, 15.0)
    i, j = tiny.node_index([102, 103])
    assert tiny.graph[i, j] == pytest.approx(_minutes(km, 60.0), rel=1e-6)


def test_parallel_edges_keep_the_minimum_not_the_first():
    """With the track made faster than the primary, the track time counts (the minimum, not the first edge)."""
    net = load_network(TINY, speeds_kmh={"track": 120.0})
    km = haversine_km(*N102, *N103)
    assert _between(net, 102, 103) == pytest.approx(_minutes(km, 120.0), rel=1e-6)


def test_snap_returns_the_nearest_road_node(tiny, places):
    """Each place snaps to its nearest road node (not to the village POI node at its own position)."""
    nodes, snap_m = tiny.snap(places["lon"], places["lat"])
    assert tiny.osmid[nodes].tolist() == [102, 112, 122, 134]
    lon, lat = tiny.lon[nodes], tiny.lat[nodes]
    expected = haversine_km(places["lon"].to_numpy(), places["lat"].to_numpy(), lon, lat) * 1000
    np.testing.assert_allclose(snap_m, expected, rtol=1e-6)
    assert (snap_m > 0).all() and (snap_m < 100).all()
    # brute force over every node agrees
    for k in range(len(places)):
        d = haversine_km(places["lon"][k], places["lat"][k], tiny.lon, tiny.lat)
        assert nodes[k] == int(np.argmin(d))


def test_snap_a_node_position_exactly(tiny):
    """A point on a node snaps to it at 0 m."""
    nodes, snap_m = tiny.snap([108.425], [30.800])
    assert tiny.osmid[nodes[0]] == 131 and snap_m[0] == pytest.approx(0.0, abs=1e-6)


def test_minutes_many_to_many_shapes_and_direction_choice(tiny):
    """Repeated and unequal source/destination lists give the same answer forwards and backwards."""
    src = tiny.node_index([101, 102, 102, 134])
    dst = tiny.node_index([111, 122])
    fwd = tiny.minutes(src, dst)  # fewer destinations: searched backwards
    assert fwd.shape == (4, 2)
    full = tiny.minutes(np.arange(tiny.n_nodes), np.arange(tiny.n_nodes))
    np.testing.assert_allclose(fwd, full[np.ix_(src, dst)])
    np.testing.assert_allclose(tiny.minutes(dst, src), full[np.ix_(dst, src)])
    np.testing.assert_allclose(full, full.T, rtol=1e-12)  # no one-way roads in the tiny network


def test_bridge_village_reachable_with_the_bridge(places):
    """With the bridge every place reaches every other; nothing is unreachable."""
    minutes, unreachable = travel_matrix(TINY, places)
    assert unreachable == []
    assert np.isfinite(minutes.to_numpy()).all()
    assert list(minutes.index) == ["hub", "v1", "v2", "v3"] and list(minutes.columns) == ["hub", "v1", "v2", "v3"]
    assert (np.diag(minutes.to_numpy()) == 0).all()
    assert minutes.loc["hub", "v3"] > 0


def test_bridge_village_unreachable_without_the_bridge(places):
    """Without the bridge v3 stays in the matrix with inf both ways and is reported unreachable."""
    minutes, unreachable = travel_matrix(NO_BRIDGE, places)
    assert unreachable == ["v3"]
    assert "v3" in minutes.index and "v3" in minutes.columns
    others = ["hub", "v1", "v2"]
    assert np.isinf(minutes.loc[others, "v3"]).all() and np.isinf(minutes.loc["v3", others]).all()
    assert minutes.loc["v3", "v3"] == 0
    assert np.isfinite(minutes.loc[others, others].to_numpy()).all()
    with_bridge, _ = travel_matrix(TINY, places)
    pd.testing.assert_frame_equal(minutes.loc[others, others], with_bridge.loc[others, others])


def test_max_snap_m_marks_far_places_unreachable(places):
    """A place in the network's area farther from every road than max_snap_m is unreachable
    (inf minutes); a place outside the area is not covered, and not called unreachable."""
    far = pd.concat([places, pd.DataFrame({"place_id": ["far"], "lon": [108.50], "lat": [30.90]})], ignore_index=True)
    t = road_tables(TINY, far, max_snap_m=40.0)
    idx = t.index()
    assert not t.covered[idx["far"]] and "far" not in t.unreachable
    assert t.covered[[idx[p] for p in ("hub", "v1", "v2", "v3")]].all()
    # snapped: hub 35 m, v1 48 m, v2 29 m, v3 53 m from their road nodes
    assert t.unreachable == {"v1", "v3"}
    for p in t.unreachable:
        assert np.isinf(t.minutes[idx["hub"], idx[p]]) and np.isinf(t.minutes[idx[p], idx["hub"]])
    relaxed = road_tables(TINY, far, max_snap_m=1000.0)
    assert relaxed.unreachable == frozenset()
    assert np.isfinite(relaxed.minutes[idx["hub"], idx["v3"]])


def test_road_km_is_the_shortest_road_length(places):
    """km follows the roads: at least the great-circle distance, and the same both ways here."""
    t = road_tables(TINY, places)
    idx = t.index()
    lon = places.set_index("place_id")["lon"]
    lat = places.set_index("place_id")["lat"]
    from planner.rules.geo import haversine_km
    for a in ("hub", "v1", "v2", "v3"):
        for b in ("hub", "v1", "v2", "v3"):
            if a != b:
                assert t.km[idx[a], idx[b]] >= haversine_km(lon[a], lat[a], lon[b], lat[b]) - 0.2
                assert t.km[idx[a], idx[b]] == pytest.approx(t.km[idx[b], idx[a]])


def test_cache_reuses_and_invalidates(tmp_path, places, monkeypatch):
    """A second call reads the cache; a changed network file recomputes."""
    net_file = tmp_path / "roads.osm"
    shutil.copyfile(TINY, net_file)
    cache = tmp_path / "cache"
    first, unreachable1 = travel_matrix(net_file, places, cache_dir=cache)
    assert len(list(cache.glob("roads-*.npz"))) == 1

    calls = []
    real_load = roads.load_network
    monkeypatch.setattr(roads, "load_network", lambda *a, **k: calls.append(a) or real_load(*a, **k))
    second, unreachable2 = travel_matrix(net_file, places, cache_dir=cache)
    assert calls == []
    pd.testing.assert_frame_equal(first, second)
    assert unreachable1 == unreachable2 == []

    shutil.copyfile(NO_BRIDGE, net_file)  # same name, new content
    third, unreachable3 = travel_matrix(net_file, places, cache_dir=cache)
    assert len(calls) == 1
    assert unreachable3 == ["v3"] and np.isinf(third.loc["hub", "v3"])

    travel_matrix(net_file, places, cache_dir=cache, speeds_kmh={"primary": 80.0})  # speeds are in the key
    assert len(calls) == 2


def test_missing_file_names_it(tmp_path, places):
    """A missing network file is a DataError naming the file, in Chinese and English."""
    missing = tmp_path / "nowhere.osm"
    for call in (lambda: load_network(missing), lambda: travel_matrix(missing, places)):
        with pytest.raises(DataError, match="nowhere.osm") as err:
            call()
        assert "路网文件不存在" in str(err.value) and "not found" in str(err.value)


def test_unreadable_file_names_it(tmp_path):
    """A broken XML file and an unknown suffix are DataErrors naming the file."""
    broken = tmp_path / "broken.osm"
    broken.write_text("<osm><node id=", encoding="utf-8")
    with pytest.raises(DataError, match="broken.osm.*cannot read"):
        load_network(broken)
    odd = tmp_path / "roads.shp"
    odd.write_bytes(b"x")
    with pytest.raises(DataError, match="roads.shp.*unknown road network format"):
        load_network(odd)
    no_roads = tmp_path / "river.osm"
    no_roads.write_text(TINY.read_text(encoding="utf-8").replace('k="highway"', 'k="was_highway"'), encoding="utf-8")
    with pytest.raises(DataError, match="river.osm.*no highway"):
        load_network(no_roads)


def test_bad_places_are_data_errors(places):
    """Duplicate place ids and missing columns are DataErrors."""
    with pytest.raises(DataError, match="duplicate place_id"):
        travel_matrix(TINY, pd.concat([places, places.iloc[[0]]]))
    with pytest.raises(DataError, match="lack columns"):
        travel_matrix(TINY, places.drop(columns="lat"))


def test_bz2_reads_like_plain(tmp_path, tiny):
    """An .osm.bz2 file gives the same network as the plain .osm."""
    packed = tmp_path / "tiny.osm.bz2"
    packed.write_bytes(bz2.compress(TINY.read_bytes()))
    net = load_network(packed)
    np.testing.assert_array_equal(net.osmid, tiny.osmid)
    np.testing.assert_allclose(net.graph.toarray(), tiny.graph.toarray())


def test_graphml_reads_like_osm(tmp_path, tiny):
    """An OSMnx GraphML file (here with the river and POI nodes too) gives the same network."""
    import osmnx as ox

    G = ox.graph_from_xml(TINY, simplify=False, retain_all=True)
    gml = tmp_path / "tiny.graphml"
    ox.save_graphml(G, gml)
    net = load_network(gml)
    np.testing.assert_array_equal(net.osmid, tiny.osmid)
    np.testing.assert_allclose(net.graph.toarray(), tiny.graph.toarray(), rtol=1e-9)


def test_snap_places_table(tiny, places):
    """snap_places gives each place its node, OSM id and distance."""
    table = snap_places(tiny, places)
    assert list(table.columns) == ["place_id", "node", "osmid", "snap_m"]
    assert table["osmid"].tolist() == [102, 112, 122, 134]
