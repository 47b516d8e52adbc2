"""A plan directory is never half-written and never lost: kills at every step, concurrent runs, bad targets."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from planner import plan_dir
from planner.errors import PlanFormatError, PlanOutputError
from planner.plan_format import verify_plan_dir
from tests.conftest import TINY_SCENARIO

ROOT = Path(__file__).resolve().parents[1]


def planner(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    """Run the real ``planner`` command in a subprocess."""
    return subprocess.run([sys.executable, "-m", "planner.cli", *args], capture_output=True, text=True,
                           env={**os.environ, **(env or {})}, cwd=ROOT, timeout=300, **kw)


@pytest.fixture(scope="module")
def other_scenario(tmp_path_factory) -> Path:
    """The tiny scenario under another name: its plans have another scenario checksum (old vs new plan)."""
    data = tmp_path_factory.mktemp("old-scenario") / "tiny"
    shutil.copytree(TINY_SCENARIO.parent, data)
    toml = data / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('name = "校验测试情景"', 'name = "旧计划情景"'),
                    encoding="utf-8")
    return toml


def checksum(out: Path) -> str:
    """The scenario checksum of the complete plan at ``out`` (verifying it is complete)."""
    return verify_plan_dir(out)["scenario"]["checksum"]


def hidden_siblings(out: Path) -> list[str]:
    """Staging, old-copy and lock files left beside ``out``."""
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}."))


# ------------------------------------------------------------------ killed while writing
STEPS_BEFORE_SWAP = ["locked", "staged", "trips", "legs", "workers", "gpkg", "summary", "checked"]


def test_sigkill_at_every_step_leaves_old_or_new_plan(tmp_path, other_scenario):
    """SIGKILL at each step of a replacing run: the old complete plan before the swap, the new one after."""
    out = tmp_path / "plan"
    r = planner("plan", str(other_scenario), "--out", str(out), "--no-check")
    assert r.returncode == 0, r.stderr
    old = checksum(out)
    new = None
    for step in [*STEPS_BEFORE_SWAP, "swapped", "done"]:
        r = planner("plan", str(TINY_SCENARIO), "--out", str(out), "--no-check", env={plan_dir.KILL_ENV: step})
        assert r.returncode == -signal.SIGKILL, (step, r.returncode, r.stderr[-500:])
        got = checksum(out)  # complete, whatever the step
        if step in STEPS_BEFORE_SWAP:
            assert got == old, step
        else:
            new = got
            assert got != old, step
            # put the old plan back for the next step
            r = planner("plan", str(other_scenario), "--out", str(out), "--no-check")
            assert r.returncode == 0, r.stderr
    assert new is not None
    r = planner("plan", str(TINY_SCENARIO), "--out", str(out), "--no-check")
    assert r.returncode == 0, r.stderr
    assert checksum(out) == new
    assert "替换了原有计划" in r.stdout
    assert hidden_siblings(out) == []  # staging directories of killed runs are gone, the lock released


def test_first_plan_killed_leaves_no_directory(tmp_path):
    """A first run killed while writing leaves no plan directory at all, never a half-written one."""
    out = tmp_path / "plan"
    r = planner("plan", str(TINY_SCENARIO), "--out", str(out), "--no-check", env={plan_dir.KILL_ENV: "legs"})
    assert r.returncode == -signal.SIGKILL
    assert not out.exists()
    with pytest.raises(PlanFormatError, match="不存在"):
        verify_plan_dir(out)


def test_two_concurrent_runs_second_is_refused(tmp_path):
    """While one run holds --out, a second is refused naming the first's PID; after a kill the lock is stale."""
    out = tmp_path / "plan"
    first = subprocess.Popen([sys.executable, "-m", "planner.cli", "plan", str(TINY_SCENARIO), "--out", str(out),
                              "--no-check"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env={**os.environ, plan_dir.PAUSE_ENV: "locked", plan_dir.PAUSE_SECONDS_ENV: "120"})
    try:
        lock = plan_dir.lock_path(out)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if lock.exists() and lock.read_text(encoding="utf-8").strip():
                break
            time.sleep(0.1)
        assert json.loads(lock.read_text(encoding="utf-8"))["pid"] == first.pid
        second = planner("plan", str(TINY_SCENARIO), "--out", str(out), "--no-check")
        assert second.returncode == 2
        assert f"进程 {first.pid}" in second.stderr and "Traceback" not in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
    finally:
        first.kill()
        first.wait()
    third = planner("plan", str(TINY_SCENARIO), "--out", str(out), "--no-check")
    assert third.returncode == 0, third.stderr
    assert f"进程 {first.pid} 的锁已失效" in third.stdout
    checksum(out)


# ------------------------------------------------------------------ targets refused before solving
def test_out_is_a_file_is_one_line_before_solving(tmp_path):
    """--out naming a file: a one-line error, exit 2, before anything is loaded or solved; the file kept."""
    f = tmp_path / "plan.txt"
    f.write_text("keep me", encoding="utf-8")
    r = planner("plan", str(TINY_SCENARIO), "--out", str(f))
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "是一个文件" in r.stderr
    assert "Traceback" not in r.stderr and f.read_text(encoding="utf-8") == "keep me"


def test_non_empty_non_plan_directory_is_refused(tmp_path):
    """A non-empty directory that is not a plan is refused and left as it was."""
    d = tmp_path / "photos"
    d.mkdir()
    (d / "holiday.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(PlanOutputError, match="不是计划目录"):
        plan_dir.check_out_target(d)
    r = planner("plan", str(TINY_SCENARIO), "--out", str(d), "--no-check")
    assert r.returncode == 2 and "不是计划目录" in r.stderr
    assert sorted(p.name for p in d.iterdir()) == ["holiday.jpg"]


def test_plan_with_foreign_files_is_refused(tiny_plan_dir, tmp_path):
    """Replacing a plan that holds other files would delete them: refused, naming them."""
    out = tmp_path / "plan"
    shutil.copytree(tiny_plan_dir, out)
    (out / "notes.docx").write_bytes(b"x")
    with pytest.raises(PlanOutputError, match="notes.docx"):
        plan_dir.check_out_target(out)
    assert plan_dir.check_out_target(tiny_plan_dir).replaces
    assert not plan_dir.check_out_target(tmp_path / "new").replaces


# ------------------------------------------------------------------ the lock and the recovery, in process
def test_lock_refuses_a_second_holder_and_takes_over_a_stale_one(tmp_path):
    """Two holders at once: the second is refused; a lock file of a dead process is taken over."""
    out = tmp_path / "plan"
    with plan_dir.PlanLock(out):
        with pytest.raises(PlanOutputError, match=f"进程 {os.getpid()}"):
            plan_dir.PlanLock(out).acquire()
    assert not plan_dir.lock_path(out).exists()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    plan_dir.lock_path(out).write_text(json.dumps({"pid": dead.pid, "host": "h", "started": "t"}), encoding="utf-8")
    lock = plan_dir.PlanLock(out).acquire()
    try:
        assert lock.stale_pid == dead.pid
    finally:
        lock.release()


def test_recover_puts_back_an_old_copy_left_by_the_rename_fallback(tiny_plan_dir, tmp_path):
    """Killed between the fallback's two renames (out missing, .out.old-N there): the old plan comes back."""
    out = tmp_path / "plan"
    shutil.copytree(tiny_plan_dir, tmp_path / ".plan.old-12345")
    (tmp_path / ".plan.tmp-999-abcd").mkdir()
    (tmp_path / ".plan.tmp-x.tmp-1-ab").mkdir()  # a staging directory of the plan named plan.tmp-x, not ours
    done = plan_dir.recover(out)
    assert out.is_dir() and len(done) == 2
    verify_plan_dir(out)
    assert hidden_siblings(out) == [".plan.tmp-x.tmp-1-ab"]


def test_swap_without_exchange_uses_two_renames(tiny_plan_dir, tmp_path, monkeypatch):
    """Where renameat2 is missing, the swap still ends with the new plan in place and no old copy."""
    out = tmp_path / "plan"
    shutil.copytree(tiny_plan_dir, out)
    staged = tmp_path / ".plan.tmp-1-x"
    shutil.copytree(tiny_plan_dir, staged)
    (staged / "marker").write_text("new", encoding="utf-8")
    monkeypatch.setattr(plan_dir, "_exchange", lambda a, b: False)
    assert plan_dir.swap_in(staged, out) is True
    assert (out / "marker").read_text(encoding="utf-8") == "new"
    assert hidden_siblings(out) == []


def test_lock_that_cannot_be_created_is_a_message(tmp_path):
    """A lock file that cannot be created (its parent is a file) gives a PlanOutputError, not an OSError."""
    f = tmp_path / "file"
    f.write_text("x", encoding="utf-8")
    with pytest.raises(PlanOutputError, match="无法"):
        plan_dir.PlanLock(f / "sub" / "plan").acquire()
