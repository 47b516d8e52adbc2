"""An export's documents as a list of jobs, written in one or more processes, with progress per file.

A :class:`DocJob` is one document pair (Excel + PDF) of one kind for one code:
a township's pick-up list, a province's arrival manifest, the wave plan, a
township's or county's exception list or boarding sheets. :func:`run_jobs`
writes them in order in this process, or in ``processes`` forked children
that share the loaded plan (copy-on-write, nothing is pickled but the job
numbers and the paths written). Each file is written by exactly the same
code either way, so the documents are the same; the list of paths returned
is in job order whatever the process that wrote them.

Every file written or failed is reported to ``progress`` as a line with a bar,
the files done, the time used and left (``[████░░] 40/326 · 已用 0:12 · 预计剩余
0:40 · 乘车单_500101144.pdf``); the text is a :class:`ProgressText` that also
carries ``share`` (0..1), for the app's progress bar.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import queue
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from planner.documents.common import DocData, ExportError, FailedDocument, failure_reason, memo

log = logging.getLogger(__name__)

#: the kinds of document a job writes, with their Chinese names (for messages)
KINDS = {
    "pickup": "乘车人员名单",
    "manifest": "到达名单",
    "waves": "波次计划",
    "exceptions": "未安排人员名单",
    "boarding": "乘车单",
}


@dataclass(frozen=True)
class DocJob:
    """One document pair to write: ``kind`` (a key of :data:`KINDS`), the township / county / province
    ``code`` (None: the wave plan of every county), ``full_id`` for manifests, and an estimated ``cost``
    (bigger first, so the processes finish together)."""

    kind: str
    code: str | None = None
    full_id: bool = False
    cost: float = 1.0
    files: int = 2


class ProgressText(str):
    """A progress line that also carries the share of the files done (``share``, 0..1)."""

    share: float

    def __new__(cls, text: str, share: float) -> ProgressText:
        obj = super().__new__(cls, text)
        obj.share = share
        return obj


def progress_text(done: int, total: int, elapsed_s: float, what: str, width: int = 20) -> ProgressText:
    """``[████░░░░] 40/326 · 已用 0:12 · 预计剩余 0:40 · what``."""
    share = min(max(done / total, 0.0), 1.0) if total else 1.0
    filled = int(round(share * width))
    left = elapsed_s * (1 - share) / share if share > 0 else float("nan")

    def mmss(s: float) -> str:
        s = int(round(s))
        return f"{s // 60}:{s % 60:02d}"

    eta = mmss(left) if math.isfinite(left) else "?"
    bar = "█" * filled + "░" * (width - filled)
    return ProgressText(f"[{bar}] {done}/{total} · 已用 {mmss(elapsed_s)} · 预计剩余 {eta} · {what}", share)


# ------------------------------------------------------------------ one job
def write_job(data: DocData, out_dir: Path, job: DocJob, *, store=None,  # noqa: ANN001 - a planner.store Store
              on_file: Callable[[Path, bool], None] | None = None) -> tuple[list[Path], list[FailedDocument]]:
    """Write one job's files; returns (paths written, documents that failed). Never raises for a bad document.

    ``on_file(path, ok)`` is called after each file.
    """
    out_dir = Path(out_dir)
    try:
        if job.kind == "pickup":
            from planner.documents.pickup import write_pickup_lists

            paths = write_pickup_lists(data, out_dir, [job.code], on_file=on_file)
        elif job.kind == "manifest":
            from planner.documents.manifest import arrivals, write_manifests

            legs = None if store is not None else memo(data, f"arrivals-{job.full_id}",
                                                              lambda: arrivals(data, full_id=job.full_id))
            paths = write_manifests(data, out_dir, job.code, full_id=job.full_id, store=store, legs=legs,
                                    on_file=on_file)
        elif job.kind == "waves":
            from planner.documents.waves import write_wave_plan

            paths = write_wave_plan(data, out_dir, job.code, on_file=on_file)
        elif job.kind == "exceptions":
            from planner.documents.exceptions import unassigned, write_exception_lists

            rows = memo(data, "unassigned", lambda: unassigned(data))
            paths = write_exception_lists(data, out_dir, [job.code], rows=rows, on_file=on_file)
        elif job.kind == "boarding":
            from planner.documents.boarding import Runs, write_boarding_sheets

            runs = memo(data, "runs", lambda: Runs(data))
            sheets = memo(data, "run-sheets", dict)
            paths = write_boarding_sheets(data, out_dir, [job.code], runs=runs, sheets=sheets, on_file=on_file)
        else:
            msg = f"未知文件种类 {job.kind}"
            raise ValueError(msg)
        return list(paths), []
    except ExportError as exc:
        return list(exc.written), list(exc.failed)
    except Exception as exc:  # noqa: BLE001 - one job never stops the export
        name = KINDS.get(job.kind, job.kind)
        return [], [FailedDocument(out_dir / f"{name}_{job.code or '全部'}", failure_reason(exc))]


# ------------------------------------------------------------------ many jobs
def default_processes() -> int:
    """Processes for an export: 2 where the machine has 2 cores or more (documents scale no further here)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(2, cores))


#: what a forked child reads: set by run_jobs just before the children start
_SHARED: tuple | None = None


def _child(tasks, events) -> None:  # noqa: ANN001 - multiprocessing queues
    data, out_dir, jobs = _SHARED  # type: ignore[misc]
    while True:
        i = tasks.get()
        if i is None:
            return
        written, failed = write_job(data, out_dir, jobs[i],
                                    on_file=lambda p, ok, i=i: events.put(("file", i, str(p), ok)))
        events.put(("done", i, [str(p) for p in written], [(str(f.path), f.reason) for f in failed]))


def run_jobs(data: DocData, out_dir: Path, jobs: Sequence[DocJob], *, processes: int = 1, store=None,  # noqa: ANN001
             progress: Callable[[str], None] | None = None) -> tuple[list[Path], list[FailedDocument]]:
    """Write every job; returns (paths written, documents that failed), both in job order.

    ``processes > 1`` forks that many children (POSIX only; otherwise, or with
    ``store``, whose database connection is not shared across processes, the
    jobs run here). A child that dies (killed, out of memory) fails its
    current job and the others are still written.
    """
    jobs = list(jobs)
    out_dir = Path(out_dir)
    total = sum(j.files for j in jobs)
    t0 = time.perf_counter()
    done = {"n": 0}

    def tick(path: Path | str, ok: bool) -> None:
        done["n"] += 1
        if progress:
            mark = "" if ok else "（失败）"
            progress(progress_text(min(done["n"], total), total, time.perf_counter() - t0, f"{Path(path).name}{mark}"))

    results: dict[int, tuple[list[Path], list[FailedDocument]]] = {}
    use_fork = processes > 1 and len(jobs) > 1 and store is None and "fork" in multiprocessing.get_all_start_methods()
    if not use_fork:
        for i, job in enumerate(jobs):
            results[i] = write_job(data, out_dir, job, store=store, on_file=tick)
    else:
        results = _run_forked(data, out_dir, jobs, min(processes, len(jobs)), tick)
    written = [p for i in range(len(jobs)) for p in results[i][0]]
    failed = [f for i in range(len(jobs)) for f in results[i][1]]
    return written, failed


def _run_forked(data: DocData, out_dir: Path, jobs: list[DocJob], n: int,
                tick: Callable[[Path | str, bool], None]) -> dict[int, tuple[list[Path], list[FailedDocument]]]:
    global _SHARED  # noqa: PLW0603 - read by the forked children
    ctx = multiprocessing.get_context("fork")
    tasks, events = ctx.Queue(), ctx.Queue()
    order = sorted(range(len(jobs)), key=lambda i: (-jobs[i].cost, i))  # the longest first
    for i in order:
        tasks.put(i)
    for _ in range(n):
        tasks.put(None)
    _SHARED = (data, out_dir, jobs)
    children = [ctx.Process(target=_child, args=(tasks, events), daemon=True) for _ in range(n)]
    try:
        for c in children:
            c.start()
    finally:
        _SHARED = None
    results: dict[int, tuple[list[Path], list[FailedDocument]]] = {}
    started: dict[int, int] = {}  # job -> files reported so far
    while len(results) < len(jobs):
        try:
            kind, i, *rest = events.get(timeout=0.5)
        except queue.Empty:
            if all(not c.is_alive() for c in children):
                break  # every child gone with jobs left: they are reported as failed below
            continue
        if kind == "file":
            started[i] = started.get(i, 0) + 1
            tick(rest[0], rest[1])
        else:
            results[i] = ([Path(p) for p in rest[0]], [FailedDocument(Path(p), r) for p, r in rest[1]])
    for c in children:
        c.join(timeout=5)
        if c.is_alive():
            c.kill()
    for i, job in enumerate(jobs):
        if i not in results:  # a child died on it, or before it
            name = KINDS.get(job.kind, job.kind)
            reason = "生成进程意外退出（内存不足或被终止），请重试或用 --processes 1"
            results[i] = ([], [FailedDocument(out_dir / f"{name}_{job.code or '全部'}", reason)])
            for _ in range(job.files - started.get(i, 0)):
                tick(results[i][1][0].path, False)
    return results


# ------------------------------------------------------------------ what to write
def plan_jobs(data: DocData, *, townships: Sequence[str] = (), all_townships: bool = False,
              provinces: Sequence[str] = (), all_provinces: bool = False, full_id: bool = False,
              county: str | None = None, wave_plan: bool = False, exceptions: bool = False,
              boarding_sheets: bool = False) -> list[DocJob]:
    """The jobs of ``planner export`` options, in the order their files are listed.

    Pick-up lists for ``townships`` (or every township with planned workers),
    manifests for ``provinces`` (or every province with arrivals), the wave
    plan of ``county`` (or of every county with ``wave_plan``), and with
    ``exceptions`` / ``boarding_sheets`` the named exception lists and boarding
    sheets of the same townships and county (:func:`exception_codes`,
    :func:`boarding_codes`). What the jobs share (arrivals, unassigned rows,
    vehicle runs) is computed here once, before any process is forked.
    """
    from planner.documents.common import safe_codes

    townships = safe_codes(townships, "乡镇")  # refused (ValueError) before anything is written
    if county is not None:
        county = safe_codes([county], "区县")[0]
    w = data.plan.workers
    status = w["status"].astype(str)
    town = w["township_code"].astype(str)
    planned_per_town = town[status == "planned"].value_counts().to_dict()
    jobs: list[DocJob] = []
    if townships or all_townships:
        codes = sorted(c for c in planned_per_town if c and c != "nan") if all_townships else list(townships)
        jobs += [DocJob("pickup", c, cost=planned_per_town.get(c, 0) + 50) for c in codes]
    if provinces or all_provinces:
        from planner.documents.manifest import arrivals, normalise_province_name

        legs = memo(data, f"arrivals-{full_id}", lambda: arrivals(data, full_id=full_id))
        per_prov = legs["province"].value_counts().to_dict()
        names = (sorted(p for p in legs["province"].unique() if p) if all_provinces
                 else [normalise_province_name(p) for p in provinces])
        jobs += [DocJob("manifest", p, full_id=full_id, cost=per_prov.get(p, 0) + 50) for p in names]
    if county or wave_plan:
        jobs.append(DocJob("waves", county, cost=1000))
    if exceptions:
        from planner.documents.exceptions import exception_codes, unassigned

        rows = memo(data, "unassigned", lambda: unassigned(data))
        for code in exception_codes(data, townships=list(townships), county=county, all_townships=all_townships):
            col = "county_code" if len(code) == 6 else "township_code"
            jobs.append(DocJob("exceptions", code, cost=int((rows[col] == code).sum()) + 50))
    if boarding_sheets:
        from planner.documents.boarding import Runs, boarding_codes

        runs = memo(data, "runs", lambda: Runs(data))
        memo(data, "run-sheets", dict)
        for code in boarding_codes(data, townships=list(townships), county=county, all_townships=all_townships,
                                   runs=runs):
            col = "county_code" if len(code) == 6 else "township_code"
            riders = runs.riders.loc[runs.riders[col] == code, "trip_id"]
            jobs.append(DocJob("boarding", code, cost=3 * len(runs.riders[runs.riders["trip_id"].isin(set(riders))])
                               + 50))
    return jobs
