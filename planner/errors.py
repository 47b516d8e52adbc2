"""Exceptions raised by the planner.

Every error a user can cause carries a message that names the offending file,
row, column or value; the CLI prints it and exits non-zero, never a traceback.
"""


class PlannerError(Exception):
    """Base class of every error the planner raises on purpose."""


class ScenarioError(PlannerError, ValueError):
    """The scenario file is missing, unreadable or breaks its schema."""


class DataError(PlannerError, ValueError):
    """A data file cannot be read at all (missing, unknown format, bad encoding)."""


class PlanFormatError(PlannerError, ValueError):
    """A plan directory is missing a file or a column the plan format requires."""


class PlanOutputError(PlannerError, ValueError):
    """A plan cannot be written where asked: ``--out`` is a file, not a plan, or locked by another run."""
