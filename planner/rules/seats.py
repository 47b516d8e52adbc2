"""Seat layouts and the seat patterns of the occupancy rules.

Seats are labelled row then letter: rows count from the front (1), letters from
the left (``A``); ``12D`` is row 12, fourth seat from the left. The last row is
a bench of ``last_row_seats`` seats with no aisle. The last ``isolation_rows``
rows are never sold (留观区, the observation area).

Patterns (among the other rows), each in fill order (front to back, left to right):

- ``all_seats``: every seat;
- ``half_seats``: chequerboard, seat (row r, column c) when (r + c) is even, capped
  at half the rated seats (the national rule of 11 Feb 2020: at most 50 %, spread apart);
- ``one_per_two_seats`` (一人双座): in each block of seats between window and aisle,
  every second seat from the window; capped at half the rated seats;
- ``one_per_row``: one window seat per row, left on odd rows, right on even rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from string import ascii_uppercase

RULES = ("half_seats", "one_per_two_seats", "one_per_row", "all_seats")


@dataclass(frozen=True)
class SeatLayout:
    """Rows and seats of a vehicle type."""

    type_id: str
    rows: int
    seats_per_row: int
    aisle_after: int
    last_row_seats: int
    rated_seats: int

    @classmethod
    def from_row(cls, row) -> SeatLayout:
        """Build from a mapping or a pandas row with the vehicle-type columns."""
        return cls(
            type_id=str(row["type_id"]),
            rows=int(row["rows"]),
            seats_per_row=int(row["seats_per_row"]),
            aisle_after=int(row["aisle_after"]),
            last_row_seats=int(row["last_row_seats"]),
            rated_seats=int(row["rated_seats"]),
        )

    def row_width(self, row: int) -> int:
        """Seats in ``row`` (1-based)."""
        return self.last_row_seats if row == self.rows else self.seats_per_row

    def seats(self) -> tuple[str, ...]:
        """Every seat label, front to back, left to right."""
        return tuple(f"{r}{ascii_uppercase[c]}" for r in range(1, self.rows + 1) for c in range(self.row_width(r)))


def _pattern(layout: SeatLayout, rule: str, r: int) -> list[int]:
    """Columns of row ``r`` that ``rule`` allows, before the half cap."""
    width = layout.row_width(r)
    if rule == "all_seats":
        return list(range(width))
    if rule == "half_seats":
        return [c for c in range(width) if (r + c) % 2 == 0]
    if rule == "one_per_two_seats":
        if r == layout.rows or layout.aisle_after <= 0 or layout.aisle_after >= width:
            return list(range(0, width, 2))
        left = list(range(0, layout.aisle_after, 2))
        right = sorted(range(width - 1, layout.aisle_after - 1, -2))
        return left + right
    if rule == "one_per_row":
        return [0] if r % 2 == 1 else [width - 1]
    msg = f"unknown occupancy rule {rule!r}; expected one of {', '.join(RULES)}"
    raise ValueError(msg)


@lru_cache(maxsize=1024)
def _allowed(layout: SeatLayout, rule: str, isolation_rows: int) -> tuple[str, ...]:
    out: list[str] = []
    for r in range(1, max(0, layout.rows - isolation_rows) + 1):
        out += [f"{r}{ascii_uppercase[c]}" for c in _pattern(layout, rule, r)]
    if rule in ("half_seats", "one_per_two_seats"):
        out = out[: layout.rated_seats // 2]
    return tuple(out)


def allowed_seats(layout: SeatLayout, rule: str, isolation_rows: int) -> tuple[str, ...]:
    """Seats ``rule`` allows with the last ``isolation_rows`` rows empty, in fill order."""
    return _allowed(layout, rule, int(isolation_rows))


def seats_allowed(layout: SeatLayout, rule: str, isolation_rows: int) -> int:
    """How many seats ``rule`` allows."""
    return len(allowed_seats(layout, rule, isolation_rows))


def parse_seat(label: str) -> tuple[int, int]:
    """(row, column index) of a seat label like ``12D``; ValueError when malformed."""
    s = str(label).strip()
    if len(s) < 2 or not s[:-1].isdigit() or s[-1] not in ascii_uppercase:
        msg = f"bad seat label {label!r}: expected a row number and a letter, e.g. 3A"
        raise ValueError(msg)
    return int(s[:-1]), ascii_uppercase.index(s[-1])


def is_seat_allowed(layout: SeatLayout, rule: str, isolation_rows: int, label: str) -> bool:
    """Whether ``label`` is one of the seats the rule allows."""
    return label in set(allowed_seats(layout, rule, isolation_rows))


def seat_rows_apart(a: str, b: str) -> int:
    """Rows between two seats (0 = same row)."""
    return abs(parse_seat(a)[0] - parse_seat(b)[0])
