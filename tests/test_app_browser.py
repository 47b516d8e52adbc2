"""A real browser opens the app, shows the map, and nothing is requested from outside the machine.

Streamlit renders over a websocket after the page loads, so the test starts the
app as a server (on the tiny scenario's plan), drives Debian's Chromium with
Playwright, opens the map page, waits for the deck.gl canvas and takes a
screenshot. The map must not be blank (many colours, some dark county borders)
and every request the page made must have gone to localhost.
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
