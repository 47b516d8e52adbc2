"""The main job: scenario -> validated tables -> problem -> solver -> plan -> checker."""

from __future__ import annotations

import gc
import logging
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from planner.loader import load_and_validate
from planner.vocab import reason_label
from planner.plan_dir import PlanLock, check_out_target, kill_point, recover
from planner.plan_writer import stage_plan
from planner.solve.problem import build_problem
from planner.solve.solver import solve

if TYPE_CHECKING:
    from planner.replan import ReplanReport
    from planner.scenario import Scenario
    from planner.validate import ValidationResult

log = logging.getLogger(__name__)


@dataclass
class PlanReport:
    """What ``planner plan`` tells the user at the end."""

    out: Path
    summary: dict
    check_text: str = ""
    check_ok: bool | None = None
    notes: list[str] = field(default_factory=list)
    replaced: bool = False

    @property
    def ok(self) -> bool:
        """True when the plan was written and (if run) the checker found nothing."""
        return self.check_ok is not False

    def text(self) -> str:
        """A short report in Chinese, with the key numbers."""
        s = self.summary
        w = s["workers"]
        d = s["departures"]
        lb = s["lower_bound"]
        lines = [
            (f"计划已写入 (plan written to) {self.out}，替换了原有计划 (replaced the previous plan)" if self.replaced
             else f"计划已写入 (plan written to) {self.out}"),
            f"务工人员 读入 {w['read']:,}：已安排 {w['planned']:,}，未安排 {w['unassigned']:,}",
        ]
        for k, v in w["unassigned_by_reason"].items():
            lines.append(f"    未安排原因 {reason_label(k)} ({k}): {v:,}")
        tb = s.get("throughput_bound", {}).get("total")
        if tb:
            lines.append(f"运力上界 (throughput bound) {tb['bound']:,} 人，已安排 {tb['planned']:,}，"
                         f"差距 (gap) {tb['gap']:,}（{tb['gap_pct']}%）")
        hw = s.get("hub_waits")
        if hw and hw.get("transfers"):
            lines.append(f"枢纽候车 (hub waits) {hw['transfers']:,} 人次：中位 {hw['median_min']} 分钟，"
                         f"最长 {hw['max_min']} 分钟，超过 2 小时 {hw['over_2h']:,}，超过上限 {hw['limit_min']} 分钟 "
                         f"{hw['over_limit']:,}")
        lines.append(
            f"发车：大巴 {d['coach']:,}（乡镇直达 {d['direct_coach']:,}，枢纽 {d['hub_coach']:,}），"
            f"专列车厢 {d['train_carriage']:,}，接驳车 {d['feeder']:,}"
        )
        lines.append(
            f"大巴发车下界 (lower bound) {lb['coach_departures']:,}，差距 (gap) {lb['gap']:,}（{lb['gap_pct']}%）"
        )
        lines.append(f"座位使用 {s['seats']['used']:,}/{s['seats']['allowed']:,}，每车平均村数 {s['mean_villages_per_vehicle']}")
        lines.append("用时 (wall time, s): " + ", ".join(f"{k} {v}" for k, v in s["wall_time_s"].items()))
        lines += self.notes
        if self.check_ok is True:
            lines.append("校验通过 (checker: no violations)")
        elif self.check_ok is False:
            lines.append("校验发现问题 (checker found violations):")
            lines.append(self.check_text)
        return "\n".join(lines)


def check_staged(path: Path, sc: Scenario, validation: ValidationResult, report: PlanReport | ReplanReport,
                 wall: dict[str, float], *, say: Callable[[str], None], progress: Callable | None = None,
                 base: Path | None = None, processes: int = 1) -> None:
    """Run the checker on a staged plan and put its verdict on ``report`` (``check_ok``,
    ``check_text``) and its time in ``wall["check"]``; shared by ``planner plan`` and
    ``planner replan``. ``validation`` is the caller's own validation of ``sc`` (the
    checker only reads its tables); ``base`` the base plan of a replan."""
    from planner.check import check_plan_dir

    t = time.perf_counter()
    say("独立校验计划 (checking the plan)")
    chk = check_plan_dir(path, sc, progress=progress, validation=validation, base=base, processes=processes)
    wall["check"] = time.perf_counter() - t
    report.check_ok = chk.ok
    report.check_text = chk.text(max_per_rule=10)


def run_plan(
    scenario_path: str | Path,
    out: Path,
    *,
    check: bool = True,
    processes: int | None = None,
    progress: Callable[[str], None] | None = None,
    scheduler: str | None = None,
) -> PlanReport:
    """Plan a scenario into ``out`` and (by default) check the result.

    ``processes``: worker processes on this machine (default ``[solver] workers``);
    ``scheduler``: a dask.distributed scheduler address to plan on instead.

    ``out`` is checked before anything is solved (a file, or a non-empty
    directory that is not a plan, raises PlanOutputError) and locked for the
    whole run (a second run on it raises PlanOutputError). The plan is written
    into a staging directory beside ``out``, checked there, and swapped in
    atomically (:mod:`planner.plan_dir`): until then ``out`` keeps the previous
    plan, complete and readable; a failed run leaves it untouched.
    """
    say = progress or (lambda _m: None)
    out = Path(out)
    check_out_target(out)
    with PlanLock(out) as lock:
        notes = recover(out)
        if lock.stale_pid is not None:
            notes.append(f"注意：进程 {lock.stale_pid} 的锁已失效（该进程已结束），本次运行接管 (stale lock taken over)")
        target = check_out_target(out)
        if target.replaces:
            say(f"将替换已有计划 {out}（新计划完整写出并校验后才替换）(will replace the existing plan)")
        kill_point("locked")
        report = _plan_locked(scenario_path, out, notes, check=check, processes=processes, progress=progress,
                              scheduler=scheduler)
    return report


def _plan_locked(scenario_path: str | Path, out: Path, notes: list[str], *, check: bool, processes: int | None,
                 progress: Callable[[str], None] | None, scheduler: str | None) -> PlanReport:
    """Load, solve, stage, check and swap in; the caller holds the lock on ``out``."""
    say = progress or (lambda _m: None)
    wall: dict[str, float] = {}
    t = time.perf_counter()
    sc, val = load_and_validate(scenario_path, progress=progress)
    val.raise_for_scenario()  # scenario keys the data makes impossible: refuse rather than blame the fleet
    warnings = val.plan_warnings()  # nobody to plan / no coach: said in the report and in summary.json
    notes.extend(warnings)
    if not val.ok:
        rej = sum(len(f) for f in val.rejected.values())
        notes.append(
            f"注意：输入数据有 {rej:,} 行被拒绝，这些人员列为 rejected_input；运行 planner validate 查看详情"
        )
    wall["load"] = time.perf_counter() - t
    t = time.perf_counter()
    p = build_problem(sc, val.tables)
    n_proc = processes or sc.solver.workers
    res = solve(p, processes=n_proc, progress=progress, scheduler=scheduler)
    wall.update(res.wall_time_s)
    wall["solve_total"] = time.perf_counter() - t
    t = time.perf_counter()
    say("写出计划文件 (writing plan files)")
    rejected = val.rejected.get("workers")
    n_read = val.counts["workers"]["read"]
    staged = stage_plan(out, p, res, rejected, n_read, wall, processes=n_proc)
    del p, res  # the solver's records are written: free them before the checker builds its own
    gc.collect()
    try:
        summ = dict(staged.summary)
        wall["write"] = time.perf_counter() - t
        report = PlanReport(out=out, summary=summ, notes=notes)
        if check:
            # the tables the plan was made from, validated moments ago: not read and validated again
            check_staged(staged.path, sc, val, report, wall, say=say, progress=progress, processes=n_proc)
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        summ["wall_time_s"] = {k: round(v, 2) for k, v in wall.items()}
        summ["peak_memory_mb"] = round(peak_mb, 1)
        summ["warnings"] = list(warnings)
        staged.save_summary(summ)
        report.summary = staged.summary
        kill_point("checked")
        report.replaced = staged.commit()
    except BaseException:
        staged.discard()
        raise
    return report
