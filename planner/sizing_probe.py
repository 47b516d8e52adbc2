"""One fleet-sizing probe, in memory: the real planner on a county's problem with a changed fleet.

``planner size-fleet`` tries many fleets for the same workers. Reading, validating and preparing
the county's data (:func:`planner.solve.problem.build_problem`) is done once per county (or group
of counties sharing a terminal, :func:`terminal_groups`); a probe only replaces the fleet table
of that :class:`~planner.solve.problem.ProblemData` and runs :func:`planner.solve.solver.solve`
on it. Nothing is written for a probe that falls short of the target: the people moved and the
reasons of the rest are read from the solver's records (:func:`planner.plan_writer.plan_tables`).
A probe that reaches its target is written as a plan directory of its own variant scenario
(the county's files with the probe's fleet), so the answer can be checked by the checker
exactly like any ``planner plan`` output.

The problems live in this module (:data:`PROBLEMS`) so that forked probe processes inherit them
instead of receiving a pickled copy.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import pandas as pd


@dataclass
class GroupProblem:
    """A county (or counties sharing a terminal) read and prepared once for all its probes."""

    key: str  # the group's name: its county codes joined by "-"
    counties: list[str]
    scenario: str  # the group's variant scenario file (its workers only)
    problem: object  # planner.solve.problem.ProblemData
    n_read: int
    rejected: pd.DataFrame | None = None
    cpu_s: float = 0.0  # reading, validating and preparing it
    folder: str = ""  # where the probes' fleet variants are written (default: beside ``scenario``)


@dataclass
class ProbeResult:
    """Per county of a group probe: workers moved, reasons of the rest, people one vehicle moved."""

    moved: dict[str, int]
    reasons: dict[str, dict[str, int]]
    per_vehicle: dict[str, dict[str, float]]
    plan_dir: str = ""  # written only when some county reached its target
    scenario: str = ""  # the variant scenario of the written plan
    cpu_s: float = 0.0
    extra: dict[str, tuple[int, int]] = field(default_factory=dict)


#: group key -> its prepared problem (filled in the main process before probe processes fork)
PROBLEMS: dict[str, GroupProblem] = {}


def terminal_groups(hubs: pd.DataFrame, counties: list[str]) -> list[list[str]]:
    """The counties grouped as the solver groups them: counties using the same terminal hub together.

    The solver gives each county the terminal hub of its ``county_code``
    (:func:`planner.solve.context.build_context`) and plans counties whose terminal is the same
    hub in one task, because they share its daily capacity; sizing does the same, so a shared
    terminal is never sized as if each county had it alone. Counties without a terminal are
    alone.
    """
    term = hubs[hubs["kind"].astype(str) == "terminal"].sort_values("hub_id")
    of = {str(c): str(h) for h, c in zip(term["hub_id"], term["county_code"])}
    groups: dict[str, list[str]] = {}
    for c in counties:
        groups.setdefault(of.get(c, f"none:{c}"), []).append(c)
    return [sorted(g) for g in groups.values()]


def prepare_group(key: str, counties: list[str], scenario: str, validated: tuple | None = None) -> GroupProblem:
    """Read, validate and prepare the group's variant scenario once (its workers only).

    ``validated``: the (scenario, validation) of ``scenario`` when the caller has them already.
    """
    from planner.loader import load_and_validate
    from planner.solve.problem import build_problem

    t0 = time.process_time()
    sc, val = validated if validated is not None else load_and_validate(scenario)
    val.raise_for_scenario()
    p = build_problem(sc, val.tables)
    return GroupProblem(key, list(counties), str(scenario), p, int(val.counts["workers"]["read"]),
                        val.rejected.get("workers"), time.process_time() - t0)


def fleet_with(p, counts: dict[str, dict[str, int]]) -> pd.DataFrame:
    """``p.fleet`` with the counts of ``{county: {type: count}}`` set (rows added where missing)."""
    fl = p.fleet.copy()
    add = []
    for county, types in counts.items():
        for t, n in types.items():
            hit = (fl["county_code"].astype(str) == county) & (fl["type_id"].astype(str) == t)
            if hit.any():
                fl.loc[hit, "count"] = int(n)
            else:
                add.append({"county_code": county, "type_id": t, "count": int(n)})
    if add:
        fl = pd.concat([fl, pd.DataFrame(add)], ignore_index=True)
    return fl


def probe_counts(tables: dict[str, pd.DataFrame], county: str) -> tuple[int, dict[str, int], dict[str, float]]:
    """(workers moved, unassigned by reason, people one vehicle moved) of ``county`` in plan tables.

    ``tables`` holds ``workers``, ``trips`` and ``legs`` as in a plan directory. People one vehicle
    moved (keys ``coach``, ``feeder``): the county's riders of the kind over the vehicles of the kind
    used; ``feeder_day``: feeder riders over the (feeder bus, departure day) pairs used.
    """
    w = tables["workers"]
    w = w[w["county_code"].astype(str) == county]
    reasons = {str(k): int(n) for k, n in w.loc[w["status"] == "unassigned", "reason"].value_counts().items()}
    trips = tables["trips"]
    trips = trips[trips["purpose"].astype(str) == "passenger"]
    legs = tables["legs"]
    legs = legs[legs["worker_id"].isin(set(w["worker_id"]))]
    per: dict[str, float] = {}
    for kind in ("coach", "feeder"):
        t = trips[trips["mode"].astype(str) == kind]
        riders = legs.loc[legs["trip_id"].isin(set(t["trip_id"])), "worker_id"].nunique()
        used = t.loc[t["trip_id"].isin(set(legs["trip_id"])), "vehicle_id"].nunique() if len(legs) else 0
        per[kind] = riders / used if used else 0.0
        if kind == "feeder":  # riders per (feeder, day) used: what one more feeder adds on a busy day
            mine = t[t["trip_id"].isin(set(legs["trip_id"]))]
            days = mine.assign(day=mine["depart"].astype(str).str[:10])[["vehicle_id", "day"]].drop_duplicates()
            per["feeder_day"] = riders / len(days) if len(days) else 0.0
    return int((w["status"] == "planned").sum()), reasons, per


def run_probe(key: str, counts: dict[str, dict[str, int]], extra: dict[str, tuple[int, int]],
              targets: dict[str, int], plans: str) -> ProbeResult:
    """Plan group ``key`` with the fleet ``counts``; write the plan only if some county reaches its target.

    ``extra``: per county the (coaches, feeders) added, which names the plan folder
    ``plans/c<coaches>-f<feeders>`` (``<county>c..f..`` joined for a group).
    """
    from planner.plan_writer import plan_tables, write_plan
    from planner.scenario import load_scenario
    from planner.solve.solver import solve
    from planner.variant import write_variant

    t0 = time.process_time()
    g = PROBLEMS[key]
    p = dataclasses.replace(g.problem, fleet=fleet_with(g.problem, counts))
    res = solve(p, processes=1)
    tables = plan_tables(p, res, g.rejected)
    out = ProbeResult({}, {}, {}, extra=dict(extra))
    for c in g.counties:
        out.moved[c], out.reasons[c], out.per_vehicle[c] = probe_counts(tables, c)
    if any(out.moved[c] >= targets.get(c, 1 << 60) for c in g.counties):
        name = probe_name(g.counties, extra)
        v = write_variant(g.scenario, name, {"fleet": counts}, folder=Path(g.folder or Path(g.scenario).parent),
                          overwrite=True)
        pv = dataclasses.replace(p, sc=load_scenario(v.path))
        dest = Path(plans) / name
        write_plan(dest, pv, res, g.rejected, g.n_read, {})
        out.plan_dir, out.scenario = str(dest), str(v.path)
    out.cpu_s = time.process_time() - t0
    return out


def probe_name(counties: list[str], extra: dict[str, tuple[int, int]]) -> str:
    """The folder name of a probe: ``c<coaches>-f<feeders>``, or per county joined for a group."""
    if len(counties) == 1:
        ec, ef = extra[counties[0]]
        return f"c{ec}-f{ef}"
    return "_".join(f"{c}c{extra[c][0]}-f{extra[c][1]}" for c in counties)


def plan_as_tables(plan) -> dict[str, pd.DataFrame]:
    """The ``workers``, ``trips`` and ``legs`` of a read plan (:class:`planner.plan_format.PlanFiles`)."""
    return {"workers": plan.workers, "trips": plan.trips, "legs": plan.legs}


def as_namespace(tables: dict[str, pd.DataFrame]) -> SimpleNamespace:
    """Tables as attributes (what :func:`planner.fleet_sizing.plan_probe` reads)."""
    return SimpleNamespace(**tables)
