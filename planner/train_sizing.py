"""``planner size-trains``: which candidate special-train services to request.

A bureau can ask the railway for special trains; which of the possible services are worth a
request? Given a file of candidate services (the columns of the scenario's ``train_services``
table, docs/data-format.md), the search is greedy by **workers moved per carriage**, with the
real planner deciding every number:

1. The scenario as it is is planned once (the base): workers moved.
2. Each candidate not yet chosen is added on its own to the chosen ones and planned (probes
   run ``--processes`` at a time; the scenario's data are prepared once,
   :mod:`planner.sizing_probe`, and only the train services change). Its gain is the people
   moved over the chosen set alone; its score the gain per carriage it asks for.
3. The candidate with the best score is chosen (ties: fewer carriages, then earlier service
   id); candidates moving nobody more are never chosen. Repeat until the target is moved,
   nothing gains, or ``--max-requests`` services are chosen.
4. The scenario with the chosen services added (a variant, :func:`planner.variant.write_variant`)
   is planned, written and checked by the checker: the answer is a plan, not an estimate.

Outputs in ``--out``: ``trains.csv`` (every probe: step, service, carriages, seats per carriage,
workers moved, gain, gain per carriage, chosen), ``报告.md`` (Chinese: what the request rests
on: seats per carriage under the rule in force, each step's candidates and why one was chosen),
the variant scenario and its checked plan in ``plan/``.

Bad candidate files are refused before anything is planned, each problem with file, row and
column (the project's own validation of ``train_services`` rows, plus: no service id already in
the scenario or twice in the file, at least one carriage).
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import time
import tomllib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from planner.errors import PlannerError

KEY = "__trains__"  # the problem's key in planner.sizing_probe.PROBLEMS
TRAIN_COLUMNS = ("service_id", "date", "depart_time", "origin_station_id", "destination_station_id",
                 "carriages", "carriage_type", "travel_hours")


class TrainSizingError(PlannerError, ValueError):
    """A candidate file or request that cannot be used; ``problems`` lists (file, row, column, message)."""

    def __init__(self, message: str, problems: list[tuple[str, int | None, str | None, str]] | None = None):
        super().__init__(message)
        self.problems = problems or []


@dataclass
class TrainProbe:
    """One real-planner run: the chosen services plus one candidate (or none: the base)."""

    step: int
    service_id: str  # the candidate tried ("" for the base or the chosen set alone)
    carriages: int
    moved: int
    gain: int
    cpu_s: float
    chosen: bool = False


@dataclass
class TrainSizing:
    """The greedy search and its answer."""

    out: Path
    candidates: pd.DataFrame  # validated candidate rows
    eligible: int
    target: int
    target_label: str
    base_moved: int
    seats: dict[str, int]  # service id -> seats one carriage may sell (rule on its day, low risk)
    probes: list[TrainProbe] = field(default_factory=list)
    chosen: list[str] = field(default_factory=list)
    moved: int = 0  # the checked plan with the chosen services
    checked: bool | None = None
    plan_dir: str = ""
    scenario: str = ""
    note: str = ""
    seconds: float = 0.0
    files: list[Path] = field(default_factory=list)

    def text(self) -> str:
        """The answer for the terminal (Chinese)."""
        cand = self.candidates.set_index("service_id")
        lines = [f"专列测算 (train sizing)：目标 {self.target_label}（{self.target:,}/{self.eligible:,} 人），"
                 f"候选车次 {len(cand)} 个，用时 {self.seconds:.0f} 秒",
                 f"现有安排运送 {self.base_moved:,} 人"]
        if self.chosen:
            car = int(sum(int(cand.loc[s, "carriages"]) for s in self.chosen))
            lines.append(f"建议申请 {len(self.chosen)} 个车次（{car} 节车厢）：{'、'.join(self.chosen)}；"
                         f"运送 {self.moved:,} 人" + {True: "，计划校验通过", False: "，计划校验发现问题",
                                                      None: ""}[self.checked])
        else:
            lines.append("没有候选车次能多运送人员，无需申请 (no candidate moves anyone more)")
        if self.note:
            lines.append(self.note)
        lines += [f"已写出 (written) {p}" for p in self.files]
        return "\n".join(lines)


# ------------------------------------------------------------------ reading the candidate file
def read_candidates(scenario: str | Path, candidates: str | Path, work: Path):
    """(scenario, its validation, the validated candidate rows, the candidates as text cells).

    The candidate file is validated by the project's own validation of ``train_services`` (a
    staging scenario, the base with its ``train_services`` replaced by the file, in ``work``),
    so every problem names the candidate file, its row (header = row 1) and column.

    Raises
    ------
    TrainSizingError
        The file is missing, empty, or has rows the validation rejects, a service id already in
        the scenario or twice in the file, or no carriage.
    """
    from planner.io.readers import read_table
    from planner.loader import load_and_validate
    from planner.variant import dump_toml

    cand = Path(candidates).resolve()
    if not cand.is_file():
        raise TrainSizingError(f"候选车次文件 {candidates} 不存在 (candidate file not found)",
                               [(str(candidates), None, None, "文件不存在 (not found)")])
    sc, val = load_and_validate(scenario)
    val.raise_for_scenario()
    base = Path(scenario).resolve()
    doc = tomllib.loads(base.read_text(encoding="utf-8-sig"))
    data = doc.setdefault("data", {})
    for k, v in list(data.items()):
        if isinstance(v, str) and v:
            data[k] = str((base.parent / v).resolve())
    data["train_services"] = str(cand)
    work.mkdir(parents=True, exist_ok=True)
    staging = work / f".candidates.{os.getpid()}.toml"
    staging.write_text(dump_toml(doc), encoding="utf-8")
    try:
        _sc2, val2 = load_and_validate(staging)
    finally:
        staging.unlink(missing_ok=True)
    shown = val2.files.get("train_services", str(candidates))
    probs = [(pr.file, pr.row, pr.column, pr.message) for pr in val2.problems
             if pr.file == shown and pr.severity in ("fatal", "error")]
    typed = val2.tables.get("train_services")
    if not probs and (typed is None or not len(typed)):
        probs.append((shown, None, None, "文件中没有候选车次 (no candidate services)"))
    if typed is not None and len(typed):
        have = set(val.tables["train_services"]["service_id"].astype(str)) if "train_services" in val.tables else set()
        seen: set[str] = set()
        for _, r in typed.iterrows():
            sid = str(r["service_id"])
            if sid in have:
                probs.append((shown, int(r["_row"]), "service_id",
                              f"车次 {sid} 已在情景的专列表中 (service already in the scenario)"))
            elif sid in seen:
                probs.append((shown, int(r["_row"]), "service_id", f"车次 {sid} 重复 (duplicate service id)"))
            seen.add(sid)
            if int(r["carriages"]) < 1:
                probs.append((shown, int(r["_row"]), "carriages", "车厢数须至少为 1 (at least one carriage)"))
    if probs:
        lines = [f"{f} 第 {row} 行 {col or ''}：{msg}" if row else f"{f}：{msg}" for f, row, col, msg in probs]
        raise TrainSizingError("候选车次文件有问题 (bad candidate file):\n" + "\n".join(lines[:30]), probs)
    text = read_table(_spec(_sc2, "train_services"), table="train_services")
    text = text[text["_row"].isin(set(typed["_row"]))].reset_index(drop=True)
    return sc, val, typed.reset_index(drop=True), text


def _spec(sc, table: str):
    return sc.file_specs()[table]


# ------------------------------------------------------------------ probes
def _services_probe(services: pd.DataFrame) -> tuple[int, float]:
    """(workers moved, CPU seconds) of the prepared scenario planned with ``services`` (a probe process)."""
    from planner import sizing_probe as sp
    from planner.plan_writer import plan_tables
    from planner.solve.solver import solve

    t0 = time.process_time()
    g = sp.PROBLEMS[KEY]
    p = dataclasses.replace(g.problem, services=services.reset_index(drop=True))
    res = solve(p, processes=1)
    w = plan_tables(p, res, g.rejected)["workers"]
    return int((w["status"] == "planned").sum()), time.process_time() - t0


def _carriage_seats(p, row) -> int:
    """Seats one carriage of the service may sell under the low-risk rule of its day."""
    from planner.solve.problem import as_date

    return p.seats_for(str(row["carriage_type"]), p.sc.occupancy.rule_for("low", as_date(row["date"])))


def size_trains(scenario: str | Path, candidates: str | Path, out: str | Path, *, target: str | float = "all",
                processes: int = 1, max_requests: int | None = None,
                progress: Callable[[str], None] | None = None) -> TrainSizing:
    """Choose which candidate services to request (see the module docstring); write the files into ``out``."""
    from planner import sizing_probe as sp
    from planner.pipeline import run_plan
    from planner.solve.bounds import MOVABLE_REASONS
    from planner.solve.problem import build_problem, worker_eligibility
    from planner.variant import write_variant

    say = progress or (lambda _m: None)
    t0 = time.perf_counter()
    if target != "all" and not (0 < float(target) <= 1):
        raise TrainSizingError(f"--target {target}：须为 all 或 0 到 1 之间的比例，如 0.98 (target must be all or a share)")
    out = Path(out)
    sc, val, cand, text = read_candidates(scenario, candidates, out)
    p = build_problem(sc, val.tables)
    elig = worker_eligibility(p)
    eligible = int(elig["reason"].isin(MOVABLE_REASONS).sum())
    tgt = eligible if target == "all" else math.ceil(float(target) * eligible - 1e-9)
    label = "全部符合条件人员" if target == "all" else f"{float(target):.1%}"
    sp.PROBLEMS[KEY] = sp.GroupProblem(KEY, sorted(set(p.workers["county_code"].astype(str))), str(scenario), p,
                                       int(val.counts["workers"]["read"]), val.rejected.get("workers"))
    base = p.services
    cols = list(base.columns) if len(base.columns) else list(cand.columns)
    rows = {str(r["service_id"]): r for _, r in cand.iterrows()}
    seats = {sid: _carriage_seats(p, r) for sid, r in rows.items()}
    res = TrainSizing(out, cand, eligible, tgt, label, 0, seats)
    pool = None
    if processes > 1:
        import multiprocessing as mp

        pool = ProcessPoolExecutor(processes, mp_context=mp.get_context("fork"))

    def services(ids: list[str]) -> pd.DataFrame:
        add = cand[cand["service_id"].astype(str).isin(ids)].reindex(columns=cols)
        return pd.concat([base, add], ignore_index=True) if len(add) else base

    try:
        say("基准试算 (base probe)：现有专列")
        res.base_moved, cpu = _services_probe(base)
        res.probes.append(TrainProbe(0, "", 0, res.base_moved, 0, cpu))
        now = res.base_moved
        step = 0
        while now < tgt and (max_requests is None or len(res.chosen) < max_requests):
            left = [s for s in rows if s not in res.chosen]
            if not left:
                break
            step += 1
            say(f"第 {step} 步 (step)：试算 {len(left)} 个候选车次 (probing candidates)")
            sets = [services(res.chosen + [s]) for s in left]
            got = [_services_probe(s) for s in sets] if pool is None else list(pool.map(_services_probe, sets))
            tried = []
            for s, (moved, cpu) in zip(left, got):
                pr = TrainProbe(step, s, int(rows[s]["carriages"]), moved, moved - now, cpu)
                res.probes.append(pr)
                tried.append(pr)
                say(f"  车次 {s}（{pr.carriages} 节）：运送 {moved:,}，多运 {pr.gain:,} 人")
            best = max(tried, key=lambda q: (q.gain / q.carriages, -q.carriages, [-ord(ch) for ch in q.service_id]))
            if best.gain <= 0:
                res.note = f"其余候选车次都不能再多运送人员（第 {step} 步）(no remaining candidate gains)"
                break
            best.chosen = True
            res.chosen.append(best.service_id)
            now = best.moved
    finally:
        if pool is not None:
            pool.shutdown()
        sp.PROBLEMS.pop(KEY, None)
    if res.chosen and now < tgt and not res.note:
        res.note = "已选完候选车次或达到申请上限，仍未达到目标 (target not reached)"
    # the answer: the scenario with the chosen services, planned, written and checked
    chosen_text = text[text["service_id"].astype(str).isin(res.chosen)]
    edits = {"add_trains": [{c: str(r[c]) for c in TRAIN_COLUMNS} for _, r in chosen_text.iterrows()]}
    v = write_variant(scenario, "trains", edits, folder=out, overwrite=True)
    say("写出并校验建议方案 (planning and checking the answer)")
    rep = run_plan(v.path, out / "plan", check=True, processes=1)
    res.moved, res.checked = int(rep.summary["workers"]["planned"]), rep.check_ok
    res.plan_dir, res.scenario = str(out / "plan"), str(v.path)
    res.seconds = time.perf_counter() - t0
    res.files = write_train_outputs(res, sc)
    return res


# ------------------------------------------------------------------ outputs
def probes_frame(res: TrainSizing) -> pd.DataFrame:
    """One row per probe: step, service, carriages, seats per carriage, moved, gain, gain per carriage, chosen."""
    cand = res.candidates.set_index("service_id")
    rows = []
    for q in res.probes:
        r = cand.loc[q.service_id] if q.service_id else None
        rows.append({"step": q.step, "service_id": q.service_id,
                     "date": "" if r is None else str(r["date"])[:10],
                     "destination_station_id": "" if r is None else str(r["destination_station_id"]),
                     "carriages": q.carriages, "seats_per_carriage": res.seats.get(q.service_id, ""),
                     "workers_moved": q.moved, "gain": q.gain,
                     "gain_per_carriage": round(q.gain / q.carriages, 2) if q.carriages else "",
                     "chosen": q.chosen})
    return pd.DataFrame(rows)


def report_markdown(res: TrainSizing, sc) -> str:
    """The Chinese report: which services to request and what the request rests on."""
    from planner.vocab import OCCUPANCY_RULE_LABELS

    occ = sc.occupancy
    cand = res.candidates.set_index("service_id")
    lines = [f"# 专列申请测算报告：{sc.name}", "",
             f"- 规划期：{sc.window.start} 至 {sc.window.end}；目标：{res.target_label}（{res.target:,} 人，"
             f"符合条件 {res.eligible:,} 人）",
             f"- 载客规则：低风险 {OCCUPANCY_RULE_LABELS[occ.low]}，车厢最后 {occ.carriage_isolation_rows} 排留观",
             f"- 现有安排（不加专列）运送 {res.base_moved:,} 人", "",
             "## 建议", ""]
    if res.chosen:
        for s in res.chosen:
            r = cand.loc[s]
            lines.append(f"- 申请车次 {s}：{str(r['date'])[:10]} {r['depart_time']} {r['origin_station_id']} → "
                         f"{r['destination_station_id']}，{int(r['carriages'])} 节 {r['carriage_type']} 车厢，"
                         f"每节可售 {res.seats[s]} 座")
        lines.append(f"- 加上这些车次后真实规划器运送 {res.moved:,} 人"
                     + {True: "，计划已通过校验", False: "，计划校验发现问题", None: ""}[res.checked]
                     + f"（计划见 {res.plan_dir}）")
    else:
        lines.append(f"- 不需申请：没有候选车次能多运送人员；现有安排运送 {res.moved:,} 人")
    if res.note:
        lines.append(f"- {res.note}")
    lines += ["", "## 依据：逐步试算（真实规划器）", "",
              "每一步把每个未选的候选车次单独加到已选车次上规划一次，比较“每节车厢多运送的人数”，选最高者"
              "（相同时选车厢少的）；不能多运送任何人的车次不选。", ""]
    for step in sorted({q.step for q in res.probes if q.step}):
        lines.append(f"### 第 {step} 步")
        lines.append("")
        for q in sorted((q for q in res.probes if q.step == step), key=lambda q: -q.gain / q.carriages):
            mark = "（选中）" if q.chosen else ""
            lines.append(f"- {q.service_id}：{q.carriages} 节，运送 {q.moved:,} 人，多运 {q.gain:,} 人，"
                         f"每节 {q.gain / q.carriages:.1f} 人{mark}")
        lines.append("")
    lines += ["## 说明", "",
              "贪心法按每节车厢多运送的人数逐个选择车次，每个数字都来自真实规划器的计划，不是估算；"
              "它不保证是全局最少的车厢数（车次之间会相互替代），但每个选中的车次在选中时都能多运送人员。", ""]
    return "\n".join(lines)


def write_train_outputs(res: TrainSizing, sc) -> list[Path]:
    """trains.csv and 报告.md in ``res.out`` (each written atomically)."""
    from planner.fleet_sizing import _atomic_csv, _atomic_text

    return [_atomic_csv(probes_frame(res), res.out / "trains.csv"),
            _atomic_text(report_markdown(res, sc), res.out / "报告.md")]


# ------------------------------------------------------------------ command line
def register_size_trains(sub: argparse._SubParsersAction) -> None:
    """Add ``planner size-trains`` to the command's subparsers."""
    s = sub.add_parser("size-trains", help="测算应申请哪些专列车次 (which candidate train services to request)")
    s.add_argument("scenario", help="情景文件 (.toml)")
    s.add_argument("--candidates", required=True, help="候选车次文件，列与 train_services 相同 (candidate services)")
    s.add_argument("--out", required=True, help="输出目录：trains.csv、报告.md、plan/ (output folder)")
    s.add_argument("--target", default="all", help="all（全部符合条件人员，默认）或比例如 0.98")
    s.add_argument("--processes", type=int, default=1, help="并行进程数 (worker processes)")
    s.add_argument("--max-requests", type=int, default=None, help="最多申请的车次数 (most services to request)")
    s.set_defaults(func=cmd_size_trains)


def cmd_size_trains(args: argparse.Namespace) -> int:
    """Handler of ``planner size-trains``."""
    target: str | float = args.target
    if target != "all":
        try:
            target = float(target)
        except ValueError:
            print(f"错误 (error): --target {args.target!r} 须为 all 或比例如 0.98", file=sys.stderr)
            return 2
    if args.processes < 1 or (args.max_requests is not None and args.max_requests < 1):
        print("错误 (error): --processes 与 --max-requests 须为正整数", file=sys.stderr)
        return 2
    res = size_trains(args.scenario, args.candidates, args.out, target=target, processes=args.processes,
                      max_requests=args.max_requests,
                      progress=lambda m: print(f"  … {m}", file=sys.stderr, flush=True))
    print(res.text())
    return 0 if res.moved >= res.target else 1
