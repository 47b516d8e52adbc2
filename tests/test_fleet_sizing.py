"""``planner size-fleet`` on a scenario whose answer can be argued on paper.

One county (万州), one factory (虎门, 东莞, about 900 km great-circle), a two-day window: a round
trip (out, turnaround, empty return, rest) takes about 45 h even at the fastest speed, longer
than the 35 h between the first departure (07:00, day one) and the last (18:00, day two), so
each coach makes one trip in the window. A C53 coach under half seats with two isolation rows sells 22 seats. With
N = 2 x 22 + 3 = 47 workers who can all travel on either day and one coach in the fleet,
ceil(47 / 22) = 3 coaches are needed: 2 extra. One more worker holds no health proof and is
out of reach whatever the fleet.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from planner.cli import main
from planner.fleet_sizing import CountySizing, Probe, SizingError, _next_points, size_fleet
from planner.pipeline import run_plan
from planner.variant import write_variant
from tests.solver_fixtures import id_number

TINY = Path(__file__).resolve().parent / "data" / "tiny"
SEATS = 22
N = 2 * SEATS + 3
VILLAGES = ["500101001001", "500101024002", "500101136200", "500101142001", "500101145213", "500101151207"]


def _workers(n: int, no_proof: int = 1) -> pd.DataFrame:
    rows = []
    for i in range(n + no_proof):
        ok = i < n
        rows.append({"worker_id": f"W{i + 1:07d}", "name": "张某华", "id_number": id_number("500101", i),
                     "phone": f"199{i:08d}", "village_code": VILLAGES[i % len(VILLAGES)], "factory_id": "F0001",
                     "ready_date": "2020-02-20", "health_proof": "certificate" if ok else "none",
                     "proof_date": "2020-02-20" if ok else "", "job_confirmed": "true", "group_id": ""})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def paper(tmp_path_factory) -> Path:
    """The scenario of the module docstring, written as files."""
    d = tmp_path_factory.mktemp("size") / "sc"
    shutil.copytree(TINY, d)
    _workers(N).to_csv(d / "workers.csv", index=False)
    pd.DataFrame([("500101", "C53", 1), ("500101", "F35", 10)],
                 columns=["county_code", "type_id", "count"]).to_csv(d / "fleet.csv", index=False)
    (d / "train_services.csv").write_text(
        "service_id,date,depart_time,origin_station_id,destination_station_id,carriages,carriage_type,travel_hours\n",
        encoding="utf-8")
    (d / "risk_calendar.csv").write_text("region_code,from,to,level\n", encoding="utf-8")
    toml = d / "scenario.toml"
    text = toml.read_text(encoding="utf-8").replace("start = 2020-02-14", "start = 2020-02-20")
    toml.write_text(text.replace("end = 2020-03-15", "end = 2020-02-21"), encoding="utf-8")
    return toml


def test_answer_argued_on_paper(paper: Path, tmp_path: Path) -> None:
    res = size_fleet(paper, tmp_path / "out", target="all")
    (c,) = res.counties
    assert c.seats_per_coach == SEATS and c.trips_per_coach == 1 and c.round_trip_days * 24 > 35
    assert c.reachable == N and c.target == N
    assert c.out_of_reach == {"no_recognised_health_proof": 1}
    assert c.simple_extra == 2 and c.lp_extra <= 2  # both are bounds; trips x seats is the tighter one here
    assert c.answer == 2 and c.reached and c.checked is True
    # planning the scenario with the found fleet moves everyone reachable ...
    v = write_variant(paper, "found", {"fleet": {"500101": {"C53": 3}}})
    rep = run_plan(v.path, tmp_path / "found", check=True)
    assert rep.check_ok is True and rep.summary["workers"]["planned"] == N
    # ... and with one fewer it does not
    v1 = write_variant(paper, "fewer", {"fleet": {"500101": {"C53": 2}}})
    rep1 = run_plan(v1.path, tmp_path / "fewer", check=False)
    assert rep1.summary["workers"]["planned"] < N
    curve = pd.read_csv(tmp_path / "out" / "curve.csv", dtype={"county": str})
    assert list(curve.columns[:4]) == ["county", "extra_coaches", "extra_feeders", "workers_moved"]
    assert curve["reached"].any()
    sizing = pd.read_csv(tmp_path / "out" / "sizing.csv", dtype={"county": str})
    assert sizing.loc[0, "extra_coaches"] == 2 and bool(sizing.loc[0, "reached"])
    report = (tmp_path / "out" / "报告.md").read_text(encoding="utf-8")
    assert "往返" in report and f"{SEATS} 座" in report and "隔位就座" in report and "不能更少" in report


def test_share_target_needs_fewer(paper: Path, tmp_path: Path) -> None:
    # ceil(0.9 x 47) = 43 people fit in two coaches (44 seats): one coach more than the fleet's one
    res = size_fleet(paper, tmp_path / "out", target=0.9)
    (c,) = res.counties
    assert c.target == 43  # ceil(0.9 x 47)
    assert c.answer == 1 and c.reached


def test_both_searches_feeders_with_the_bound_coaches_first(paper: Path, tmp_path: Path) -> None:
    res = size_fleet(paper, tmp_path / "out", vehicle="both")
    (c,) = res.counties
    assert c.reached and c.extra(c.answer) == (2, 0)  # ten feeders are plenty; the two coaches the bound asks for
    assert [(p.extra_coaches, p.extra_feeders) for p in c.probes][0] == (2, 0)


def test_nobody_reachable_is_reported_not_searched(paper: Path, tmp_path: Path) -> None:
    d = paper.parent.parent / "none"
    shutil.copytree(paper.parent, d)
    _workers(0, no_proof=5).to_csv(d / "workers.csv", index=False)
    res = size_fleet(d / "scenario.toml", tmp_path / "out")
    (c,) = res.counties
    assert c.target == 0 and c.probes == [] and c.out_of_reach == {"no_recognised_health_proof": 5}
    assert "无需车辆" in res.text()


def test_bad_requests(paper: Path, tmp_path: Path, capsys) -> None:
    with pytest.raises(SizingError):
        size_fleet(paper, tmp_path / "o", counties=["500999"])
    with pytest.raises(SizingError):
        size_fleet(paper, tmp_path / "o", coach_type="F35")
    assert main(["size-fleet", str(paper), "--out", str(tmp_path / "o"), "--target", "lots"]) == 2
    assert main(["size-fleet", str(paper), "--out", str(tmp_path / "o"), "--county", "500999"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_base_plan_stands_for_the_zero_probe(paper: Path, tmp_path: Path) -> None:
    # the base plan moves one coach load (22); 25 short / 22 per coach -> the first jump lands on 2 extra
    run_plan(paper, tmp_path / "base", check=False)
    res = size_fleet(paper, tmp_path / "out", base_plan=tmp_path / "base")
    (c,) = res.counties
    assert c.answer == 2 and c.reached and c.checked is True
    first = c.probes[0]
    assert (first.extra_coaches, first.extra_feeders, first.cpu_s) == (0, 0, 0.0)
    assert first.plan_dir == str(tmp_path / "base") and first.per_vehicle["coach"] == SEATS
    assert [(p.extra_coaches, p.moved) for p in c.probes] == [(0, SEATS), (2, N)]
    other = paper.parent.parent / "other"
    shutil.copytree(paper.parent, other, dirs_exist_ok=True)
    (other / "scenario.toml").write_text((other / "scenario.toml").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    with pytest.raises(SizingError):
        size_fleet(other / "scenario.toml", tmp_path / "o2", base_plan=tmp_path / "base")


def _county(probes: dict[int, int], target: int) -> CountySizing:
    c = CountySizing("500101", "C53", "F35", 100, 100, 30, "feeder", 0, 15000, 14000, {}, target, 0, 0, 1.0, 53, 2, 0)
    c.probes = [Probe("500101", 0, k, m, {}, "", 0.0) for k, m in probes.items()]
    return c


def test_bracket_takes_a_newton_step_from_below() -> None:
    # slope 3 -> 24 is 78.5 people a feeder: 176 short at 24 -> 27; and 26 one lower, to close the bracket
    c = _county({0: 11102, 3: 11439, 24: 13088, 45: 13434}, 13264)
    assert _next_points(c, 2, "both", 1, 200) == [26, 27]
    # without two probes below the even split is kept
    assert _next_points(_county({24: 13088, 45: 13434}, 13264), 2, "both", 1, 200) == [31, 38]
    # the people tolerance: the bracket's ends 12 apart stop the search under --gain-tolerance 20
    c = _county({24: 13255, 30: 13267}, 13264)
    assert _next_points(c, 2, "both", 1, 200, gain_tolerance=20) == []
    assert _next_points(c, 2, "both", 1, 200) != []


KAIZHOU_VILLAGES = ["500154001001", "500154002001"]
N_KZ = SEATS + 5  # 开州: one coach carries 22, so 27 need two coaches: one extra


@pytest.fixture(scope="module")
def two_counties(paper: Path) -> Path:
    """The paper scenario plus 开州 (500154): 27 workers near its terminal, one coach of its own."""
    d = paper.parent.parent / "two"
    shutil.copytree(paper.parent, d)
    vil = pd.read_csv(d / "villages.csv", dtype=str)
    extra = pd.DataFrame([{"village_code": v, "village_name": f"开州示例{i + 1}村", "township_code": v[:9],
                           "county_code": "500154", "lon": lon, "lat": lat}
                          for i, (v, lon, lat) in enumerate(zip(KAIZHOU_VILLAGES, (108.42, 108.38), (31.18, 31.15)))])
    pd.concat([vil, extra], ignore_index=True).to_csv(d / "villages.csv", index=False)
    w = _workers(N)
    kz = _workers(N_KZ, no_proof=0)
    kz["worker_id"] = [f"K{i + 1:07d}" for i in range(len(kz))]
    kz["id_number"] = [id_number("500154", i) for i in range(len(kz))]
    kz["phone"] = [f"188{i:08d}" for i in range(len(kz))]
    kz["village_code"] = [KAIZHOU_VILLAGES[i % 2] for i in range(len(kz))]
    pd.concat([w, kz], ignore_index=True).to_csv(d / "workers.csv", index=False)
    pd.DataFrame([("500101", "C53", 1), ("500101", "F35", 10), ("500154", "C53", 1), ("500154", "F35", 10)],
                 columns=["county_code", "type_id", "count"]).to_csv(d / "fleet.csv", index=False)
    return d / "scenario.toml"


def _answers(res) -> dict[str, tuple[int, int, bool]]:
    return {c.county: (*c.extra(c.answer), bool(c.checked)) for c in res.counties}


def test_counties_in_parallel_processes_and_on_dask(two_counties: Path, tmp_path: Path) -> None:
    # each county alone on paper: 万州 needs ceil(47 / 22) - 1 = 2 extra coaches, 开州 ceil(27 / 22) - 1 = 1
    want = {"500101": (2, 0, True), "500154": (1, 0, True)}
    res = size_fleet(two_counties, tmp_path / "procs", processes=2)
    assert _answers(res) == want
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        res2 = size_fleet(two_counties, tmp_path / "dask", scheduler=cluster.scheduler_address)
    assert _answers(res2) == want
    assert [len(c.probes) for c in res2.counties] == [len(c.probes) for c in res.counties]
    # planning the whole scenario with both answers moves everyone reachable
    v = write_variant(two_counties, "found2", {"fleet": {"500101": {"C53": 3}, "500154": {"C53": 2}}})
    rep = run_plan(v.path, tmp_path / "both", check=True)
    assert rep.check_ok is True and rep.summary["workers"]["planned"] == N + N_KZ


def test_shared_terminal_and_station_are_not_credited_twice() -> None:
    from planner.fleet_sizing import own_station_services
    from planner.sizing_probe import terminal_groups

    hubs = pd.DataFrame({"hub_id": ["T1", "T1", "T3", "R1"], "kind": ["terminal", "terminal", "terminal", "rail_station"],
                         "county_code": ["500101", "500154", "500235", "500154"]})
    # the solver plans counties on the same terminal hub together: so does sizing
    assert sorted(terminal_groups(hubs, ["500101", "500154", "500235", "500236"])) == [
        ["500101", "500154"], ["500235"], ["500236"]]
    svc = pd.DataFrame({"service_id": ["K1", "K2"], "origin_station_id": ["R1", "R9"]})
    tables = {"train_services": svc, "hubs": hubs}
    assert own_station_services(tables, ["500154"])["service_id"].tolist() == ["K1"]
    assert own_station_services(tables, ["500101"]).empty


def test_unreachable_scheduler_is_a_message(two_counties: Path, tmp_path: Path, capsys) -> None:
    code = main(["size-fleet", str(two_counties), "--out", str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:9"])
    assert code == 2
    err = capsys.readouterr().err
    assert "dask" in err and "Traceback" not in err
