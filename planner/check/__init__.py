"""The independent plan checker: re-reads a plan directory and verifies every rule.

It reads only the plan files (docs/plan-format.md) and the scenario, in code
separate from the solver; ``docs/checker.md`` lists every rule. Messages name
the trip and the worker (by worker_id, never by personal data).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from planner.check.context import CheckContext
from planner.check.plan_files import PlanFiles, read_plan
from planner.check.rules import ALL_RULES
from planner.scenario import Scenario


@dataclass
class CheckReport:
    """Violations found, one row each: rule, trip_id, worker_id, message."""

    violations: pd.DataFrame
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when no rule is broken."""
        return self.violations.empty

    def rules(self) -> set[str]:
        """Codes of the rules broken."""
        return set(self.violations["rule"])

    def text(self, max_per_rule: int = 20) -> str:
        """Counts per rule and up to ``max_per_rule`` examples each."""
        if self.ok:
            checked = ", ".join(f"{k} {v:,}" for k, v in self.stats.items())
            return f"校验通过：没有违反任何规则 (no violations; checked {checked})"
        lines = [f"发现 {len(self.violations):,} 处违规 (violations):"]
        for rule, g in self.violations.groupby("rule", sort=True):
            lines.append(f"  [{rule}] {len(g):,} 处")
            for r in g.head(max_per_rule).itertuples(index=False):
                where = " ".join(x for x in (f"车次 {r.trip_id}" if r.trip_id else "", f"人员 {r.worker_id}" if r.worker_id else "") if x)
                lines.append(f"    {where}: {r.message}")
        return "\n".join(lines)


def check_plan(plan: PlanFiles, sc: Scenario, tables: dict[str, pd.DataFrame], rejected_worker_rows: set[int],
               *, progress: Callable[[str], None] | None = None) -> CheckReport:
    """Run every rule on a plan already read from disk."""
    ctx = CheckContext.build(sc, tables, rejected_worker_rows)
    found = []
    for rule in ALL_RULES:
        if progress:
            progress(f"校验 {rule.__name__} (checking)")
        found += rule(plan, ctx)
    df = pd.DataFrame(found, columns=["rule", "trip_id", "worker_id", "message"])
    stats = {"trips": len(plan.trips), "stops": len(plan.stops), "legs": len(plan.legs), "workers": len(plan.workers)}
    return CheckReport(df, stats)


def check_plan_dir(plan_dir: Path, sc: Scenario, *, progress: Callable[[str], None] | None = None) -> CheckReport:
    """Read the scenario's data and the plan directory, then check."""
    from planner.loader import ensure_synth_data
    from planner.validate import validate_scenario

    ensure_synth_data(sc, progress=progress)
    val = validate_scenario(sc)
    rej = val.rejected.get("workers")
    rows = set(rej["_row"].astype(int)) if rej is not None and len(rej) else set()
    return check_plan(read_plan(Path(plan_dir)), sc, val.tables, rows, progress=progress)


__all__ = ["CheckReport", "check_plan", "check_plan_dir", "read_plan"]
