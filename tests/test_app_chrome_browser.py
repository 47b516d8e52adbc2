"""In a real browser: the first screen is the overview in Chinese, Streamlit's English chrome is gone.

The app runs as a server on the tiny scenario's plan (from the project folder,
so it reads ``.streamlit/config.toml``); Debian's Chromium opens it through
Playwright. No Deploy button and no ⋮ menu; the words a user reads on the
overview are Chinese (the plan's and scenario file's names aside); the file
uploader's own English ("Drag and drop files here", "Upload", "200MB per file")
is hidden and Chinese is written in its place.
"""

from __future__ import annotations

import os
import re
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
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                 "--disable-component-update", "--disable-sync"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tiny_plan_dir):
    if not Path(CHROMIUM).is_file():
        pytest.fail("Debian chromium missing: apt-get install chromium (.ci/run does)")
    port = _free_port()
    env = dict(os.environ, PLANNER_APP_SCENARIO=str(TINY), PLANNER_APP_PLAN_DIR=str(tiny_plan_dir))
    streamlit = Path(sys.executable).with_name("streamlit")
    proc = subprocess.Popen([str(streamlit), "run", str(ROOT / "app.py"), "--server.headless", "true",
                             "--server.port", str(port), "--browser.gatherUsageStats", "false"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


def test_overview_and_uploader_speak_chinese_without_streamlit_chrome(server, tiny_plan_dir, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(server, wait_until="networkidle")
            page.get_by_text("请选择您的角色").wait_for(timeout=60_000)
            page.wait_for_timeout(1000)
            body = page.inner_text("body")
            page.screenshot(path=str(tmp_path / "overview.png"))
            assert "Deploy" not in body
            assert page.locator('[data-testid="stMainMenu"]').count() == 0  # no ⋮ menu
            # the plan's and the scenario file's names; Streamlit's "Skip to main content" link for screen
            # readers is off screen until focused
            names = {tiny_plan_dir.name, "scenario", "toml", "Skip", "main", "content"}
            words = set(re.findall(r"[A-Za-z]{3,}", body)) - names
            assert not words, words
            page.get_by_text("计划", exact=True).first.click()
            page.get_by_text("上传数据", exact=True).first.click()
            zone = page.locator('[data-testid="stFileUploaderDropzoneInstructions"]').first
            zone.wait_for(timeout=60_000)
            shown = page.locator('[data-testid="stFileUploader"]').first.inner_text()
            assert "Drag and drop" not in shown and "per file" not in shown and "Upload" not in shown, shown
            before = zone.evaluate("e => getComputedStyle(e.firstElementChild, '::before').content")
            after = zone.evaluate("e => getComputedStyle(e.firstElementChild, '::after').content")
            button = page.locator('[data-testid="stFileUploaderDropzone"] button').first.evaluate(
                "e => getComputedStyle(e, '::after').content")
            page.screenshot(path=str(tmp_path / "upload.png"))
        finally:
            browser.close()
    assert "将文件拖放到此处" in before
    assert "每个文件不超过 50 MB" in after
    assert "选择文件" in button
