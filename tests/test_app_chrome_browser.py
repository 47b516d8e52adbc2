"""In a real browser: the first screen is the overview in Chinese, Streamlit's English chrome is gone.

The app runs as a server on the tiny scenario's plan (from the project folder,
so it reads ``.streamlit/config.toml``); Debian's Chromium opens it through
Playwright. No Deploy button and no ⋮ menu; the words a user reads on the
overview are Chinese (the plan's and scenario file's names aside); the file
uploader's own English ("Drag and drop files here", "Upload", "200MB per file")
is hidden and Chinese is written in its place.
"""

from __future__ import annotations

import re

from tests.test_app_browser import CHROMIUM, server  # noqa: F401 - the app server fixture

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
                 "--disable-component-update", "--disable-sync"]


def test_overview_and_uploader_speak_chinese_without_streamlit_chrome(server, tiny_plan_dir, tmp_path):  # noqa: F811
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
