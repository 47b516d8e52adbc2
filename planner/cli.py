"""The ``planner`` command: validate, synth, plan, check.

Every user-caused problem ends in a clear message and a non-zero exit status,
never a traceback. Messages a planner reads are in Chinese (with English in
parentheses where a term may be unfamiliar).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from planner.errors import PlannerError

log = logging.getLogger("planner")

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_FATAL = 2

# the geodata folder next to the package (a source checkout or an editable install)
SHIPPED_GEODATA = Path(__file__).resolve().parent.parent / "geodata"

DESCRIPTION = """\
点对点返岗包车规划工具 (point-to-point return-to-work charter planner)

常用步骤 (usual steps):
  1. planner validate 情景文件.toml      检查数据：逐行列出问题（文件、行、列）
  2. planner plan 情景文件.toml --out 目录   生成包车计划并自动校验
  3. planner check 目录 --scenario 情景文件.toml   独立复核已有计划
  4. planner export 目录 --scenario 情景文件.toml --out 名单目录 --all-townships
                                         乡镇乘车名单、到达名单（--province）、波次计划（--county）
  5. planner trace 目录 --worker 编号       同车、同站人员追溯（有上车登记时依据登记）
  每日 (daily loop): planner publish 目录 --through 日期；planner boarding import 名单.xlsx --plan 目录 --by 姓名；
                     planner handover --plan 目录 --trip 车次 --by 姓名 --org 单位 --received 人数
  planner synth ...                      生成合成（虚构）演示数据

示例 (example):
  planner validate scenarios/demo-wanzhou.toml
  planner plan scenarios/demo-wanzhou.toml --out out/demo
"""


def _progress(msg: str) -> None:
    print(f"  … {msg}", file=sys.stderr, flush=True)


class _ProgressLine:
    """Progress lines on stderr: redrawn in place on a terminal, one line each otherwise (logs)."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.shown = False

    def __call__(self, msg: str) -> None:
        if self.tty:
            print(f"\r\x1b[2K  … {msg}", end="", file=sys.stderr, flush=True)
            self.shown = True
        else:
            _progress(msg)

    def end(self) -> None:
        if self.shown:
            print(file=sys.stderr, flush=True)
            self.shown = False


def _cmd_validate(args: argparse.Namespace) -> int:
    from planner.loader import load_and_validate
    from planner.validate import check_rejected_dir

    if args.rejected_dir:
        check_rejected_dir(Path(args.rejected_dir))  # refused before a long validation, not after
    sc, result = load_and_validate(args.scenario, progress=_progress, data_root=args.data_root)
    print(result.report_text(max_per_code=args.max_lines))
    if args.rejected_dir:
        from planner.validate import PERSONAL_DATA_NOTE, write_rejected

        written = write_rejected(result, Path(args.rejected_dir))
        print(f"被拒绝的行已写入 (rejected rows written to) {args.rejected_dir}：{len(written)} 个文件")
        print(f"注意：{PERSONAL_DATA_NOTE}")
    if result.ok:
        if not result.plan_warnings():  # a register with a header only is no clean scenario
            print(f"情景 {sc.name}：数据无误 (scenario is clean)")
        return EXIT_OK
    return EXIT_PROBLEMS


def _day(text: str, option: str) -> date:
    """A YYYY-MM-DD option value, or a ValueError that names the option and the value."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        msg = f"{option} {text!r} 不是有效日期 YYYY-MM-DD (not a valid date)"
        raise ValueError(msg) from None


def _cmd_synth(args: argparse.Namespace) -> int:
    from planner.synth import load_inputs, synthesize

    t0 = time.perf_counter()
    inputs = load_inputs(Path(args.geodata))
    counties = args.counties.split(",") if args.counties else None
    try:
        data = synthesize(
            *inputs,
            seed=args.seed,
            total_workers=args.workers,
            counties=counties,
            window_start=_day(args.start, "--start"),
            window_end=_day(args.end, "--end"),
            n_factories=args.factories,
            workers_per_coach=args.workers_per_coach,
            workers_per_feeder=args.workers_per_feeder,
            progress=_progress,
        )
    except ValueError as exc:  # unknown county, bad date or count, empty window
        print(f"错误 (error): {exc}", file=sys.stderr)
        return EXIT_FATAL
    data.write(Path(args.out))
    dt = time.perf_counter() - t0
    print(f"已生成 {len(data.workers):,} 名虚构务工人员、{len(data.factories):,} 家企业，用时 {dt:.1f} 秒 → {args.out}")
    return EXIT_OK


def _cmd_plan(args: argparse.Namespace) -> int:
    from planner.pipeline import run_plan

    report = run_plan(
        args.scenario,
        Path(args.out),
        check=not args.no_check,
        processes=args.processes,
        progress=_progress,
        scheduler=args.scheduler,
    )
    print(report.text())
    if report.check_ok is not None:  # the app's first page shows it (planner.app.verdict)
        from planner.app.verdict import record

        record(Path(args.out), report.check_ok, report.check_text)
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def _cmd_check(args: argparse.Namespace) -> int:
    from planner.check import check_plan_dir
    from planner.scenario import load_scenario

    sc = load_scenario(args.scenario)
    report = check_plan_dir(Path(args.plan_dir), sc, progress=_progress, base=args.base)
    print(report.text(max_per_rule=args.max_lines))
    from planner.app.verdict import record  # the app's first page shows it

    record(Path(args.plan_dir), report.ok, report.text(max_per_rule=10), int(len(report.violations)), sc.checksum)
    return EXIT_OK if report.ok else EXIT_PROBLEMS


def _cmd_export(args: argparse.Namespace) -> int:
    from planner.documents.common import load_doc_data

    if not (args.township or args.all_townships or args.province or args.all_provinces or args.county
            or args.wave_plan):
        print("错误 (error): 请至少选择一种文件：--township / --all-townships / --province / --all-provinces / "
              "--county / --wave-plan (choose what to export)", file=sys.stderr)
        return EXIT_FATAL
    data = load_doc_data(Path(args.plan_dir), Path(args.scenario), progress=_progress)
    w = data.plan.workers
    unknown = [c for c in (args.township or [])
               if c not in data.townships and c not in set(w["township_code"].astype(str))]
    if args.county and args.county not in set(w["county_code"].astype(str)):
        unknown.append(args.county)
    if unknown:
        print(f"错误 (error): 计划和情景中没有这些乡镇/区县代码 (unknown township or county codes): {', '.join(unknown)}",
              file=sys.stderr)
        return EXIT_FATAL
    out = Path(args.out)
    from planner.documents.export import default_processes, plan_jobs, run_jobs

    try:
        jobs = plan_jobs(data, townships=args.township or [], all_townships=args.all_townships,
                         provinces=args.province or [], all_provinces=args.all_provinces, full_id=args.full_id,
                         county=args.county, wave_plan=args.wave_plan, exceptions=args.exceptions,
                         boarding_sheets=args.boarding_sheets)
    except ValueError as exc:  # a code that cannot be part of a file name
        print(f"错误 (error): {exc}", file=sys.stderr)
        return EXIT_FATAL
    store = None
    if args.db and any(j.kind == "manifest" for j in jobs):
        from planner.store.cli_support import store_for

        store = store_for(args.db, Path(args.plan_dir))
    processes = args.processes or default_processes()
    bar = _ProgressLine()
    # the manifests read 实到 from the store: written here, the rest in `processes` forked processes
    forked = [j for j in jobs if store is None or j.kind != "manifest"]
    here = [j for j in jobs if store is not None and j.kind == "manifest"]
    written, failed = run_jobs(data, out, forked, processes=processes, progress=bar)
    if here:
        more, more_failed = run_jobs(data, out, here, store=store, progress=bar)
        written, failed = written + more, failed + more_failed
    bar.end()
    if not written and not failed:
        print("没有可写出的内容：所选乡镇/省份/区县在计划中没有人员 (nothing to write for that choice)")
        return EXIT_PROBLEMS
    for path in written:
        print(path)
    print(f"已写出 {len(written)} 个文件 (files written) → {out}")
    if failed:
        print(f"错误 (error): {len(failed)} 个文件未能生成 (files not written)：", file=sys.stderr)
        for f in failed:
            print(f"  {f.path.name}：{f.reason}", file=sys.stderr)
        return EXIT_PROBLEMS
    return EXIT_OK


def _cmd_trace(args: argparse.Namespace) -> int:
    from planner.documents.trace import (BASIS_LABELS, RECORDED, TraceSource, trace_trip_from, trace_worker_from,
                                         write_trace_csv)
    from planner.errors import DataError
    from planner.plan_format import read_plan

    if bool(args.worker) == bool(args.trip):
        print("错误 (error): 请给出 --worker 或 --trip 之一 (give exactly one of --worker, --trip)", file=sys.stderr)
        return EXIT_FATAL
    plan_dir = Path(args.plan_dir)
    if args.no_store:
        source = TraceSource.from_plan(read_plan(plan_dir))
    else:
        # the legs indexed in the store (built once per plan version), recorded boarding applied
        from planner.store.cli_support import store_for
        from planner.store.legs_index import ensure_index, trace_source, worker_in_plan

        store = store_for(args.db, plan_dir)
        pid = ensure_index(store, plan_dir)
        source = trace_source(store, pid, worker_id=args.worker, trip_id=args.trip)
        if args.worker and not (source.legs["worker_id"] == args.worker).any() and not source.known_workers:
            if not worker_in_plan(plan_dir, args.worker):
                raise DataError(f"计划中没有务工人员 {args.worker}，无法追踪 (worker id {args.worker} is not in the plan)")
    if args.worker:
        frame = trace_worker_from(source, args.worker)
        screen = ["kind", "contact_id", "trip_id", "shared_from_place_id", "shared_from_time",
                  "shared_until_place_id", "shared_until_time", "seat", "contact_seat", "rows_apart", "minutes_apart",
                  "basis"]
        counts = frame["kind"].value_counts()
        print("，".join(f"{k} {n:,} 人次" for k, n in counts.items()) or "没有接触人员 (no contacts)")
    else:
        frame = trace_trip_from(source, args.trip)
        screen = ["worker_id", "seat", "board_place_id", "board_time", "alight_place_id", "alight_time",
                  "previous_trip_ids", "next_trip_ids", "basis"]
    recorded = int((frame["basis"] == RECORDED).sum()) if "basis" in frame else 0
    print(f"依据 (basis)：{BASIS_LABELS[RECORDED]} {recorded:,} 行，{BASIS_LABELS['planned']} {len(frame) - recorded:,} 行"
          + ("（未使用数据库，只依据计划）" if args.no_store else ""))
    _print_table(frame[[c for c in screen if c in frame.columns]], args.max_rows)
    print(f"共 {len(frame):,} 行 (rows)")
    if args.csv:
        print(f"已写出 (written) {write_trace_csv(frame, Path(args.csv), zh_headers=True)}")
    return EXIT_OK


def _cmd_vrp(args: argparse.Namespace) -> int:
    from planner.routing import DEFAULT_ENGINE, read_cvrplib, solve_vrp
    from planner.routing.cvrplib import load_best_known

    engine = args.engine or DEFAULT_ENGINE
    shipped = Path(__file__).resolve().parent.parent / "bench" / "instances"

    if args.seconds <= 0:
        print(f"错误 (error): --seconds 必须为正数 (must be positive), got {args.seconds}", file=sys.stderr)
        return EXIT_FATAL
    path = Path(args.instance)
    problem = read_cvrplib(path)
    print(f"算例 (instance) {problem.name}：{problem.num_clients} 个客户 (clients)，车辆容量 (capacity) {problem.capacity}")
    _progress(f"{engine} 求解 {args.seconds:g} 秒 (solving)")
    sol = solve_vrp(problem, engine=engine, seconds=args.seconds, seed=args.seed)
    if not sol.routes:
        print("未找到可行解 (no solution found)")
        return EXIT_PROBLEMS
    for k, route in enumerate(sol.routes, 1):
        load = sum(problem.demands[c] for c in route)
        print(f"路线 (route) {k}（载量 load {load}）: {' '.join(map(str, route))}")
    print(f"引擎 (engine) {sol.engine}，种子 (seed) {args.seed}，{len(sol.routes)} 条路线 (routes)，"
          f"用时 (time) {sol.seconds:.1f} 秒")
    best = {**load_best_known(shipped / "best_known.csv"),
            **load_best_known(path.parent / "best_known.csv")}.get(problem.name)
    gap = f"，与已知最优差距 (gap to best known {best}) {100 * (sol.cost - best) / best:.2f}%" if best else ""
    print(f"总距离 (cost) {sol.cost}{gap}")
    if not sol.feasible:
        print("警告 (warning): 解不可行 (solution infeasible)")
        return EXIT_PROBLEMS
    return EXIT_OK


def _print_table(frame, max_rows: int) -> None:
    """A table on the terminal: Chinese headers, times as MM-DD HH:MM, wide characters aligned."""
    import pandas as pd

    from planner.documents.trace import ZH_HEADERS

    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].dt.strftime("%m-%d %H:%M").fillna("")
    out = out.astype(object).where(out.notna(), "").rename(columns=ZH_HEADERS)
    with pd.option_context("display.unicode.east_asian_width", True, "display.width", 250,
                           "display.max_columns", 30):
        print(out.to_string(index=False, max_rows=max_rows))


def _add_data_root(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-root", action="append", metavar="目录",
        help="只允许读取此目录中的数据（可重复）：情景文件的数据路径若为绝对路径、用 “..” 或符号链接指向目录之外，"
             "则拒绝 (confine every data path of the scenario to this folder; repeatable; off by default)")


def _confine(args: argparse.Namespace) -> None:
    """With ``--data-root``: refuse the scenario before anything reads its data (ScenarioError)."""
    roots = getattr(args, "data_root", None)
    scenario = getattr(args, "scenario", None)
    if roots and scenario:
        from planner.scenario import load_scenario

        load_scenario(scenario, data_root=roots)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``planner`` command."""
    p = argparse.ArgumentParser(
        prog="planner",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("-v", "--verbose", action="store_true", help="显示调试日志 (debug logging)")
    sub = p.add_subparsers(dest="command", required=True, metavar="命令")

    v = sub.add_parser("validate", help="检查情景数据 (validate a scenario's data)")
    v.add_argument("scenario", help="情景文件 (.toml)")
    v.add_argument("--max-lines", type=int, default=50, help="每类问题最多列出几行 (default 50)")
    v.add_argument("--rejected-dir", help="把被拒绝的行写入此目录；文件含完整姓名、身份证号、手机号，"
                   "不能是计划目录或网页应用的目录 (write rejected rows here: full names, IDs, phones)")
    _add_data_root(v)
    v.set_defaults(func=_cmd_validate)

    s = sub.add_parser("synth", help="生成合成（虚构）数据 (generate synthetic data)")
    s.add_argument("--out", required=True, help="输出目录 (output folder)")
    s.add_argument("--workers", type=int, default=15_000, help="务工人员总数 (total workers)")
    s.add_argument("--counties", help="区县代码，逗号分隔；缺省为全市38个区县 (county codes)")
    s.add_argument("--seed", type=int, default=2020, help="随机种子 (seed)")
    s.add_argument("--factories", type=int, help="企业数量 (number of factories)")
    s.add_argument("--workers-per-coach", type=int, default=730,
                   help="每辆跨省大巴对应的务工人员数 (workers per coach in a county's fleet; 2020: 730)")
    s.add_argument("--workers-per-feeder", type=int, default=2000,
                   help="每辆接驳车对应的务工人员数 (workers per feeder bus; 2020: 2000)")
    s.add_argument("--start", default="2020-02-14", help="规划起始日 (window start)")
    s.add_argument("--end", default="2020-03-15", help="规划结束日 (window end)")
    s.add_argument("--geodata", default=str(SHIPPED_GEODATA),
                   help="地理数据目录 (geodata folder; default: the one shipped with the planner)")
    s.set_defaults(func=_cmd_synth)

    pl = sub.add_parser("plan", help="生成包车计划 (plan the charters)")
    pl.add_argument("scenario", help="情景文件 (.toml)")
    pl.add_argument("--out", required=True, help="计划输出目录 (plan folder)")
    pl.add_argument("--no-check", action="store_true", help="不自动校验 (skip the checker)")
    pl.add_argument("--processes", type=int, default=None, help="并行进程数 (worker processes)")
    pl.add_argument("--scheduler", default=None,
                    help="dask 调度器地址，在集群上求解 (dask.distributed scheduler address, e.g. tcp://host:8786; "
                         "needs the dask extra)")
    _add_data_root(pl)
    pl.set_defaults(func=_cmd_plan)

    c = sub.add_parser("check", help="独立校验一份计划 (check a plan)")
    c.add_argument("plan_dir", help="计划目录 (plan folder)")
    c.add_argument("--scenario", required=True, help="情景文件 (.toml)")
    c.add_argument("--max-lines", type=int, default=20, help="每条规则最多列出几条 (default 20)")
    c.add_argument("--base", help="重新规划所依据的原计划目录；缺省读 summary.json (base plan of a replanned plan)")
    _add_data_root(c)
    c.set_defaults(func=_cmd_check)

    e = sub.add_parser("export", help="生成名单与计划文件 (pick-up lists, arrival manifests, wave plans)")
    e.add_argument("plan_dir", help="计划目录 (plan folder)")
    e.add_argument("--scenario", required=True, help="情景文件 (.toml)")
    e.add_argument("--out", required=True, help="输出目录 (output folder)")
    e.add_argument("--township", action="append", metavar="乡镇代码",
                   help="乡镇乘车人员名单，可重复 (a township's pick-up list; repeatable)")
    e.add_argument("--all-townships", action="store_true", help="每个乡镇一份名单 (one list per township)")
    e.add_argument("--province", action="append", metavar="省份",
                   help="该省到达名单/交接单，如 广东，可重复 (arrival manifest of a province; repeatable)")
    e.add_argument("--all-provinces", action="store_true", help="每个省一份到达名单 (one manifest per province)")
    e.add_argument("--full-id", action="store_true",
                   help="到达名单中显示完整身份证号（默认遮蔽）(full ID numbers in manifests; masked by default)")
    e.add_argument("--county", metavar="区县代码", help="该区县的波次计划 (a county's wave plan)")
    e.add_argument("--wave-plan", action="store_true", help="全情景的波次计划 (wave plan of the whole scenario)")
    e.add_argument("--exceptions", action="store_true", help="所选乡镇/区县的未安排人员名单 (named exception lists)")
    e.add_argument("--boarding-sheets", action="store_true", help="所选乡镇/区县每车一页乘车单 (boarding sheets)")
    e.add_argument("--db", help="数据库：到达名单据上车登记填写实到人数和签收 (store: 实到 and signatures in manifests)")
    e.add_argument("--processes", type=int, default=None,
                   help="并行进程数，缺省 2（单核为 1）(worker processes; default 2, 1 on one core)")
    _add_data_root(e)
    e.set_defaults(func=_cmd_export)

    t = sub.add_parser("trace", help="密切接触追溯 (who shared a vehicle or a hub with a worker)")
    t.add_argument("plan_dir", help="计划目录 (plan folder)")
    t.add_argument("--worker", help="务工人员编号 (worker_id)")
    t.add_argument("--trip", help="车次编号 (trip_id)")
    t.add_argument("--csv", help="另存为 CSV 文件 (also write a CSV file)")
    t.add_argument("--max-rows", type=int, default=200, help="屏幕上最多显示几行 (rows on screen)")
    t.add_argument("--db", help="数据库（上车登记与行程索引）；缺省为计划目录旁的 planner-store.sqlite "
                                "(store with boarding records and the legs index; default beside the plan)")
    t.add_argument("--no-store", action="store_true",
                   help="不用数据库：读取全部计划文件，只依据计划 (read the plan files, plan only)")
    t.set_defaults(func=_cmd_trace)

    from planner.store.commands import add_commands

    add_commands(sub, _add_data_root)  # publish, boarding, handover, changes: the daily loop (planner/store)
    from planner.replan import register_replan

    register_replan(sub, _add_data_root)  # replan around the published trips (planner/replan.py)
    from planner.compare import register_compare  # what-if: compare plans, size the fleet (issue 16)
    from planner.fleet_sizing import register_size_fleet
    from planner.train_sizing import register_size_trains

    register_compare(sub)
    register_size_fleet(sub)
    register_size_trains(sub)

    r = sub.add_parser("vrp", help="求解 CVRPLIB 车辆路径算例，比较引擎 (solve a CVRPLIB routing instance)")
    r.add_argument("instance", help="CVRPLIB 算例文件 (.vrp)")
    r.add_argument("--engine", choices=["ortools", "pyvrp"], default=None,
                   help="求解引擎 (routing engine; default: planner.routing.DEFAULT_ENGINE, pyvrp)")
    r.add_argument("--seconds", type=float, default=10.0, help="求解时间，秒 (time limit in seconds; default 10)")
    r.add_argument("--seed", type=int, default=1, help="随机种子 (seed)")
    r.set_defaults(func=_cmd_vrp)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``planner`` console command."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        _confine(args)
        return int(args.func(args))
    except PlannerError as exc:
        print(f"错误 (error): {exc}", file=sys.stderr)
        return EXIT_FATAL
    except KeyboardInterrupt:
        print("已中断 (interrupted)", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``planner trace ... | head``): stop quietly, as other tools do
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
