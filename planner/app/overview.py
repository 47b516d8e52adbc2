"""The app's first page (概览): the state of the plan at a glance, and a role to choose.

What a planner needs before anything else: which plan and scenario this is,
when it was made, whether the independent checker passed it, how many people
are planned and how many are not, how many departures, how far the plan is
from the lower bound on coach departures and from the throughput bound; then
one button per user of the plan (county bureau, township, receiving province,
tracing, boarding) that opens that user's view.

:func:`overview_facts` is plain Python (tested on its own); :func:`page_overview`
draws it with Streamlit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from planner.vocab import reason_label

__all__ = ["ROLES", "overview_facts", "planned_at", "read_overview_summary", "county_names", "page_overview"]

#: Beijing time: the plans' local times are China Standard Time.
CST = timezone(timedelta(hours=8))

#: The roles offered on entry: role -> (the page it opens, what that user does there).
ROLES: dict[str, tuple[str, str]] = {
    "区县人社局": ("区县人社局", "包车波次、车队、发车数、与下界的差距、未安排人员"),
    "乡镇干部": ("乡镇", "本乡镇的乘车人员名单、接送时间、未安排人员及原因"),
    "接收省份、用工企业": ("接收省份", "到达车辆、到达名单（交接单）"),
    "疾控、流调人员": ("追溯", "按姓名或编号查找人员，查同车、同站人员"),
    "上车登记人员": ("上车登记", "在车门口逐人登记上车、体温"),
    "计划编制人员": ("计划", "校验数据、上传数据、生成或打开计划"),
}


def planned_at(plan_dir: Path) -> datetime | None:
    """When the plan in ``plan_dir`` was written (its summary.json), in Beijing time; None without one."""
    p = Path(plan_dir) / "summary.json"
    try:
        return datetime.fromtimestamp(p.stat().st_mtime, tz=CST)
    except OSError:
        return None


def read_overview_summary(plan_dir: Path) -> dict:
    """The plan's ``summary.json``, once every file it lists matches its checksum (PlanFormatError if not).

    Only the summary is read, not the plan's tables nor the scenario's data: the
    first page is drawn in about a second on the demo, where the other pages
    first read everything (about 8 s).
    """
    from planner.plan_format import verify_plan_dir

    return verify_plan_dir(Path(plan_dir))


def county_names(scenario: Path) -> dict[str, str]:
    """County code -> 'name（code）' from the scenario's county table; {} when it cannot be read."""
    try:
        from planner.io.readers import read_table
        from planner.scenario import load_scenario

        spec = load_scenario(Path(scenario)).file_specs().get("counties")
        if spec is None:
            return {}
        c = read_table(spec, table="counties")
        return {str(k): f"{v}（{k}）" for k, v in zip(c["county_code"], c["county_name"])}
    except Exception:  # noqa: BLE001 - names are a nicety: the codes are shown instead
        return {}


def _verdict_text(verdict: dict | None) -> tuple[str, str]:
    """(headline, state) of a recorded checker verdict; state is ok | violations | unchecked."""
    if verdict is None:
        return "尚未在本程序中校验", "unchecked"
    if verdict.get("ok"):
        return "通过：没有违反任何规则", "ok"
    n = verdict.get("violations")
    return (f"发现 {n:,} 处违规" if isinstance(n, int) else "发现违规"), "violations"


def overview_facts(summary: dict, *, plan_name: str, scenario_name: str, when: datetime | None,
                   verdict: dict | None) -> dict:
    """The numbers of the overview, from ``summary.json`` and the recorded checker verdict.

    Returns a dict: ``plan``, ``scenario``, ``when`` (text), ``verdict`` and
    ``verdict_state`` (ok | violations | unchecked), ``read``, ``planned``,
    ``unassigned``, ``planned_share`` (0-1 of those read), ``departures``
    (Chinese name -> count), ``lower_bound`` (dict or None: 下界, 计划, 差距,
    差距百分比), ``throughput`` (dict or None), ``replan`` (a sentence naming the base
    plan of a replanned plan, else ""), ``reasons`` (list of
    (Chinese reason, count), most first) and ``counties`` (per-county rows of
    the throughput bound).
    """
    s = summary or {}
    w = s.get("workers", {})
    d = s.get("departures", {})
    read = int(w.get("read", 0))
    planned = int(w.get("planned", 0))
    headline, state = _verdict_text(verdict)
    lb = s.get("lower_bound") or None
    tb = (s.get("throughput_bound") or {}).get("total") or None
    reasons = sorted(((reason_label(c), int(n)) for c, n in (w.get("unassigned_by_reason") or {}).items() if int(n)),
                     key=lambda x: -x[1])
    counties = []
    for code, c in sorted(((s.get("throughput_bound") or {}).get("by_county") or {}).items()):
        counties.append({"区县代码": code, "已安排": int(c.get("planned", 0)), "运力上界": int(c.get("bound", 0)),
                         "差距": int(c.get("gap", 0)), "差距百分比": c.get("gap_pct", 0.0)})
    rp = s.get("replan") or {}
    replan = ""
    if rp:
        base = Path(str(rp.get("base_dir") or "")).name or str(rp.get("base_plan_id", ""))
        replan = (f"重新规划自计划 {base}：已发布车次锁定至 {rp.get('lock_through') or '（无）'}，"
                  f"锁定车次 {len(rp.get('locked_trips') or []):,} 个")
    return {
        "plan": plan_name,
        "replan": replan,
        "scenario": str((s.get("scenario") or {}).get("name") or scenario_name),
        "when": when.strftime("%Y-%m-%d %H:%M（北京时间）") if when else "未知",
        "verdict": headline, "verdict_state": state,
        "read": read, "planned": planned, "unassigned": int(w.get("unassigned", 0)),
        "planned_share": planned / read if read else 0.0,
        "departures": {"省际大巴": int(d.get("coach", 0)), "专列车厢": int(d.get("train_carriage", 0)),
                       "接驳车": int(d.get("feeder", 0))},
        "lower_bound": ({"下界": int(lb.get("coach_departures", 0)),
                         "计划": int(lb.get("coach_departures_planned", d.get("coach", 0))),
                         "差距": int(lb.get("gap", 0)), "差距百分比": lb.get("gap_pct", 0.0)} if lb else None),
        "throughput": ({"上界": int(tb.get("bound", 0)), "已安排": int(tb.get("planned", 0)),
                        "差距": int(tb.get("gap", 0)), "差距百分比": tb.get("gap_pct", 0.0)} if tb else None),
        "reasons": reasons,
        "counties": counties,
    }


def page_overview(summary: dict, plan_dir: Path, scenario: Path, *,
                  names: Callable[[], dict[str, str]] | None = None, go: Callable[[str], None] | None = None) -> None:
    """Draw the overview of the plan now open (its ``summary.json``); ``go(page)`` (a button callback) opens a page.

    ``names()`` gives county names, asked for only when the plan has more than one county.
    """
    import streamlit as st

    from planner.app import verdict as verdicts
    from planner.app.zh import check_lines

    ss = st.session_state
    f = overview_facts(summary or {}, plan_name=Path(plan_dir).name, scenario_name=Path(scenario).stem,
                       when=planned_at(plan_dir), verdict=verdicts.read(plan_dir))
    st.header("概览")
    st.markdown(f"**计划** {f['plan']}　**情景** {f['scenario']}　**生成时间** {f['when']}")
    if f["replan"]:
        st.caption(f["replan"])
    box = {"ok": st.success, "violations": st.error, "unchecked": st.info}[f["verdict_state"]]
    box(f"独立校验：{f['verdict']}")
    if f["verdict_state"] == "unchecked":
        if st.button("运行独立校验", key="overview-check"):
            with st.spinner("正在独立校验计划…"):
                try:
                    verdicts.check_and_record(plan_dir, scenario)
                except Exception as exc:  # noqa: BLE001 - a message, never a traceback
                    from planner.app.zh import zh_only

                    st.error(f"校验无法完成：{zh_only(exc)}")
                else:
                    st.rerun()
    elif f["verdict_state"] == "violations":
        with st.expander("校验报告"):
            st.code("\n".join(check_lines(False, (verdicts.read(plan_dir) or {}).get("text", ""))), language=None)

    c = st.columns(4)
    c[0].metric("已安排人数", f"{f['planned']:,}", help=f"读入 {f['read']:,} 人，已安排 {f['planned_share']:.1%}")
    c[1].metric("未安排人数", f"{f['unassigned']:,}")
    c[2].metric("省际大巴发车", f"{f['departures']['省际大巴']:,}")
    c[3].metric("专列车厢", f"{f['departures']['专列车厢']:,}")
    c = st.columns(4)
    lb = f["lower_bound"]
    if lb:
        c[0].metric("大巴发车下界", f"{lb['下界']:,}")
        c[1].metric("与下界差距", f"{lb['差距']:,}（{lb['差距百分比']}%）",
                    help="计划的大巴发车数减去下界；下界是任何计划都至少需要的大巴发车数")
    tb = f["throughput"]
    if tb:
        c[2].metric("运力上界（人）", f"{tb['上界']:,}", help="车队在计划期内最多能运送的人数")
        c[3].metric("与运力上界差距", f"{tb['差距']:,}（{tb['差距百分比']}%）")
    if f["reasons"]:
        st.caption("未安排原因：" + "；".join(f"{r} {n:,} 人" for r, n in f["reasons"][:6]))
    if len(f["counties"]) > 1:
        labels = names() if names is not None else {}
        rows = [{"区县": labels.get(r["区县代码"], r["区县代码"]), **{k: v for k, v in r.items() if k != "区县代码"}}
                for r in f["counties"]]
        with st.expander(f"各区县（{len(rows)} 个）"):
            st.dataframe(rows, hide_index=True, width="stretch")

    st.subheader("请选择您的角色")
    role = ss.get("role")
    if role:
        st.caption(f"当前角色：{role}")
    cols = st.columns(3)
    for i, (name, (page, what)) in enumerate(ROLES.items()):
        with cols[i % 3]:
            st.button(name, key=f"role-{i}", width="stretch", type="primary" if name == role else "secondary",
                      on_click=_choose, args=(name, page, go))
            st.caption(what)


def _choose(role: str, page: str, go: Callable[[str], None] | None) -> None:
    """Button callback: remember the role and open its page."""
    import streamlit as st

    st.session_state.role = role
    if go is not None:
        go(page)
