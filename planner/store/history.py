"""What a store holds, for people: the plan versions it has seen, every publication, the record counts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from planner.store.boarding import current_boarding
from planner.store.db import Store
from planner.store.schema import boarding_records, handovers, plan_versions, publications


@dataclass(frozen=True)
class PlanVersion:
    plan_id: str
    plan_path: str
    first_seen_at: str


@dataclass(frozen=True)
class Publication:
    plan_id: str
    through_date: str
    published_at: str
    published_by: str
    trips_added: int


@dataclass(frozen=True)
class StoreHistory:
    plans: list[PlanVersion]
    publications: list[Publication]
    boarding_records: int  # every record kept, superseded ones included
    boarding_by_status: dict[str, int]  # the records that stand, by status
    handovers: int


def store_history(store: Store) -> StoreHistory:
    """The history of plan versions and publications, oldest first, and how much is recorded."""
    with store.read() as conn:
        plans = [PlanVersion(r.plan_id, r.plan_path, r.first_seen_at)
                 for r in conn.execute(select(plan_versions).order_by(plan_versions.c.first_seen_at))]
        pubs = [Publication(r.plan_id, r.through_date, r.published_at, r.published_by, r.trips_added)
                for r in conn.execute(select(publications).order_by(publications.c.id))]
        n_rec = conn.execute(select(func.count()).select_from(boarding_records)).scalar() or 0
        n_hand = conn.execute(select(func.count()).select_from(handovers)).scalar() or 0
    cur = current_boarding(store)
    by_status = {str(k): int(v) for k, v in cur["status"].value_counts().items()} if len(cur) else {}
    return StoreHistory(plans, pubs, int(n_rec), by_status, int(n_hand))
