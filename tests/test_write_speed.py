"""The plan writer's vectorised time formatting writes the same text, byte for byte, as row by row.

No timings here (benchmarks live in ``bench/``): these tests pin the invariant that
made the speed-up safe, the text of every time cell.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from planner import plan_writer
from planner.plan_format import iso_time, write_table
from tests.conftest import TINY_SCENARIO

SH = ZoneInfo("Asia/Shanghai")
BASE = datetime(2020, 2, 14, 6, 30, tzinfo=SH)


def rowwise(series: pd.Series) -> pd.Series:
    """The writer's formatting before it was vectorised: ``iso_time`` per row."""
    return series.map(iso_time).astype(object)


COLUMNS = {
    "solver times with gaps": [BASE + timedelta(minutes=7 * k) if k % 5 else None for k in range(500)],
    "seconds and microseconds": [BASE + timedelta(seconds=k * 13.37) for k in range(200)],
    "all empty": [None, np.nan, pd.NaT, None],
    "nothing": [],
    "strings and datetimes": ["2020-02-14T08:00:00+08:00", BASE, None, BASE],
    "timestamps": [pd.Timestamp("2020-02-14 08:00:00.123456789", tz="Asia/Shanghai"), BASE, BASE],
    "two zones, same instant": [BASE, BASE.astimezone(timezone.utc), BASE, BASE.astimezone(timezone.utc)],
    "fixed offset": [BASE.astimezone(timezone(timedelta(hours=8))) + timedelta(hours=k) for k in range(30)],
    "naive": [datetime(2020, 2, 14, 8) + timedelta(hours=k) for k in range(30)],
    # China kept summer time 1986-1991: an hour that happens twice (fold) and a spring-forward gap
    "summer time fold": [datetime(1988, 9, 11, 1, 30, tzinfo=SH), datetime(1988, 9, 11, 1, 30, tzinfo=SH, fold=1)] * 3,
    "summer time both offsets": [datetime(1988, 9, 10, 12, tzinfo=SH) + timedelta(hours=k) for k in range(48)],
    "spring gap": [datetime(1988, 4, 10, 2, 30, tzinfo=SH), datetime(1988, 4, 10, 1, 30, tzinfo=SH)] * 2,
}


@pytest.mark.filterwarnings("ignore:Discarding nonzero nanoseconds")
@pytest.mark.parametrize("name", list(COLUMNS))
def test_iso_col_is_byte_identical_to_rowwise(name):
    """Every column shape gives the same strings as ``iso_time`` row by row, index kept."""
    s = pd.Series(COLUMNS[name], dtype=object, index=np.arange(len(COLUMNS[name])) * 3 + 1)
    got = plan_writer._iso_col(s)
    want = rowwise(s)
    assert got.index.equals(want.index)
    assert got.tolist() == want.tolist()
    assert all(isinstance(v, str) for v in got)


def _dt64(strings: list[str | None], tz=SH, ambiguous="raise") -> pd.Series:
    s = pd.Series(pd.to_datetime(strings, format="ISO8601"))
    return s if tz is None else s.dt.tz_localize(tz, ambiguous=ambiguous, nonexistent="shift_forward")


DT64 = {
    # pandas makes a datetime64 column when every cell of a record column is a time
    "frame of solver times": lambda: pd.DataFrame({"t": [BASE + timedelta(minutes=11 * k) for k in range(300)]})["t"],
    "frame with gaps": lambda: pd.DataFrame({"t": [BASE + timedelta(minutes=k) if k % 4 else None
                                                   for k in range(300)]})["t"],
    "fractions of a second": lambda: _dt64(["2020-02-14T08:00:00.999999", "2020-02-14T08:00:59.5", None]),
    "summer time, both offsets": lambda: _dt64(["1988-09-11T01:30:00", "1988-09-11T01:30:00", "1988-07-01T12:00:00",
                                                "1988-12-01T12:00:00"], ambiguous=np.array([True, False, False, False])),
    "naive": lambda: _dt64(["2020-02-14T08:00:00.5", None, "2020-03-01T23:59:59"], tz=None),
    "utc": lambda: _dt64(["2020-02-14T08:00:00", "2020-02-15T08:00:00"], tz="UTC"),
    "all missing": lambda: pd.Series(pd.to_datetime([None, None])).dt.tz_localize(SH),
    "before 1970": lambda: _dt64(["1969-12-31T23:59:59.5", "2020-02-14T08:00:00"]),
}


@pytest.mark.filterwarnings("ignore:Discarding nonzero nanoseconds")
@pytest.mark.parametrize("name", list(DT64))
def test_datetime64_columns_are_byte_identical(name):
    """Columns pandas already holds as datetime64 (tz-aware or naive) give iso_time's text."""
    s = DT64[name]()
    assert pd.api.types.is_datetime64_any_dtype(s.dtype), s.dtype
    assert plan_writer._iso_col(s).tolist() == rowwise(s).tolist()


def test_solver_times_take_the_factorised_path():
    """The solver's column shape (one zone, fold 0, gaps) is the one formatted once per distinct time."""
    vals = pd.Series(COLUMNS["solver times with gaps"], dtype=object)
    assert plan_writer._same_zone_datetimes(vals[vals.notna()].to_numpy())
    for name in ("strings and datetimes", "timestamps", "two zones, same instant", "summer time fold"):
        v = pd.Series(COLUMNS[name], dtype=object)
        assert not plan_writer._same_zone_datetimes(v[v.notna()].to_numpy()), name


def test_iso_days_is_isoformat():
    """Depart days: plain dates factorised, anything else formatted one by one, same text."""
    days = np.array([date(2020, 2, 14) + timedelta(days=k % 9) for k in range(100)], dtype=object)
    assert plan_writer._iso_days(days).tolist() == [d.isoformat() for d in days]
    mixed = np.array([date(2020, 2, 14), datetime(2020, 2, 14, 8)], dtype=object)
    assert plan_writer._iso_days(mixed).tolist() == [d.isoformat() for d in mixed]


def _rowwise_workers(p, res) -> dict[str, list]:
    """Status, reason, chain, depart_day, planned_arrival as the writer built them row by row."""
    n = len(p.workers)
    status = ["unassigned"] * n
    reason = list(res.reasons.to_numpy(dtype=object))
    chain, day_, arrival = [""] * n, [""] * n, [""] * n
    for pos, (ch, day, arr) in res.parts.outcome.items():
        status[pos], reason[pos], chain[pos], day_[pos], arrival[pos] = "planned", "", ch, day.isoformat(), iso_time(arr)
    for pos, why in res.parts.unplaced.items():
        if status[pos] != "planned":
            reason[pos] = why
    return {"status": status, "reason": reason, "chain": chain, "depart_day": day_, "planned_arrival": arrival}


def test_plan_tables_write_the_same_bytes_as_rowwise(tmp_path, monkeypatch):
    """The tiny scenario's four CSVs are byte-identical with the vectorised and the row-by-row formatting."""
    from planner.loader import load_and_validate
    from planner.solve.problem import build_problem
    from planner.solve.solver import solve

    sc, val = load_and_validate(TINY_SCENARIO)
    p = build_problem(sc, val.tables)
    res = solve(p, processes=1)
    fast = plan_writer.plan_tables(p, res, val.rejected.get("workers"))
    assert res.parts.outcome, "the tiny plan should place somebody"

    # the worker columns against the old row-by-row loop
    w = fast["workers"].set_index("worker_id")
    old = pd.DataFrame(_rowwise_workers(p, res), index=p.workers["worker_id"].astype(str))
    old.loc[old["status"].eq("unassigned") & old["reason"].eq(""), "reason"] = plan_writer.DEFAULT_UNPLACED_REASON
    for col in old.columns:
        assert w.loc[old.index, col].tolist() == old[col].tolist(), col

    monkeypatch.setattr(plan_writer, "_iso_col", rowwise)
    slow = plan_writer.plan_tables(p, res, val.rejected.get("workers"))
    for name in fast:
        write_table(tmp_path / f"fast-{name}.csv", name, fast[name])
        write_table(tmp_path / f"slow-{name}.csv", name, slow[name])
        a = (tmp_path / f"fast-{name}.csv").read_bytes()
        assert a == (tmp_path / f"slow-{name}.csv").read_bytes(), name
        assert b"NaT" not in a
