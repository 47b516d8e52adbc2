"""The app page 发布与重新规划: publish the current plan through a day, then replan around it (issue 14).

发布 publishes the current plan's trips departing on or before the chosen day
(:func:`planner.store.publish.publish`, the same as ``planner publish``) and
shows what is published per day and which plan version of the store's history
this plan is. 重新规划 runs :func:`planner.replan.run_replan` with the app's
current scenario (its data as they are today), the current plan as the base and
the chosen lock date, into a new plan folder beside the base inside the app's
plan folder (:func:`planner.app.paths.plan_dir_in`), with a progress bar; then
it shows the checker's verdict, the people taken off the locked trips by
reason, the changes per township and a download of ``changes.csv``. The new
plan is listed among the plans the app can open and can be switched to at once.

Bad input (nothing published yet, a lock date outside the scenario's window, a
plan name outside the plan folder) is a Chinese message; nothing is written.
The store is the one of :func:`planner.app.boarding_page.store_for_app`.
"""

from __future__ import annotations

import os
import time
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import streamlit as st

from planner.app.boarding_page import DB_ENV, store_for_app

CHANGE_LABELS = {"added": "新增", "removed": "撤下", "moved": "变更车次或座位"}


def _days(plan) -> pd.Series:  # noqa: ANN001 - PlanFiles
    from planner.store.publish import local_day

    return local_day(plan.trips["depart"])


def published_table(store, plan) -> pd.DataFrame:  # noqa: ANN001
    """Per departure day: published passenger trips and the people on them (日期, 车次数, 人数)."""
    from planner.store.publish import published_trip_ids

    ids = published_trip_ids(store, plan.plan_id)
    trips = plan.trips.assign(_day=_days(plan), trip_id=plan.trips["trip_id"].astype(str))
    trips = trips[trips["trip_id"].isin(ids)]
    legs = plan.legs[plan.legs["trip_id"].astype(str).isin(ids)]
    day_of = trips.set_index("trip_id")["_day"]
    people = legs.assign(_day=legs["trip_id"].astype(str).map(day_of)).groupby("_day")["worker_id"].nunique()
    counts = trips.groupby("_day")["trip_id"].count()
    out = pd.DataFrame({"车次数": counts, "人数": people}).fillna(0).astype(int).sort_index()
    out.index = [d.isoformat() for d in out.index]
    return out.rename_axis("日期").reset_index()


def _version_text(store, plan_id: str) -> str:  # noqa: ANN001
    from planner.store.history import store_history

    h = store_history(store)
    ids = [p.plan_id for p in h.plans]
    pubs = [p for p in h.publications if p.plan_id == plan_id]
    if plan_id not in ids:
        return f"本计划（{plan_id}）尚未登记到数据库，共有 {len(ids)} 个计划版本。"
    last = f"，最近一次发布至 {pubs[-1].through_date}（{pubs[-1].published_by}，{pubs[-1].published_at}）" if pubs else ""
    return f"计划版本：第 {ids.index(plan_id) + 1} 版（共 {len(ids)} 版），编号 {plan_id}；发布 {len(pubs)} 次{last}"


def publish_section(plan_dir: Path, plan) -> None:  # noqa: ANN001
    """发布: a day and a name, the button, then what is published."""
    from planner.errors import PlannerError
    from planner.store.publish import publish, published_through

    st.subheader("发布")
    store = store_for_app(plan_dir)
    days = _days(plan).dropna()
    first = min(days) if len(days) else date.today()
    c1, c2 = st.columns(2)
    through = c1.date_input("发布至（含）", value=first + timedelta(days=2), key="publish-through")
    by = c2.text_input("发布人", value="人社局", key="publish-by").strip()
    if st.button("发布", type="primary", key="publish"):
        if not by:
            st.error("请填写发布人。")
        else:
            try:
                res = publish(store, plan, through, by=by)
            except PlannerError as exc:
                st.error(f"发布被拒绝：{_public(exc, plan_dir)}")
            else:
                st.session_state["replan-lock"] = max(through, st.session_state.get("replan-lock") or through)
                st.success(f"已发布至 {through}：新发布车次 {res.trips_added:,} 个，沿用 {res.trips_carried:,} 个，"
                           f"本计划共 {res.trips_total:,} 个已发布车次。")
    st.caption(_version_text(store, plan.plan_id))
    table = published_table(store, plan)
    if table.empty:
        st.info("本计划尚无已发布的车次。")
    else:
        st.caption(f"已发布至 {published_through(store, plan.plan_id)}："
                   f"车次 {int(table['车次数'].sum()):,} 个，人数 {int(table['人数'].sum()):,}。")
        st.dataframe(table, hide_index=True, width="stretch", key="published-table")


def _out_dir(name: str, plan_dir: Path, plan_roots: list[Path]) -> Path:
    """The new plan's folder: beside the base when the base lies in the app's plan folder, else in the plan folder."""
    from planner.app.paths import _inside, plan_dir_in

    beside = Path(plan_dir).parent
    roots = [beside, *plan_roots] if any(_inside(beside, r) for r in plan_roots) else list(plan_roots)
    return plan_dir_in(name, roots)


def _refusal(store, plan, scenario: Path, lock: date) -> str | None:  # noqa: ANN001
    """Why the replan cannot start (a Chinese message), or None."""
    from planner.errors import PlannerError
    from planner.scenario import load_scenario
    from planner.store.publish import published_trip_ids

    if not published_trip_ids(store, plan.plan_id):
        return "本计划尚无已发布的车次：请先在上方发布，再重新规划。未写出任何文件。"
    try:
        sc = load_scenario(scenario)
    except PlannerError as exc:
        return f"无法读取情景：{_public(exc, scenario)}"
    if lock > sc.window.end:
        return f"锁定日期 {lock} 晚于计划结束日 {sc.window.end}：请选择 {sc.window.start} 至 {sc.window.end} 之间的日期。未写出任何文件。"
    if lock < sc.window.start:
        return f"锁定日期 {lock} 早于计划起始日 {sc.window.start}：请选择 {sc.window.start} 至 {sc.window.end} 之间的日期。未写出任何文件。"
    return None


def _public(text: object, plan_dir: Path) -> str:
    """A message for the screen without the server's folders (the plan's folder and the project folder)."""
    from planner.app.upload import public_message

    return public_message(str(text), [Path(plan_dir).parent, Path.cwd()])


def _run(scenario: Path, plan_dir: Path, out: Path, lock: date):  # noqa: ANN202 - ReplanReport | None
    """run_replan with a progress bar inside a status box; None (and a message) when it fails."""
    from planner.errors import PlannerError
    from planner.replan import run_replan

    with st.status(f"正在重新规划（锁定至 {lock}）…", expanded=True) as status:
        bar = st.progress(0.0, text="开始重新规划…")
        seen = {"n": 0, "shown": 0.0}

        def progress(msg: str) -> None:
            seen["n"] += 1
            now = time.monotonic()
            if now - seen["shown"] < 0.5:
                return
            seen["shown"] = now
            share = getattr(msg, "share", None)
            if share is not None:
                seen["solve"] = share
            done = 0.1 + 0.8 * seen["solve"] if "solve" in seen else min(0.1, seen["n"] / 200)
            status.write(str(msg))
            bar.progress(min(0.95, done), text=str(msg))

        try:
            report = run_replan(scenario, plan_dir, out, lock_through=lock, db=os.environ.get(DB_ENV) or None,
                                progress=progress)
        except PlannerError as exc:
            st.error(f"重新规划失败：{_public(exc, plan_dir)}")
            status.update(label="重新规划失败", state="error")
            return None
        except Exception as exc:  # noqa: BLE001 - never a traceback on screen
            st.error(f"重新规划失败（程序错误）：{type(exc).__name__}: {_public(exc, plan_dir)}")
            status.update(label="重新规划失败", state="error")
            return None
        bar.progress(1.0, text="完成")
        status.update(label="重新规划完成", state="complete")
    return report


def changes_by_township(changes: pd.DataFrame, names: dict[str, str] | None = None) -> pd.DataFrame:
    """乡镇代码, 乡镇 (name when known) and 新增/撤下/变更车次或座位/合计 counts from the rows of changes.csv."""
    cols = list(CHANGE_LABELS)
    if changes.empty:
        return pd.DataFrame(columns=["乡镇代码", "乡镇", *CHANGE_LABELS.values(), "合计"])
    t = changes.pivot_table(index="township_code", columns="change", values="worker_id", aggfunc="count",
                            fill_value=0).reindex(columns=cols, fill_value=0).astype(int)
    t["合计"] = t.sum(axis=1)
    t = t.rename(columns=CHANGE_LABELS).rename_axis("乡镇代码").reset_index()
    t.insert(1, "乡镇", t["乡镇代码"].map(lambda c: (names or {}).get(c, "")))
    return t


def _township_names(scenario: str) -> dict[str, str]:
    """Township code -> name of the scenario's townships.csv ({} when there is none or it cannot be read)."""
    try:
        from planner.documents.common import _township_names as names
        from planner.scenario import load_scenario

        return names(load_scenario(scenario))
    except Exception:  # noqa: BLE001 - names are a help only; the codes are shown anyway
        return {}


def show_result(result: dict) -> None:
    """The verdict, the people taken off by reason, the changes per township and the changes.csv download."""
    from planner.app.upload import public_message
    from planner.store.changes import change_reason_label

    out = Path(result["out"])
    if result["check_ok"] is True:
        st.success(f"新计划 {out.name}：校验通过")
    elif result["check_ok"] is False:
        st.error(f"新计划 {out.name}：校验发现问题")
        from planner.app.zh import zh_only

        st.code(zh_only(result["check_text"]), language=None)
    for n in result["notes"]:
        st.info(public_message(n, [out.parent]))
    taken = pd.Series(result["taken_off"], dtype=str)
    st.markdown(f"**从锁定车次撤下 {len(taken):,} 人**（未到、发热、拒乘或已取消登记）")
    if len(taken):
        by = taken.map(change_reason_label).value_counts().rename_axis("原因").rename("人数").reset_index()
        st.dataframe(by, hide_index=True, key="replan-taken-off")
    path = out / "changes.csv"
    if not path.exists():
        st.warning("新计划中没有 changes.csv。")
        return
    changes = pd.read_csv(path, dtype=str, keep_default_na=False)
    st.markdown(f"**变更（需通知的人员）{len(changes):,} 人**")
    st.dataframe(changes_by_township(changes, _township_names(result["scenario"])), hide_index=True, width="stretch", key="replan-changes")
    st.download_button("下载 changes.csv", data=path.read_bytes(), file_name=f"changes_{out.name}.csv",
                       mime="text/csv", key="replan-download")
    if st.button("切换到新计划", key="replan-open"):
        st.session_state.plan_dir = str(out)
        st.session_state.scenario = result["scenario"]
        st.session_state.pop("replan_result", None)
        st.rerun()


def replan_section(plan_dir: Path, scenario: Path, plan, plan_roots: list[Path]) -> None:  # noqa: ANN001
    """重新规划: lock date, new plan name, the button, then the result."""
    from planner.app.upload import UploadError
    from planner.store.publish import published_through

    st.subheader("重新规划")
    st.caption(f"使用当前情景 {scenario.name} 的数据（今天的状态），以当前计划 {plan_dir.name} 为基准；"
               "锁定日及以前出发的已发布车次保持不变，其余重新规划。")
    store = store_for_app(plan_dir)
    last = published_through(store, plan.plan_id)
    days = _days(plan).dropna()
    default = date.fromisoformat(last) if last else (min(days) if len(days) else date.today())
    c1, c2 = st.columns(2)
    lock = c1.date_input("锁定至（含）", value=default, key="replan-lock")
    default_name = f"{plan_dir.name}-replan-{lock:%m%d}"
    name = c2.text_input("新计划名称（保存在基准计划旁）", placeholder=default_name, key="replan-name").strip()
    name = name or default_name
    if st.button("重新规划", type="primary", key="replan-run"):
        why = _refusal(store, plan, scenario, lock)
        if why is None:
            try:
                out = _out_dir(name, plan_dir, plan_roots)
            except UploadError as exc:
                why = str(exc)
            else:
                if os.path.realpath(out) == os.path.realpath(plan_dir):
                    why = "新计划名称不能与基准计划相同。"
        if why is not None:
            st.error(why)
        else:
            report = _run(scenario, plan_dir, out, lock)
            if report is not None and report.check_ok is not None:
                from planner.app import verdict

                verdict.record(out, report.check_ok, report.check_text)  # the overview shows it
            if report is not None:
                st.session_state["replan_result"] = {
                    "out": str(out), "base": str(plan_dir), "scenario": str(scenario), "check_ok": report.check_ok,
                    "check_text": report.check_text, "notes": list(report.notes),
                    "taken_off": dict(report.summary.get("replan", {}).get("taken_off", {}))}
    result = st.session_state.get("replan_result")
    if result and result["base"] == str(plan_dir) and Path(result["out"], "summary.json").exists():
        show_result(result)


def page_replan(plan_dir: Path, scenario: Path, plan_roots: list[Path]) -> None:
    """The page 发布与重新规划 (see the module docstring)."""
    from planner.plan_format import read_plan

    st.header("发布与重新规划")
    try:
        plan = read_plan(Path(plan_dir))
    except Exception as exc:  # noqa: BLE001 - a broken or missing plan folder: a message, never a traceback
        st.error(f"无法读取当前计划 {Path(plan_dir).name}：{_public(exc, plan_dir)}")
        return
    publish_section(Path(plan_dir), plan)
    st.divider()
    replan_section(Path(plan_dir), Path(scenario), plan, list(plan_roots))
