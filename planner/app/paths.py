"""Where the app may read and write plans: only inside the folders its operator chose.

A browser user types a plan name (or picks a plan) but never a server path: a
free path would let anyone with the page write a plan over any folder the server
can write, or read any plan directory on its disk. :func:`plan_dir_in` turns what
was typed into a folder inside one of the allowed roots, or refuses it with a
Chinese message that shows no server path.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable
from pathlib import Path

from planner.app.upload import UploadError

MAX_PLAN_NAME_CHARS = 80


def _inside(path: Path, root: Path) -> bool:
    """True when ``path`` (resolved through symlinks) is ``root`` or below it."""
    p, r = os.path.realpath(path), os.path.realpath(root)
    return p == r or p.startswith(r.rstrip(os.sep) + os.sep)


def plan_dir_in(text: str, roots: Iterable[Path]) -> Path:
    """The plan folder that ``text`` names, confined to ``roots`` (the first root takes plain names).

    ``text`` is a plain folder name (``wanzhou-0216``: a folder of the first
    root) or a path already inside one of the roots (as the app shows the current
    plan). Anything else, a path elsewhere, ``..``, control characters, an empty
    or overlong name, is an :class:`UploadError`.
    """
    roots = [Path(r) for r in roots]
    if not roots:
        raise UploadError("程序没有可用的计划文件夹（no plan folder configured）")
    s = unicodedata.normalize("NFC", str(text or "")).strip()
    if not s:
        raise UploadError("请填写计划名称（plan name is empty）")
    if any(unicodedata.category(ch).startswith("C") for ch in s):
        raise UploadError("计划名称含有控制字符（control characters in the plan name）")
    candidate = Path(s)
    if not candidate.is_absolute():
        parts = candidate.parts
        if len(parts) != 1 or parts[0] in {".", ".."} or len(s) > MAX_PLAN_NAME_CHARS:
            raise UploadError(
                f"计划名称只能是一个文件夹名（不含 / 或 ..，至多 {MAX_PLAN_NAME_CHARS} 个字符）"
                "（the plan name must be a single folder name）")
        candidate = roots[0] / s
    if candidate.name in {"", ".", ".."} or not any(_inside(candidate, r) for r in roots):
        raise UploadError("计划目录必须位于程序的计划文件夹内，请只填写计划名称"
                          "（a plan folder must lie inside the app's plan folder）")
    if any(os.path.realpath(candidate) == os.path.realpath(r) for r in roots):
        raise UploadError("请填写计划名称，不能使用计划文件夹本身（name a plan folder inside it）")
    return candidate


def plans_in(roots: Iterable[Path]) -> list[Path]:
    """The complete-looking plan folders (with a ``summary.json``) directly inside ``roots``, sorted."""
    found: set[Path] = set()
    for root in roots:
        root = Path(root)
        if root.is_dir():
            found.update(p.parent for p in root.glob("*/summary.json") if not p.parent.name.startswith("."))
    return sorted(found)
