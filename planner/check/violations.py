"""Violations: one row each (rule, trip_id, worker_id, message), built vectorised.

Messages are Chinese and carry the numbers involved. They never carry personal
data: a worker is named by ``worker_id`` only.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

COLUMNS = ["rule", "trip_id", "worker_id", "message"]


class Violation(NamedTuple):
    """One broken rule."""

    rule: str
    trip_id: str = ""
    worker_id: str = ""
    message: str = ""


def empty() -> pd.DataFrame:
    """A violations frame with no rows."""
    return pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})


def _col(x, n: int) -> np.ndarray:
    if x is None:
        return np.full(n, "", dtype=object)
    if isinstance(x, str):
        return np.full(n, x, dtype=object)
    a = pd.Series(np.asarray(x, dtype=object)).fillna("").astype(str).to_numpy(dtype=object)
    if len(a) != n:
        msg = f"violation column has {len(a)} values, expected {n}"
        raise ValueError(msg)
    return a


def vf(rule: str, message, trip=None, worker=None) -> pd.DataFrame:
    """Violations of ``rule``: ``message`` (array or scalar), with trips and workers aligned to it."""
    arrays = [a for a in (message, trip, worker) if a is not None and not isinstance(a, str)]
    n = len(arrays[0]) if arrays else 1
    if n == 0:
        return empty()
    return pd.DataFrame(
        {"rule": rule, "trip_id": _col(trip, n), "worker_id": _col(worker, n), "message": _col(message, n)}
    )


def from_list(items: list[Violation]) -> pd.DataFrame:
    """A violations frame from a list of :class:`Violation`."""
    if not items:
        return empty()
    return pd.DataFrame(items, columns=COLUMNS)


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """All violations in one frame."""
    frames = [f for f in frames if f is not None and len(f)]
    if not frames:
        return empty()
    return pd.concat(frames, ignore_index=True)[COLUMNS]


# ------------------------------------------------------------ message helpers
def s(x) -> pd.Series:
    """Values as strings ('' for missing), index kept."""
    x = x if isinstance(x, pd.Series) else pd.Series(x)
    return x.astype(object).where(x.notna(), "").astype(str).astype(object)


def num(x, nd: int = 0) -> pd.Series:
    """Numbers formatted with ``nd`` decimals."""
    x = x if isinstance(x, pd.Series) else pd.Series(x)
    return x.map(lambda v: "" if pd.isna(v) else f"{v:,.{nd}f}").astype(str).astype(object)


def hm(x) -> pd.Series:
    """Times as MM-DD HH:MM."""
    x = x if isinstance(x, pd.Series) else pd.Series(x)
    return x.dt.strftime("%m-%d %H:%M").fillna("(无)").astype(str).astype(object)


def day(x) -> pd.Series:
    """Dates as YYYY-MM-DD."""
    x = x if isinstance(x, pd.Series) else pd.Series(x)
    return x.dt.strftime("%Y-%m-%d").fillna("(无)").astype(str).astype(object)
