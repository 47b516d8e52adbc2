"""The console command: exit status and plain messages, never a traceback, for the user's mistakes."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from planner.cli import EXIT_FATAL, EXIT_OK, EXIT_PROBLEMS, main

TINY = Path(__file__).parent / "data" / "tiny"


def test_validate_clean_tiny_scenario_exits_zero(capsys):
    assert main(["validate", str(TINY / "scenario.toml")]) == EXIT_OK
    assert "数据无误" in capsys.readouterr().out


def test_validate_with_rejected_rows_exits_one(tmp_path, capsys):
    """A worker whose village does not exist is rejected: exit 1 and the row named."""
    case = tmp_path / "tiny"
    shutil.copytree(TINY, case)
    w = pd.read_csv(case / "workers.csv", dtype=str)
    w.loc[0, "village_code"] = "500101999999"
    w.to_csv(case / "workers.csv", index=False)
    assert main(["validate", str(case / "scenario.toml")]) == EXIT_PROBLEMS
    out = capsys.readouterr().out
    assert "workers.csv" in out and "500101999999" in out


def test_missing_scenario_is_a_message_not_a_traceback(tmp_path, capsys):
    assert main(["validate", str(tmp_path / "nope.toml")]) == EXIT_FATAL
    err = capsys.readouterr().err
    assert "nope.toml" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--counties", "999999"], "999999"),
        (["--geodata", "/nonexistent/geodata"], "geodata"),
        (["--workers-per-coach", "0"], "at least 1"),
        (["--start", "2020-02-30"], "2020-02-30"),
    ],
)
def test_synth_bad_arguments_exit_two_with_a_message(tmp_path, capsys, args, words):
    assert main(["synth", "--out", str(tmp_path / "o"), "--workers", "50", *args]) == EXIT_FATAL
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_plan_and_check_tiny_scenario(tmp_path, capsys):
    """The tiny scenario plans, the plan checks clean, and `planner check` agrees."""
    out = tmp_path / "plan"
    assert main(["plan", str(TINY / "scenario.toml"), "--out", str(out)]) == EXIT_OK
    assert (out / "summary.json").is_file()
    assert main(["check", str(out), "--scenario", str(TINY / "scenario.toml")]) == EXIT_OK
    assert "校验通过" in capsys.readouterr().out


def test_two_processes_plan_exactly_what_one_plans(tmp_path):
    """Counties are independent: two worker processes write byte-identical plan files."""
    geodata = Path(__file__).resolve().parent.parent / "geodata"
    data = tmp_path / "data"
    assert main(["synth", "--out", str(data), "--counties", "500101,500154,500235", "--workers", "900",
                 "--workers-per-coach", "60", "--workers-per-feeder", "150", "--end", "2020-02-28"]) == EXIT_OK
    scen = tmp_path / "s.toml"
    scen.write_text(
        f"""name = "两区县并行测试"
[window]
start = 2020-02-14
end = 2020-02-28
[data]
villages = "{geodata}/chongqing/villages.gpkg"
counties = "{geodata}/chongqing/counties.gpkg"
hubs = "{geodata}/chongqing/hubs.csv"
stations = "{geodata}/receiving/stations.csv"
receiving_counties = "{geodata}/receiving/counties.gpkg"
vehicle_types = "{data}/vehicle_types.csv"
workers = "{data}/workers.csv"
factories = "{data}/factories.csv"
fleet = "{data}/fleet.csv"
train_services = "{data}/train_services.csv"
risk_calendar = "{data}/risk_calendar.csv"
""",
        encoding="utf-8",
    )
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(["plan", str(scen), "--out", str(one), "--processes", "1"]) == EXIT_OK
    assert main(["plan", str(scen), "--out", str(two), "--processes", "2", "--no-check"]) == EXIT_OK
    for name in ("trips", "stops", "legs", "workers"):
        assert (one / f"{name}.csv").read_bytes() == (two / f"{name}.csv").read_bytes(), name
    trips = pd.read_csv(one / "trips.csv", dtype=str)
    assert trips["home_county_code"].nunique() >= 2

    # the same plan from a dask.distributed cluster of two worker processes (--scheduler)
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        dask_out = tmp_path / "dask"
        assert main(["plan", str(scen), "--out", str(dask_out), "--scheduler", cluster.scheduler_address,
                     "--no-check"]) == EXIT_OK
    for name in ("trips", "stops", "legs", "workers"):
        assert (one / f"{name}.csv").read_bytes() == (dask_out / f"{name}.csv").read_bytes(), name


def test_unreachable_scheduler_is_a_message(tmp_path, capsys):
    """--scheduler with no scheduler listening gives a message and exit code 2, no traceback."""
    out = tmp_path / "plan"
    code = main(["plan", str(TINY / "scenario.toml"), "--out", str(out), "--scheduler", "tcp://127.0.0.1:9",
                 "--no-check"])
    assert code == 2
    assert "dask" in capsys.readouterr().err


def test_trace_prints_contacts_and_writes_csv(tmp_path, capsys):
    """`planner trace --worker` lists same-vehicle contacts; an unknown id is a message, exit 2."""
    out = tmp_path / "plan"
    assert main(["plan", str(TINY / "scenario.toml"), "--out", str(out), "--no-check"]) == EXIT_OK
    legs = pd.read_csv(out / "legs.csv", dtype=str)
    coach = legs[legs["trip_id"].str.startswith("C")]
    busiest = coach["trip_id"].value_counts().index[0]
    worker = coach.loc[coach["trip_id"] == busiest, "worker_id"].iloc[0]
    capsys.readouterr()
    csv = tmp_path / "trace.csv"
    assert main(["trace", str(out), "--worker", worker, "--csv", str(csv)]) == EXIT_OK
    printed = capsys.readouterr().out
    others = set(coach.loc[coach["trip_id"] == busiest, "worker_id"]) - {worker}
    assert others and all(o in printed or "..." in printed for o in others)
    assert "同车" in printed and csv.is_file()
    assert main(["trace", str(out), "--worker", "W9999999"]) == EXIT_FATAL
    assert "W9999999" in capsys.readouterr().err


def test_export_writes_each_document_and_refuses_an_empty_choice(tmp_path, capsys):
    """`planner export` writes pick-up lists, a manifest and a wave plan; no choice is exit 2."""
    plan = tmp_path / "plan"
    scen = str(TINY / "scenario.toml")
    assert main(["plan", scen, "--out", str(plan), "--no-check"]) == EXIT_OK
    docs = tmp_path / "docs"
    assert main(["export", str(plan), "--scenario", scen, "--out", str(docs)]) == EXIT_FATAL
    assert main(["export", str(plan), "--scenario", scen, "--out", str(docs), "--township", "500101999"]) == EXIT_FATAL
    assert "500101999" in capsys.readouterr().err
    workers = pd.read_csv(plan / "workers.csv", dtype=str)
    planned = workers[workers["status"] == "planned"]
    township = planned["township_code"].iloc[0]
    factories = pd.read_csv(TINY / "factories.csv", dtype=str).set_index("factory_id")
    province = factories.loc[planned["factory_id"].iloc[0], "province"]
    assert main(["export", str(plan), "--scenario", scen, "--out", str(docs), "--township", township,
                 "--province", province, "--wave-plan"]) == EXIT_OK
    names = {p.name for p in docs.iterdir()}
    assert {f"乘车人员名单_{township}.xlsx", f"乘车人员名单_{township}.pdf"} <= names
    assert any(n.startswith("到达名单_") and n.endswith(".pdf") for n in names)
    assert any(n.startswith("波次计划_") and n.endswith(".xlsx") for n in names)


def test_missing_road_network_is_a_message(tmp_path, capsys):
    """A scenario whose [roads] network file is missing: a message naming it, exit code 2."""
    text = (TINY / "scenario.toml").read_text(encoding="utf-8")
    scen = tmp_path / "roads.toml"
    scen.write_text(text.replace("[data]", '[roads]\nnetwork = "no-such-county.osm.bz2"\n\n[data]', 1),
                    encoding="utf-8")
    assert main(["validate", str(scen)]) == 2
    err = capsys.readouterr().err
    assert "路网文件不存在" in err and "no-such-county.osm.bz2" in err


def test_closed_pipe_is_not_a_traceback():
    """`planner vrp ... | head -1`: when the reader goes away, the command stops quietly (exit 0)."""
    import subprocess
    import sys

    inst = Path(__file__).resolve().parent.parent / "bench" / "instances" / "X-n101-k25.vrp"
    proc = subprocess.Popen([sys.executable, "-m", "planner.cli", "vrp", str(inst), "--seconds", "0.5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before anything is written
    err = proc.stderr.read().decode("utf-8", "replace")
    assert proc.wait(timeout=60) == 0
    assert "Traceback" not in err and "BrokenPipeError" not in err
