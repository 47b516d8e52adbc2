"""The checker's vectorised helpers give what the per-group Python they replaced gave (no timings here)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from planner.check.chains import _most_common


@pytest.mark.parametrize("seed", range(6))
def test_most_common_matches_value_counts(seed):
    """Most common value per key, ties to the first seen: the same as ``value_counts().index[0]`` per group."""
    rng = np.random.default_rng(seed)
    n = 800
    key = pd.Series(rng.choice([f"G{i:04d}|F1|5001" for i in range(200)], n), dtype="str")
    seq = pd.Series(rng.choice(["T1;T9", "T2;T9", "T3", "", "T4;T8;T9"], n), dtype="str")
    frame = pd.DataFrame({"key": key, "seq": seq})
    want = frame.groupby("key")["seq"].agg(lambda x: x.value_counts().index[0])
    got = _most_common(frame["key"], frame["seq"])
    assert got.sort_index().to_dict() == want.to_dict()
    # object columns behave the same
    got_obj = _most_common(frame["key"].astype(object), frame["seq"].astype(object))
    assert got_obj.sort_index().to_dict() == want.to_dict()


ISIN_VALUES = {
    "list": lambda: ["T1", "T7", "nope"],
    "set": lambda: {"T1", "T3"},
    "with missing": lambda: ["T2", None, np.nan],
    "str series": lambda: pd.Series(["T2", "T5", None], dtype="str"),
    "str index": lambda: pd.Index(["T4", "T6"], dtype="str"),
    "object index": lambda: pd.Index(["T4", "T6"], dtype=object),
    "empty": lambda: [],
    "numbers": lambda: [1, 2],
    "mixed": lambda: ["T1", 3],
    "ndarray": lambda: np.array(["T1", "T2"], dtype=object),
}


@pytest.mark.parametrize("name", list(ISIN_VALUES))
@pytest.mark.parametrize("kind", ["series", "index", "object series"])
def test_isin_matches_pandas(name, kind):
    """planner.check.fast.isin answers what pandas' isin answers, missing cells included."""
    from planner.check.fast import isin

    raw = ["T1", "T2", None, "T3", "T7", "", "T2"]
    base = pd.Series(raw, dtype="str" if kind != "object series" else object, index=[5, 3, 9, 1, 0, 2, 8], name="x")
    obj = pd.Index(base) if kind == "index" else base
    got, want = isin(obj, ISIN_VALUES[name]()), obj.isin(ISIN_VALUES[name]())
    if kind == "index":
        assert isinstance(got, np.ndarray) and got.tolist() == list(want)
    else:
        pd.testing.assert_series_equal(got, want)


def test_feeder_minutes_memo_gives_the_same_floats(monkeypatch):
    """TravelTimes.feeder_minutes remembers pairs: the same value as computed afresh, memory bounded."""
    import planner.travel as travel
    from planner.scenario import Travel

    xy = {f"V{i}": (108.0 + 0.01 * i, 30.5 + 0.007 * (i % 5)) for i in range(30)}
    t = travel.TravelTimes(Travel(), xy)
    fresh = travel.TravelTimes(Travel(), xy)
    monkeypatch.setattr(travel, "FEEDER_MEMO_MAX", 50)
    pairs = [(f"V{i}", f"V{j}", "500101" if (i + j) % 2 else "500154") for i in range(30) for j in range(0, 30, 3)]
    first = [t.feeder_minutes(*k) for k in pairs]
    again = [t.feeder_minutes(*k) for k in reversed(pairs)][::-1]
    want = [fresh.km(a, b, c) / fresh.travel.feeder_speed_kmh * 60.0 for a, b, c in pairs]
    assert first == again == want
    assert len(t._feeder_memo) <= 50
