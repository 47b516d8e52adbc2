"""The independent plan checker: re-reads a plan directory and verifies every rule.

It reads only the plan files (docs/plan-format.md) and the scenario, in code
separate from the solver; ``docs/checker.md`` lists every rule and its code.
Messages name the trip and the worker (by worker_id, never by personal data).

    report = check_plan_dir(Path("out/demo"), load_scenario("scenarios/demo-wanzhou.toml"))
    print(report.text()); sys.exit(0 if report.ok else 1)
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from planner.check.accounting import accounting
from planner.check.boarding_window import boarding_window
from planner.check.chains import chains
from planner.check.coach_travel import coach_travel
from planner.check.context import CheckContext
from planner.check.county import county
from planner.check.dates import dates
from planner.check.driving import driving
from planner.check.drops import drops
from planner.check.feeders import feeders
from planner.check.fleet import fleet
from planner.check.hubs import hubs
from planner.check.plan_files import Plan, PlanFiles, format_violations, prepare, read_plan, scenario_mismatch
from planner.check.seats import seats
from planner.check.structure import structure
from planner.check.violations import COLUMNS, Violation, concat
from planner.check.waits import waits
from planner.scenario import Scenario

if TYPE_CHECKING:
    from planner.validate import ValidationResult

# reported before the others: when they hold, the other findings are mostly their consequence
FIRST_RULES = ("scenario_mismatch", "plan_format")
RULE_FAMILIES = (accounting, structure, chains, seats, county, driving, feeders, fleet, hubs, dates, drops, waits,
                boarding_window, coach_travel)
Progress = Callable[[str], None] | None


@dataclass
class CheckReport:
    """Violations found, one row each: rule, trip_id, worker_id, message."""

    violations: pd.DataFrame
    stats: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no rule is broken."""
        return self.violations.empty

    def rules(self) -> set[str]:
        """Codes of the rules broken."""
        return set(self.violations["rule"])

    def of(self, rule: str) -> pd.DataFrame:
        """The violations of one rule."""
        return self.violations[self.violations["rule"] == rule]

    def text(self, max_per_rule: int = 20) -> str:
        """Counts per rule and up to ``max_per_rule`` examples each."""
        checked = ", ".join(f"{k} {v:,}" for k, v in self.stats.items())
        if self.ok:
            return f"校验通过：没有违反任何规则 (no violations; checked {checked})"
        counts = self.violations["rule"].value_counts()
        lines = [f"发现 {len(self.violations):,} 处违规，涉及 {len(counts)} 条规则 (violations; checked {checked}):"]
        first = [r for r in FIRST_RULES if r in counts.index]
        groups = dict(tuple(self.violations.groupby("rule", sort=True)))
        for rule in first + [r for r in groups if r not in first]:
            g = groups[rule]
            lines.append(f"  [{rule}] {len(g):,} 处")
            for r in g.head(max_per_rule).itertuples(index=False):
                where = " ".join(x for x in (f"车次 {r.trip_id}" if r.trip_id else "",
                                             f"人员 {r.worker_id}" if r.worker_id else "") if x)
                lines.append(f"    {where + ': ' if where else ''}{r.message}")
            if len(g) > max_per_rule:
                lines.append(f"    …… 另有 {len(g) - max_per_rule:,} 处")
        return "\n".join(lines)


#: the rule families a second process checks when there are two (``processes=2``): about half
#: of the checker's time at full scale, the other half being ``driving`` and the small families
SECOND_PROCESS_FAMILIES = (accounting, structure, chains, dates)

# what a forked checker process inherits (copy-on-write) instead of receiving it pickled
_SHARED: tuple[Plan, CheckContext, dict[str, Callable[[], pd.DataFrame]]] | None = None


def _run_group(names: tuple[str, ...], progress: Progress = None) -> dict[str, tuple[pd.DataFrame, float]]:
    """Run the named rule families on the shared plan; per family its violations and seconds."""
    p, ctx, extra = _SHARED
    out = {}
    for family in RULE_FAMILIES:
        if family.__name__ in names:
            if progress:
                progress(f"校验 {family.__name__} (checking)")
            t0 = time.perf_counter()
            out[family.__name__] = (family(p, ctx), time.perf_counter() - t0)
    for name, rules in extra.items():
        if name in names:
            if progress:
                progress(f"校验 {name} (checking)")
            t0 = time.perf_counter()
            out[name] = (rules(), time.perf_counter() - t0)
    return out


def _run_families(p: Plan, ctx: CheckContext, progress: Progress, processes: int,
                  extra: dict[str, Callable[[], pd.DataFrame]] | None = None,
                  ) -> dict[str, tuple[pd.DataFrame, float]]:
    """Every rule family's violations and seconds; with ``processes`` > 1 (and fork available)
    :data:`SECOND_PROCESS_FAMILIES` and the ``extra`` rules (name -> a function giving their
    violations: a replan's locked-trip rules) run in a forked process while this one runs the
    rest. The families are independent and only read the plan, so the findings are the same
    either way."""
    global _SHARED
    extra = extra or {}
    names = (*(f.__name__ for f in RULE_FAMILIES), *extra)
    second = (*(f.__name__ for f in SECOND_PROCESS_FAMILIES), *extra)
    _SHARED = (p, ctx, extra)
    try:
        if processes <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            return _run_group(names, progress)
        mp = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=1, mp_context=mp) as pool:
            fut = pool.submit(_run_group, second)
            out = _run_group(tuple(n for n in names if n not in second), progress)
            if progress:
                progress("校验 " + ", ".join(second) + " (checking, second process)")
            out.update(fut.result())
        return out
    finally:
        _SHARED = None


def check_plan(plan: PlanFiles, sc: Scenario, tables: dict[str, pd.DataFrame], rejected_worker_rows: set[int],
               *, progress: Progress = None, base: Path | None = None, processes: int = 1) -> CheckReport:
    """Run every rule family on a plan read from disk against the scenario's validated tables.

    ``processes``: 2 checks half the rule families in a second (forked) process.

    A replanned plan (its summary has ``replan``) also gets the locked-trip rules
    (:mod:`planner.check.locked`) against ``base`` or the base plan its summary names.
    """
    ctx = CheckContext.build(sc, tables, rejected_worker_rows)
    p: Plan = prepare(plan)
    found = [scenario_mismatch(plan, sc.checksum, sc.name), format_violations(plan)]
    replanned = bool((plan.summary or {}).get("replan"))
    extra: dict[str, Callable[[], pd.DataFrame]] = {}
    if replanned:  # a replanned plan: its locked trips (planner/check/locked.py), beside the families
        from planner.check.locked import excuse_taken_off, locked_rules

        extra["locked"] = lambda: locked_rules(plan, tables, base)
    results = _run_families(p, ctx, progress, processes, extra)
    timings = {f.__name__: round(results[f.__name__][1], 3) for f in RULE_FAMILIES}
    found += [results[f.__name__][0] for f in RULE_FAMILIES]
    if replanned:
        timings["locked"] = round(results["locked"][1], 3)
        found = [excuse_taken_off(concat(found), plan, tables, p, ctx), results["locked"][0]]
    df = concat(found)
    df = df.drop_duplicates().reset_index(drop=True)[COLUMNS]
    stats = {"trips": len(p.trips), "stops": len(p.stops), "legs": len(p.legs), "workers": len(p.workers)}
    return CheckReport(df, stats, timings)


def check_plan_dir(plan_dir: Path, sc: Scenario, *, progress: Progress = None,
                   validation: ValidationResult | None = None,
                   base: Path | None = None, processes: int = 1) -> CheckReport:
    """Read the plan directory and check it against the scenario's validated tables.

    ``validation``: the result of :func:`planner.validate.validate_scenario` for
    ``sc`` when the caller has just made it (``planner plan`` validated the same
    files before solving: reading and validating them again would give the same
    tables and cost time and memory at full scale). The tables are only read,
    never changed. Without it (``planner check``) the scenario's data is read and
    validated here, independently of whoever wrote the plan. ``base``: the plan
    directory a replanned plan was made from (its locked trips are checked too).
    ``processes``: 2 runs half the rule families in a second process (:func:`check_plan`).
    """
    plan = read_plan(Path(plan_dir), require_manifest=False)
    val = validation
    if val is None:
        from planner.loader import ensure_synth_data
        from planner.validate import validate_scenario

        ensure_synth_data(sc, progress=progress)
        val = validate_scenario(sc)
    rej = val.rejected.get("workers")
    rows = set(rej["_row"].astype(int)) if rej is not None and len(rej) else set()
    return check_plan(plan, sc, val.tables, rows, progress=progress, base=base, processes=processes)


__all__ = ["CheckReport", "PlanFiles", "Violation", "check_plan", "check_plan_dir", "read_plan"]
