"""Benchmark: the documents of a plan (Excel + PDF), one township list, one province manifest, every document.

Reads the plan and its scenario once (``load_doc_data``, timed on its own),
then times, in this process, CPU seconds (user + system, from getrusage) and
wall seconds of:

1. ``township``: one township's pick-up list (``--township``, default the
   township with the most planned workers);
2. ``manifest``: one province's arrival manifest (``--province``, default the
   province with the most arrivals);
3. ``all``: every document the demo has, as ``planner export --all-townships
   --all-provinces --wave-plan --exceptions --boarding-sheets`` writes them
   (pick-up lists, manifests, the wave plan, exception lists per township and
   county, boarding sheets per township), with the file count and size, in
   ``--processes`` processes (default 2, forked after loading, as the export
   does); CPU seconds include the children's. With ``--processes 1`` each kind
   is also timed on its own (``all.plan``: the job list and the tables the jobs share).

Run (the demo plan first: planner plan scenarios/demo-wanzhou.toml --out /tmp/demo):
    nice .venv/bin/python bench/documents.py --plan /tmp/demo --scenario scenarios/demo-wanzhou.toml \\
        --out /tmp/docs-bench [--only township,manifest,all] [--processes 2] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from planner.documents.common import load_doc_data  # noqa: E402


def cpu() -> float:
    """CPU seconds of this process and of its children that have ended (the forked writers)."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        total += r.ru_utime + r.ru_stime
    return total


def timed(label: str, fn: Callable[[], list[Path]], results: dict) -> list[Path]:
    c0, w0 = cpu(), time.perf_counter()
    paths = fn()
    c, w = cpu() - c0, time.perf_counter() - w0
    size = sum(p.stat().st_size for p in paths if p.is_file())
    results[label] = {"cpu_s": round(c, 2), "wall_s": round(w, 2), "files": len(paths), "mb": round(size / 1e6, 1)}
    print(f"{label:10s} cpu {c:7.2f} s  wall {w:7.2f} s  files {len(paths):4d}  {size / 1e6:6.1f} MB", flush=True)
    return paths


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plan", required=True, type=Path)
    ap.add_argument("--scenario", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--township")
    ap.add_argument("--province")
    ap.add_argument("--only", default="township,manifest,all")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--processes", type=int, default=2,
                    help="processes for 'all' (planner export's runner: jobs forked after loading)")
    args = ap.parse_args()
    only = set(args.only.split(","))
    if args.out.exists():
        shutil.rmtree(args.out)
    results: dict = {"load_avg": os.getloadavg()[0]}

    data = None

    def load() -> list[Path]:
        nonlocal data
        data = load_doc_data(args.plan, args.scenario)
        return []

    timed("load", load, results)
    assert data is not None
    w = data.plan.workers
    planned = w[w["status"] == "planned"]
    township = args.township or str(planned["township_code"].value_counts().index[0])

    from planner.documents.manifest import arrivals, write_manifests
    from planner.documents.pickup import write_pickup_lists

    if "township" in only:
        timed("township", lambda: write_pickup_lists(data, args.out / "one", [township]), results)
    if "manifest" in only:
        province = args.province or str(arrivals(data)["province"].value_counts().index[0])
        timed("manifest", lambda: write_manifests(data, args.out / "one", province), results)
        results["manifest"]["province"] = province
    if "all" in only:
        from planner.documents.export import plan_jobs, run_jobs

        out = args.out / "all"

        def every() -> list[Path]:
            # what `planner export --all-townships --all-provinces --wave-plan --exceptions --boarding-sheets` does
            jobs = plan_jobs(data, all_townships=True, all_provinces=True, wave_plan=True, exceptions=True,
                             boarding_sheets=True)
            written, failed = run_jobs(data, out, jobs, processes=args.processes)
            assert not failed, failed
            return written

        if args.processes == 1:  # the same jobs in the same order, timed per kind
            jobs: list = []

            def plan() -> list[Path]:  # the jobs, and the tables they share (first legs, runs, ...)
                jobs.extend(plan_jobs(data, all_townships=True, all_provinces=True, wave_plan=True,
                                      exceptions=True, boarding_sheets=True))
                return []

            timed("all.plan", plan, results)
            kinds = ["plan"] + list(dict.fromkeys(j.kind for j in jobs))

            def kind_of(kind: str) -> Callable[[], list[Path]]:
                def run() -> list[Path]:
                    written, failed = run_jobs(data, out, [j for j in jobs if j.kind == kind], processes=1)
                    assert not failed, failed
                    return written
                return run

            for kind in kinds[1:]:
                timed(f"all.{kind}", kind_of(kind), results)
            parts = [results[f"all.{k}"] for k in kinds]
            results["all"] = {k: round(sum(p[k] for p in parts), 2) for k in ("cpu_s", "wall_s", "files", "mb")}
            print(f"all        cpu {results['all']['cpu_s']:7.2f} s  wall {results['all']['wall_s']:7.2f} s  "
                  f"files {results['all']['files']:4d}", flush=True)
        else:
            timed("all", every, results)
        results["all"]["processes"] = args.processes
    results["township_code"] = township
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
