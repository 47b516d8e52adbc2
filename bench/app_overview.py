"""How long the app's first page (概览) takes to have its numbers, against reading the whole plan.

The overview reads only ``summary.json`` (after checking every listed file's
sha256) and the checker verdict kept beside the plan; the other pages first
read the plan's tables and the scenario's data (``load_doc_data``). Each is
timed in a fresh process, imports included, as a browser's first visit pays them.
Then the validation report table (``planner.app.validation_view.problems_table``)
of 200,000 problems.

    .venv/bin/planner plan scenarios/demo-wanzhou.toml --out out/demo
    .venv/bin/python bench/app_overview.py out/demo scenarios/demo-wanzhou.toml
"""

from __future__ import annotations

import subprocess
import sys
import time

OVERVIEW = """
from pathlib import Path
from planner.app.overview import read_overview_summary, overview_facts
from planner.app import verdict
s = read_overview_summary(Path({plan!r}))
overview_facts(s, plan_name="p", scenario_name="s", when=None, verdict=verdict.read(Path({plan!r})))
"""
FULL = """
from pathlib import Path
from planner.documents.common import load_doc_data
load_doc_data(Path({plan!r}), Path({scenario!r}))
"""


def timed(code: str) -> float:
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - t


def problems_table_seconds(n: int = 200_000) -> float:
    """The validation report table of ``n`` problems (a worker register with one bad column), in seconds."""
    from planner.app.validation_view import problems_table
    from planner.validate import Problem, ValidationResult

    result = ValidationResult(problems=[
        Problem("workers.csv", i + 2, "phone", "bad_phone", f"W{i:07d}: phone 应为 11 位手机号 (not a mobile number)",
                "error") for i in range(n)])
    problems_table(result)  # warm
    t = time.perf_counter()
    problems_table(result)
    return time.perf_counter() - t


def main() -> None:
    plan, scenario = sys.argv[1], sys.argv[2]
    for name, code in (("overview (summary + verdict)", OVERVIEW), ("all pages (load_doc_data)", FULL)):
        runs = [timed(code.format(plan=plan, scenario=scenario)) for _ in range(3)]
        print(f"{name}: best {min(runs):.2f} s, runs " + ", ".join(f"{r:.2f}" for r in runs))
    print(f"validation report table, 200,000 problems: {problems_table_seconds():.2f} s")


if __name__ == "__main__":
    main()
