"""Benchmark: road travel tables (planner.roads.road_tables) on a county-sized road network.

No OpenStreetMap extract can be downloaded here, so the network is made up: a square grid of
``--grid`` x ``--grid`` road nodes about 150 m apart near 万州 (every tenth road primary, every
fifth tertiary, the rest residential; two-way), written as OSM XML, which osmnx reads like a real
extract. ``--places`` villages are scattered over it. Timed, in this process:

- reading the network with osmnx and building the sparse graphs (``load_network``),
- a cold ``road_tables`` call (read + snap + many-to-many minutes and km with
  ``scipy.sparse.csgraph.dijkstra``), and a warm one (the cache, keyed by the file's sha256).

    .venv/bin/python bench/roads_matrix.py                      # 200 x 200 grid (40,000 nodes), 1,000 places
    .venv/bin/python bench/roads_matrix.py --grid 100 --places 300 --runs 3
"""

from __future__ import annotations

import argparse
import importlib
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from planner.roads import load_network, road_tables

LON0, LAT0 = 108.30, 30.70
STEP_DEG = 0.0015  # about 145 m north-south, 128 m east-west at 30.7 N


def write_grid_osm(path: Path, n: int) -> None:
    """An n x n grid of two-way roads as OSM XML (ids: node r*n+c+1, ways per row and column)."""
    with path.open("w", encoding="utf-8") as f:
        f.write('<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6" generator="bench/roads_matrix.py">\n')
        f.write(f'  <bounds minlat="{LAT0:.7f}" minlon="{LON0:.7f}" maxlat="{LAT0 + (n - 1) * STEP_DEG:.7f}" '
                f'maxlon="{LON0 + (n - 1) * STEP_DEG:.7f}"/>\n')
        for r in range(n):
            for c in range(n):
                f.write(f'  <node id="{r * n + c + 1}" version="1" lat="{LAT0 + r * STEP_DEG:.7f}" '
                        f'lon="{LON0 + c * STEP_DEG:.7f}"/>\n')
        way = 1
        for k in range(n):
            cls = "primary" if k % 10 == 0 else "tertiary" if k % 5 == 0 else "residential"
            for nodes in ([k * n + c + 1 for c in range(n)], [r * n + k + 1 for r in range(n)]):
                f.write(f'  <way id="{way}" version="1">\n')
                f.writelines(f'    <nd ref="{x}"/>\n' for x in nodes)
                f.write(f'    <tag k="highway" v="{cls}"/>\n  </way>\n')
                way += 1
        f.write("</osm>\n")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--grid", type=int, default=200, help="road nodes per side (default 200: 40,000 nodes)")
    ap.add_argument("--places", type=int, default=1000, help="villages scattered over the grid (default 1000)")
    ap.add_argument("--runs", type=int, default=1, help="repeats of each timing (default 1)")
    args = ap.parse_args(argv)
    rng = np.random.default_rng(2020)
    with tempfile.TemporaryDirectory() as tmp:
        osm = Path(tmp) / "grid.osm"
        t = time.perf_counter()
        write_grid_osm(osm, args.grid)
        print(f"wrote {osm.name}: {args.grid ** 2:,} nodes, {osm.stat().st_size / 1e6:.0f} MB "
              f"in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        span = (args.grid - 1) * STEP_DEG
        places = pd.DataFrame({
            "place_id": [f"V{i:05d}" for i in range(args.places)],
            "lon": LON0 + rng.uniform(0, span, args.places),
            "lat": LAT0 + rng.uniform(0, span, args.places),
        })
        importlib.import_module("osmnx")  # imported once before timing: the first import takes seconds

        load_s, cold_s, warm_s = [], [], []
        for run in range(args.runs):
            t = time.perf_counter()
            net = load_network(osm)
            load_s.append(time.perf_counter() - t)
            cache = Path(tmp) / f"cache{run}"
            t = time.perf_counter()
            tables = road_tables(osm, places, cache_dir=cache)
            cold_s.append(time.perf_counter() - t)
            t = time.perf_counter()
            road_tables(osm, places, cache_dir=cache)
            warm_s.append(time.perf_counter() - t)
        finite = np.isfinite(tables.minutes)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print("| road nodes | links | places | read network s | tables cold s | tables cached s | peak MB |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        print(f"| {net.n_nodes:,} | {net.graph.nnz:,} | {args.places:,} | {statistics.median(load_s):.1f} | "
              f"{statistics.median(cold_s):.1f} | {statistics.median(warm_s):.2f} | {peak_mb:.0f} |")
        print(f"\nmedians over {args.runs} run(s); pairs with a road: {finite.mean():.1%}; "
              f"median minutes between places {np.median(tables.minutes[finite & (tables.minutes > 0)]):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
