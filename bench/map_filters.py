"""Benchmark: how long the 地图 page takes to redraw after a filter change (issue 15 section 3: at most 2 s).

Three measurements on one plan:

1. ``deck``: in this process, :func:`planner.app.deck.map_base` once, then
   :func:`planner.app.deck.build_deck_json` per filter set (what a filter costs the first
   time it is chosen, before the app's cache holds it), with the JSON size sent to the browser;
2. ``app``: the app through Streamlit's AppTest: one rerun per filter change, first visit
   (deck built) and second visit (deck from ``st.cache_data``);
3. ``browser`` (``--browser``): the app as a server and Debian's Chromium through Playwright:
   from the last click choosing the filter value to the canvas repainted for the last time
   (screenshots of the canvas every ~0.1 s plus their own time; stable for 1.5 s), first and
   second visit.

Run (the demo plan first: planner plan scenarios/demo-wanzhou.toml --out out/demo):
    nice .venv/bin/python bench/map_filters.py --plan out/demo --scenario scenarios/demo-wanzhou.toml [--browser]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]


def filter_sets(data) -> list[tuple[str, dict]]:
    """(label, selectbox changes) in the order a planner might click them."""
    from planner.app import views

    opts = views.filter_options(data)
    w = data.plan.workers
    planned = w[w["status"] == "planned"]
    county = str(planned["county_code"].value_counts().index[0])
    towns = [str(t) for t in planned.loc[planned["county_code"] == county, "township_code"].value_counts().index[:2]]
    day = opts["days"][len(opts["days"]) // 2].isoformat()
    prov = opts["provinces"][0]
    return [
        ("county", {"map-county": county}),
        ("township 1", {"map-township": towns[0]}),
        ("township 2", {"map-township": towns[-1]}),
        ("township 2, all view", {"map-view": "all"}),
        ("back to whole plan", {"map-view": "auto", "map-township": "全部", "map-county": "全部"}),
        ("province", {"map-province": prov}),
        ("day", {"map-province": "全部", "map-day": day}),
        ("whole plan again", {"map-day": "全部"}),
    ]


def bench_deck(data) -> dict:
    from planner.app.deck import MapFilters, build_deck_json, map_base

    t = time.perf_counter()
    base = map_base(data)
    out = {"map_base_s": round(time.perf_counter() - t, 2), "filters": []}
    state = {"day": None, "county": None, "township": None, "province": None, "view": "auto"}
    names = {"map-day": "day", "map-county": "county", "map-township": "township", "map-province": "province",
             "map-view": "view"}
    for label, change in filter_sets(data):
        for k, v in change.items():
            state[names[k]] = None if v == "全部" else v
        day = state["day"]
        f = MapFilters(day=None if day is None else __import__("datetime").date.fromisoformat(day),
                       county=state["county"], township=state["township"], province=state["province"],
                       view=state["view"] or "auto")
        t = time.perf_counter()
        spec = build_deck_json(data, f, base)
        out["filters"].append({"filter": label, "build_s": round(time.perf_counter() - t, 3),
                               "json_kb": round(len(spec.encode()) / 1024)})
    return out


def bench_app(plan: Path, scenario: Path, data) -> list[dict]:
    from streamlit.testing.v1 import AppTest

    os.environ["PLANNER_APP_SCENARIO"] = str(scenario)
    os.environ["PLANNER_APP_PLAN_DIR"] = str(plan)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.sidebar.radio(key="page").set_value("地图").run()
    rows = []
    for visit in ("first", "second"):
        for label, change in filter_sets(data):
            for k, v in change.items():
                (at.radio if k == "map-view" else at.selectbox)(key=k).set_value(v)
            t = time.perf_counter()
            at.run()
            assert not at.exception, at.exception
            rows.append({"visit": visit, "filter": label, "rerun_s": round(time.perf_counter() - t, 3)})
    return rows


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _canvas_png(page) -> bytes:
    """The map canvas as PNG, or b"" while it is being replaced (the chart remounts on a filter change)."""
    try:
        return page.locator("canvas").first.screenshot(timeout=5000)
    except Exception:  # noqa: BLE001 - detached or not there yet
        return b""


def _choose(page, change: dict, labels: dict, counties: dict, data) -> None:
    """Set the filter widgets of ``change`` as a user would (each change reruns the app)."""
    from planner.app import views
    from planner.app.deck import VIEWS

    for n, (k, v) in enumerate(change.items()):
        if n:  # the previous change's rerun starts first
            page.wait_for_timeout(1500)
        if k == "map-view":
            page.get_by_text(VIEWS[v], exact=True).first.click()
            continue
        box = page.locator("div[data-testid=stSelectbox]").filter(has_text=labels[k]).first
        text = v
        if k == "map-county" and v in counties:
            text = counties[v]
        elif k == "map-township" and v != "全部":
            text = views.township_options(data).get(v, v)
        box.locator("input").click()
        box.locator("input").fill(text)  # long lists are virtualised: type to bring the option in
        page.get_by_role("option", name=text, exact=True).first.click(timeout=60_000)


def bench_browser(plan: Path, scenario: Path, data) -> list[dict]:
    from playwright.sync_api import sync_playwright

    port = _free_port()
    env = dict(os.environ, PLANNER_APP_SCENARIO=str(scenario), PLANNER_APP_PLAN_DIR=str(plan))
    proc = subprocess.Popen([str(Path(sys.executable).with_name("streamlit")), "run", str(ROOT / "app.py"),
                             "--server.headless", "true", "--server.port", str(port),
                             "--browser.gatherUsageStats", "false"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://localhost:{port}"
    rows = []
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--headless", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
                "--disable-background-networking", "--no-first-run"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(url, wait_until="networkidle")
            page.get_by_text("地图", exact=True).first.click(timeout=300_000)
            page.locator("canvas").first.wait_for(state="visible", timeout=300_000)
            page.wait_for_timeout(5000)
            labels = {"map-day": "出发日期", "map-county": "区县", "map-township": "乡镇", "map-province": "目的省份"}
            from planner.app import views

            counties = views.filter_options(data)["counties"]
            for visit in ("first", "second"):
                for label, change in filter_sets(data):
                    before = _canvas_png(page)
                    try:
                        _choose(page, change, labels, counties, data)
                        t = time.perf_counter()  # the last choice made: the rerun starts
                    except Exception as exc:  # noqa: BLE001 - reported, the run goes on
                        rows.append({"visit": visit, "filter": label, "error": str(exc).splitlines()[0]})
                        continue
                    shot, last, stable_since = before, time.perf_counter(), None
                    while time.perf_counter() - t < 60:
                        page.wait_for_timeout(100)
                        now = _canvas_png(page)
                        if now != shot:
                            shot, last, stable_since = now, time.perf_counter(), None
                        elif stable_since is None:
                            stable_since = time.perf_counter()
                        elif time.perf_counter() - stable_since > 1.5 and shot not in (before, b""):
                            break
                    rows.append({"visit": visit, "filter": label, "redraw_s": round(last - t, 2)})
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plan", type=Path, default=ROOT / "out" / "demo")
    ap.add_argument("--scenario", type=Path, default=ROOT / "scenarios" / "demo-wanzhou.toml")
    ap.add_argument("--browser", action="store_true", help="also time the redraw in Chromium")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    from planner.documents.common import load_doc_data

    t = time.perf_counter()
    data = load_doc_data(args.plan, args.scenario)
    result = {"load_s": round(time.perf_counter() - t, 2), "deck": bench_deck(data),
              "app": bench_app(args.plan, args.scenario, data)}
    if args.browser:
        result["browser"] = bench_browser(args.plan, args.scenario, data)
    text = json.dumps(result, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
