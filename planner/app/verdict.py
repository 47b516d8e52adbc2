"""The checker's verdict on a plan, kept beside the plan so the app's first screen can show it.

``planner plan`` checks every plan it writes, but ``summary.json`` does not
carry the verdict (the plan format stays as it is, and so do its checksums).
``planner plan``, ``planner check`` and the app record the verdict of the
checks they run in ``.NAME.check.json`` beside the plan directory ``NAME`` (as
the plan's lock ``.NAME.lock`` is): ``ok``, the number of violations, the
checker's report, the sha256 of the ``summary.json`` it was made on and the
checksum of the scenario it was checked against. A verdict never outlives its
plan (when the plan is replaced the record no longer matches and is ignored),
and only a check against the plan's own scenario counts.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from datetime import datetime, timezone
from pathlib import Path

SUFFIX = ".check.json"


def record_path(plan_dir: Path) -> Path:
    """Where the verdict on ``plan_dir`` is kept: ``.NAME.check.json`` in the same folder."""
    plan_dir = Path(plan_dir)
    return plan_dir.parent / f".{plan_dir.name}{SUFFIX}"


def summary_digest(plan_dir: Path) -> str | None:
    """sha256 of the plan's ``summary.json`` (None when there is none)."""
    p = Path(plan_dir) / "summary.json"
    try:
        return hashlib.sha256(p.read_bytes()).hexdigest()
    except OSError:
        return None


def _plan_scenario_checksum(plan_dir: Path) -> str | None:
    try:
        s = json.loads((Path(plan_dir) / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return ((s.get("scenario") or {}).get("checksum")) if isinstance(s, dict) else None


def record(plan_dir: Path, ok: bool, text: str, violations: int | None = None,
           scenario_checksum: str | None = None) -> dict:
    """Keep the verdict on the plan now in ``plan_dir``; return what was written.

    ``scenario_checksum``: of the scenario the plan was checked against (None: its own).

    Written atomically (a temporary file renamed), so a reader never sees half
    a record. A folder that cannot be written keeps no record (returned anyway).
    """
    if violations is None:  # the checker's report says how many: "发现 1,234 处违规"
        m = re.search(r"发现 ([0-9,]+) 处违规", str(text))
        violations = int(m.group(1).replace(",", "")) if m else (0 if ok else None)
    entry = {"summary_sha256": summary_digest(plan_dir), "ok": bool(ok), "violations": violations,
             "scenario_checksum": scenario_checksum or _plan_scenario_checksum(plan_dir),
             "text": str(text), "checked_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    target = record_path(plan_dir)
    try:
        fd, tmp = tempfile.mkstemp(prefix=target.name, suffix=".tmp", dir=target.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(entry, f, ensure_ascii=False)
        os.chmod(tmp, 0o644)  # readable like the plan's own files (mkstemp makes it private)
        os.replace(tmp, target)
    except OSError:
        pass
    return entry


def read(plan_dir: Path) -> dict | None:
    """The recorded verdict on the plan now in ``plan_dir`` against its own scenario; None when there is none."""
    try:
        entry = json.loads(record_path(plan_dir).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict) or entry.get("summary_sha256") != summary_digest(plan_dir):
        return None
    own = _plan_scenario_checksum(plan_dir)
    if own is not None and entry.get("scenario_checksum") not in (None, own):
        return None  # checked against another scenario: says nothing about this plan as planned
    return entry


def check_and_record(plan_dir: Path, scenario: Path) -> dict:
    """Run the independent checker on ``plan_dir`` against ``scenario`` and record its verdict."""
    from planner.check import check_plan_dir
    from planner.scenario import load_scenario

    sc = load_scenario(Path(scenario))
    report = check_plan_dir(Path(plan_dir), sc)
    return record(plan_dir, report.ok, report.text(max_per_rule=10), int(len(report.violations)), sc.checksum)
