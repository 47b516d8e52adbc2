"""Reading input files (see :mod:`planner.io.readers`)."""

from planner.io.readers import read_table

__all__ = ["read_table"]
