"""``planner size-trains`` on a scenario whose answer can be argued on paper.

The fleet-sizing paper scenario (tests/test_fleet_sizing.py): 47 workers of 万州 for 虎门 (东莞,
met at 东莞站 S-DG), a two-day window, one C53 coach that makes one trip of 22 in the window,
so 25 stay home. Three candidate services from 万州北站 on the first day:

- K9001 to S-DG, 1 carriage: one YZ25 carriage sells more than 25 seats under half seats, so it
  moves the 25: 25 people per carriage;
- K9003 to S-DG, 2 carriages: the same 25, 12.5 people per carriage;
- K9005 to 义乌 (S-YW), where no worker's factory is met: nobody.

Greedy by people per carriage requests K9001 alone, and then everyone is moved.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from planner.cli import main
from planner.train_sizing import TrainSizingError, size_trains
from tests.test_fleet_sizing import N, SEATS, paper  # noqa: F401 - the fixture

HEAD = "service_id,date,depart_time,origin_station_id,destination_station_id,carriages,carriage_type,travel_hours\n"


def _candidates(path: Path, rows: list[str]) -> Path:
    path.write_text(HEAD + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_greedy_by_people_per_carriage(paper: Path, tmp_path: Path) -> None:  # noqa: F811
    cand = _candidates(tmp_path / "cand.csv", ["K9001,2020-02-20,10:30,R-WZB,S-DG,1,YZ25,20.5",
                                               "K9003,2020-02-20,12:30,R-WZB,S-DG,2,YZ25,20.5",
                                               "K9005,2020-02-20,09:05,R-WZB,S-YW,1,YZ25,18.0"])
    res = size_trains(paper, cand, tmp_path / "out", processes=2)
    assert res.base_moved == SEATS and res.target == N
    assert res.seats["K9001"] > N - SEATS  # one carriage holds everyone the coach leaves behind
    step1 = {q.service_id: q for q in res.probes if q.step == 1}
    assert step1["K9001"].gain == N - SEATS and step1["K9003"].gain == N - SEATS and step1["K9005"].gain == 0
    assert res.chosen == ["K9001"] and res.moved == N and res.checked is True
    trips = pd.read_csv(tmp_path / "out" / "plan" / "trips.csv", dtype=str)
    cars = trips.loc[trips["mode"] == "train", "vehicle_id"]
    assert len(cars) and cars.str.startswith("K9001-").all()  # the checked plan rides the requested service only
    csv = pd.read_csv(tmp_path / "out" / "trains.csv", dtype={"service_id": str})
    assert csv.loc[csv["chosen"], "service_id"].tolist() == ["K9001"]
    assert csv.loc[csv["service_id"] == "K9003", "gain_per_carriage"].iloc[0] == pytest.approx((N - SEATS) / 2)
    report = (tmp_path / "out" / "报告.md").read_text(encoding="utf-8")
    assert "申请车次 K9001" in report and "每节可售" in report and "K9003" in report


def test_bad_candidate_files_name_file_row_column(paper: Path, tmp_path: Path, capsys) -> None:  # noqa: F811
    bad = _candidates(tmp_path / "bad.csv", ["K9001,2020-02-20,10:30,R-NONE,S-DG,1,YZ25,20.5",
                                             "K9003,2020-02-20,12:30,R-WZB,S-DG,0,YZ25,20.5",
                                             "K9001,2020-02-21,12:30,R-WZB,S-DG,1,YZ25,20.5"])
    with pytest.raises(TrainSizingError) as e:
        size_trains(paper, bad, tmp_path / "out")
    where = {(row, col) for _f, row, col, _m in e.value.problems}
    assert (2, "origin_station_id") in where  # the first data row is row 2 (header = row 1)
    assert (3, "carriages") in where
    assert (4, "service_id") in where
    assert all(f.endswith("bad.csv") for f, *_ in e.value.problems)
    assert main(["size-trains", str(paper), "--candidates", str(tmp_path / "missing.csv"),
                 "--out", str(tmp_path / "o")]) == 2
    assert main(["size-trains", str(paper), "--candidates", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "bad.csv" in err and "第 2 行" in err
