"""Seat layouts and the seat patterns of the occupancy rules.

Seats are labelled row then letter: rows count from the front (1), letters from
the left (``A``); ``12D`` is row 12, fourth seat from the left. The last row is
a bench of ``last_row_seats`` seats with no aisle. The last ``isolation_rows``
rows are never sold (留观区, the observation area of the Feb 2020 notices).

Patterns among the other rows, each listed in fill order (front to back, left
to right), so the solver hands out seats from the front and the checker can
verify every seat label of a plan against the same list:

- ``all_seats``: every seat (the relaxed rule for low-risk trips from 28 Feb 2020);
- ``half_seats``: chequerboard, seat (row r 1-based, column c 0-based) when
  (r + c) is even, capped at half the rated seats (交运明电〔2020〕56号 of
  11 Feb 2020: at most 50 % of rated seats, passengers spread apart);
- ``one_per_two_seats`` (一人双座): in each block of seats between a window and
  the aisle, every second seat counted from the window; on the bench, every
  second seat from ``A``; capped at half the rated seats;
- ``one_per_row``: one window seat per row, left (``A``) on odd rows, right
  (the last letter) on even rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from string import ascii_uppercase
from typing import Any

from planner.vocab import OCCUPANCY_RULES

RULES: tuple[str, ...] = OCCUPANCY_RULES  # the names live in planner/vocab.py
"""The occupancy rules, as named in the scenario file and in ``trips.csv``."""

_CAPPED = frozenset({"half_seats", "one_per_two_seats"})


@dataclass(frozen=True)
class SeatLayout:
    """Rows and seats of one vehicle type.

    Attributes
    ----------
    rows : int
        Rows of seats, the bench at the back included.
    seats_per_row : int
        Seats in every row but the last.
    aisle_after : int
        Seats left of the aisle (2 on a 2+2 coach, 3 on a 3+2 hard-seat carriage).
    last_row_seats : int
        Seats on the bench of the last row (no aisle there).
    rated_seats : int
        Rated (licensed) seats, ``(rows - 1) * seats_per_row + last_row_seats``;
        the 50 % caps are taken of this number.
    type_id : str
        ``type_id`` of the vehicle types table (for messages only).
    """

    rows: int
    seats_per_row: int
    aisle_after: int
    last_row_seats: int
    rated_seats: int
    type_id: str = ""

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | Any) -> SeatLayout:
        """Build a layout from a dict or a pandas row of the vehicle types table.

        Parameters
        ----------
        row : mapping or pandas.Series
            Must hold ``rows``, ``seats_per_row``, ``aisle_after`` and
            ``last_row_seats``; ``rated_seats`` and ``type_id`` are optional
            (the rated seats are computed when missing or empty).

        Returns
        -------
        SeatLayout
        """

        def get(key: str) -> Any:
            try:
                value = row[key]
            except (KeyError, IndexError):
                return None
            try:
                if value != value:  # NaN from pandas
                    return None
            except (TypeError, ValueError):
                pass
            return value

        rows = int(row["rows"])
        spr = int(row["seats_per_row"])
        last = int(row["last_row_seats"])
        rated = get("rated_seats")
        type_id = get("type_id")
        return cls(
            rows=rows,
            seats_per_row=spr,
            aisle_after=int(row["aisle_after"]),
            last_row_seats=last,
            rated_seats=int(rated) if rated is not None else (rows - 1) * spr + last,
            type_id="" if type_id is None else str(type_id),
        )

    def row_width(self, row: int) -> int:
        """Seats in ``row`` (1-based): ``last_row_seats`` on the bench, else ``seats_per_row``."""
        return self.last_row_seats if row == self.rows else self.seats_per_row

    def seats(self) -> tuple[str, ...]:
        """Every seat label, front to back, left to right."""
        return _all_seats(self)


def _label(row: int, col: int) -> str:
    return f"{row}{ascii_uppercase[col]}"


@lru_cache(maxsize=256)
def _all_seats(layout: SeatLayout) -> tuple[str, ...]:
    return tuple(_label(r, c) for r in range(1, layout.rows + 1) for c in range(layout.row_width(r)))


def _pattern(layout: SeatLayout, rule: str, r: int) -> list[int]:
    """Columns of row ``r`` that ``rule`` allows, left to right, before the half cap."""
    width = layout.row_width(r)
    if rule == "all_seats":
        return list(range(width))
    if rule == "half_seats":
        return [c for c in range(width) if (r + c) % 2 == 0]
    if rule == "one_per_two_seats":
        aisle = layout.aisle_after
        if r == layout.rows or aisle <= 0 or aisle >= width:
            return list(range(0, width, 2))  # the bench (or a row without aisle): every second from A
        left = list(range(0, aisle, 2))  # from the left window towards the aisle
        right = sorted(range(width - 1, aisle - 1, -2))  # from the right window towards the aisle
        return left + right
    if rule == "one_per_row":
        if width <= 0:
            return []
        return [0] if r % 2 == 1 else [width - 1]
    msg = f"未知的载客规则 (unknown occupancy rule) {rule!r}; expected one of {', '.join(RULES)}"
    raise ValueError(msg)


@lru_cache(maxsize=1024)
def _allowed(layout: SeatLayout, rule: str, isolation_rows: int) -> tuple[str, ...]:
    out: list[str] = []
    for r in range(1, max(0, layout.rows - isolation_rows) + 1):
        out += [_label(r, c) for c in _pattern(layout, rule, r)]
    if rule in _CAPPED:
        out = out[: layout.rated_seats // 2]
    elif rule not in RULES:  # a layout with zero usable rows never reaches _pattern
        _pattern(layout, rule, 1)
    return tuple(out)


@lru_cache(maxsize=1024)
def _allowed_set(layout: SeatLayout, rule: str, isolation_rows: int) -> frozenset[str]:
    return frozenset(_allowed(layout, rule, isolation_rows))


def allowed_seats(layout: SeatLayout, rule: str, isolation_rows: int) -> tuple[str, ...]:
    """Seats ``rule`` allows with the last ``isolation_rows`` rows empty, in fill order.

    Parameters
    ----------
    layout : SeatLayout
        The vehicle type.
    rule : str
        One of :data:`RULES`.
    isolation_rows : int
        Last rows kept empty (留观区); 2 for coaches and carriages in 2020.

    Returns
    -------
    tuple of str
        Seat labels front to back, left to right; the solver fills them in this
        order. Cached: the same (layout, rule, rows) returns the same tuple.

    Raises
    ------
    ValueError
        For an unknown rule.
    """
    return _allowed(layout, rule, int(isolation_rows))


def seats_allowed(layout: SeatLayout, rule: str, isolation_rows: int) -> int:
    """How many seats ``rule`` allows (``len(allowed_seats(...))``): the capacity of one trip."""
    return len(_allowed(layout, rule, int(isolation_rows)))


def is_seat_allowed(layout: SeatLayout, rule: str, isolation_rows: int, label: str) -> bool:
    """Whether ``label`` is one of the seats ``rule`` allows (set look-up, cached per pattern)."""
    return label in _allowed_set(layout, rule, int(isolation_rows))


def parse_seat(label: str) -> tuple[int, int]:
    """Split a seat label into (row, column index).

    Parameters
    ----------
    label : str
        Row number (1 or more, no leading zero) then one capital letter, e.g. ``12D``.

    Returns
    -------
    tuple of int
        ``(row, column)`` with row 1-based and column 0-based (``A`` = 0).

    Raises
    ------
    ValueError
        When the label is not a row number followed by one letter.
    """
    s = label.strip() if isinstance(label, str) else ""
    digits = s[:-1]
    if (
        len(s) < 2
        or not digits.isascii()
        or not digits.isdigit()
        or digits.startswith("0")
        or s[-1] not in ascii_uppercase
    ):
        msg = f"座位号格式错误 (bad seat label) {label!r}: expected a row number and a letter, e.g. 3A"
        raise ValueError(msg)
    return int(digits), ascii_uppercase.index(s[-1])


def seat_rows_apart(a: str, b: str) -> int:
    """Rows between two seats (0 = same row); used by the contact trace."""
    return abs(parse_seat(a)[0] - parse_seat(b)[0])
