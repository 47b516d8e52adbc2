"""``planner replan``: plan again around the trips already published, with today's data.

``planner replan SCENARIO.toml --base PLAN --out NEW [--lock-through DATE] [--db URL]``

The scenario's data hold today's state (new and cancelled workers, renewed
proofs, the fleet with a coach removed). Trips of the base plan that are
published in the store and depart on or before the lock date (default: all
published) stay exactly as they are, minus the people recorded absent, feverish
or refused at boarding and the people no longer registered; everything after
is planned again around them (:mod:`planner.solve.locked`). ``NEW`` is a normal
plan directory, written atomically and checked (the fresh-plan rules and the
locked-trip rules of :mod:`planner.check.locked`), with ``NEW/changes.csv``:
one row per worker whose plan changed (:mod:`planner.store.changes`).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from planner.errors import PlannerError
from planner.pipeline import check_staged

EXIT_OK, EXIT_PROBLEMS, EXIT_FATAL = 0, 1, 2
MODES = ("repair", "fresh")


class ReplanError(PlannerError):
    """The replan cannot start: base plan missing or from another scenario, bad lock date."""


@dataclass
class ReplanReport:
    """What ``planner replan`` tells the user."""

    out: Path
    summary: dict
    changes: dict[str, int] = field(default_factory=dict)
    check_ok: bool | None = None
    check_text: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.check_ok is not False

    def text(self) -> str:
        """A short report in Chinese."""
        rp = self.summary.get("replan", {})
        w = self.summary["workers"]
        lines = [
            f"重新规划已写入 (replanned plan written to) {self.out}",
            f"原计划 {rp.get('base_plan_id', '')}，锁定至 {rp.get('lock_through') or '（无已发布车次）'}，"
            f"锁定车次 {len(rp.get('locked_trips', [])):,} 个（已发布 {len(rp.get('published_trips', [])):,} 个），"
            f"新车次最早 {rp.get('not_before') or '窗口首日'} 出发",
            f"从锁定车次上撤下 {len(rp.get('taken_off', {})):,} 人（未到、发热、拒乘或已取消登记）",
            *([f"修补模式：保留原计划车次 {len(rp['repair']['kept_trips']):,} 个，取消 {len(rp['repair']['dropped_trips']):,} 个"
               f"（车辆撤出或无人乘坐）；{len(rp['repair']['repooled']):,} 人改排，"
               f"{len(rp['repair']['filled_seats']):,} 人补入原车次空座，另 {rp['repair']['pool']:,} 人由求解器安排；"
               f"规划区县 {len(rp['repair']['counties_planned'])} 个 (repair mode)"] if rp.get("repair") else []),
            f"务工人员 读入 {w['read']:,}：已安排 {w['planned']:,}，未安排 {w['unassigned']:,}",
            "变更 (changes.csv)：" + "，".join(f"{k} {v:,}" for k, v in sorted(self.changes.items())) if self.changes
            else "变更 (changes.csv)：无",
        ]
        lines += self.notes
        if self.check_ok is True:
            lines.append("校验通过 (checker: no violations)")
        elif self.check_ok is False:
            lines.append("校验发现问题 (checker found violations):")
            lines.append(self.check_text)
        return "\n".join(lines)


def _base_plan(base_dir: Path):  # noqa: ANN202 - PlanFiles
    from planner.plan_format import is_plan_dir, read_plan

    if not base_dir.exists():
        raise ReplanError(f"原计划目录不存在：{base_dir} (base plan not found)")
    if not base_dir.is_dir() or not is_plan_dir(base_dir):
        raise ReplanError(f"{base_dir} 不是计划目录（缺少 summary.json 或计划文件）(not a plan folder)")
    return read_plan(base_dir)


def _publication_day(store, plan_id: str) -> date | None:  # noqa: ANN001
    """The latest day the base plan was published through (None: never published)."""
    from sqlalchemy import func, select

    from planner.store.schema import publications

    with store.read() as conn:
        day = conn.execute(select(func.max(publications.c.through_date))
                           .where(publications.c.plan_id == plan_id)).scalar()
    return date.fromisoformat(day) if day else None


def run_replan(scenario_path: str | Path, base_dir: str | Path, out: str | Path, *,
               lock_through: date | None = None, db: str | None = None, check: bool = True,
               processes: int | None = None, progress: Callable[[str], None] | None = None,
               mode: str = "repair") -> ReplanReport:
    """Replan ``scenario_path`` around the locked trips of ``base_dir`` into ``out``; see the module docstring.

    ``mode``: ``repair`` (keep every base trip, plan only the people it no longer carries:
    :mod:`planner.solve.repair`) or ``fresh`` (plan everything after the lock again).
    """
    if mode not in MODES:
        raise ReplanError(f"重新规划方式应为 {' 或 '.join(MODES)}：{mode!r} (unknown mode)")
    from planner.plan_dir import PlanLock, check_out_target, recover

    say = progress or (lambda _m: None)
    base_dir, out = Path(base_dir), Path(out)
    base = _base_plan(base_dir)
    if out.resolve() == base_dir.resolve():
        raise ReplanError(f"--out 不能是原计划目录 {base_dir}：原计划是新计划的依据 (--out must differ from --base)")
    check_out_target(out)
    with PlanLock(out):
        notes = recover(out)
        check_out_target(out)
        return _replan_locked(scenario_path, base, base_dir, out, notes, lock_through=lock_through, db=db,
                              check=check, processes=processes, say=say, progress=progress, mode=mode)


def _replan_locked(scenario_path, base, base_dir: Path, out: Path, notes: list[str], *, lock_through, db, check,
                   processes, say, progress, mode="repair") -> ReplanReport:  # noqa: ANN001
    from planner.loader import load_and_validate
    from planner.plan_writer import stage_plan
    from planner.solve.locked import LockedInput
    from planner.solve.problem import build_problem, worker_eligibility
    from planner.solve.repair import build_repair, counties_of, fill_kept_seats
    from planner.solve.solver import solve
    from planner.store.changes import plan_changes, write_changes
    from planner.store.cli_support import store_for
    from planner.store.locks import locked_plan

    wall: dict[str, float] = {}
    t = time.perf_counter()
    sc, val = load_and_validate(scenario_path, progress=progress)
    val.raise_for_scenario()
    base_sc = (base.summary or {}).get("scenario") or {}
    if isinstance(base_sc, dict) and base_sc.get("name") and base_sc.get("name") != sc.name:
        raise ReplanError(f"原计划 {base_dir} 来自情景「{base_sc.get('name')}」，而所给情景是「{sc.name}」："
                          "只能在同一情景（同一批次的行动）上重新规划 (the base plan was made from another scenario)")
    if lock_through is not None and not (sc.window.start <= lock_through <= sc.window.end):
        raise ReplanError(f"--lock-through {lock_through} 不在情景的规划窗口 {sc.window.start} 至 {sc.window.end} 内 "
                          "(lock date outside the planning window)")
    wall["load"] = time.perf_counter() - t
    t = time.perf_counter()
    store = store_for(db, base_dir)
    workers = val.tables["workers"]
    now_ids = set(workers["worker_id"].astype(str))
    rej = val.rejected.get("workers")
    if rej is not None and len(rej) and "worker_id" in rej.columns:
        now_ids |= set(rej["worker_id"].fillna("").astype(str))
    cancelled = sorted(set(base.workers["worker_id"].astype(str)) - now_ids - {""})
    lp = locked_plan(store, base.plan_id, lock_through, cancelled=cancelled)
    published_through = _publication_day(store, base.plan_id)
    lock_day = lock_through or published_through
    if lock_through is not None and published_through is not None and lock_through > published_through:
        notes.append(f"注意：原计划只发布至 {published_through}，{lock_through} 前未发布的车次不锁定，照常重新规划")
    if lock_through is not None and published_through is not None and lock_through < published_through:
        notes.append(f"注意：原计划已发布至 {published_through}，晚于锁定日 {lock_through} 的已发布车次将重新规划；"
                     "这些车次已通知乡镇和接收地，新计划发布时会被拒绝 (published trips after the lock date are "
                     "replanned: publishing the new plan will be refused)")
    if not lp.trips:
        notes.append("注意：原计划没有已发布的车次可锁定，全部重新规划 (nothing published: everything is planned anew)"
                     if mode == "fresh" else
                     "注意：原计划没有已发布的车次可锁定；修补模式仍保留原计划的车次，只安排有变化的人员 "
                     "(nothing published: repair mode still keeps the base plan's trips)")
    not_before = lock_day + timedelta(days=1) if lock_day is not None else None
    li = LockedInput.build(base, lp.trip_ids(), lp.taken_off, cancelled=cancelled, lock_through=lock_day,
                           not_before=not_before, rest_after_return_h=sc.fleet.rest_after_return_h,
                           turnaround_h=sc.fleet.turnaround_h, feeder_dwell_min=sc.feeders.dwell_min)
    say(f"锁定车次 {len(li.trip_ids):,} 个，车上 {len(li.workers):,} 人；撤下 {len(li.removed):,} 人 (locked trips)")
    p = build_problem(sc, val.tables)
    repooled: dict[str, str] = {}
    if mode == "repair":
        elig = worker_eligibility(p)
        rp = build_repair(base, p, elig, li.trip_ids, li.removed,
                          rest_after_return_h=sc.fleet.rest_after_return_h, turnaround_h=sc.fleet.turnaround_h,
                          feeder_dwell_min=sc.feeders.dwell_min)
        li.with_repair(rp)
        li.add_filled(fill_kept_seats(base, p, elig, rp, li.keep_legs, li.trip_ids, not_before=not_before,
                                      skip=set(li.fever_trip_day)))
        li.counties = counties_of(p, rp.pool)
        p.services = p.services.iloc[0:0]  # the pool goes by coach: the kept carriages hold the train seats
        carried = base.legs.loc[base.legs["trip_id"].astype(str).isin(set(rp.revehicled)), "worker_id"].astype(str)
        repooled = {**{w: "vehicle_removed" for w in carried if w not in li.removed}, **rp.removed}
        say(f"修补模式：保留原计划车次 {len(rp.kept):,} 个，取消 {len(rp.dropped):,} 个；{len(li.filled):,} 人补入原车次空座，"
            f"另待安排 {len(rp.pool):,} 人，"
            f"涉及区县 {len(li.counties)} 个 (repair mode: kept trips, people to plan)")
    p.locked = li
    wall["lock"] = time.perf_counter() - t
    t = time.perf_counter()
    n_proc = processes or sc.solver.workers
    res = solve(p, processes=n_proc, progress=progress)
    wall.update(res.wall_time_s)
    wall["solve_total"] = time.perf_counter() - t
    t = time.perf_counter()
    say("写出计划文件 (writing plan files)")
    staged = stage_plan(out, p, res, rej, val.counts["workers"]["read"], wall, processes=n_proc)
    try:
        summ = dict(staged.summary)
        summ["replan"] = li.summary_block()
        staged.save_summary(summ)  # the checker's locked rules read it
        new = _new_journeys(staged.path)
        changes = plan_changes(base, new, [*lp.taken_off, *_repooled_reasons(new, repooled)])
        write_changes(staged.path, changes)
        wall["write"] = time.perf_counter() - t
        report = ReplanReport(out=out, summary=summ, notes=notes,
                              changes={str(k): int(v) for k, v in changes["change"].value_counts().items()})
        if check:
            check_staged(staged.path, sc, val, report, wall, say=say, progress=progress, base=base_dir,
                         processes=n_proc)
        summ["wall_time_s"] = {k: round(v, 2) for k, v in wall.items()}
        summ["peak_memory_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        summ["warnings"] = list(val.plan_warnings())
        staged.save_summary(summ)
        report.summary = staged.summary
        staged.commit()
    except BaseException:
        staged.discard()
        raise
    return report


def _new_journeys(plan_dir: Path):  # noqa: ANN202 - PlanFiles
    """The new plan's legs and workers as :func:`planner.store.changes.plan_changes` reads them (read back
    from the files just written, only the columns it needs; trips and stops left empty)."""
    import pandas as pd

    from planner.plan_format import PlanFiles, read_columns

    legs = read_columns(plan_dir, "legs", ("worker_id", "leg", "trip_id", "seat"))
    workers = read_columns(plan_dir, "workers", ("worker_id", "status", "reason", "township_code"))
    return PlanFiles(pd.DataFrame(), pd.DataFrame(), legs, workers, {}, [], plan_dir)


def _repooled_reasons(new, repooled: dict[str, str]) -> list:  # noqa: ANN001 - PlanFiles
    """Why the people a repair took off their kept trips changed, for those planned again.

    Those left unassigned are told the new plan's reason (e.g. ``health_proof_expired``).
    """
    from planner.store.locks import TakenOff

    if not repooled:
        return []
    w = new.workers
    planned = set(w.loc[w["status"].astype(str) == "planned", "worker_id"].astype(str))
    return [TakenOff(wid, "", 0, why, "", None, "", "", "") for wid, why in sorted(repooled.items()) if wid in planned]


# ------------------------------------------------------------------ the command
def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"锁定日期应为 YYYY-MM-DD：{text[:20]!r}") from None


def _cmd_replan(args: argparse.Namespace) -> int:
    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    report = run_replan(args.scenario, args.base, args.out, lock_through=args.lock_through, db=args.db,
                        check=not args.no_check, processes=args.processes, progress=say, mode=args.mode)
    print(report.text())
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def register_replan(sub, add_data_root) -> None:  # noqa: ANN001 - argparse's subparsers action
    """Add ``planner replan`` to the ``planner`` parser."""
    r = sub.add_parser("replan", help="按当日数据重新规划，已发布车次锁定不变 (replan around the published trips)")
    r.add_argument("scenario", help="情景文件 (.toml)，数据为当日状态 (today's data)")
    r.add_argument("--base", required=True, help="原计划目录 (base plan folder)")
    r.add_argument("--out", required=True, help="新计划输出目录 (new plan folder)")
    r.add_argument("--lock-through", type=_day, default=None,
                   help="锁定此日（含）及以前出发的已发布车次，YYYY-MM-DD；缺省为全部已发布车次 "
                        "(lock published trips departing on or before this day; default: all published)")
    r.add_argument("--db", help="数据库：SQLAlchemy 地址或 SQLite 文件；缺省为原计划目录旁的 planner-store.sqlite "
                                "(store; default: planner-store.sqlite beside the base plan)")
    r.add_argument("--mode", choices=MODES, default="repair",
                   help="repair（缺省）：保留原计划全部车次，只为变化的人员安排新车次；fresh：锁定日之后全部重新规划 "
                        "(repair: keep every base trip, plan only the people it no longer carries; fresh: plan "
                        "everything after the lock again)")
    r.add_argument("--no-check", action="store_true", help="不自动校验 (skip the checker)")
    r.add_argument("--processes", type=int, default=None, help="并行进程数 (worker processes)")
    add_data_root(r)
    r.set_defaults(func=_cmd_replan)
