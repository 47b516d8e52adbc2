"""Plan directories that are never half-written and never lost: a lock, a staging directory, an atomic swap.

``planner plan --out DIR`` (and the app) write a plan like this:

1. :func:`check_out_target` before anything is solved: ``DIR`` is a file, or a
   non-empty directory that is not a plan, or a plan holding files that are not
   the plan's -> :class:`PlanOutputError` (a one-line message).
2. :class:`PlanLock` on ``.DIR.lock`` beside ``DIR`` for the whole run: a second
   run on the same ``DIR`` is refused with the PID, host and start time of the
   first. The lock is an ``flock`` held by the open file, so a run killed with
   SIGKILL leaves a stale lock file that the next run takes over (the PID in
   it is reported as dead).
3. :func:`staging_dir`: every file is written into ``.DIR.tmp-<pid>-<random>``
   beside ``DIR`` (same file system), each file fsync'd, ``summary.json`` last
   with the sha256 of every file; the plan is read back and checked there.
4. :func:`swap_in`: the staging directory and ``DIR`` are exchanged in one
   ``renameat2(RENAME_EXCHANGE)`` (Linux), so at every instant ``DIR`` is the old
   complete plan or the new complete one; the old copy (now under the staging
   name) is deleted after the parent directory is fsync'd. Where the exchange is
   not available the old plan is first renamed to ``.DIR.old-<pid>`` and then
   the new one into place; a run killed between the two leaves the old copy,
   which the next run (under the lock) puts back before anything else.

Readers never see the staging or old directories: they are hidden siblings,
and :func:`planner.plan_format.read_plan` refuses a directory whose files do
not match its summary anyway.

For the kill tests, ``PLANNER_TEST_KILL_AT=<step>`` makes the writing process
SIGKILL itself at that step and ``PLANNER_TEST_PAUSE_AT=<step>`` makes it sleep
``PLANNER_TEST_PAUSE_S`` seconds (default 60) there; the steps are ``STEPS``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import fcntl
import json
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from planner.errors import PlanOutputError
from planner.plan_format import fsync_path, is_plan_dir, plan_entries

log = logging.getLogger(__name__)

KILL_ENV = "PLANNER_TEST_KILL_AT"
PAUSE_ENV = "PLANNER_TEST_PAUSE_AT"
PAUSE_SECONDS_ENV = "PLANNER_TEST_PAUSE_S"
# the points of a run at which the test hooks act, in order
STEPS: tuple[str, ...] = ("locked", "staged", "trips", "stops", "legs", "workers", "gpkg", "summary", "checked",
                          "swapped", "done")


def kill_point(step: str) -> None:
    """Kill or pause this process at ``step`` when the test environment variables ask for it."""
    if os.environ.get(PAUSE_ENV) == step:
        time.sleep(float(os.environ.get(PAUSE_SECONDS_ENV, "60")))
    if os.environ.get(KILL_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


# ------------------------------------------------------------------ names beside the plan
def lock_path(out: Path) -> Path:
    """The lock file of a plan directory: ``.NAME.lock`` beside it."""
    return out.parent / f".{out.name}.lock"


def _tmp_prefix(out: Path) -> str:
    return f".{out.name}.tmp-"


def _old_prefix(out: Path) -> str:
    return f".{out.name}.old-"


def _is_tmp(out: Path, p: Path) -> bool:
    """A staging directory of ``out`` (``.NAME.tmp-<pid>-<8 hex>``), not one of another plan's."""
    return re.fullmatch(re.escape(_tmp_prefix(out)) + r"\d+-[0-9a-f]+", p.name) is not None and p.is_dir()


def _is_old(out: Path, p: Path) -> bool:
    """An old copy of ``out`` left by the two-rename fallback (``.NAME.old-<pid>``)."""
    return re.fullmatch(re.escape(_old_prefix(out)) + r"\d+", p.name) is not None and p.is_dir()


# ------------------------------------------------------------------ the target
@dataclass(frozen=True)
class OutTarget:
    """What ``--out`` is before a run: ``replaces`` is True when an existing plan will be replaced."""

    path: Path
    replaces: bool


def check_out_target(out: Path) -> OutTarget:
    """Refuse an ``--out`` that cannot take a plan, with a one-line message; say whether a plan is replaced.

    Refused: a file; a non-empty directory that is not a plan; a plan directory
    holding other files (replacing the plan would delete them).
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        msg = f"--out {out} 是一个文件，不是目录；请给出计划目录 (--out is a file, not a directory)"
        raise PlanOutputError(msg)
    if not out.exists():
        if out.parent.exists() and not out.parent.is_dir():
            msg = f"--out {out}：上级路径 {out.parent} 是一个文件 (parent is a file)"
            raise PlanOutputError(msg)
        return OutTarget(out, False)
    entries = sorted(p.name for p in out.iterdir())
    if not entries:
        return OutTarget(out, False)
    if not is_plan_dir(out):
        shown = "、".join(entries[:5]) + ("…" if len(entries) > 5 else "")
        msg = (f"--out {out} 不是空目录，也不是计划目录（含 {shown}）；请换一个目录或先清空 "
               "(refusing to plan into a non-empty directory that is not a plan)")
        raise PlanOutputError(msg)
    foreign = [e for e in entries if e not in plan_entries()]
    if foreign:
        shown = "、".join(foreign[:5]) + ("…" if len(foreign) > 5 else "")
        msg = (f"--out {out} 中有不属于计划的文件 {shown}，替换计划会删除它们；请先移走 "
               "(the plan directory holds other files; move them first)")
        raise PlanOutputError(msg)
    return OutTarget(out, True)


# ------------------------------------------------------------------ the lock
def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PlanLock:
    """An exclusive lock on one plan directory for the length of a run (a context manager).

    The lock file ``.NAME.lock`` holds JSON ``{"pid", "host", "started"}`` of the
    holder. Holding is an ``flock`` on the open file: the kernel releases it when
    the process dies, however it dies, so a lock file left by a killed run is
    stale by construction and is taken over (``stale_pid`` says whose it was).
    """

    def __init__(self, out: Path) -> None:
        self.out = Path(out)
        self.path = lock_path(self.out)
        self.fd: int | None = None
        self.stale_pid: int | None = None

    def _holder(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8") or "{}")
            return data if isinstance(data, dict) else {}
        except (OSError, json.JSONDecodeError, UnicodeDecodeError):
            return {}

    def acquire(self) -> PlanLock:
        """Take the lock or raise PlanOutputError naming the run that holds it."""
        try:
            return self._acquire()
        except OSError as exc:
            msg = f"无法在 {self.out.parent} 建立计划目录的锁：{exc.strerror} (cannot create the lock file)"
            raise PlanOutputError(msg) from None

    def _acquire(self) -> PlanLock:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(20):
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                h = self._holder()
                msg = (f"另一个规划进程正在写入 {self.out}（进程 {h.get('pid', '?')}，主机 {h.get('host', '?')}，"
                       f"开始于 {h.get('started', '?')}）；请等它结束或换一个 --out 目录 "
                       f"(another planner run holds the lock {self.path})")
                raise PlanOutputError(msg) from None
            # the file may have been unlinked by its previous holder between our open and our flock
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            old = self._holder()
            pid = old.get("pid")
            if isinstance(pid, int) and pid != os.getpid():
                self.stale_pid = pid
                log.info("taking over the stale lock of process %s (%s alive)", pid, _pid_alive(pid))
            info = {"pid": os.getpid(), "host": socket.gethostname(),
                    "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
            os.fsync(fd)
            self.fd = fd
            return self
        msg = f"无法获得计划目录的锁 {self.path} (could not take the lock)"
        raise PlanOutputError(msg)

    def release(self) -> None:
        """Remove the lock file and let go of the lock."""
        if self.fd is None:
            return
        try:
            self.path.unlink(missing_ok=True)
        finally:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> PlanLock:
        return self.acquire()

    def __exit__(self, *exc) -> None:
        self.release()


# ------------------------------------------------------------------ staging and swapping
def recover(out: Path) -> list[str]:
    """Clean up after a killed run (call with the lock held); return what was done, in Chinese.

    Staging directories are deleted (they were never the plan). An old copy left
    by the two-rename fallback is put back when ``out`` is missing, else deleted.
    """
    out = Path(out)
    done: list[str] = []
    if not out.parent.is_dir():
        return done
    for p in sorted(out.parent.iterdir()):
        if _is_old(out, p):
            if not out.exists():
                os.rename(p, out)
                done.append(f"上次运行中断，已恢复原计划 {out} (restored the previous plan)")
            else:
                shutil.rmtree(p, ignore_errors=True)
    for p in sorted(out.parent.iterdir()):
        if _is_tmp(out, p):
            shutil.rmtree(p, ignore_errors=True)
            done.append(f"已删除上次中断运行留下的临时目录 {p.name} (removed a staging directory)")
    return done


def staging_dir(out: Path) -> Path:
    """A new empty staging directory beside ``out``."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f"{_tmp_prefix(out)}{os.getpid()}-{secrets.token_hex(4)}"
    tmp.mkdir()
    return tmp


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Atomically exchange two paths with renameat2(RENAME_EXCHANGE); False when not supported here."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    fn.restype = ctypes.c_int
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(a))


def swap_in(staged: Path, out: Path) -> bool:
    """Make the complete plan in ``staged`` the plan at ``out`` in one step; True when one was replaced.

    Call with the lock held, after every file in ``staged`` (and ``staged``
    itself) is fsync'd.
    """
    staged, out = Path(staged), Path(out)
    if not out.exists():
        os.rename(staged, out)
        fsync_path(out.parent)
        kill_point("swapped")
        return False
    if _exchange(staged, out):
        fsync_path(out.parent)
        kill_point("swapped")
        shutil.rmtree(staged, ignore_errors=True)  # the old plan, now under the staging name
        return True
    old = out.parent / f"{_old_prefix(out)}{os.getpid()}"
    os.rename(out, old)
    os.rename(staged, out)
    fsync_path(out.parent)
    kill_point("swapped")
    shutil.rmtree(old, ignore_errors=True)
    return True


def write_file_durably(path: Path, text: str) -> None:
    """Write a small text file so it is either the old or the new content (tmp + fsync + rename)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)

