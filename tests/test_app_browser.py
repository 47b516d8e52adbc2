"""A real browser opens the app, shows the map, and nothing is requested from outside the machine.

Streamlit renders over a websocket after the page loads, so the test starts the
app as a server (on the tiny scenario's plan), drives Debian's Chromium with
Playwright, opens the map page, waits for the deck.gl canvas and takes a
screenshot. The map must not be blank (many colours, some dark county borders)
and every request the page made must have gone to localhost.

The second test works the map as a planner would (issue 15 section 3): the
destinations are on the canvas (the view is fitted), the legend sits on the
canvas, hovering an arc shows an HTML tooltip inside the canvas, a real mouse
click on the arc lists that vehicle's passengers, and choosing a township zooms
in; again with no request leaving the machine.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "tests" / "data" / "tiny" / "scenario.toml"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--enable-unsafe-swiftshader",
                 "--disable-background-networking", "--no-first-run", "--disable-component-update",
                 "--disable-sync"]
LOCAL = ("http://localhost", "http://127.0.0.1", "ws://localhost", "ws://127.0.0.1", "data:", "blob:")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tiny_plan_dir):
    """`streamlit run app.py` on a free port, showing the tiny scenario's plan."""
    if not Path(CHROMIUM).is_file():
        pytest.fail("Debian chromium missing: apt-get install chromium (.ci/run does)")
    plan_dir = tiny_plan_dir
    port = _free_port()
    env = dict(os.environ, PLANNER_APP_SCENARIO=str(TINY), PLANNER_APP_PLAN_DIR=str(plan_dir))
    streamlit = Path(sys.executable).with_name("streamlit")
    proc = subprocess.Popen(
        [str(streamlit), "run", str(ROOT / "app.py"), "--server.headless", "true", "--server.port", str(port),
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    url = f"http://localhost:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("streamlit did not start within 60 s")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_map_draws_in_a_real_browser_without_outside_requests(server, tmp_path):
    from PIL import Image
    from playwright.sync_api import sync_playwright

    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.on("request", lambda r: None if r.url.startswith(LOCAL) else outside.append(r.url))
            page.goto(server, wait_until="networkidle")
            page.get_by_text("地图", exact=True).first.click(timeout=60_000)
            canvas = page.locator("canvas").first
            canvas.wait_for(state="visible", timeout=60_000)
            page.wait_for_timeout(4000)  # deck.gl draws on the next animation frames
            shot = canvas.screenshot()
            page.screenshot(path=str(tmp_path / "app.png"))
        finally:
            browser.close()
    assert outside == [], f"requests left the machine: {outside[:5]}"
    img = Image.open(io.BytesIO(shot)).convert("RGB")
    colours = img.getcolors(maxcolors=1_000_000) or []
    assert len(colours) > 20, "the map canvas is (nearly) one colour: blank"
    dark = sum(n for n, (r, g, b) in colours if r + g + b < 450)
    assert dark > 0.001 * img.width * img.height, "no county borders or routes drawn"


def _project(view: dict, lon: float, lat: float, box: dict) -> tuple[float, float]:
    """Page pixel of (lon, lat) on a canvas at ``box`` showing ``view`` (Web Mercator, 512-px world)."""
    import math

    def merc(lo, la):
        return (lo + 180) / 360, (1 - math.log(math.tan(math.pi / 4 + math.radians(la) / 2)) / math.pi) / 2

    scale = 512 * 2 ** view["zoom"]
    cx, cy = merc(view["longitude"], view["latitude"])
    x, y = merc(lon, lat)
    return box["x"] + box["width"] / 2 + (x - cx) * scale, box["y"] + box["height"] / 2 + (y - cy) * scale


def _colour_share(img, rgb, tol=40) -> float:
    px = img.getcolors(maxcolors=10_000_000) or []
    hit = sum(n for n, c in px if all(abs(a - b) <= tol for a, b in zip(c, rgb)))
    return hit / (img.width * img.height)


def _wait_run(page) -> None:
    """Until Streamlit has finished the rerun and deck.gl has drawn."""
    page.wait_for_timeout(500)
    status = page.locator("[data-testid=stStatusWidget]")
    if status.count():
        status.first.wait_for(state="hidden", timeout=60_000)
    page.wait_for_timeout(2500)


def test_map_fit_legend_tooltip_and_arc_click_in_a_real_browser(server, tiny_plan_dir, tmp_path):
    import json

    from PIL import Image
    from playwright.sync_api import sync_playwright

    from planner.app.deck import COLORS, build_deck
    from planner.documents.common import load_doc_data

    data = load_doc_data(tiny_plan_dir, TINY)
    spec = json.loads(build_deck(data).to_json())
    view = spec["initialViewState"]
    arcs = [a for layer in spec["layers"] if layer["id"] == "coach_arcs" for a in layer["data"]]
    assert arcs
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.on("request", lambda r: None if r.url.startswith(LOCAL) else outside.append(r.url))
            page.goto(server, wait_until="networkidle")
            page.get_by_text("地图", exact=True).first.click(timeout=60_000)
            canvas = page.locator("canvas").first
            canvas.wait_for(state="visible", timeout=60_000)
            page.wait_for_timeout(4000)
            box = canvas.bounding_box()

            # fit: the destinations (red factories, orange stations) are drawn on the canvas
            whole = Image.open(io.BytesIO(canvas.screenshot())).convert("RGB")
            assert _colour_share(whole, COLORS["factory"][:3]) > 0.0001, "no factory visible: view not fitted"
            assert _colour_share(whole, COLORS["station"][:3]) > 0.0001, "no arrival station visible"

            # the legend is on the map, inside the canvas, in Chinese
            legend = page.get_by_test_id("planner-map-legend")
            legend.wait_for(state="visible", timeout=10_000)
            lb = legend.bounding_box()
            assert box["x"] <= lb["x"] and lb["x"] + lb["width"] <= box["x"] + box["width"]
            assert box["y"] <= lb["y"] and lb["y"] + lb["height"] <= box["y"] + box["height"]
            assert "图例" in legend.inner_text() and "大巴" in legend.inner_text()

            # hover an arc: an HTML tooltip (no literal tags), inside the canvas
            tip = page.locator(".deck-tooltip")
            spot, arc_text = None, ""
            for arc in arcs:
                (x0, y0), (x1, y1) = (_project(view, *arc["source"], box), _project(view, *arc["target"], box))
                for t in (0.5, 0.4, 0.6, 0.3, 0.7, 0.45, 0.55, 0.35, 0.65):
                    for off in (0, -3, 3, -6, 6, -10, 10):
                        x, y = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t + off
                        page.mouse.move(x, y)
                        page.wait_for_timeout(120)
                        if tip.count() and tip.first.is_visible() and "→" in tip.first.inner_text():
                            spot, arc_text = (x, y), tip.first.inner_text()
                            break
                    if spot:
                        break
                if spot:
                    break
            assert spot, "no arc tooltip found along the arcs"
            html = tip.first.inner_html()
            assert "<br" in html and "&lt;" not in html and "<br" not in tip.first.inner_text()
            tb = tip.first.bounding_box()
            assert box["x"] <= tb["x"] and tb["x"] + tb["width"] <= box["x"] + box["width"] + 1
            assert box["y"] <= tb["y"] and tb["y"] + tb["height"] <= box["y"] + box["height"] + 1

            # a real click on the arc lists the passengers of its vehicles
            heading = page.locator("h3").filter(has_text="→")
            for _ in range(3):  # without a GPU a click can land while a frame is drawn: click again
                page.mouse.click(*spot)
                try:
                    heading.first.wait_for(state="visible", timeout=20_000)
                    break
                except Exception:  # noqa: BLE001 - playwright's TimeoutError
                    page.mouse.move(spot[0] + 1, spot[1])
                    page.wait_for_timeout(500)
            assert heading.count(), "clicking the arc listed nobody"
            title = heading.first.inner_text()
            route = arc_text.splitlines()[0].split("：", 1)[1]
            assert route.replace(" ", "") in title.replace(" ", ""), (route, title)
            people = int(title.rsplit("，", 1)[1].removesuffix("人").strip())
            assert people > 0
            table = page.locator("[data-testid=stDataFrame]").last
            table.wait_for(state="visible", timeout=20_000)
            page.screenshot(path=str(tmp_path / "arc-click.png"))

            # zoom on filter: a township fills the canvas with its villages
            town_box = page.locator("div[data-testid=stSelectbox]").filter(has_text="乡镇").first
            town_box.locator("input").click()
            page.get_by_role("option").nth(1).click()
            _wait_run(page)
            zoomed = Image.open(io.BytesIO(canvas.screenshot())).convert("RGB")
            assert _colour_share(zoomed, COLORS["village"][:3], tol=50) > 5 * max(
                _colour_share(whole, COLORS["village"][:3], tol=50), 1e-5), "the township view did not zoom in"
        finally:
            browser.close()
    assert outside == [], f"requests left the machine: {outside[:5]}"
