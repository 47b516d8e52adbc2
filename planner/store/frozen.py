"""What of a trip is frozen once published, as text: the trip row and its stops, passenger counts left out.

A replanned plan keeps its locked trips byte-identical apart from the people
taken off; the people counts (``passengers``, a stop's ``boarding`` and
``alighting``) and the group leader (who may be taken off) are the only parts
that may change. :func:`frozen_hashes` gives each trip a sha256 of the rest,
so the store recognises the same trip in another plan version.
"""

from __future__ import annotations

import hashlib

import pandas as pd

from planner.plan_format import PlanFiles, format_table

#: columns that may change on a locked trip when people are taken off it
TRIP_PEOPLE_COLUMNS: frozenset[str] = frozenset({"passengers", "leader_worker_id"})
STOP_PEOPLE_COLUMNS: frozenset[str] = frozenset({"boarding", "alighting"})


def _lines(name: str, df: pd.DataFrame, drop: frozenset[str]) -> pd.Series:
    text = format_table(name, df).astype(str)
    text = text.replace({"<NA>": ""})
    cols = [c for c in text.columns if c not in drop]
    if not cols:
        return pd.Series("", index=text.index, dtype=object)
    # column by column (the same text as joining each row's cells; a row-wise join costs seconds)
    line = text[cols[0]].astype(object)
    for c in cols[1:]:
        line = line + "\x1f" + text[c].astype(object)
    return line


def frozen_hashes(plan: PlanFiles, trip_ids: set[str] | None = None) -> dict[str, str]:
    """trip_id -> sha256 (hex) of its frozen text (trip row and stops, people counts left out)."""
    trips, stops = plan.trips, plan.stops
    if trip_ids is not None:
        trips = trips[trips["trip_id"].astype(str).isin(trip_ids)]
        stops = stops[stops["trip_id"].astype(str).isin(trip_ids)]
    trip_text = dict(zip(trips["trip_id"].astype(str), _lines("trips", trips, TRIP_PEOPLE_COLUMNS)))
    stops = stops.sort_values(["trip_id", "seq"], kind="stable")
    stop_text = _lines("stops", stops, STOP_PEOPLE_COLUMNS) if len(stops) else pd.Series(dtype=str)
    by_trip = stop_text.groupby(stops["trip_id"].astype(str).to_numpy()).agg("\n".join) if len(stops) else {}
    out = {}
    for tid, row in trip_text.items():
        body = row + "\n" + str(by_trip.get(tid, "")) if len(stops) else row
        out[tid] = hashlib.sha256(body.encode("utf-8")).hexdigest()
    return out
