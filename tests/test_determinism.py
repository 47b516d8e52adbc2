"""Plans do not depend on the machine's load: no wall clock decides anything in the search."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from planner.cli import EXIT_OK, main
from planner.routing import VrpProblem, solve_vrp

ROOT = Path(__file__).resolve().parent.parent
GEODATA = ROOT / "geodata"
PLAN_FILES = ("trips", "stops", "legs", "workers")
BUSY = "import os, sys; os.sched_setaffinity(0, {int(sys.argv[1])})\nwhile True:\n    pass\n"
PLAN = ("import os, sys; os.sched_setaffinity(0, {int(sys.argv[3])})\n"
        "from planner.pipeline import run_plan\n"
        "run_plan(sys.argv[1], __import__('pathlib').Path(sys.argv[2]), check=False, processes=1)\n")


def _scenario(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    assert main(["synth", "--out", str(data), "--counties", "500101", "--workers", "600",
                 "--workers-per-coach", "60", "--workers-per-feeder", "150", "--end", "2020-02-24"]) == EXIT_OK
    scen = tmp_path / "s.toml"
    scen.write_text(
        f"""name = "负载复现测试"
[window]
start = 2020-02-14
end = 2020-02-24
[data]
villages = "{GEODATA}/chongqing/villages.gpkg"
counties = "{GEODATA}/chongqing/counties.gpkg"
hubs = "{GEODATA}/chongqing/hubs.csv"
stations = "{GEODATA}/receiving/stations.csv"
receiving_counties = "{GEODATA}/receiving/counties.gpkg"
vehicle_types = "{data}/vehicle_types.csv"
workers = "{data}/workers.csv"
factories = "{data}/factories.csv"
fleet = "{data}/fleet.csv"
train_services = "{data}/train_services.csv"
risk_calendar = "{data}/risk_calendar.csv"
""",
        encoding="utf-8",
    )
    return scen


def _plan(scen: Path, out: Path, cpu: int) -> None:
    subprocess.run([sys.executable, "-c", PLAN, str(scen), str(out), str(cpu)], check=True, cwd=ROOT,
                   capture_output=True, timeout=300)


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs os.sched_setaffinity (Linux)")
def test_plan_under_cpu_load_is_byte_identical(tmp_path):
    """The same scenario planned on an idle core and on a core shared with three busy loops: same files."""
    scen = _scenario(tmp_path)
    cpu = sorted(os.sched_getaffinity(0))[0]
    quiet, loaded = tmp_path / "quiet", tmp_path / "loaded"
    _plan(scen, quiet, cpu)
    busy = [subprocess.Popen([sys.executable, "-c", BUSY, str(cpu)]) for _ in range(3)]
    try:
        _plan(scen, loaded, cpu)
    finally:
        for p in busy:
            p.kill()
            p.wait()
    for name in PLAN_FILES:
        assert (quiet / f"{name}.csv").read_bytes() == (loaded / f"{name}.csv").read_bytes(), name
    a, b = (json.loads((d / "summary.json").read_text(encoding="utf-8")) for d in (quiet, loaded))
    for measured in ("wall_time_s", "peak_memory_mb"):  # measurements of the run, not the plan
        a.pop(measured, None), b.pop(measured, None)
    assert a == b, {k: (a[k], b.get(k)) for k in a if a[k] != b.get(k)}
    assert a["workers"]["planned"] > 0 and a["departures"]["feeder"] > 0


def _calls_and_attributes(path: Path) -> tuple[set[str], set[str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    keywords = {kw.arg for node in ast.walk(tree) if isinstance(node, ast.Call) for kw in node.keywords if kw.arg}
    names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)} | {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    return keywords, names


def test_no_wall_clock_limit_in_the_solver():
    """No solver module sets a wall-clock limit: no max_time_in_seconds, no MaxRuntime, no seconds= to a search."""
    for path in sorted((ROOT / "planner" / "solve").glob("*.py")):
        keywords, names = _calls_and_attributes(path)
        assert "max_time_in_seconds" not in names, path.name
        assert "MaxRuntime" not in names, path.name
        assert "seconds" not in keywords - {"minutes"} or path.name == "trains.py", path.name  # timedelta(seconds=59)


@pytest.mark.parametrize("engine", ["pyvrp", "ortools"])
def test_routing_on_iterations_alone(engine):
    """solve_vrp with iterations and no seconds stops on its own and gives the same routes twice."""
    rng = np.random.default_rng(5)
    xy = rng.uniform(0, 100, size=(16, 2))
    problem = VrpProblem(demands=(0, *([3] * 15)), capacity=10, coords=tuple(map(tuple, xy)), vehicle_fixed_cost=50)
    a = solve_vrp(problem, engine=engine, iterations=30, seed=2)
    b = solve_vrp(problem, engine=engine, iterations=30, seed=2)
    assert a.feasible and a.routes == b.routes and a.cost == b.cost
    with pytest.raises(ValueError, match="iterations"):
        solve_vrp(problem, engine=engine)
