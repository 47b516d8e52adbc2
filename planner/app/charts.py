"""Bar charts whose axes and legend are titled in Chinese.

``st.bar_chart`` of a wide table titles its value axis "value" and its legend
"color"; given a long table with named columns it uses those names. So the
app's charts go through :func:`long_frame` first.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["long_frame", "bar_chart"]


def long_frame(wide: pd.DataFrame | pd.Series, *, value: str, series: str = "类别") -> tuple[pd.DataFrame, str, str | None]:
    """``(frame, x, color)``: a wide table (index = x, one column per series) as rows of x, series, value.

    A Series gives one series (``color`` None). The index name (e.g. 日期) is the x column; an
    unnamed index is called 日期.
    """
    x = (wide.index.name or "日期")
    if isinstance(wide, pd.Series):
        frame = wide.rename(value).rename_axis(x).reset_index()
        return frame, x, None
    frame = wide.rename_axis(x).reset_index().melt(id_vars=x, var_name=series, value_name=value)
    return frame, x, series


def bar_chart(wide: pd.DataFrame | pd.Series, *, value: str, series: str = "类别") -> None:
    """``st.bar_chart`` of ``wide`` with the value axis titled ``value`` and the legend ``series``."""
    import streamlit as st

    frame, x, color = long_frame(wide, value=value, series=series)
    st.bar_chart(frame, x=x, y=value, color=color, x_label=x, y_label=value)
