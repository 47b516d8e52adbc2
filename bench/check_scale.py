"""Benchmark: the checker on an existing plan, as ``planner plan`` runs it (validate once, then check).

    python bench/check_scale.py scenarios/chongqing-2020-02.toml /tmp/full new
    PYTHONPATH=/tmp/old python bench/check_scale.py scenarios/chongqing-2020-02.toml /tmp/full old

``new`` hands the planner's validation to ``check_plan_dir(..., validation=)``; ``old`` lets the
checker read and validate the scenario again (what ``planner plan`` did before 2026-12-02; run it
on an older copy of ``planner/`` put first on ``PYTHONPATH``, e.g. from ``git archive``). Prints one
JSON line: CPU and wall seconds of the check, the process's peak RSS, the verdict and the wall
seconds per rule family.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def main() -> None:
    import planner
    from planner.check import check_plan_dir
    from planner.loader import load_and_validate

    scenario, plan, mode = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    print(f"planner from {planner.__file__}, mode {mode}", file=sys.stderr)
    sc, val = load_and_validate(scenario)
    c0, w0 = time.process_time(), time.perf_counter()
    r = check_plan_dir(plan, sc) if mode == "old" else check_plan_dir(plan, sc, validation=val)
    print(json.dumps({"mode": mode, "check_cpu_s": round(time.process_time() - c0, 1),
                      "check_wall_s": round(time.perf_counter() - w0, 1), "ok": r.ok,
                      "violations": len(r.violations),
                      "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                      "timings": r.timings}))


if __name__ == "__main__":
    main()
