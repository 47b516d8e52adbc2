"""Vectorised helpers for the checker's hot spots (same results as the pandas calls they replace).

pandas' ``isin`` on an Arrow-backed string column (the default ``str`` dtype of
pandas 3, which the plan reader gives every code and id column) converts each
*value* to an Arrow scalar in Python first: checking 700,000 legs against
400,000 worker ids spends seconds in that loop. :func:`isin` builds the value set
as one Arrow array instead and asks Arrow the same question (``pyarrow.compute.is_in``,
the call pandas itself ends with), so the answer is the same, element for element.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd


def _arrow_strings(obj: pd.Series | pd.Index) -> bool:
    dtype = obj.dtype
    return isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"


def isin(obj: pd.Series | pd.Index, values: Iterable) -> pd.Series | np.ndarray:
    """``obj.isin(values)``: a bool Series (same index) for a Series, a bool array for an Index.

    Fast for Arrow-backed string columns whose values are strings (or missing); anything else
    (other dtypes, values that are not strings) is passed to pandas unchanged.
    """
    if not _arrow_strings(obj):
        return obj.isin(values)
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(values, pd.Series | pd.Index) and _arrow_strings(values):
        value_set = values.array.__arrow_array__()
        if isinstance(value_set, pa.ChunkedArray):
            value_set = value_set.combine_chunks()
    else:
        vals = values if isinstance(values, np.ndarray | pd.Series | pd.Index) else list(values)
        try:
            value_set = pa.array(np.asarray(vals, dtype=object), from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return obj.isin(values)
    if not (pa.types.is_string(value_set.type) or pa.types.is_large_string(value_set.type)
            or pa.types.is_null(value_set.type)):
        return obj.isin(values)  # numbers and the like: pandas decides what matches
    data = obj.array.__arrow_array__()
    if len(value_set) == 0:
        mask = np.zeros(len(obj), dtype=bool)
    else:
        mask = np.array(pc.is_in(data, value_set=value_set.cast(data.type)), dtype=np.bool_)
    if isinstance(obj, pd.Index):
        return mask
    return pd.Series(mask, index=obj.index, name=obj.name)
