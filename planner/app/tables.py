"""Tables on screen: formula-like cells neutralised, no "empty" grid, blank missing cells."""

from __future__ import annotations

import streamlit as st

__all__ = ["show_table"]


def show_table(frame, empty: str = "（无记录）", **kwargs) -> None:
    """st.dataframe with formula-like text cells neutralised (a leading '); ``empty`` is said for no rows.

    Streamlit's table toolbar offers a CSV download that writes cells as they
    are; a name typed as ``=HYPERLINK(...)`` would be a live formula in Excel
    (OWASP CSV injection), so such cells are shown, and downloaded, as text.
    """
    import pandas as pd

    from planner.documents.common import excel_safe_frame

    frame = pd.DataFrame(frame)
    if frame.empty:  # Streamlit would draw a grid reading "empty"
        st.caption(empty)
        return
    kwargs.setdefault("placeholder", "")  # a missing value is a blank cell, not "None"
    st.dataframe(excel_safe_frame(frame), **kwargs)
