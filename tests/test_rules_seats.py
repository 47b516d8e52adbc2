"""Seat layouts and occupancy patterns: hand-counted seat numbers and labels."""

from __future__ import annotations

import pandas as pd
import pytest

from planner.rules.seats import (
    RULES,
    SeatLayout,
    allowed_seats,
    is_seat_allowed,
    parse_seat,
    seat_rows_apart,
    seats_allowed,
)

C53 = SeatLayout.from_row({"type_id": "C53", "rows": 13, "seats_per_row": 4, "aisle_after": 2, "last_row_seats": 5})
C45 = SeatLayout.from_row({"type_id": "C45", "rows": 11, "seats_per_row": 4, "aisle_after": 2, "last_row_seats": 5})
F35 = SeatLayout.from_row({"type_id": "F35", "rows": 9, "seats_per_row": 4, "aisle_after": 2, "last_row_seats": 3})
YZ25 = SeatLayout.from_row({"type_id": "YZ25", "rows": 24, "seats_per_row": 5, "aisle_after": 3, "last_row_seats": 3})


def test_rated_seats_computed():
    """Rated seats = (rows-1) x seats_per_row + last_row_seats: 53, 45, 35, 118."""
    assert [lay.rated_seats for lay in (C53, C45, F35, YZ25)] == [53, 45, 35, 118]
    assert len(C53.seats()) == 53 and len(YZ25.seats()) == 118


def test_from_pandas_row_keeps_declared_rated_seats():
    """A pandas row of the vehicle types table builds the same layout as a dict."""
    row = pd.Series({"type_id": "C53", "mode": "coach", "rows": 13, "seats_per_row": 4, "aisle_after": 2,
                     "last_row_seats": 5, "rated_seats": 53})
    assert SeatLayout.from_row(row) == C53


def test_seat_labels_front_to_back_left_to_right():
    """C53 seats run 1A 1B 1C 1D 2A ... and end on the five-seat bench 13A..13E."""
    s = C53.seats()
    assert s[:5] == ("1A", "1B", "1C", "1D", "2A")
    assert s[-5:] == ("13A", "13B", "13C", "13D", "13E")


def test_c53_counts():
    """C53 with 2 isolation rows: half 22, all 44, one per row 11, one per two seats 22."""
    assert seats_allowed(C53, "half_seats", 2) == 22
    assert seats_allowed(C53, "all_seats", 2) == 44
    assert seats_allowed(C53, "one_per_row", 2) == 11
    assert seats_allowed(C53, "one_per_two_seats", 2) == 22


def test_yz25_half_seats():
    """YZ25 half seats with 2 isolation rows: rows 1-22 give 2 and 3 seats alternately = 55."""
    seats = allowed_seats(YZ25, "half_seats", 2)
    assert len(seats) == 55
    assert [s for s in seats if parse_seat(s)[0] == 1] == ["1B", "1D"]
    assert [s for s in seats if parse_seat(s)[0] == 2] == ["2A", "2C", "2E"]
    assert max(parse_seat(s)[0] for s in seats) == 22


def test_f35_half_seats_capped():
    """F35 without isolation rows: 8 rows x 2 + 1 bench seat = 17 = floor(35 / 2)."""
    seats = allowed_seats(F35, "half_seats", 0)
    assert len(seats) == 17
    assert seats[-1] == "9B"


def test_half_cap_applies_without_isolation():
    """C53 with no isolation rows: 12 x 2 + 13B, 13D = 26 = floor(53 / 2) exactly; C49: 11 x 2 + 3 = 25, capped to 24."""
    seats = allowed_seats(C53, "half_seats", 0)
    assert len(seats) == 26 and seats[-2:] == ("13B", "13D")
    c49 = SeatLayout.from_row({"rows": 12, "seats_per_row": 4, "aisle_after": 2, "last_row_seats": 5})
    assert c49.rated_seats == 49
    seats = allowed_seats(c49, "half_seats", 0)
    assert len(seats) == 24 and seats[-2:] == ("12A", "12C")  # 12E is cut by the cap


def test_half_seats_chequerboard_fill_order():
    """Half seats start 1B 1D 2A 2C 3B: (row + column) even, front to back, left to right."""
    assert allowed_seats(C53, "half_seats", 2)[:5] == ("1B", "1D", "2A", "2C", "3B")


def test_one_per_two_seats_from_the_windows():
    """一人双座 takes A and D in a 2+2 row, A C E in a 3+2 row, every second seat from A on the bench."""
    assert allowed_seats(C53, "one_per_two_seats", 2)[:4] == ("1A", "1D", "2A", "2D")
    assert allowed_seats(YZ25, "one_per_two_seats", 2)[:3] == ("1A", "1C", "1E")
    assert allowed_seats(F35, "one_per_two_seats", 0)[-2:] == ("8D", "9A")  # 16 + 9A, 9C = 18, capped at 17
    assert seats_allowed(YZ25, "one_per_two_seats", 2) == 59  # 22 x 3 = 66, capped at 118 // 2


def test_one_per_row_alternates_windows():
    """One per row: 1A, 2D, 3A, ... and on the F35 bench (row 9, odd) 9A."""
    assert allowed_seats(C53, "one_per_row", 2)[:4] == ("1A", "2D", "3A", "4D")
    assert allowed_seats(F35, "one_per_row", 0)[-1] == "9A"
    assert allowed_seats(YZ25, "one_per_row", 2)[1] == "2E"


def test_isolation_rows_never_allowed():
    """No rule allows a seat in the last isolation rows."""
    for rule in RULES:
        for lay in (C53, C45, F35, YZ25):
            assert all(parse_seat(s)[0] <= lay.rows - 2 for s in allowed_seats(lay, rule, 2))


def test_every_pattern_is_a_subset_of_the_seats_and_unique():
    """Allowed seats exist in the layout and are listed once, in the layout's order."""
    for rule in RULES:
        for lay in (C53, C45, F35, YZ25):
            allowed = allowed_seats(lay, rule, 1)
            order = {s: i for i, s in enumerate(lay.seats())}
            assert all(s in order for s in allowed)
            assert [order[s] for s in allowed] == sorted(order[s] for s in allowed)


def test_allowed_seats_is_cached():
    """The same (layout, rule, rows) returns the very same tuple."""
    assert allowed_seats(C45, "half_seats", 2) is allowed_seats(C45, "half_seats", 2)


def test_is_seat_allowed():
    """1B is a half-seat, 1A is not, 12B (isolation row of a C53) is not."""
    assert is_seat_allowed(C53, "half_seats", 2, "1B")
    assert not is_seat_allowed(C53, "half_seats", 2, "1A")
    assert not is_seat_allowed(C53, "all_seats", 2, "12B")
    assert is_seat_allowed(C53, "all_seats", 2, "11D")


def test_unknown_rule_raises():
    """A misspelt rule is an error, not an empty pattern."""
    with pytest.raises(ValueError, match="unknown occupancy rule"):
        allowed_seats(C53, "half_seat", 2)


def test_parse_seat():
    """3A is (3, 0) and 12D is (12, 3); malformed labels raise ValueError."""
    assert parse_seat("3A") == (3, 0)
    assert parse_seat("12D") == (12, 3)
    for bad in ("", "A", "3", "3a", "A3", "03A", "3AB", "-1A", "３A"):
        with pytest.raises(ValueError):
            parse_seat(bad)


def test_seat_rows_apart():
    """3A and 5D are 2 rows apart; seats of one row are 0 apart."""
    assert seat_rows_apart("3A", "5D") == 2
    assert seat_rows_apart("5D", "3A") == 2
    assert seat_rows_apart("7A", "7D") == 0
