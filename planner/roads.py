"""Road travel times from a road network file (OSM XML or OSMnx GraphML).

The network is read with OSMnx (offline: only the local file is read), kept whole (every
component, so that places no road reaches can be reported rather than silently dropped), and
turned into a directed sparse matrix of travel minutes between node indices. Each edge takes
``length / speed`` with the speed given by its ``highway`` class (the first class when OSMnx
stored a list). Parallel edges between the same two nodes keep the fastest, never the sum
(``scipy.sparse.csr_matrix`` would sum duplicates). Only edges with a ``highway`` tag are roads:
rivers, railways and the like are ignored, and so are nodes on no road (village and POI points).

Shortest paths run with :func:`scipy.sparse.csgraph.dijkstra`; unreachable pairs are ``inf``.
Places are snapped to the nearest road node with a KD-tree on unit-sphere (ECEF) coordinates,
which ranks nodes exactly by great-circle distance.

Typical use::

    minutes, unreachable = travel_matrix(Path("wanzhou.osm.bz2"), places, cache_dir=Path(".cache/roads"))
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.sparse as sp
from numpy.typing import ArrayLike, NDArray
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from planner.errors import DataError

log = logging.getLogger(__name__)

EARTH_RADIUS_M = 6_371_008.8
"""Mean Earth radius (IUGG), m."""

DEFAULT_SPEEDS_KMH: dict[str, float] = {
    "motorway": 90.0,
    "trunk": 70.0,
    "primary": 60.0,
    "secondary": 50.0,
    "tertiary": 40.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "track": 15.0,
}
"""Average coach speed by OSM ``highway`` class, km/h; any other class uses :data:`OTHER_SPEED_KEY`."""

OTHER_SPEED_KEY = "other"
"""Key of the speed for every class not named in the speeds (25 km/h by default)."""

DEFAULT_OTHER_KMH = 25.0

SUFFIXES = (".osm", ".osm.bz2", ".osm.gz", ".graphml")
"""Road network files :func:`load_network` reads."""

_CACHE_VERSION = 2
"""Bump when the cached result's meaning changes, so old cache files are not reused."""

_MAX_DIJKSTRA_CELLS = 20_000_000
"""Rows x nodes of one dijkstra call (float64: 160 MB); sources are run in chunks below this."""

_MIN_EDGE_MIN = 1e-9
"""Floor of an edge's minutes, so that zero-length edges stay edges in every scipy version."""


@dataclass(frozen=True, eq=False)
class RoadNetwork:
    """A directed road network: node positions and a sparse matrix of travel minutes.

    Attributes
    ----------
    path
        The file it was read from.
    osmid
        OSM id of each node, by node index.
    lon, lat
        WGS-84 degrees of each node, by node index.
    graph
        ``n x n`` CSR matrix; ``graph[i, j]`` is the minutes of the fastest edge from node ``i``
        to node ``j`` (no entry: no edge).
    length_graph
        The same links with their length in km (the shortest of parallel edges); ``None`` when
        only times are wanted.
    """

    path: Path
    osmid: NDArray[np.int64]
    lon: NDArray[np.float64]
    lat: NDArray[np.float64]
    graph: sp.csr_matrix
    length_graph: sp.csr_matrix | None = None
    _tree: cKDTree = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_tree", cKDTree(_unit_xyz(self.lon, self.lat)))

    @property
    def n_nodes(self) -> int:
        """Number of road nodes."""
        return len(self.osmid)

    def node_index(self, osmids: ArrayLike) -> NDArray[np.intp]:
        """Node indices of OSM node ids (KeyError naming the first unknown id)."""
        ids = np.atleast_1d(np.asarray(osmids, dtype=np.int64))
        order = np.argsort(self.osmid, kind="stable")
        pos = np.searchsorted(self.osmid, ids, sorter=order)
        pos = np.clip(pos, 0, len(order) - 1)
        idx = order[pos]
        bad = self.osmid[idx] != ids
        if bad.any():
            raise KeyError(f"OSM node {int(ids[bad][0])} is not a road node of {self.path}")
        return idx.astype(np.intp)

    def snap(self, lons: ArrayLike, lats: ArrayLike) -> tuple[NDArray[np.intp], NDArray[np.float64]]:
        """Nearest road node of each point.

        Parameters
        ----------
        lons, lats
            WGS-84 degrees, same length.

        Returns
        -------
        nodes, snap_m
            Node index of each point and its great-circle distance to that node in metres.
        """
        lon = np.atleast_1d(np.asarray(lons, dtype=np.float64))
        lat = np.atleast_1d(np.asarray(lats, dtype=np.float64))
        if lon.shape != lat.shape:
            msg = f"经纬度个数不同 (lons and lats differ in length): {lon.shape} vs {lat.shape}"
            raise ValueError(msg)
        if lon.size == 0:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float64)
        chord, idx = self._tree.query(_unit_xyz(lon, lat))
        snap_m = 2.0 * EARTH_RADIUS_M * np.arcsin(np.clip(np.asarray(chord) / 2.0, 0.0, 1.0))
        return np.asarray(idx, dtype=np.intp), snap_m

    def minutes(self, src_nodes: ArrayLike, dst_nodes: ArrayLike) -> NDArray[np.float64]:
        """Fastest travel minutes from each source node to each destination node.

        Parameters
        ----------
        src_nodes, dst_nodes
            Node indices (as from :meth:`snap`); repeats are fine and computed once.

        Returns
        -------
        numpy.ndarray
            ``len(src_nodes) x len(dst_nodes)`` minutes, ``inf`` where no road leads.
        """
        src = np.atleast_1d(np.asarray(src_nodes, dtype=np.intp))
        dst = np.atleast_1d(np.asarray(dst_nodes, dtype=np.intp))
        for name, arr in (("src_nodes", src), ("dst_nodes", dst)):
            if arr.size and (arr.min() < 0 or arr.max() >= self.n_nodes):
                msg = f"{name}: 节点序号超出范围 (node index out of range 0..{self.n_nodes - 1})"
                raise IndexError(msg)
        if src.size == 0 or dst.size == 0:
            return np.empty((src.size, dst.size), dtype=np.float64)
        return _between(self.graph, src, dst)

    def km(self, src_nodes: ArrayLike, dst_nodes: ArrayLike) -> NDArray[np.float64]:
        """Shortest road km from each source node to each destination node (``inf``: no road)."""
        if self.length_graph is None:
            msg = "this network was built without lengths"
            raise ValueError(msg)
        src = np.atleast_1d(np.asarray(src_nodes, dtype=np.intp))
        dst = np.atleast_1d(np.asarray(dst_nodes, dtype=np.intp))
        if src.size == 0 or dst.size == 0:
            return np.empty((src.size, dst.size), dtype=np.float64)
        return _between(self.length_graph, src, dst)

    def covers(self, lons: ArrayLike, lats: ArrayLike, margin_deg: float = 0.01) -> NDArray[np.bool_]:
        """Whether each point lies in the network's bounding box (plus ``margin_deg``)."""
        lon = np.asarray(lons, dtype=np.float64)
        lat = np.asarray(lats, dtype=np.float64)
        return ((lon >= self.lon.min() - margin_deg) & (lon <= self.lon.max() + margin_deg)
                & (lat >= self.lat.min() - margin_deg) & (lat <= self.lat.max() + margin_deg))

    def strong_components(self) -> NDArray[np.int32]:
        """Strongly connected component label of each node (same label: reachable both ways)."""
        _, labels = connected_components(self.graph, directed=True, connection="strong")
        return labels


def _between(graph: sp.csr_matrix, src: NDArray[np.intp], dst: NDArray[np.intp]) -> NDArray[np.float64]:
    usrc, src_inv = np.unique(src, return_inverse=True)
    udst, dst_inv = np.unique(dst, return_inverse=True)
    if len(udst) < len(usrc):
        # fewer searches backwards: from each destination over the reversed edges
        sub = _many_to_many(graph.T.tocsr(), udst, usrc).T
    else:
        sub = _many_to_many(graph, usrc, udst)
    return sub[np.ix_(src_inv.ravel(), dst_inv.ravel())]


def _many_to_many(graph: sp.csr_matrix, sources: NDArray[np.intp], targets: NDArray[np.intp]) -> NDArray[np.float64]:
    """Dijkstra from unique sources, keeping only the target columns, in memory-bounded chunks."""
    n = graph.shape[0]
    chunk = max(1, _MAX_DIJKSTRA_CELLS // max(n, 1))
    out = np.empty((len(sources), len(targets)), dtype=np.float64)
    for start in range(0, len(sources), chunk):
        rows = sources[start : start + chunk]
        dist = dijkstra(graph, directed=True, indices=rows)
        out[start : start + len(rows)] = np.atleast_2d(dist)[:, targets]
    return out


def _unit_xyz(lon: ArrayLike, lat: ArrayLike) -> NDArray[np.float64]:
    """Points on the unit sphere; chord length there is monotonic in great-circle distance."""
    lam = np.radians(np.asarray(lon, dtype=np.float64))
    phi = np.radians(np.asarray(lat, dtype=np.float64))
    cphi = np.cos(phi)
    return np.column_stack([cphi * np.cos(lam), cphi * np.sin(lam), np.sin(phi)])


def _haversine_m(lon1: NDArray, lat1: NDArray, lon2: NDArray, lat2: NDArray) -> NDArray[np.float64]:
    x1, y1, x2, y2 = (np.radians(v) for v in (lon1, lat1, lon2, lat2))
    a = np.sin((y2 - y1) / 2) ** 2 + np.cos(y1) * np.cos(y2) * np.sin((x2 - x1) / 2) ** 2
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def resolve_speeds(speeds_kmh: Mapping[str, float] | None = None) -> dict[str, float]:
    """The default speeds with ``speeds_kmh`` laid over them (key ``"other"`` for unnamed classes).

    A speed of 0 takes that class out of the network (e.g. ``{"footway": 0}``).
    """
    speeds = {**DEFAULT_SPEEDS_KMH, OTHER_SPEED_KEY: DEFAULT_OTHER_KMH}
    for key, value in (speeds_kmh or {}).items():
        v = float(value)
        if not np.isfinite(v) or v < 0:
            msg = f"道路等级 {key!r} 的车速 {value!r} 无效，应为非负数 (speed must be a finite number >= 0 km/h)"
            raise ValueError(msg)
        speeds[str(key)] = v
    return speeds


def _file_kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".graphml"):
        return "graphml"
    if name.endswith((".osm", ".osm.bz2", ".osm.gz", ".xml", ".xml.bz2", ".xml.gz")):
        return "osm"
    msg = (
        f"{path}: 路网文件格式无法识别，应为 .osm、.osm.bz2 或 .graphml "
        f"(unknown road network format; expected .osm, .osm.bz2, .osm.gz or .graphml)"
    )
    raise DataError(msg)


def _read_graph(path: Path):  # -> networkx.MultiDiGraph (osmnx imported lazily: it is slow to import)
    import osmnx as ox

    kind = _file_kind(path)
    try:
        if kind == "graphml":
            return ox.load_graphml(path)
        # osmnx reads .bz2 and .gz itself (by the file suffix); no temporary copy needed
        return ox.graph_from_xml(path, simplify=False, retain_all=True, bidirectional=False)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - any parser failure is the file's fault
        msg = f"{path}: 路网文件无法读取 (cannot read road network file): {type(exc).__name__}: {exc}"
        raise DataError(msg) from exc


def _edge_class(highway: object) -> str | None:
    if isinstance(highway, (list, tuple)):
        highway = highway[0] if highway else None
    if highway is None or (isinstance(highway, float) and np.isnan(highway)):
        return None
    return str(highway)


def load_network(path: Path, *, speeds_kmh: Mapping[str, float] | None = None) -> RoadNetwork:
    """Read a road network file into a :class:`RoadNetwork`.

    Parameters
    ----------
    path
        ``.osm``, ``.osm.bz2``, ``.osm.gz`` (OSM XML, e.g. a Geofabrik extract cut with osmium) or
        ``.graphml`` (saved by ``osmnx.save_graphml``). Every component is kept.
    speeds_kmh
        Speeds by ``highway`` class laid over :data:`DEFAULT_SPEEDS_KMH`; key ``"other"`` for
        every other class (25 km/h by default); 0 drops a class.

    Raises
    ------
    DataError
        The file is missing, of an unknown kind, unreadable, or holds no road.
    """
    path = Path(path)
    speeds = resolve_speeds(speeds_kmh)
    if not path.is_file():
        msg = f"{path}: 路网文件不存在 (road network file not found)"
        raise DataError(msg)
    G = _read_graph(path)

    osmids = list(G.nodes)
    index = {nid: i for i, nid in enumerate(osmids)}
    xs = np.array([G.nodes[n].get("x", np.nan) for n in osmids], dtype=np.float64)
    ys = np.array([G.nodes[n].get("y", np.nan) for n in osmids], dtype=np.float64)

    us: list[int] = []
    vs: list[int] = []
    lengths: list[float] = []
    kmh: list[float] = []
    other = speeds[OTHER_SPEED_KEY]
    skipped_no_class = 0
    for u, v, data in G.edges(data=True):
        cls = _edge_class(data.get("highway"))
        if cls is None:
            skipped_no_class += 1
            continue
        speed = speeds.get(cls, other)
        if speed <= 0:
            continue
        us.append(index[u])
        vs.append(index[v])
        length = data.get("length")
        lengths.append(np.nan if length is None else float(length))
        kmh.append(speed)
    if skipped_no_class:
        log.info("%s: %d edges without a highway tag ignored (not roads)", path, skipped_no_class)
    if not us:
        msg = f"{path}: 路网文件中没有道路 (no highway edges in the road network file)"
        raise DataError(msg)

    u_arr = np.asarray(us, dtype=np.int64)
    v_arr = np.asarray(vs, dtype=np.int64)
    length_m = np.asarray(lengths, dtype=np.float64)
    if np.isnan(xs[u_arr]).any() or np.isnan(xs[v_arr]).any():
        msg = f"{path}: 道路引用了没有坐标的节点 (a road references a node without coordinates)"
        raise DataError(msg)
    missing = np.isnan(length_m)
    if missing.any():  # GraphML without lengths: straight line between the ends
        length_m[missing] = _haversine_m(xs[u_arr[missing]], ys[u_arr[missing]], xs[v_arr[missing]], ys[v_arr[missing]])
    minutes = np.maximum(length_m / 1000.0 / np.asarray(kmh) * 60.0, _MIN_EDGE_MIN)

    # keep only nodes on some road; renumber
    on_road = np.zeros(len(osmids), dtype=bool)
    on_road[u_arr] = True
    on_road[v_arr] = True
    new_index = np.full(len(osmids), -1, dtype=np.int64)
    new_index[on_road] = np.arange(int(on_road.sum()))
    u_arr, v_arr = new_index[u_arr], new_index[v_arr]
    n = int(on_road.sum())

    # drop self-loops, keep the fastest of parallel edges (csr_matrix would sum duplicates)
    keep = u_arr != v_arr
    u_arr, v_arr, minutes, km = u_arr[keep], v_arr[keep], minutes[keep], np.maximum(length_m[keep] / 1000.0, _MIN_EDGE_MIN)
    graph = _fastest_of_parallel(u_arr, v_arr, minutes, n)
    length_graph = _fastest_of_parallel(u_arr, v_arr, km, n)

    osmid_arr = np.array([int(x) for x in osmids], dtype=np.int64)[on_road]
    net = RoadNetwork(path=path, osmid=osmid_arr, lon=xs[on_road], lat=ys[on_road], graph=graph,
                      length_graph=length_graph)
    log.info("%s: %d road nodes, %d directed links", path, net.n_nodes, graph.nnz)
    return net


def _fastest_of_parallel(u: NDArray, v: NDArray, w: NDArray, n: int) -> sp.csr_matrix:
    """CSR matrix of the links keeping the least weight of parallel edges (csr_matrix would sum them)."""
    order = np.lexsort((w, v, u))
    u, v, w = u[order], v[order], w[order]
    first = np.ones(len(u), dtype=bool)
    first[1:] = (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    return sp.csr_matrix((w[first], (u[first], v[first])), shape=(n, n))


def _check_places(places: pd.DataFrame) -> None:
    missing = [c for c in ("place_id", "lon", "lat") if c not in places.columns]
    if missing:
        msg = f"地点表缺少列 {missing} (places lack columns {missing}; need place_id, lon, lat)"
        raise DataError(msg)
    dup = places["place_id"][places["place_id"].duplicated()]
    if len(dup):
        msg = f"地点编号重复 (duplicate place_id): {list(dup.unique()[:5])}"
        raise DataError(msg)
    coords = places[["lon", "lat"]].apply(pd.to_numeric, errors="coerce")
    bad = ~np.isfinite(coords.to_numpy(dtype=np.float64)).all(axis=1)
    if bad.any():
        msg = f"地点缺少有效经纬度 (places without valid lon/lat): {list(places['place_id'][bad][:5])}"
        raise DataError(msg)


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _cache_key(network_sha: str, places: pd.DataFrame, speeds: dict[str, float], max_snap_m: float | None) -> str:
    h = hashlib.sha256()
    h.update(f"roads-v{_CACHE_VERSION}\n{network_sha}\n".encode())
    h.update(json.dumps(sorted(speeds.items())).encode())
    h.update(f"\nmax_snap_m={max_snap_m!r}\n".encode())
    h.update(places[["place_id"]].astype(str).to_csv(index=False).encode())
    h.update(np.ascontiguousarray(places[["lon", "lat"]].to_numpy(dtype=np.float64)).tobytes())
    return h.hexdigest()


def snap_places(network: RoadNetwork, places: pd.DataFrame) -> pd.DataFrame:
    """Nearest road node of each place: columns place_id, node, osmid, snap_m."""
    _check_places(places)
    nodes, snap_m = network.snap(places["lon"].to_numpy(np.float64), places["lat"].to_numpy(np.float64))
    return pd.DataFrame(
        {"place_id": places["place_id"].to_numpy(), "node": nodes, "osmid": network.osmid[nodes], "snap_m": snap_m}
    )


@dataclass(frozen=True, eq=False)
class RoadTables:
    """Road travel between places: minutes (fastest path), km (shortest path), who no road reaches.

    Rows and columns follow ``place_ids``; ``inf`` where no road leads. ``covered`` marks the
    places inside the network's bounding box: only for those does the network speak (a
    factory in another province is simply outside a county's network, not unreachable).
    ``unreachable`` are covered places outside the largest group of places that reach each
    other both ways, or farther than ``max_snap_m`` from every road.
    """

    place_ids: tuple[str, ...]
    minutes: NDArray[np.float64]
    km: NDArray[np.float64]
    covered: NDArray[np.bool_]
    unreachable: frozenset[str]

    def index(self) -> dict[str, int]:
        """Place id -> row."""
        return {p: i for i, p in enumerate(self.place_ids)}


def _compute(
    network: RoadNetwork, places: pd.DataFrame, max_snap_m: float | None
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_], NDArray[np.bool_]]:
    covered = network.covers(places["lon"].to_numpy(np.float64), places["lat"].to_numpy(np.float64))
    snapped = snap_places(network, places)
    nodes = snapped["node"].to_numpy()
    too_far = np.zeros(len(nodes), dtype=bool)
    if max_snap_m is not None:
        too_far = (snapped["snap_m"].to_numpy() > max_snap_m) & covered
        for row in snapped[too_far].itertuples():
            log.warning("place %s lies %.0f m from the nearest road of %s", row.place_id, row.snap_m, network.path)
    n = len(nodes)
    minutes = np.full((n, n), np.inf)
    km = np.full((n, n), np.inf)
    inside = np.flatnonzero(covered & ~too_far)
    if len(inside):
        minutes[np.ix_(inside, inside)] = network.minutes(nodes[inside], nodes[inside])
        km[np.ix_(inside, inside)] = network.km(nodes[inside], nodes[inside])
    np.fill_diagonal(minutes, 0.0)
    np.fill_diagonal(km, 0.0)

    # the main group: the strong component (both ways reachable) holding the most covered places
    labels = network.strong_components()[nodes].astype(np.int64)
    lonely = too_far | ~covered
    labels[lonely] = -1 - np.arange(int(lonely.sum()))  # each too-far or outside place alone
    if covered.any():
        uniq, first_pos, counts = np.unique(labels[covered], return_index=True, return_counts=True)
        # most places wins; ties go to the group of the earliest place (deterministic)
        best = uniq[np.lexsort((first_pos, -counts))[0]]
        unreachable = covered & ((labels != best) | too_far)
    else:
        unreachable = np.zeros(n, dtype=bool)
    return minutes, km, covered, unreachable


def road_tables(
    path: Path,
    places: pd.DataFrame,
    *,
    cache_dir: Path | None = None,
    speeds_kmh: Mapping[str, float] | None = None,
    max_snap_m: float | None = None,
) -> RoadTables:
    """Road minutes and km between places, and which places no road reaches.

    Each place is snapped to its nearest road node; the tables are node to node (the walk or
    drive from the place to its node is not added; see :func:`snap_places` for the distance).

    Parameters
    ----------
    path
        The road network file (see :func:`load_network`).
    places
        Columns ``place_id`` (unique), ``lon``, ``lat`` (WGS-84 degrees).
    cache_dir
        When given, the result is stored there, keyed by the network file's sha256, the places
        and the speeds; a later call with the same inputs reads it instead of the network.
    speeds_kmh
        See :func:`load_network`.
    max_snap_m
        Places farther than this from every road node count as unreachable (``None``: no limit).
    """
    path = Path(path)
    if not path.is_file():
        msg = f"{path}: 路网文件不存在 (road network file not found)"
        raise DataError(msg)
    _file_kind(path)
    _check_places(places)
    speeds = resolve_speeds(speeds_kmh)
    ids = places["place_id"].to_numpy()

    cache_file = None
    key = ""
    if cache_dir is not None:
        key = _cache_key(_sha256_file(path), places, speeds, max_snap_m)
        cache_file = Path(cache_dir) / f"roads-{key[:40]}.npz"
        if cache_file.is_file():
            try:
                with np.load(cache_file, allow_pickle=False) as z:
                    if str(z["key"]) == key and z["minutes"].shape == (len(ids), len(ids)):
                        log.info("road travel times from cache %s", cache_file)
                        return _tables(ids, z["minutes"], z["km"], z["covered"], z["unreachable"])
            except (OSError, ValueError, KeyError, EOFError) as exc:  # damaged cache: recompute
                log.warning("ignoring damaged road cache %s: %s", cache_file, exc)

    network = load_network(path, speeds_kmh=speeds)
    minutes, km, covered, unreachable = _compute(network, places, max_snap_m)

    if cache_file is not None:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".roads-", suffix=".npz", dir=cache_file.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez_compressed(f, key=np.array(key), minutes=minutes, km=km, covered=covered,
                                    unreachable=unreachable)
            os.replace(tmp, cache_file)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return _tables(ids, minutes, km, covered, unreachable)


def _tables(ids, minutes, km, covered, unreachable) -> RoadTables:
    ids = tuple(x.item() if isinstance(x, np.generic) else x for x in ids)
    unreachable = np.asarray(unreachable, dtype=bool)
    return RoadTables(ids, np.array(minutes, dtype=np.float64), np.array(km, dtype=np.float64),
                      np.asarray(covered, dtype=bool), frozenset(p for p, u in zip(ids, unreachable) if u))


def travel_matrix(
    path: Path,
    places: pd.DataFrame,
    *,
    cache_dir: Path | None = None,
    speeds_kmh: Mapping[str, float] | None = None,
    max_snap_m: float | None = None,
) -> tuple[pd.DataFrame, list]:
    """Road travel minutes between places as a DataFrame, and the unreachable place ids.

    Same inputs as :func:`road_tables`. ``minutes``: indexed by place_id on both axes, row =
    from, column = to, ``inf`` where no road leads, 0 on the diagonal. The unreachable ids are
    in the order of ``places``; their rows and columns stay in the matrix with ``inf``.
    """
    t = road_tables(path, places, cache_dir=cache_dir, speeds_kmh=speeds_kmh, max_snap_m=max_snap_m)
    ids = places["place_id"].to_numpy()
    index = pd.Index(ids, name="from_place_id")
    df = pd.DataFrame(t.minutes, index=index, columns=pd.Index(ids, name="to_place_id"))
    return df, [p for p in t.place_ids if p in t.unreachable]
