"""Fast documents (issue 15 section 5): the export in 2 processes writes what 1 process writes, progress is
reported per file, and PDFs whose font comes from the cached pool embed a proper subset, extract the same
text and render the same pixels as PDFs subset from the whole face."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from planner.documents import fontcache
from planner.documents.common import FONT_POOL_ENV, cjk_font, load_doc_data
from planner.documents.export import DocJob, plan_jobs, run_jobs
from tests.conftest import TINY_SCENARIO


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} missing: install Debian poppler-utils")
    return path


def _text(pdf: Path) -> str:
    return subprocess.run([_tool("pdftotext"), "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout


def _cells(xlsx: Path) -> list:
    book = openpyxl.load_workbook(xlsx)
    return [(ws.title, [[(c.value, c.data_type) for c in row] for row in ws.iter_rows()]) for ws in book.worksheets]


@pytest.fixture(scope="module")
def data(tiny_plan_dir):
    return load_doc_data(tiny_plan_dir, TINY_SCENARIO)


@pytest.fixture(scope="module")
def jobs(data):
    return plan_jobs(data, all_townships=True, all_provinces=True, wave_plan=True, exceptions=True,
                     boarding_sheets=True)


def test_two_processes_write_what_one_writes_in_the_same_order(data, jobs, tmp_path):
    kinds = {j.kind for j in jobs}
    assert kinds == {"pickup", "manifest", "waves", "exceptions", "boarding"}
    one, failed1 = run_jobs(data, tmp_path / "one", jobs, processes=1)
    two, failed2 = run_jobs(data, tmp_path / "two", jobs, processes=2)
    assert not failed1 and not failed2
    assert [p.name for p in one] == [p.name for p in two]
    assert len(one) == sum(j.files for j in jobs)
    for a, b in zip(one, two):
        assert b.parent == tmp_path / "two" and b.is_file()
        if a.suffix == ".pdf":
            assert _text(a) == _text(b), a.name
        else:
            assert _cells(a) == _cells(b), a.name


def test_progress_reports_every_file_with_its_share(data, jobs, tmp_path):
    seen: list[str] = []
    written, failed = run_jobs(data, tmp_path, jobs[:6], processes=2, progress=seen.append)
    assert not failed
    total = sum(j.files for j in jobs[:6])
    assert len(seen) == total == len(written)
    assert [m.share for m in seen] == sorted(m.share for m in seen) and seen[-1].share == 1.0
    assert {m.rsplit(" · ", 1)[1] for m in seen} == {p.name for p in written}
    assert seen[-1].startswith("[") and f"{total}/{total}" in seen[-1] and "预计剩余" in seen[-1]


def test_a_failing_job_fails_alone(data, tmp_path):
    jobs = [DocJob("pickup", next(iter(data.townships)) if data.townships else "500101001"),
            DocJob("no-such-kind", "x"), DocJob("waves", None)]
    written, failed = run_jobs(data, tmp_path, jobs, processes=2)
    assert [f.path.name for f in failed] == ["no-such-kind_x"]
    assert "程序错误" in failed[0].reason
    assert any(p.name.startswith("波次计划") for p in written)


def test_pool_font_pdf_embeds_a_subset_and_matches_the_full_face(data, tmp_path, monkeypatch):
    path, index = cjk_font()
    if not fontcache.is_cid_cff(path, index):
        pytest.skip("the CJK font is not a CID-keyed CFF: the pool is not used")
    monkeypatch.setenv(fontcache.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(fontcache, "_POOLS", {})  # built afresh, into the empty cache folder
    job = [DocJob("exceptions", sorted(set(data.plan.workers["county_code"].astype(str)))[0])]
    monkeypatch.setenv(FONT_POOL_ENV, "0")
    full, _ = run_jobs(data, tmp_path / "full", job)
    monkeypatch.setenv(FONT_POOL_ENV, "1")
    pooled, _ = run_jobs(data, tmp_path / "pool", job)
    a, b = (next(p for p in ps if p.suffix == ".pdf") for ps in (full, pooled))
    assert list((tmp_path / "cache" / "fonts").glob("*.otf")), "the pool is cached on disk"
    fonts = subprocess.run([_tool("pdffonts"), str(b)], check=True, capture_output=True, text=True).stdout
    row = [line for line in fonts.splitlines() if "CID Type 0C" in line]
    assert len(row) == 1 and row[0].split()[-5:-3] == ["yes", "yes"], fonts  # embedded, subset
    assert _text(a) == _text(b) and "未安排" in _text(b)
    png = []
    for pdf in (a, b):
        subprocess.run([_tool("pdftoppm"), "-r", "60", "-f", "1", "-l", "1", "-png", str(pdf),
                        str(pdf.with_suffix(""))], check=True)
        png.append(next(pdf.parent.glob(pdf.stem + "*.png")).read_bytes())
    assert png[0] == png[1], "same glyphs drawn"
    # the pool's embedded program is no bigger than a handful of the face's glyphs per character used
    assert b.stat().st_size < 3 * a.stat().st_size
