"""Plan records being built: trips, stops and legs, in the plan format's terms.

The solver appends to a :class:`PlanParts`; the writer turns it into the files
of ``docs/plan-format.md``. Times are timezone-aware datetimes until written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class PlanParts:
    """Trips, stops and legs of one part of the plan (a county, or the trains)."""

    prefix: str
    trips: list[dict] = field(default_factory=list)
    stops: list[dict] = field(default_factory=list)
    # (worker_pos, leg, trip_id, seat, board_place, board_time, alight_place, alight_time)
    legs: list[tuple] = field(default_factory=list)
    # worker_pos -> (chain, depart_day, planned_arrival)
    outcome: dict[int, tuple[str, object, datetime]] = field(default_factory=dict)
    # worker_pos -> reason, for eligible workers who found no seat
    unplaced: dict[int, str] = field(default_factory=dict)
    _n: int = 0

    def new_trip_id(self, letter: str) -> str:
        """A unique trip id: mode letter, part prefix, running number."""
        self._n += 1
        return f"{letter}{self.prefix}-{self._n:05d}"

    def extend(self, other: PlanParts) -> None:
        """Append another part's records (ids are unique by their prefixes)."""
        self.trips += other.trips
        self.stops += other.stops
        self.legs += other.legs
        self.outcome.update(other.outcome)
        self.unplaced.update(other.unplaced)


def stop(trip_id: str, seq: int, place_id: str, kind: str, arrive: datetime | None, depart: datetime | None,
         boarding: int = 0, alighting: int = 0, distance_km: float = 0.0) -> dict:
    """One row of stops.csv."""
    return {
        "trip_id": trip_id,
        "seq": seq,
        "place_id": place_id,
        "place_kind": kind,
        "arrive": arrive,
        "depart": depart,
        "boarding": boarding,
        "alighting": alighting,
        "distance_km": round(float(distance_km), 2),
    }
