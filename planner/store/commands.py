"""The daily-loop commands of ``planner``: publish, boarding import/record, handover, changes, history.

Registered by :func:`add_commands` from :mod:`planner.cli`. Messages are
Chinese; every user error is a message and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

EXIT_OK, EXIT_PROBLEMS, EXIT_FATAL = 0, 1, 2
DB_HELP = ("数据库：SQLAlchemy 地址（postgresql://…）或 SQLite 文件路径；缺省为计划目录旁的 planner-store.sqlite "
           "(store URL or SQLite file; default: planner-store.sqlite beside the plan)")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期应为 YYYY-MM-DD：{text[:20]!r}") from None


def _cmd_publish(args: argparse.Namespace) -> int:
    from planner.plan_format import read_plan
    from planner.store.cli_support import store_for
    from planner.store.publish import publish

    plan = read_plan(Path(args.plan_dir))
    store = store_for(args.db, Path(args.plan_dir))
    res = publish(store, plan, args.through, by=args.by)
    from planner.store.legs_index import index_plan, indexed

    if not indexed(store, plan.plan_id):  # so that `planner trace` reads a few rows, never the whole plan
        index_plan(store, plan)
    print(f"计划 {res.plan_id}：发布至 {res.through}，新发布车次 {res.trips_added} 个，"
          f"沿用已发布车次 {res.trips_carried} 个，本计划共 {res.trips_total} 个已发布车次 → {store.describe()}")
    if res.people_missing:
        print(f"注意：已发布车次上有 {res.people_missing} 人不在本计划中（上车时劝离或已取消）")
    return EXIT_OK


def _print_problems(problems) -> None:  # noqa: ANN001
    for p in problems[:200]:
        print(f"  {p}", file=sys.stderr)
    if len(problems) > 200:
        print(f"  … 另有 {len(problems) - 200} 条", file=sys.stderr)


def _cmd_boarding_import(args: argparse.Namespace) -> int:
    from planner.plan_format import read_plan
    from planner.store.cli_support import fever_threshold, store_for
    from planner.store.db import StoreError
    from planner.store.pickup_import import import_pickup_list

    plan_dir = Path(args.plan)
    plan = read_plan(plan_dir)
    threshold = fever_threshold(plan_dir, args.scenario)
    store = store_for(args.db, plan_dir)
    worst = EXIT_OK
    for f in args.files:
        path = Path(f)
        if not path.is_file():
            print(f"错误 (error): 文件不存在：{path}", file=sys.stderr)
            worst = EXIT_FATAL
            continue
        try:
            res = import_pickup_list(store, plan, path, by=args.by, fever_threshold_c=threshold,
                                     township=args.township)
        except StoreError as exc:
            print(f"错误 (error): {exc}", file=sys.stderr)
            worst = EXIT_FATAL
            continue
        counts: dict[str, int] = {}
        for r in res.result.applied:
            counts[r.status] = counts.get(r.status, 0) + 1
        from planner.store.boarding import status_label

        told = "，".join(f"{status_label(k)} {v}" for k, v in sorted(counts.items())) or "无"
        print(f"{path.name}（乡镇 {res.township_code}）：读取 {res.rows_read} 行，记录 {len(res.result.applied)} 条"
              f"（{told}），未填写 {res.not_filled} 行，有问题 {len(res.result.problems)} 行")
        if res.result.problems:
            _print_problems(res.result.problems)
            worst = max(worst, EXIT_PROBLEMS)
    return worst


def _cmd_boarding_record(args: argparse.Namespace) -> int:
    from planner.plan_format import read_plan
    from planner.store.boarding import BoardingInput, PlanSeats, record_boarding
    from planner.store.cli_support import fever_threshold, store_for

    plan_dir = Path(args.plan)
    plan = read_plan(plan_dir)
    store = store_for(args.db, plan_dir)
    seats = PlanSeats.load(store, plan.plan_id, plan.trips["trip_id"].astype(str))
    rec = BoardingInput(args.trip, args.worker, args.status, args.temperature, "命令行")
    res = record_boarding(store, seats, [rec], by=args.by, fever_threshold_c=fever_threshold(plan_dir, args.scenario),
                          source="cli")
    if res.problems:
        _print_problems(res.problems)
        return EXIT_PROBLEMS
    r = res.applied[0]
    print(f"已记录：车次 {r.trip_id} 人员 {r.worker_id} 状态 {r.status}"
          + (f" 体温 {r.temperature_c:.1f} ℃" if r.temperature_c is not None else ""))
    return EXIT_OK


def _cmd_handover(args: argparse.Namespace) -> int:
    from planner.plan_format import read_plan
    from planner.store.cli_support import store_for
    from planner.store.handover import arrival_counts, record_handover

    plan_dir = Path(args.plan)
    plan = read_plan(plan_dir)
    if args.trip not in set(plan.trips["trip_id"].astype(str)):
        print(f"错误 (error): 计划中没有车次 {args.trip[:40]}", file=sys.stderr)
        return EXIT_FATAL
    store = store_for(args.db, plan_dir)
    count = arrival_counts(store, plan.legs, [args.trip])[args.trip]
    h = record_handover(store, plan.plan_id, args.trip, count, received=args.received, by=args.by,
                        organisation=args.org, source="cli")
    print(f"已签收：车次 {h.trip_id}，{count.label()}，实收 {h.received} 人，签收人 {h.signed_by}（{h.organisation}）")
    if count.complete and h.received != count.boarded:
        print(f"注意：实收 {h.received} 人与上车登记 {count.boarded} 人不符，请核对")
    return EXIT_OK


def _cmd_changes(args: argparse.Namespace) -> int:
    from planner.plan_format import read_plan
    from planner.store.changes import plan_changes, write_changes

    old, new = read_plan(Path(args.old)), read_plan(Path(args.new))
    taken = ()
    if args.db:
        from planner.store.cli_support import store_for
        from planner.store.locks import locked_plan

        taken = locked_plan(store_for(args.db, Path(args.old)), old.plan_id).taken_off
    frame = plan_changes(old, new, taken)
    path = write_changes(Path(args.new), frame)
    counts = frame["change"].value_counts().to_dict()
    print(f"{path}：{len(frame)} 人变更（新增 {counts.get('added', 0)}，取消 {counts.get('removed', 0)}，"
          f"变更 {counts.get('moved', 0)}）")
    if args.out:
        if not args.scenario:
            print("错误 (error): 生成变更名单需要 --scenario", file=sys.stderr)
            return EXIT_FATAL
        from planner.documents.changes import write_change_lists
        from planner.documents.common import load_doc_data

        data = load_doc_data(Path(args.new), Path(args.scenario))
        for p in write_change_lists(data, frame, Path(args.out), old=old):
            print(p)
    return EXIT_OK


def _cmd_history(args: argparse.Namespace) -> int:
    from planner.store.cli_support import store_for
    from planner.store.db import open_store, store_url
    from planner.store.history import store_history

    if not args.db and not args.plan:
        print("错误 (error): 请给出 --db 或 --plan (give --db or --plan)", file=sys.stderr)
        return EXIT_FATAL
    store = store_for(args.db, Path(args.plan)) if args.plan else open_store(store_url(args.db))
    h = store_history(store)
    print(f"数据库 {store.describe()}：计划版本 {len(h.plans)} 个")
    for p in h.plans:
        print(f"  {p.plan_id}  首次登记 {p.first_seen_at[:16]}  {p.plan_path}")
    print(f"发布记录 {len(h.publications)} 次：")
    for p in h.publications:
        print(f"  {p.published_at[:16]}  计划 {p.plan_id}  发布至 {p.through_date}  新发布车次 {p.trips_added}  "
              f"发布人 {p.published_by}")
    from planner.store.boarding import status_label

    told = "，".join(f"{status_label(k)} {v}" for k, v in sorted(h.boarding_by_status.items())) or "无"
    print(f"上车登记 {h.boarding_records} 条（现行：{told}）；交接签收 {h.handovers} 次")
    return EXIT_OK


def add_commands(sub, add_data_root) -> None:  # noqa: ANN001 - argparse's subparsers action
    """Register publish, boarding, handover and changes on the ``planner`` parser."""
    p = sub.add_parser("publish", help="发布车次：此日及以前出发的车次冻结 (publish the trips up to a day)")
    p.add_argument("plan_dir", help="计划目录 (plan folder)")
    p.add_argument("--through", required=True, type=_day, help="发布至此日（含）出发的车次，YYYY-MM-DD")
    p.add_argument("--db", help=DB_HELP)
    p.add_argument("--by", default="区县人社局", help="发布人或单位 (who publishes)")
    p.set_defaults(func=_cmd_publish)

    b = sub.add_parser("boarding", help="上车登记：导入已勾选的乘车名单，或逐人登记 (record boarding)")
    bs = b.add_subparsers(dest="boarding_command", required=True, metavar="{import,record}")
    bi = bs.add_parser("import", help="导入已填写上车确认和体温的乘车人员名单 (.xlsx)")
    bi.add_argument("files", nargs="+", help="乘车人员名单_<乡镇代码>.xlsx")
    bi.add_argument("--plan", required=True, help="导出名单的计划目录 (plan folder)")
    bi.add_argument("--by", required=True, help="登记人姓名 (who recorded)")
    bi.add_argument("--db", help=DB_HELP)
    bi.add_argument("--scenario", help="情景文件（发热标准）；缺省为计划所用的情景 (scenario, for the fever threshold)")
    bi.add_argument("--township", help="只接受该乡镇的名单 (accept only this township's list)")
    bi.set_defaults(func=_cmd_boarding_import)
    br = bs.add_parser("record", help="登记一人一车次的上车情况")
    br.add_argument("--plan", required=True, help="计划目录")
    br.add_argument("--trip", required=True, help="车次")
    br.add_argument("--worker", required=True, help="务工人员编号")
    br.add_argument("--status", choices=["boarded", "absent", "fever", "refused"], required=True)
    br.add_argument("--temperature", help="体温 ℃")
    br.add_argument("--by", required=True, help="登记人姓名")
    br.add_argument("--db", help=DB_HELP)
    br.add_argument("--scenario", help="情景文件（发热标准）")
    br.set_defaults(func=_cmd_boarding_record)

    h = sub.add_parser("handover", help="到达交接签收 (record the receiving side's signature)")
    h.add_argument("--plan", required=True, help="计划目录")
    h.add_argument("--trip", required=True, help="车次")
    h.add_argument("--by", required=True, help="签收人姓名")
    h.add_argument("--org", required=True, help="签收单位")
    h.add_argument("--received", required=True, help="实收人数")
    h.add_argument("--db", help=DB_HELP)
    h.set_defaults(func=_cmd_handover)

    hi = sub.add_parser("history", help="数据库中的计划版本、发布记录和登记数量 (what the store holds)")
    hi.add_argument("--plan", help="计划目录：使用其旁边的缺省数据库")
    hi.add_argument("--db", help=DB_HELP)
    hi.set_defaults(func=_cmd_history)

    c = sub.add_parser("changes", help="比较两版计划，写出 changes.csv 和变更名单 (who must be told what changed)")
    c.add_argument("old", help="原计划目录 (base plan)")
    c.add_argument("new", help="新计划目录 (new plan)")
    c.add_argument("--db", help="数据库：用上车登记说明劝离原因 (store: reasons of people taken off)")
    c.add_argument("--scenario", help="情景文件（生成变更名单时需要）")
    c.add_argument("--out", help="变更名单输出目录：每乡镇、每省一份 Excel 和 PDF (change lists)")
    c.set_defaults(func=_cmd_changes)
