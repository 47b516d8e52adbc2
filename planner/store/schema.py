"""The store's tables (SQLAlchemy Core) and its versioned migrations.

The schema version lives in ``store_meta`` (key ``schema_version``). Each
migration in :data:`MIGRATIONS` takes a store from version ``n - 1`` to ``n``
inside one transaction; :func:`planner.store.db.open_store` applies the ones
missing, so a store written by an older planner is upgraded in place, its rows
kept. Migrations only ever add tables or indexes: history is append-only.

Times are ISO 8601 text with their offset, as in the plan files (they sort
lexicographically within one offset); dates YYYY-MM-DD. Nothing personal is
stored beyond what the plan already holds: worker ids, seats, statuses,
temperatures, and who (an official's name as typed) recorded what and when.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (Column, Float, Index, Integer, MetaData, String, Table, Text, UniqueConstraint)
from sqlalchemy.engine import Connection

metadata = MetaData()

store_meta = Table(
    "store_meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# every plan version the store has seen (published, recorded against, or indexed)
plan_versions = Table(
    "plan_versions", metadata,
    Column("plan_id", String(32), primary_key=True),
    Column("plan_path", Text, nullable=False),
    Column("scenario_checksum", String(64), nullable=False, default=""),
    Column("first_seen_at", String(40), nullable=False),
)

# one row per `planner publish` run: the history of what was published when, by whom
publications = Table(
    "publications", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("plan_id", String(32), nullable=False),
    Column("through_date", String(10), nullable=False),
    Column("published_at", String(40), nullable=False),
    Column("published_by", Text, nullable=False),
    Column("trips_added", Integer, nullable=False),
)

# a trip once published: frozen from then on. `frozen_hash` covers the trip row and its stops without the
# passenger counts, so a replanned plan carrying the trip unchanged (minus people taken off) matches it
published_trips = Table(
    "published_trips", metadata,
    Column("trip_id", String(64), primary_key=True),
    Column("plan_id", String(32), nullable=False),  # the plan version that first published it
    Column("frozen_hash", String(64), nullable=False),
    Column("mode", String(16), nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("vehicle_id", String(64), nullable=False),
    Column("origin_id", String(64), nullable=False),
    Column("depart", String(40), nullable=False),
    Column("arrive", String(40), nullable=False),
    Column("publication_id", Integer, nullable=False),
)

# which plan versions carry a published trip (a replan carries the base plan's locked trips)
plan_trips = Table(
    "plan_trips", metadata,
    Column("plan_id", String(32), primary_key=True),
    Column("trip_id", String(64), primary_key=True),
    Column("publication_id", Integer, nullable=False),
)

# the seats of the published trips, per plan version carrying them
published_seats = Table(
    "published_seats", metadata,
    Column("plan_id", String(32), primary_key=True),
    Column("trip_id", String(64), primary_key=True),
    Column("worker_id", String(64), primary_key=True),
    Column("leg", Integer, nullable=False),
    Column("seat", String(16), nullable=False),
    Column("board_place_id", String(64), nullable=False),
    Column("board_time", String(40), nullable=False),
    Column("alight_place_id", String(64), nullable=False),
    Column("alight_time", String(40), nullable=False),
    Column("township_code", String(16), nullable=False, default=""),
)
Index("ix_published_seats_trip", published_seats.c.trip_id)

# append-only: a second record of the same person on the same trip is a new row; the latest (highest id) stands
boarding_records = Table(
    "boarding_records", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trip_id", String(64), nullable=False),
    Column("worker_id", String(64), nullable=False),
    Column("plan_id", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("temperature_c", Float, nullable=True),
    Column("recorded_by", Text, nullable=False),
    Column("recorded_at", String(40), nullable=False),
    Column("source", Text, nullable=False),  # 'app', 'cli', or 'import:<file name>#<sheet>!<row>'
)
Index("ix_boarding_trip_worker", boarding_records.c.trip_id, boarding_records.c.worker_id)
Index("ix_boarding_worker", boarding_records.c.worker_id)

# version 2: the receiving side's signature for a vehicle (append-only too; the latest stands)
handovers = Table(
    "handovers", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trip_id", String(64), nullable=False),
    Column("plan_id", String(32), nullable=False),
    Column("received", Integer, nullable=False),
    Column("expected", Integer, nullable=False),
    Column("boarded", Integer, nullable=True),  # recorded boarding at the time of signing (None: none recorded)
    Column("signed_by", Text, nullable=False),
    Column("organisation", Text, nullable=False),
    Column("signed_at", String(40), nullable=False),
    Column("source", Text, nullable=False),
)
Index("ix_handovers_trip", handovers.c.trip_id)

# version 3: every leg of a plan version, indexed, so a trace reads a few rows instead of every CSV
plan_legs = Table(
    "plan_legs", metadata,
    Column("plan_id", String(32), nullable=False),
    Column("worker_id", String(64), nullable=False),
    Column("leg", Integer, nullable=False),
    Column("trip_id", String(64), nullable=False),
    Column("seat", String(16), nullable=False),
    Column("board_place_id", String(64), nullable=False),
    Column("board_time", String(40), nullable=False),
    Column("alight_place_id", String(64), nullable=False),
    Column("alight_time", String(40), nullable=False),
    UniqueConstraint("plan_id", "worker_id", "leg", name="uq_plan_legs"),
)
Index("ix_plan_legs_trip", plan_legs.c.plan_id, plan_legs.c.trip_id)
Index("ix_plan_legs_board", plan_legs.c.plan_id, plan_legs.c.board_place_id, plan_legs.c.board_time)
Index("ix_plan_legs_alight", plan_legs.c.plan_id, plan_legs.c.alight_place_id, plan_legs.c.alight_time)

plan_trip_info = Table(
    "plan_trip_info", metadata,
    Column("plan_id", String(32), primary_key=True),
    Column("trip_id", String(64), primary_key=True),
    Column("mode", String(16), nullable=False),
    Column("vehicle_id", String(64), nullable=False),
)

plan_hubs = Table(
    "plan_hubs", metadata,
    Column("plan_id", String(32), primary_key=True),
    Column("place_id", String(64), primary_key=True),
)

# a plan version whose legs are fully indexed (written last, in the same transaction as the rows)
plan_indexes = Table(
    "plan_indexes", metadata,
    Column("plan_id", String(32), primary_key=True),
    Column("legs", Integer, nullable=False),
    Column("built_at", String(40), nullable=False),
)

V1_TABLES = (store_meta, plan_versions, publications, published_trips, plan_trips, published_seats, boarding_records)
V2_TABLES = (handovers,)
V3_TABLES = (plan_legs, plan_trip_info, plan_hubs, plan_indexes)


def _create(tables: tuple[Table, ...]) -> Callable[[Connection], None]:
    def migrate(conn: Connection) -> None:
        metadata.create_all(conn, tables=list(tables), checkfirst=True)
    return migrate


#: migration n (index n - 1) takes the store from version n - 1 to n
MIGRATIONS: tuple[Callable[[Connection], None], ...] = (
    _create(V1_TABLES),
    _create(V2_TABLES),
    _create(V3_TABLES),
)
SCHEMA_VERSION = len(MIGRATIONS)
